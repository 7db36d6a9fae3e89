"""The emulator's histories, pipelines and owners, read over real sockets.

Generated histories are checked against the emulator's own catalogue
(``testing.catalogue``): every stage a ticket goes through belongs to its
pipeline, sources and source ids are those of users, workflows, imports and
integrations, one ticket is deleted. ``seed_history`` is checked through the
client's HTTP path, and writes over HTTP are recorded with their writer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests
from helpers import client_for

from pandas_hubtickets import TicketsClient, flatten
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.catalogue import (
    IMPORTS,
    INTEGRATIONS,
    OWNERS,
    PIPELINES,
    WORKFLOWS,
)
from pandas_hubtickets.testing.history import HISTORY_END_MS

WEEK_MS = 7 * 86_400_000
STAGES_OF = {p.pipeline_id: [s.stage_id for s in p.stages] for p in PIPELINES}
CLOSED = {s.stage_id for p in PIPELINES for s in p.stages if s.closed}
USERS = {o.source_id for o in OWNERS}
OWNER_IDS = {o.owner_id for o in OWNERS}


@pytest.fixture(scope="module")
def generated() -> Iterator[tuple[FakeHubSpot, list[int], pd.DataFrame]]:
    """60 generated tickets, and every version of every property read back over HTTP."""
    with FakeHubSpot(seed=5) as hub, client_for(hub) as client:
        ids = hub.generate_history(tickets=60)
        tidy = flatten(list(client.iter_tickets(history=True)))
        yield hub, ids, tidy


def oldest_first(tidy: pd.DataFrame, prop: str) -> pd.DataFrame:
    rows = tidy[tidy["property"] == prop]
    return rows.sort_values(["objectId", "version"], ascending=[True, False])


def test_generated_history_is_deterministic_per_seed() -> None:
    made = []
    for seed in (1, 1, 2):
        hub = FakeHubSpot(seed=seed)
        hub.generate_history(tickets=15)
        made.append(hub.tickets)
    assert made[0] == made[1]
    assert made[0] != made[2]


def test_generated_history_never_overwrites_tickets() -> None:
    hub = FakeHubSpot()
    hub.seed_tickets(3)
    before = hub.tickets
    with pytest.raises(ValueError, match="already exist"):
        hub.generate_history(tickets=5, start_id=min(before))
    assert hub.tickets == before
    assert hub.generate_history(tickets=2) == [max(before) + 1, max(before) + 2]


def test_generated_history_spans_weeks_before_the_end(generated) -> None:
    _, _, tidy = generated
    stamps = tidy["timestamp"].astype("int64")  # epoch ms
    assert stamps.max() < HISTORY_END_MS
    assert stamps.min() >= HISTORY_END_MS - 12 * WEEK_MS
    created = tidy[tidy["property"] == "createdate"]["timestamp"]
    assert created.max() - created.min() > pd.Timedelta(weeks=4)  # not all on one day


def test_each_ticket_moves_through_its_own_pipeline(generated) -> None:
    _, _, tidy = generated
    pipeline_of = tidy[tidy["property"] == "hs_pipeline"].set_index("objectId")["value"]
    assert set(pipeline_of) == set(STAGES_OF)  # both pipelines are used
    moved = 0
    for oid, versions in oldest_first(tidy, "hs_pipeline_stage").groupby("objectId"):
        stages = STAGES_OF[pipeline_of[oid]]
        path = versions["value"].tolist()
        assert path[0] == stages[0], oid  # created in the pipeline's first stage
        assert set(path) <= set(stages), oid
        assert versions["timestamp"].is_monotonic_increasing, oid
        closed_at = [i for i, s in enumerate(path) if s in CLOSED]
        if closed_at:  # closed is the end: nothing after it
            assert closed_at[0] == len(path) - 1, oid
        moved += len(set(path)) > 1
    assert moved > 40  # most tickets got somewhere


def test_a_backlog_is_left_open_and_most_tickets_are_closed(generated) -> None:
    _, _, tidy = generated
    now = tidy[(tidy["property"] == "hs_pipeline_stage") & (tidy["version"] == 0)]
    still_open = (~now["value"].isin(CLOSED)).mean()
    assert 0.05 < still_open < 0.5


def test_sources_are_users_workflows_imports_and_integrations(generated) -> None:
    _, _, tidy = generated
    by_source = {
        str(source): set(rows["sourceId"].dropna())
        for source, rows in tidy.groupby("source", observed=True)
    }
    assert {"CRM_UI", "WORKFLOWS", "IMPORT", "INTEGRATION", "CALCULATED"} <= set(by_source)
    assert by_source["CRM_UI"] <= USERS
    assert by_source["WORKFLOWS"] <= set(WORKFLOWS) and len(by_source["WORKFLOWS"]) >= 2
    assert by_source["IMPORT"] <= set(IMPORTS)
    assert by_source["INTEGRATION"] <= set(INTEGRATIONS)
    stage = oldest_first(tidy, "hs_pipeline_stage")
    closers = stage[stage["value"].isin(CLOSED)]["source"].astype(str)
    assert set(closers) == {"CRM_UI", "WORKFLOWS"}  # closed by agents and by the auto-close


def test_some_values_are_resent_unchanged(generated) -> None:
    _, _, tidy = generated
    stage = oldest_first(tidy, "hs_pipeline_stage")
    same = (stage["objectId"] == stage["objectId"].shift()) & (
        stage["value"] == stage["value"].shift()
    )
    assert same.sum() >= 3
    assert set(stage[same]["source"].astype(str)) == {"INTEGRATION"}


def test_owners_are_assigned_from_the_owner_list(generated) -> None:
    hub, _, tidy = generated
    owners = tidy[tidy["property"] == "hubspot_owner_id"]
    assert set(owners["value"]) <= OWNER_IDS
    live = {oid for oid, t in hub.tickets.items() if not t["isDeleted"]}
    assert set(owners["objectId"]) == live  # every ticket has an owner
    assert "workflow:1041" in set(owners["sourceId"])  # some by the round-robin workflow


def test_one_generated_ticket_is_deleted_and_not_read(generated) -> None:
    hub, ids, tidy = generated
    deleted = [oid for oid, t in hub.tickets.items() if t["isDeleted"]]
    assert len(deleted) == 1 and deleted[0] in ids
    assert deleted[0] not in set(tidy["objectId"])
    assert set(tidy["objectId"]) == set(ids) - set(deleted)


def test_generated_values_pass_the_libraries_own_pre_check(generated) -> None:
    """The emulator's data obeys the rules both rule sets share (tests/test_rules_agree.py)."""
    hub, _, tidy = generated
    wide = tidy.hubtickets.current()
    writable = ["subject", "status", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority"]
    writable += ["source_type", "hubspot_owner_id", "is_escalated", "closed_date"]
    with client_for(hub) as client:
        preview = wide[["objectId", *writable]].hubtickets.update(
            client, dry_run=True, progress=False
        )
    assert set(preview.report["status"]) == {"dry_run"}


def test_seed_history_serves_each_versions_own_source_newest_first() -> None:
    records = [
        {"objectId": 42, "name": "hs_pipeline_stage", "value": "1", "timestamp": 1_000_000},
        {"objectId": 42, "name": "hs_pipeline_stage", "value": "3", "timestamp": 3_000_000,
         "source": "IMPORT", "sourceId": "import:88102"},
        {"objectId": 42, "name": "hs_pipeline_stage", "value": "4", "timestamp": 9_000_000,
         "source": "WORKFLOWS", "sourceId": "workflow:1042"},
        {"objectId": 42, "name": "status", "value": "OPEN", "timestamp": 1_000_000,
         "source": "CRM_UI", "sourceId": "userId:7650011"},
    ]  # fmt: skip
    with FakeHubSpot() as hub, client_for(hub) as client:
        assert hub.seed_history(reversed(records)) == [42]  # any order
        ticket = client.get(42, ["hs_pipeline_stage", "status"], history=True)
    stage = ticket["properties"]["hs_pipeline_stage"]
    seen = [(v["value"], v["timestamp"], v["source"], v.get("sourceId")) for v in stage["versions"]]
    assert seen == [
        ("4", 9_000_000, "WORKFLOWS", "workflow:1042"),
        ("3", 3_000_000, "IMPORT", "import:88102"),
        ("1", 1_000_000, "CRM_UI", None),
    ]  # fmt: skip
    assert (stage["value"], stage["source"], stage["sourceId"]) == (
        "4",
        "WORKFLOWS",
        "workflow:1042",
    )
    assert ticket["properties"]["status"]["versions"][0]["sourceId"] == "userId:7650011"
    created = hub.ticket(42)["properties"]["createdate"]
    assert created["value"] == "1000000"  # the first timestamp
    modified = hub.ticket(42)["properties"]["hs_lastmodifieddate"]["versions"]
    assert [v["timestamp"] for v in modified] == [9_000_000, 3_000_000, 1_000_000]


def test_seed_history_refuses_every_bad_record_at_once_and_adds_nothing() -> None:
    hub = FakeHubSpot()
    bad: list[dict[str, Any]] = [
        {"objectId": 1, "name": "status", "value": "Open", "timestamp": 1},  # a label
        {"objectId": 1, "name": "due_date", "value": "5", "timestamp": 1},  # not midnight
        {"objectId": 1, "name": "status", "value": "OPEN", "timestamp": "2024-01-01"},
        {"objectId": 2, "name": "nope", "value": "x", "timestamp": 1},
        {"objectId": 2, "value": "x", "timestamp": 1},
    ]
    with pytest.raises(ValueError) as refused:
        hub.seed_history(bad)
    message = str(refused.value)
    for code in ("INVALID_OPTION", "INVALID_DATE", "epoch milliseconds", "PROPERTY_DOESNT_EXIST"):
        assert code in message
    assert "record 4" in message  # the one without a name
    assert hub.tickets == {}
    with pytest.raises(ValueError, match="do not exist: \\[7\\]"):
        hub.seed_history([], deleted=[7])


def test_writes_after_seeded_history_are_newer_and_name_their_writer() -> None:
    future = (time.time_ns() // 1_000_000) + 3_600_000  # an hour ahead of the clock
    with FakeHubSpot(app_id=777) as hub, client_for(hub) as client:
        hub.seed_history([{"objectId": 5, "name": "status", "value": "OPEN", "timestamp": future}])
        client.batch_update(
            [{"objectId": 5, "properties": [{"name": "status", "value": "CLOSED"}]}]
        )
        versions = client.get(5, ["status"], history=True)["properties"]["status"]["versions"]
    assert [v["value"] for v in versions] == ["CLOSED", "OPEN"]
    assert versions[0]["timestamp"] > future
    assert (versions[0]["source"], "sourceId" in versions[0]) == ("API", False)  # as the seed
    (write,) = hub.writes
    assert (write["source"], write["sourceId"], write["value"]) == ("API", "app:777", "CLOSED")


def test_seeded_tickets_are_owned_by_the_portals_owners() -> None:
    hub = FakeHubSpot(seed=4)
    hub.seed_tickets(40)
    owners = {
        t["properties"]["hubspot_owner_id"]["value"]
        for t in hub.tickets.values()
        if "hubspot_owner_id" in t["properties"]
    }
    assert owners and owners <= {o.owner_id for o in OWNERS if not o.archived}


# --- the endpoints themselves, with plain requests ---


def get(hub: FakeHubSpot, path: str, **params: Any) -> requests.Response:
    return requests.get(
        hub.base_url + path,
        params=params,
        headers={"Authorization": f"Bearer {hub.token}"},
        timeout=5,
    )


def test_pipelines_endpoint_has_hubspots_v1_shape() -> None:
    with FakeHubSpot() as hub:
        answer = get(hub, "/crm-pipelines/v1/pipelines/tickets")
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [p["pipelineId"] for p in results] == [p.pipeline_id for p in PIPELINES]
    for pipeline, want in zip(results, PIPELINES, strict=True):
        assert [s["stageId"] for s in pipeline["stages"]] == [s.stage_id for s in want.stages]
        assert [s["displayOrder"] for s in pipeline["stages"]] == list(range(len(want.stages)))
        states = [s["metadata"]["ticketState"] for s in pipeline["stages"]]
        assert states == ["CLOSED" if s.closed else "OPEN" for s in want.stages]


def test_owners_endpoint_pages_and_separates_archived_owners() -> None:
    with FakeHubSpot() as hub:
        for i in range(7):
            hub.add_owner("Temp", f"Worker{i}")
        pages = [get(hub, "/crm/v3/owners", limit=5).json()]
        while "paging" in pages[-1]:
            after = pages[-1]["paging"]["next"]["after"]
            pages.append(get(hub, "/crm/v3/owners", limit=5, after=after).json())
        archived = get(hub, "/crm/v3/owners", archived="true").json()
        too_many = get(hub, "/crm/v3/owners", limit=501)
        bad_cursor = get(hub, "/crm/v3/owners", after="abc")
    active = [o.owner_id for o in OWNERS if not o.archived]
    listed = [o["id"] for page in pages for o in page["results"]]
    assert [len(page["results"]) for page in pages] == [5, 5, 2]
    assert listed[: len(active)] == active and len(set(listed)) == len(active) + 7
    assert [o["email"] for o in archived["results"]] == [o.email for o in OWNERS if o.archived]
    assert all(o["archived"] for o in archived["results"])
    assert (too_many.status_code, bad_cursor.status_code) == (400, 400)


def test_client_reads_generated_history_with_owner_names_resolvable() -> None:
    """Owners of old tickets include someone who left: only the archived list names them."""
    with FakeHubSpot(seed=5) as hub, TicketsClient(hub.token, base_url=hub.base_url) as client:
        ids = hub.generate_history(tickets=60)
        tidy = flatten(client.batch_read(ids, ["hubspot_owner_id"], history=True))
        owners = client.owners()
    gone = {o.owner_id for o in OWNERS if o.archived}
    assert gone & set(tidy["value"])
    assert gone <= set(owners.loc[owners["archived"], "ownerId"])
