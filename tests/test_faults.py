"""Reports that must not lie: unconfirmed 200s, attempts that may have landed, deadlines.

Over real sockets on 127.0.0.1, against the hostile server of tests/hostile.py
and the emulator.
"""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import free_port
from hostile import Hostile

import pandas_hubtickets as ht
from pandas_hubtickets import HubSpotError, TransportError, UnreachableError
from pandas_hubtickets._flatten import concat_tidy
from pandas_hubtickets._update import STATUSES
from pandas_hubtickets.testing import FakeHubSpot

TOKEN = "pat-na1-hostile-0000"
V1 = "/crm-objects/v1/objects/tickets"
DATA = Path(__file__).parent / "data"

pytestmark = pytest.mark.reliability


@pytest.fixture(autouse=True)
def _count_hostile_scenarios(figures: Any) -> Any:
    """Each test here is one behaviour of the hostile server, held (a failed run writes nothing)."""
    yield
    figures.add("hostile server", "lying, cut, reset, trickled or unreadable answers held", 1)


def client_of(server: Hostile, **kw: Any) -> ht.TicketsClient:
    """A client with tiny timeouts, backoff and retry budget (2 attempts)."""
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "backoff_factor": 0.01,
        "timeout": (1.0, 0.3),
        "max_retries": 1,
        "requests_per_10s": 1000,
    }
    options.update(kw)
    return ht.TicketsClient(TOKEN, **options)


def edits(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {"objectId": np.arange(700, 700 + n), "subject": [f"s{i}" for i in range(n)]},
        index=pd.Index([f"r{i}" for i in range(n)]),
    )


def push(
    server: Hostile, df: pd.DataFrame | None = None, api: str = "v1", **kw: Any
) -> ht.UpdateResult:
    df = edits() if df is None else df
    kw.setdefault("progress", False)
    with client_of(server, api=api) as client:
        return df.hubtickets.update(client, check_properties=False, **kw)


BODY = [{"objectId": 1, "properties": [{"name": "subject", "value": "x"}]}]


APIS = ["v1", "2026-03", "v3"]


# ------------------------------------------------------- 200s that confirm nothing
@pytest.mark.parametrize("api", APIS)
def test_an_answer_listing_every_ticket_is_updated(api: str) -> None:
    with Hostile("echo") as server:
        result = push(server, api=api)
    assert result.report["status"].tolist() == ["updated"] * 4
    assert result.ok


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("behaviour", ["empty_list", "empty_dict"])
def test_a_200_that_lists_no_ticket_confirms_none(behaviour: str, api: str) -> None:
    with Hostile(behaviour) as server:
        result = push(server, api=api)
    report = result.report
    assert report["status"].tolist() == ["unknown"] * 4
    assert report["error"].tolist() == ["UNCONFIRMED"] * 4
    assert report["http_status"].tolist() == [200] * 4
    assert report["message"].str.contains("did not confirm").all()
    assert report["message"].str.contains("may have been applied").all()
    assert not result.ok
    assert result.counts["unknown"] == 4
    assert result.failed_rows().index.tolist() == report.index.tolist()


@pytest.mark.parametrize("api", APIS)
def test_a_200_listing_some_tickets_confirms_only_those(api: str) -> None:
    with Hostile("partial") as server:
        result = push(server, edits(5), api=api, batch_size=5, tickets=api == "v1")
    assert result.report["status"].tolist() == ["updated"] * 4 + ["unknown"]
    assert result.report["error"].iloc[-1] == "UNCONFIRMED"
    assert result.failed_rows().index.tolist() == ["r4"]
    if api == "v1":  # the tidy frame holds what HubSpot answered: the four tickets it listed
        assert sorted(set(result.tickets["objectId"])) == [700, 701, 702, 703]


@pytest.mark.parametrize("api", ["2026-03", "v3"])
def test_results_are_mapped_to_rows_by_trace_id_not_by_order(api: str) -> None:
    """A versioned answer lists its results in any order: the trace id says whose each is."""
    df = edits(4)
    df.loc["r2", "subject"] = None  # nothing to send: skipped, and its place is still its own
    with Hostile("reversed") as server:
        result = push(server, df, api=api, batch_size=4, tickets=False)
        sent = server.seen[0].body["inputs"]
    assert [i["objectWriteTraceId"] for i in sent] == ["0", "1", "3"]
    assert [i["id"] for i in sent] == ["700", "701", "703"]
    assert result.report["status"].tolist() == ["updated", "updated", "skipped", "updated"]


def test_the_emulator_lists_the_updated_tickets_like_hubspot() -> None:
    with FakeHubSpot(token=TOKEN) as hub:
        ids = hub.seed_tickets(3)
        with ht.TicketsClient(TOKEN, base_url=hub.base_url) as client:
            answer = client.batch_update(
                [{"objectId": i, "properties": [{"name": "subject", "value": "y"}]} for i in ids]
            )
    assert [t["objectId"] for t in answer] == ids


@pytest.mark.parametrize("api", APIS)
def test_unconfirmed_rows_are_not_journaled_as_updated(tmp_path: Path, api: str) -> None:
    journal = tmp_path / "push.jsonl"
    with Hostile("empty_list") as server:
        first = push(server, api=api, journal=journal)
    assert set(first.report["status"]) == {"unknown"}
    with Hostile("echo") as server:
        again = push(server, api=api, journal=journal)
        sent = len(server.seen)
    assert again.report["status"].tolist() == ["updated"] * 4  # sent again, not skipped
    assert sent == 1


# ------------------------------------------------- attempts that may have landed
@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (("stall", "502"), 502, "HTTP_502"),
        (("stall", "503"), 503, "HTTP_503"),
        (("stall", "not_json"), 200, "INVALID_RESPONSE"),
        (("reset", "502"), 502, "HTTP_502"),
        (("trickle", "503"), 503, "HTTP_503"),
    ],
)
def test_a_failure_after_an_attempt_that_may_have_landed_says_so(
    script: tuple[str, str], status: int, code: str
) -> None:
    with Hostile(*script, stall=2.0) as server:
        with client_of(server, deadline=0.5) as client, pytest.raises(HubSpotError) as info:
            client.batch_update_reply(BODY)
        assert [s.behaviour for s in server.seen] == list(script)
    error = info.value
    assert (error.status, error.error, error.attempts) == (status, code, 2)
    assert error.maybe_applied is True
    assert "may have been applied" in str(error)
    assert pickle.loads(pickle.dumps(error)).maybe_applied is True


@pytest.mark.parametrize("script", [("stall", "502"), ("reset", "503"), ("stall", "not_json")])
def test_rows_whose_request_may_have_landed_are_unknown(script: tuple[str, str]) -> None:
    with Hostile(*script, stall=2.0) as server:
        result = push(server)
    report = result.report
    assert report["status"].tolist() == ["unknown"] * 4
    assert report["attempts"].tolist() == [2] * 4
    assert report["message"].str.contains("may have been applied").all()
    assert report["message"].str.contains("check the ticket").all()
    assert not result.ok
    assert len(result.failed_rows()) == 4


def test_a_failure_where_nothing_can_have_landed_is_failed() -> None:
    with Hostile("502") as server:
        with client_of(server) as client, pytest.raises(HubSpotError) as info:
            client.batch_update_reply(BODY)
        result = push(server)
    assert info.value.maybe_applied is False
    assert "may have been applied" not in str(info.value)
    assert result.report["status"].tolist() == ["failed"] * 4


def test_timeouts_on_every_attempt_are_unknown() -> None:
    with Hostile("stall", stall=2.0) as server:
        with client_of(server) as client, pytest.raises(TransportError) as info:
            client.batch_update_reply(BODY)
        result = push(server)
    assert info.value.maybe_applied is True
    assert "may have been applied" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).maybe_applied is True
    assert result.report["status"].tolist() == ["unknown"] * 4
    assert (result.report["error"] == "TRANSPORT_ERROR").all()


def test_a_read_never_may_have_been_applied() -> None:
    with (
        Hostile("stall", "502", stall=2.0) as server,
        client_of(server) as client,
        pytest.raises(HubSpotError) as info,
    ):
        client.send("GET", f"{V1}/1")
    assert info.value.attempts == 2
    assert info.value.maybe_applied is False


def test_a_connection_never_opened_is_not_maybe_applied() -> None:
    client = ht.TicketsClient(TOKEN, base_url=f"http://127.0.0.1:{free_port()}")
    with client, pytest.raises(UnreachableError) as info:
        client.batch_update_reply(BODY)
    assert info.value.maybe_applied is False


def test_unknown_is_a_status_after_failed() -> None:
    assert STATUSES.index("unknown") == STATUSES.index("failed") + 1


# ---------------------------------------------------------------- the deadline
def test_a_trickled_answer_is_cut_at_the_deadline_and_retried() -> None:
    # 400 bytes at 0.05 s each would take 20 s; every single wait is far below the timeouts.
    with Hostile("trickle", "echo") as server:
        with client_of(server, deadline=0.5) as client:
            reply = client.batch_update_reply(BODY)
        assert [s.behaviour for s in server.seen] == ["trickle", "echo"]
    assert reply.attempts == 2
    assert [t["objectId"] for t in reply.data] == [1]


def test_a_trickle_on_every_attempt_fails_within_the_attempt_budget() -> None:
    with Hostile("trickle") as server:
        client = client_of(server, deadline=0.3, max_retries=2)
        with client, pytest.raises(TransportError) as info:
            client.batch_update_reply(BODY)
        assert len(server.seen) == 3
    error = info.value
    assert error.attempts == 3
    assert "DeadlineExceeded" in str(error) and "0.3 s deadline" in str(error)
    assert error.maybe_applied is True


def test_deadlines_are_kept_by_one_thread_not_one_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[str] = []  # threads the client started (the server starts its own)
    start, client_thread = threading.Thread.start, threading.current_thread()

    def counting(thread: threading.Thread) -> None:
        if threading.current_thread() is client_thread:
            started.append(thread.name)
        start(thread)

    with Hostile(*["echo"] * 20, "trickle", "echo") as server, client_of(server, deadline=0.5) as c:
        monkeypatch.setattr(threading.Thread, "start", counting)
        replies = [c.batch_update_reply(BODY) for _ in range(21)]
        monkeypatch.undo()
    assert [r.attempts for r in replies] == [1] * 20 + [2]  # the trickle still cut at 0.5 s
    assert len(started) <= 1, started  # none per request; at most the watchdog itself, once


def test_the_deadline_defaults_to_the_timeouts_and_is_checked() -> None:
    with Hostile("echo") as server:
        assert client_of(server).deadline == 60.0
        assert client_of(server, timeout=(10.0, 100.0)).deadline == 110.0
        for bad in (0, -1, float("inf"), True, "5"):
            with pytest.raises(ht.ConfigurationError, match="deadline"):
                client_of(server, deadline=bad)


# ----------------------------------------------------------- tickets, or none
def test_tickets_false_collects_nothing_and_reports_the_same() -> None:
    with FakeHubSpot(token=TOKEN) as hub:
        ids = hub.seed_tickets(7)
        df = pd.DataFrame({"objectId": ids, "subject": [f"t{i}" for i in ids]})
        with ht.TicketsClient(TOKEN, base_url=hub.base_url) as client:
            kept = df.hubtickets.update(client, batch_size=3, progress=False)
            none = df.hubtickets.update(client, batch_size=3, progress=False, tickets=False)
    assert none.report["status"].tolist() == kept.report["status"].tolist() == ["updated"] * 7
    assert none.tickets.empty
    assert list(none.tickets.dtypes) == list(ht.flatten([]).dtypes)
    assert sorted(set(kept.tickets["objectId"])) == sorted(ids)
    tidy = ht.flatten([])
    assert kept.tickets.dtypes.astype(str).tolist() == tidy.dtypes.astype(str).tolist()
    assert kept.tickets["property"].cat.categories.dtype == tidy["property"].cat.categories.dtype
    with pytest.raises(ht.ArgumentTypeError, match="tickets"):
        df.hubtickets.update(client, tickets="no")  # type: ignore[arg-type]


def test_answers_flattened_one_by_one_make_the_frame_of_all_at_once() -> None:
    answer = json.loads((DATA / "example-batch-update-response.json").read_text())
    second = [{**t, "objectId": t["objectId"] + 1, "objectType": None} for t in answer]
    parts = [ht.flatten(answer[:1]), ht.flatten(answer[1:]), ht.flatten(second)]
    together = concat_tidy(parts)
    pd.testing.assert_frame_equal(together, ht.flatten([answer, second]))
    assert together["property"].cat.codes.dtype == np.int8
