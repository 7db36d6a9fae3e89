"""changed_since on the versioned APIs: HubSpot's CRM search, its 10,000-result cap, ties, limits.

The search finds the tickets whose ``hs_lastmodifieddate`` is at or after a
moment. One query pages through a capped number of results (HubSpot: 10,000)
and an offset shifts when a ticket changes, so every request of the client is
a query of its own from the last moment seen. Ticket histories seeded with
chosen modification times put ties exactly where a restart could lose them;
the emulator's cap (``search_cap=``) and the client's page (``_search_page``)
are made small so a few dozen tickets cross both many times.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from helpers import client_for

import pandas_hubtickets as ht
from pandas_hubtickets._client import LAST_MODIFIED, SEARCH_PAGE
from pandas_hubtickets._limiter import RateLimiter, search_limiter
from pandas_hubtickets.errors import HubSpotError
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.limits import RateLimiter as EmulatedLimits

VERSIONED = ["v3", "2026-03"]
SEARCH = {
    "v3": "/crm/v3/objects/tickets/search",
    "2026-03": "/crm/objects/2026-03/tickets/search",
}
T0 = 1_700_000_000_000  # seeded modification times are T0 + k seconds
FIRST = 500
DAY = 86_400_000


def fake_clock() -> tuple[RateLimiter, list[float]]:
    """A 10-second limiter on a clock that only sleeping moves (no real waiting)."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return RateLimiter(100, clock=lambda: now[0], sleep=sleep), now


def seed_modified(hub: FakeHubSpot, moments: list[int]) -> dict[int, int]:
    """One ticket per moment (offset in seconds from T0), modified then; ``{id: epoch ms}``."""
    stamps = {FIRST + i: T0 + 1000 * k for i, k in enumerate(moments)}
    hub.seed_history(
        {"objectId": oid, "name": "subject", "value": f"ticket {oid}", "timestamp": ms}
        for oid, ms in stamps.items()
    )
    return stamps


def searches(hub: FakeHubSpot, api: str) -> list:
    return [r for r in hub.requests if r.path == SEARCH[api]]


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(seed=11) as server:
        yield server


# ------------------------------------------------------------ the search itself
@pytest.mark.parametrize("api", VERSIONED)
def test_changed_since_searches_instead_of_reading_every_ticket(hub, api):
    ids = hub.seed_tickets(120)  # created long ago
    before = time.time_ns() // 1_000_000 - 1
    with client_for(hub) as v1:
        v1.batch_update([{"objectId": i, "properties": [{"name": "status", "value": "CLOSED"}]}
                         for i in (ids[7], ids[99])])  # fmt: skip
    new = hub.create_ticket({"subject": "new", "hs_pipeline_stage": "1"})
    hub.clear_log()
    with client_for(hub, api=api) as client:
        changes = client.changed_since(before)
    assert sorted(changes.ids) == [ids[7], ids[99], new]
    assert changes.method == "search" and changes.scanned == 3
    assert "no change log" in changes.reason and "1 request" in changes.reason
    assert [(r.method, r.path, r.status) for r in hub.requests] == [("POST", SEARCH[api], 200)]


@pytest.mark.parametrize("api", VERSIONED)
def test_a_change_at_the_moment_itself_counts_and_one_after_it_does_not(hub, api):
    stamps = seed_modified(hub, [0, 5, 5, 9])
    with client_for(hub, api=api) as client:
        assert sorted(client.changed_since(T0 + 5000).ids) == [FIRST + 1, FIRST + 2, FIRST + 3]
        assert client.changed_since(T0 + 5001).ids == [FIRST + 3]
        assert client.changed_since(T0 + 9001).ids == []
        every = client.changed_since(T0)
    assert sorted(every.ids) == sorted(stamps) and every.method == "search"


# ------------------------------------------------ the cap, ties and moving tickets
PAGE = 4
LAYOUTS = {
    # seconds after T0 of each ticket's last modification, in id order; pages of 4
    "all distinct, many pages": list(range(24)),
    "all distinct, ids against time": list(range(23, -1, -1)),
    "a tie straddling pages": [0, 1, 2, 3, 4, *[5] * 6, 6, 7, 8, 9],
    "a tie of several pages": [*[3] * 15, 1, 2, 4, 5],
    "every ticket at one moment": [7] * 20,
    "a tie as long as a page at every boundary": [k // 4 for k in range(28)],
    "ties of a page - 1 and a page + 1": [*[1] * 3, *[2] * 5, *[3] * 4, 4],
}


@pytest.mark.parametrize("api", VERSIONED)
@pytest.mark.parametrize("since_s", [0, 3, 5])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_ticket_is_missed_or_repeated_across_the_cap_and_ties(api, layout, since_s):
    # a query pages through 6 results at most here (HubSpot: 10,000): paging with `after`
    # would be refused past it, and the client would fall back to the scan
    with FakeHubSpot(seed=2, search_cap=6, search_per_second=None) as hub:
        stamps = seed_modified(hub, LAYOUTS[layout])
        hub.seed_history(  # modified a day before T0: never found
            {"objectId": FIRST + 100 + k, "name": "subject", "value": "old", "timestamp": T0 - DAY}
            for k in range(3)
        )
        limiter, _ = fake_clock()
        since = T0 + 1000 * since_s
        expected = sorted(oid for oid, ms in stamps.items() if ms >= since)
        with client_for(hub, api=api, limiter=limiter) as client:
            client._search_page = PAGE
            changes = client.changed_since(since)
        assert changes.method == "search", changes.reason
        assert sorted(changes.ids) == expected  # none missed
        assert len(changes.ids) == len(set(changes.ids))  # none twice
        asked = searches(hub, api)
        assert all(r.status == 200 for r in asked)  # never past the cap
        assert len(asked) >= len(expected) // PAGE
        if len(set(stamps.values())) == len(stamps):  # no ties: a page repeats one ticket
            assert len(asked) <= len(expected) // (PAGE - 1) + 1
        found_order = [stamps[i] for i in changes.ids]
        assert found_order == sorted(found_order)  # oldest change first, as searched


def test_the_page_is_hubspots_most_200():
    with FakeHubSpot() as hub, client_for(hub, api="2026-03") as client:
        assert client._search_page == SEARCH_PAGE == 200
        ids = hub.seed_tickets(201)
        changes = client.changed_since("2000-01-01")
    assert sorted(changes.ids) == ids and "in 2 requests" in changes.reason


def test_a_tie_of_several_pages_is_listed_by_id_then_the_search_goes_past_it():
    with FakeHubSpot(seed=3, search_cap=5, search_per_second=None) as hub:
        stamps = seed_modified(hub, [*[2] * 17, 1, 3])
        limiter, _ = fake_clock()
        with client_for(hub, api="2026-03", limiter=limiter) as client:
            client._search_page = 5
            changes = client.changed_since(T0 + 2000)
    tied = sorted(oid for oid, ms in stamps.items() if ms == T0 + 2000)
    assert sorted(changes.ids) == sorted([*tied, FIRST + 18])
    # a full page of that one moment, its 17 tickets by id in 4 pages, then one past it
    assert "in 6 requests" in changes.reason, changes.reason


def test_a_ticket_changed_during_the_search_pushes_no_other_out_of_it():
    """An offset (``after``) would skip the ticket that slides into the moved one's place."""
    with FakeHubSpot(seed=12, search_per_second=None) as hub:
        stamps = seed_modified(hub, list(range(12)))
        limiter, _ = fake_clock()
        with client_for(hub, api="2026-03", limiter=limiter) as client, client_for(hub) as v1:
            client._search_page = PAGE
            edits = []

            def edit_one_found(_: int) -> None:
                if not edits:  # after the first page: the oldest found moves to the end
                    body = [
                        {"objectId": FIRST, "properties": [{"name": "status", "value": "CLOSED"}]}
                    ]
                    edits.append(v1.batch_update(body))

            changes = client.changed_since(T0, progress=edit_one_found)
    assert edits and sorted(changes.ids) == sorted(stamps)
    assert changes.ids.count(FIRST) == 1


# ------------------------------------------------------------------- fall back
def test_a_search_that_refuses_the_query_falls_back_to_reading_every_date_and_says_why():
    with FakeHubSpot(seed=4, search_per_second=None) as hub:
        stamps = seed_modified(hub, list(range(12)))
        with client_for(hub, api="2026-03") as client:
            client._search_page = 201  # more than HubSpot's search answers: a 400
            changes = client.changed_since(T0 + 4000)
    assert changes.method == LAST_MODIFIED
    assert "search could not answer" in changes.reason and "HTTP 400" in changes.reason
    assert sorted(changes.ids) == [oid for oid, ms in stamps.items() if ms >= T0 + 4000]
    assert changes.scanned == 12
    paths = [(r.path, r.status) for r in hub.requests]
    assert paths[0] == (SEARCH["2026-03"], 400) and paths[1] == (
        "/crm/objects/2026-03/tickets",
        200,
    )


def test_v1_keeps_the_change_log_and_never_searches(hub):
    ids = hub.seed_tickets(3)
    before = time.time_ns() // 1_000_000 - 1
    with client_for(hub) as client:
        client.batch_update(
            [{"objectId": ids[0], "properties": [{"name": "status", "value": "CLOSED"}]}]
        )
        assert client.changed_since(before).method == "change-log"
    assert not any(r.path.endswith("/search") for r in hub.requests)


# ------------------------------------------------------------------ rate limits
def test_searches_keep_to_five_a_second_and_the_emulator_would_refuse_a_sixth():
    limits = EmulatedLimits(5, None, 1.0, policy="SECONDLY")
    assert [limits.admit(0.1 * k) for k in range(6)] == [None] * 5 + ["SECONDLY"]
    assert limits.admit(1.01) is None  # the first one left the rolling second
    with FakeHubSpot(seed=5) as hub:  # HubSpot's 5 searches a second
        stamps = seed_modified(hub, list(range(13)))
        with client_for(hub, api="v3", max_retries=0) as client:  # a 429 would fail the call
            client._search_page = 2  # each request finds one more ticket
            changes = client.changed_since(T0)
        statuses = [r.status for r in searches(hub, "v3")]
    assert sorted(changes.ids) == sorted(stamps) and changes.method == "search"
    assert statuses == [200] * 13


def test_searches_take_no_slot_of_the_ten_second_limit_and_the_emulator_does_not_count_them():
    limiter, now = fake_clock()
    with FakeHubSpot(seed=6, requests_per_10s=3, search_per_second=None) as hub:
        seed_modified(hub, list(range(10)))
        with client_for(hub, api="2026-03", limiter=limiter, max_retries=0) as client:
            client._search_page = 2  # each request finds one more ticket
            assert len(client.changed_since(T0).ids) == 10  # 10 searches, over the 3 per 10 s
            assert limiter.in_window() == 0  # the other calls' limiter: untouched
            assert now[0] == pytest.approx(1.1)  # its own paced them: 5, then 5 a second later
            assert len(client.batch_read([FIRST], ["subject"])["results"]) == 1
    assert [r.status for r in hub.requests] == [200] * 11  # no 429 from either window


def test_clients_sharing_a_limiter_share_the_search_limiter():
    shared, other = RateLimiter(100), RateLimiter(100)
    assert search_limiter(shared) is search_limiter(shared)
    assert search_limiter(shared) is not search_limiter(other)
    assert search_limiter(shared).max_requests == 5 and search_limiter(shared).window == 1.0


# ----------------------------------------------------------- what builds on it
@pytest.mark.parametrize("api", VERSIONED)
def test_iter_tickets_since_a_moment_uses_the_search(api):
    with FakeHubSpot(seed=7) as hub:
        stamps = seed_modified(hub, [0, 1, 2, 3, 4, 5])
        with client_for(hub, api=api) as client:
            hub.clear_log()
            tickets = list(client.iter_tickets(["subject"], since=T0 + 3000))
        expected = [oid for oid, ms in stamps.items() if ms >= T0 + 3000]
        assert sorted(int(t["id"]) for t in tickets) == expected
        assert {t["properties"]["subject"] for t in tickets} == {f"ticket {i}" for i in expected}
        assert [r.method for r in hub.requests] == ["POST", "POST"]  # one search, one read
        assert len(searches(hub, api)) == 1


@pytest.mark.parametrize("api", VERSIONED)
def test_a_pull_since_a_moment_uses_the_search(api):
    with FakeHubSpot(seed=7) as hub:
        stamps = seed_modified(hub, [0, 1, 2, 3, 4, 5])
        with client_for(hub, api=api) as client:
            hub.clear_log()
            tidy = ht.pull(client, ["subject"], since=T0 + 3000, progress=False)
        expected = [oid for oid, ms in stamps.items() if ms >= T0 + 3000]
        assert sorted(tidy["objectId"].unique().tolist()) == expected
        assert not [r for r in hub.requests if r.method == "GET"]  # no paging through all
        assert len(searches(hub, api)) == 1


def test_the_command_line_says_the_search_found_them(tmp_path, capsys, monkeypatch):
    from pandas_hubtickets._cli import main

    with FakeHubSpot(seed=8) as hub:
        seed_modified(hub, [0, 1, 2])
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
        out = tmp_path / "changed.parquet"
        since = "2023-11-14T22:13:21Z"  # T0 + 1 s
        code = main(["pull", str(out), "--api", "2026-03", "--since", since, "--no-progress"])
    assert code == 0
    said = capsys.readouterr().out
    assert "2 changed tickets" in said and "HubSpot's search found 2 in 1 request" in said
    assert sorted(ht.read_tidy(out)["objectId"].unique().tolist()) == [FIRST + 1, FIRST + 2]


def test_the_search_limiter_paces_five_a_second_on_the_clock_of_its_limiter():
    main, _ = fake_clock()
    search = search_limiter(main)
    waits = [search.acquire() for _ in range(6)]
    assert waits[:5] == [0.0] * 5 and waits[5] == pytest.approx(1.1)  # 1 s and 10% slack
    assert main.in_window() == 0


def test_a_429_on_a_search_holds_the_searches_only():
    with FakeHubSpot(seed=9, search_per_second=1) as hub:  # stricter than the client's 5
        seed_modified(hub, [0, 1, 2])
        with client_for(hub, api="2026-03", max_retries=10, backoff_factor=0.2) as client:
            client._search_page = 2  # each request finds one more ticket
            changes = client.changed_since(T0)
            held_search = search_limiter(client.limiter)._hold_until
            held_other = client.limiter._hold_until
    assert len(changes.ids) == 3 and changes.method == "search"
    assert "SECONDLY" in [c for r in hub.requests for c in r.codes]  # the emulator refused some
    assert held_search > float("-inf") and held_other == float("-inf")


# ----------------------------------------------------------- the emulated search
def _f(name, operator, **rest):
    return {"propertyName": name, "operator": operator, **rest}


def _search(client, **body):
    return client.send("POST", SEARCH["2026-03"], body=body).data


@pytest.mark.off_contract("short search bodies on purpose: the emulator fills HubSpot's defaults")
def test_the_emulated_search_filters_sorts_and_pages_like_hubspot():
    F = FIRST
    with FakeHubSpot(seed=10, search_per_second=None) as hub:
        seed_modified(hub, [4, 1, 3, 1, 0])
        hub.seed_history(
            {"objectId": F + 10, "name": name, "value": value, "timestamp": T0 + 2000}
            for name, value in [("subject", "closed one"), ("status", "CLOSED")]
        )
        with client_for(hub, api="2026-03") as client:
            by_date = _search(client, sorts=[LAST_MODIFIED], limit=2, after="0")
            rest = _search(client, sorts=[LAST_MODIFIED], limit=2, after="2")
            newest = _search(
                client, sorts=[{"propertyName": LAST_MODIFIED, "direction": "DESCENDING"}]
            )
            either = _search(  # groups: OR; dates in epoch ms or ISO 8601
                client,
                filterGroups=[
                    {"filters": [_f(LAST_MODIFIED, "GTE", value="2023-11-14T22:13:23Z")]},
                    {"filters": [_f("hs_object_id", "IN", values=[str(F + 4)])]},
                ],
                sorts=["hs_object_id"],
            )
            span = {"value": str(T0), "highValue": str(T0 + 4000)}
            both = _search(  # filters of a group: AND
                client,
                filterGroups=[
                    {
                        "filters": [
                            _f("status", "HAS_PROPERTY"),
                            _f(LAST_MODIFIED, "BETWEEN", **span),
                        ]
                    }
                ],
            )
            refused = []
            for bad in (
                {"query": "printer"},
                {"sorts": ["subject", "status"]},
                {"limit": 201},
                {"filterGroups": [{"filters": [_f("subject", "CONTAINS_TOKEN", value="a")]}]},
            ):
                with pytest.raises(HubSpotError) as caught:
                    client.send("POST", SEARCH["v3"], body=bad)
                refused.append(caught.value.status)

    def ids(answer):
        return [int(t["id"]) for t in answer["results"]]

    # ascending by date, ties in descending id (the emulator's choice; HubSpot does not say)
    assert ids(by_date) == [F + 4, F + 3] and ids(rest) == [F + 1, F + 10]
    assert by_date["total"] == rest["total"] == 6
    assert by_date["paging"]["next"]["after"] == "2" and rest["paging"]["next"]["after"] == "4"
    assert by_date["results"][0]["properties"][LAST_MODIFIED] == "2023-11-14T22:13:20.000Z"
    assert ids(newest) == [F, F + 2, F + 10, F + 3, F + 1, F + 4] and "paging" not in newest
    assert ids(either) == [F, F + 2, F + 4]
    assert ids(both) == [F + 10] and both["total"] == 1
    assert refused == [400] * 4
