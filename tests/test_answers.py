"""update converts HubSpot's answers a few at a time into compacted Arrow parts: the same frame."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import QuietHandler, serve

import pandas_hubtickets as ht
from pandas_hubtickets import _update
from pandas_hubtickets._flatten import flatten, tidy_of, to_arrow_all
from pandas_hubtickets.errors import FlattenError
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 6_000_000


def test_compacted_answers_give_the_frame_of_every_answer(monkeypatch):
    rows = 70  # one answer a row: 4 parts of 16 answers (compacted 2 by 2), the last 6 at the end
    df = pd.DataFrame({"objectId": np.arange(FIRST, FIRST + rows), "subject": "x"})
    frames = []
    for convert_at, compact_every in ((_update._CONVERT_AT, 2), (1, 10**9)):
        monkeypatch.setattr(_update, "_CONVERT_AT", convert_at)
        monkeypatch.setattr(_update, "_COMPACT", compact_every)
        with FakeHubSpot() as hub:
            hub.seed_tickets(rows, start_id=FIRST)
            with ht.TicketsClient(hub.token, base_url=hub.base_url, max_workers=1) as client:
                result = df.hubtickets.update(client, batch_size=1, progress=False)
        assert (result.report["status"] == "updated").all()
        # answers finishing together are recorded in any order: compare ticket by ticket
        frames.append(result.tickets.sort_values("objectId", kind="stable", ignore_index=True))
    compacted, apart = frames
    assert sorted(set(compacted["objectId"])) == list(range(FIRST, FIRST + rows))
    # the two runs differ only in the times of their writes
    timeless = compacted["property"] != "hs_lastmodifieddate"
    assert timeless.equals(apart["property"] != "hs_lastmodifieddate")
    pd.testing.assert_frame_equal(
        compacted[timeless].drop(columns="timestamp"), apart[timeless].drop(columns="timestamp")
    )
    pd.testing.assert_frame_equal(compacted[["timestamp"]].iloc[:0], apart[["timestamp"]].iloc[:0])
    assert _update._COMPACT == 10**9  # the second run converted each answer alone, kept apart


def _answer(object_id: int, stamp: object = 1_700_000_000_000) -> dict[str, Any]:
    version = {"value": "x", "timestamp": stamp, "source": "API", "sourceVid": []}
    return {
        "objectType": "TICKET",
        "portalId": 62515,
        "objectId": object_id,
        "properties": {"subject": {"value": "x", "versions": [version]}},
        "isDeleted": False,
    }


def test_answers_converted_together_give_the_frame_of_each_one_alone():
    answers: list[Any] = [[_answer(i), _answer(i + 100)] for i in range(5)]
    answers.append({"status": "COMPLETE", "results": [{"id": "7", "properties": {"a": "b"}}]})
    one_kind = tidy_of([to_arrow_all(answers[:5])])
    pd.testing.assert_frame_equal(one_kind, flatten(answers[:5]))
    pd.testing.assert_frame_equal(tidy_of([to_arrow_all(answers)]), flatten(answers))
    with pytest.raises(
        FlattenError, match="object 1, property 'subject', version 0: bad timestamp"
    ):
        to_arrow_all([*answers[:2], [_answer(1), _answer(2, stamp="soon")]])


@contextmanager
def odd_answers(odd: int) -> Iterator[str]:
    """A v1 batch-update server listing every ticket sent; ``odd``'s has a bad timestamp."""

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids = [item["objectId"] for item in sent]
            answer = [_answer(i, "soon" if i == odd else 1_700_000_000_000) for i in ids]
            self.answer(json.dumps(answer).encode())

    with serve(Handler) as url:
        yield url


def test_an_answer_that_does_not_flatten_costs_only_its_own_tickets():
    rows = 20  # one answer a row: 16 converted together (the odd one among them), then 4
    ids = list(range(FIRST, FIRST + rows))
    df = pd.DataFrame({"objectId": ids, "subject": "x"})
    with (
        odd_answers(odd=ids[3]) as url,
        ht.TicketsClient("pat-na1-x", base_url=url) as client,
        pytest.warns(UserWarning, match="answer could not be flattened: object 0, property"),
    ):
        result = df.hubtickets.update(client, batch_size=1, progress=False, check_properties=False)
    assert (result.report["status"] == "updated").all()  # HubSpot listed every ticket
    kept = sorted(set(ids) - {ids[3]})
    assert sorted(result.tickets["objectId"]) == kept
    expected = flatten([_answer(i) for i in kept])
    pd.testing.assert_frame_equal(
        result.tickets.sort_values("objectId", ignore_index=True), expected
    )
