"""update keeps HubSpot's answers as compacted Arrow parts and makes the same tidy frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

import pandas_hubtickets as ht
from pandas_hubtickets import _update
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 6_000_000


def test_compacted_answers_give_the_frame_of_every_answer(monkeypatch):
    rows = 70  # one answer a row: 64 compacted, 6 kept apart
    df = pd.DataFrame({"objectId": np.arange(FIRST, FIRST + rows), "subject": "x"})
    frames = []
    for compact_every in (_update._COMPACT, 10**9):
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
    assert _update._COMPACT == 10**9  # the second run compacted nothing
