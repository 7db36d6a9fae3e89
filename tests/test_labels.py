"""Pipelines, owners and readable labels, over real sockets against FakeHubSpot.

Expected labels come from the emulator's catalogue (``testing.catalogue``),
never from the frames under test. The client's reads run against every API
(v1, v3, 2026-03): each reads its own endpoints and gives the same frames.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from helpers import canned_server, client_for

import pandas_hubtickets as ht
from pandas_hubtickets import Catalogue, HubSpotError
from pandas_hubtickets._api import APIS, endpoints
from pandas_hubtickets._labels import pipelines_frame
from pandas_hubtickets.errors import ArgumentTypeError, ConfigurationError, UnknownLabelsWarning
from pandas_hubtickets.testing import FakeHubSpot, Faults
from pandas_hubtickets.testing.catalogue import OWNERS, PIPELINES

STAGE_LABELS = [s.label for p in PIPELINES for s in p.stages]  # all distinct in the emulator
STAGE_LABEL = {s.stage_id: s.label for p in PIPELINES for s in p.stages}
PIPELINE_OF = {s.stage_id: p.label for p in PIPELINES for s in p.stages}
OWNER_NAME = {o.owner_id: f"{o.first_name} {o.last_name}" for o in OWNERS}


def paths(hub: FakeHubSpot) -> list[str]:
    return [r.path for r in hub.requests if r.status == 200]


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[FakeHubSpot, list[int], pd.DataFrame]]:
    """30 generated tickets and their tidy history, read over HTTP."""
    with FakeHubSpot(seed=8) as hub, client_for(hub) as client:
        ids = hub.generate_history(tickets=30)
        yield hub, ids, ht.flatten(client.batch_read(ids))


@pytest.fixture
def hub(portal) -> Iterator[FakeHubSpot]:
    hub, _, _ = portal
    hub.clear_log()
    yield hub


# --- the client: pipelines and owners ---


@pytest.mark.parametrize("api", APIS)
def test_pipelines_are_one_row_per_stage_in_display_order(hub, api) -> None:
    with client_for(hub, api=api) as client:
        stages = client.pipelines()
    assert stages["stage"].tolist() == STAGE_LABELS
    assert stages["stageId"].tolist() == [s.stage_id for p in PIPELINES for s in p.stages]
    assert stages["pipeline"].tolist() == [p.label for p in PIPELINES for _ in p.stages]
    closed = [s.closed for p in PIPELINES for s in p.stages]
    assert stages["closed"].tolist() == closed
    assert stages["ticketState"].tolist() == ["CLOSED" if c else "OPEN" for c in closed]
    assert stages["stageOrder"].tolist() == [i for p in PIPELINES for i in range(len(p.stages))]
    assert paths(hub) == [endpoints(api).pipelines]


@pytest.mark.parametrize("api", APIS)
def test_pipelines_and_owners_are_read_once_per_client_and_handed_out_as_copies(hub, api) -> None:
    pipelines, owners_path = endpoints(api).pipelines, endpoints(api).owners
    with client_for(hub, api=api) as client:
        first = client.pipelines()
        first.loc[0, "stage"] = "scribbled on"
        owners = client.owners()
        assert client.pipelines()["stage"].iloc[0] == STAGE_LABELS[0]
        assert client.owners().equals(owners)
        reads = paths(hub)
    assert reads.count(pipelines) == 1
    assert reads.count(owners_path) == 2  # the active owners, then the archived ones
    assert len(reads) == 3
    with client_for(hub, api=api) as other:  # another client reads its own
        other.pipelines()
    assert paths(hub).count(pipelines) == 2


def test_many_threads_asking_at_once_make_one_request(hub) -> None:
    with client_for(hub, max_workers=8) as client:
        start = threading.Barrier(8)
        got: list[pd.DataFrame] = []

        def ask() -> None:
            start.wait()
            got.append(client.pipelines())

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert len(got) == 8 and all(g.equals(got[0]) for g in got)
    assert paths(hub) == ["/crm-pipelines/v1/pipelines/tickets"]


@pytest.mark.parametrize("api", APIS)
def test_owners_follow_the_paging_cursor_and_include_archived_owners(api) -> None:
    with FakeHubSpot() as hub, client_for(hub, api=api) as client:
        added = [hub.add_owner("Temp", f"Worker{i}") for i in range(230)]
        owners = client.owners()
        queries = [r.query for r in hub.requests if r.path == endpoints(api).owners]
    active = [o for o in OWNERS if not o.archived]
    assert len(owners) == len(OWNERS) + 230
    assert owners["ownerId"].tolist()[: len(active)] == [o.owner_id for o in active]
    assert set(added) <= set(owners["ownerId"])
    assert owners.loc[owners["archived"], "ownerId"].tolist() == [
        o.owner_id for o in OWNERS if o.archived
    ]
    assert dict(zip(owners["ownerId"], owners["name"], strict=True)).items() >= OWNER_NAME.items()
    assert owners["userId"].dtype == "Int64"
    # 235 active owners in pages of 100, then one page of archived ones
    assert len(queries) == 4
    assert ["after=" in q for q in queries] == [False, True, True, False]
    assert all("archived=false" in q for q in queries[:3]) and "archived=true" in queries[3]


@pytest.mark.parametrize("api", APIS)
def test_archived_owners_keep_their_user_id_so_their_changes_can_be_named(api) -> None:
    # HubSpot gives an archived owner "userId": null and the id in userIdIncludingInactive;
    # old changes name that user in their sourceId ("userId:..."), so it must not be lost.
    with FakeHubSpot() as hub, client_for(hub, api=api) as client:
        owners = client.owners()
    assert any(o.archived for o in OWNERS)
    assert dict(zip(owners["ownerId"], owners["userId"], strict=True)) == {
        o.owner_id: o.user_id for o in OWNERS
    }


@pytest.mark.parametrize("api", APIS)
def test_reads_go_through_the_retries(api) -> None:
    with (
        FakeHubSpot(faults=Faults(rate_503=0.5), seed=0) as flaky,
        client_for(flaky, api=api) as client,
    ):
        stages = client.pipelines()
        owners = client.owners()
        statuses = [r.status for r in flaky.requests]
    assert stages["stage"].tolist() == STAGE_LABELS
    assert len(owners) == len(OWNERS)
    assert 503 in statuses  # some attempts failed and were retried


@pytest.mark.parametrize("api", APIS)
def test_answers_of_the_wrong_shape_are_refused(api) -> None:
    with canned_server({"results": "not a list"}) as (url, _):
        client = ht.TicketsClient("pat-na1-x", base_url=url, backoff_factor=0.01, api=api)
        with pytest.raises(HubSpotError) as pipelines:
            client.pipelines()
        with pytest.raises(HubSpotError) as owners:
            client.owners()
    assert pipelines.value.error == owners.value.error == "INVALID_RESPONSE"


@pytest.mark.parametrize("api", APIS)
def test_an_owners_cursor_that_does_not_advance_stops_the_read(api) -> None:
    page = {"results": [{"id": "1", "email": "a@example.com"}], "paging": {"next": {"after": "5"}}}
    with canned_server(page) as (url, seen):
        client = ht.TicketsClient("pat-na1-x", base_url=url, backoff_factor=0.01, api=api)
        with pytest.raises(HubSpotError, match="did not advance"):
            client.owners()
    assert len(seen) == 2


def test_every_api_reads_the_same_catalogue(hub) -> None:
    # the same portal through each API's own endpoints: equal frames, dtypes included
    read = {}
    for api in APIS:
        with client_for(hub, api=api) as client:
            read[api] = (client.pipelines(), client.owners())
    for api in APIS[1:]:
        pd.testing.assert_frame_equal(read[api][0], read["v1"][0])
        pd.testing.assert_frame_equal(read[api][1], read["v1"][1])
    assert sorted(set(paths(hub))) == sorted(
        {p for api in APIS for p in (endpoints(api).pipelines, endpoints(api).owners)}
    )


def test_versioned_pipelines_need_their_ids() -> None:
    # v3 and 2026-03 name a pipeline's and a stage's id "id": without it, a clear refusal
    stage = {"id": "1", "label": "New"}
    with pytest.raises(ValueError, match=r"pipeline 1 has no id \(pipelineId in v1\)"):
        pipelines_frame([{"id": "0", "stages": [stage]}, {"label": "Sales", "stages": []}])
    with pytest.raises(ValueError, match=r"stage 1 of pipeline 0 has no id \(stageId in v1\)"):
        pipelines_frame([{"id": "0", "stages": [stage, {"label": "Closed"}]}])


# --- labels ---


def stage_rows(tidy: pd.DataFrame) -> pd.DataFrame:
    return tidy[tidy["property"] == "hs_pipeline_stage"]


def test_stage_history_gets_labels_in_pipeline_order_and_the_pipeline(portal) -> None:
    hub, _, tidy = portal
    stages = stage_rows(tidy)
    before = stages.copy()
    with client_for(hub) as client:
        labelled = stages.hubtickets.label(client)
    value = labelled["value"]
    assert isinstance(value.dtype, pd.CategoricalDtype) and value.cat.ordered
    assert value.cat.categories.tolist() == STAGE_LABELS  # every stage, in pipeline order
    assert value.astype(str).tolist() == [STAGE_LABEL[s] for s in stages["value"]]
    assert labelled["pipeline"].astype(str).tolist() == [PIPELINE_OF[s] for s in stages["value"]]
    assert labelled["pipeline"].cat.categories.tolist() == [p.label for p in PIPELINES]
    assert list(labelled.columns).index("pipeline") == list(labelled.columns).index("value") + 1
    counts = value.value_counts(sort=False)
    assert counts.index.tolist() == STAGE_LABELS  # a chart reads left to right
    assert labelled.attrs["unlabelled"] == {}
    assert stages.equals(before)  # the input is left alone


@pytest.mark.parametrize("api", APIS)
def test_a_mixed_tidy_frame_labels_each_row_by_its_property(portal, api) -> None:
    hub, _, tidy = portal
    hub.clear_log()
    with client_for(hub, api=api) as client:
        labelled = tidy.hubtickets.label(client)
        options = {
            d["name"]: {o["value"]: o["label"] for o in d["options"]} for d in client.properties()
        }
    for prop, expected in [
        ("hs_pipeline_stage", STAGE_LABEL),
        ("hubspot_owner_id", OWNER_NAME),
        ("hs_pipeline", {p.pipeline_id: p.label for p in PIPELINES}),
        ("hs_ticket_priority", options["hs_ticket_priority"]),
        ("status", options["status"]),
    ]:
        rows = (tidy["property"] == prop).to_numpy()
        assert rows.any(), prop
        assert labelled["value"][rows].tolist() == [expected[v] for v in tidy["value"][rows]]
    text = (tidy["property"] == "subject").to_numpy()
    assert labelled["value"][text].tolist() == tidy["value"][text].tolist()
    stage = (tidy["property"] == "hs_pipeline_stage").to_numpy()
    assert labelled["pipeline"][stage].astype(str).tolist() == [
        PIPELINE_OF[s] for s in tidy["value"][stage]
    ]
    assert labelled["pipeline"][~stage].isna().all()
    wanted = endpoints(api)  # the labels came through this API's endpoints only
    assert set(paths(hub)) == {wanted.pipelines, wanted.owners, wanted.properties}


def test_a_wide_frame_gets_one_ordered_categorical_per_labelled_column(portal) -> None:
    hub, _, tidy = portal
    wide = tidy.hubtickets.current()
    wide["hubspot_owner_id"] = wide["hubspot_owner_id"].astype(float)  # as a typed frame has it
    wide["hs_ticket_category"] = "PRODUCT_ISSUE;BILLING_ISSUE"
    with client_for(hub) as client:
        labelled = wide.hubtickets.label(client)
    stage = labelled["hs_pipeline_stage"]
    assert stage.cat.ordered and stage.cat.categories.tolist() == STAGE_LABELS
    assert stage.tolist() == [STAGE_LABEL[s] for s in wide["hs_pipeline_stage"]]
    assert labelled["hs_pipeline"].cat.categories.tolist() == [p.label for p in PIPELINES]
    owner = labelled["hubspot_owner_id"]
    assert owner.tolist() == [OWNER_NAME[str(int(o))] for o in wide["hubspot_owner_id"]]
    assert owner.cat.categories.tolist() == sorted(OWNER_NAME.values())
    priority = labelled["hs_ticket_priority"]
    assert priority.cat.categories.tolist() == ["Low", "Medium", "High", "Urgent"]  # display order
    assert labelled["hs_ticket_category"].iloc[0] == "Product issue; Billing issue"
    assert labelled["subject"].equals(wide["subject"])
    by_stage = labelled.sort_values("hs_pipeline_stage")["hs_pipeline_stage"]
    assert [STAGE_LABELS.index(s) for s in by_stage] == sorted(STAGE_LABELS.index(s) for s in stage)


def test_transitions_share_categories_and_read_through_the_pipeline(hub) -> None:
    moves = pd.DataFrame(
        {"objectId": [1, 1, 2], "from": ["3", "1", "31284720"], "to": ["4", "3", "31284721"]}
    )
    with client_for(hub) as client:
        labelled = moves.hubtickets.label(client, property="hs_pipeline_stage")
    assert labelled["from"].tolist() == ["Waiting on us", "New", "Received"]
    assert labelled["to"].tolist() == ["Closed", "Waiting on us", "Investigating"]
    assert labelled["from"].dtype == labelled["to"].dtype  # same ordered categories
    table = labelled.value_counts(["from", "to"], sort=False)
    assert table.loc[("New", "Waiting on us")] == 1
    assert "pipeline" not in labelled  # only for a value column
    assert paths(hub) == ["/crm-pipelines/v1/pipelines/tickets"]  # nothing else was needed


def test_the_property_can_come_from_the_frames_attrs(hub) -> None:
    spells = pd.DataFrame({"value": ["2", "1"]})
    spells.attrs["property"] = "hs_pipeline_stage"
    with client_for(hub) as client:
        labelled = spells.hubtickets.label(client)
    assert labelled["value"].tolist() == ["Waiting on contact", "New"]


def test_unknown_ids_stay_visible_and_are_reported(hub) -> None:
    frame = pd.DataFrame(
        {
            "hs_pipeline_stage": ["1", "999", None, "4"],
            "hubspot_owner_id": ["51234567", "123", "123", np.nan],
        }
    )
    with client_for(hub) as client, pytest.warns(UnknownLabelsWarning) as caught:
        labelled = frame.hubtickets.label(client)
    message = str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller's line
    assert "hs_pipeline_stage: '999'" in message and "hubspot_owner_id: '123'" in message
    assert labelled.attrs["unlabelled"] == {
        "hs_pipeline_stage": ["999"],
        "hubspot_owner_id": ["123"],
    }
    stage = labelled["hs_pipeline_stage"]
    assert stage.tolist()[:2] == ["New", "999"] and pd.isna(stage.iloc[2])
    assert stage.cat.categories.tolist() == [*STAGE_LABELS, "999"]  # after the known ones
    assert labelled["hubspot_owner_id"].tolist()[:3] == ["Ada Byron", "123", "123"]


def test_a_known_frame_labels_without_a_warning(hub) -> None:
    with client_for(hub) as client, warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.DataFrame({"hs_pipeline_stage": ["1"]}).hubtickets.label(client)


def test_an_explicit_catalogue_needs_no_client() -> None:
    pipelines = pd.DataFrame(
        {
            "pipelineId": ["0", "0", "7", "7"],
            "pipeline": ["Support", "Support", "Sales", "Sales"],
            "stageId": ["1", "2", "70", "71"],
            "stage": ["New", "Closed", "New", "Won"],
        }
    )
    owners = pd.DataFrame(
        {
            "ownerId": ["5", "6", "7"],
            "name": ["Sam Lee", "Sam Lee", "Ann Oh"],
            "email": ["a", "b", "c"],
        }
    )
    definitions = [
        {
            "name": "status",
            "type": "enumeration",
            "fieldType": "select",
            "options": [
                {"value": "B", "label": "Second", "displayOrder": 1},
                {"value": "A", "label": "First", "displayOrder": 0},
            ],
        }
    ]
    catalogue = Catalogue(pipelines, owners, pd.DataFrame.from_records(definitions))
    wide = pd.DataFrame(
        {
            "hs_pipeline_stage": ["1", "70", "71"],
            "hubspot_owner_id": ["5", "6", "7"],
            "status": ["B", "A", "B"],
        }
    )
    labelled = wide.hubtickets.label(catalogue)
    stage = labelled["hs_pipeline_stage"]
    assert stage.tolist() == ["Support: New", "Sales: New", "Won"]  # "New" twice: qualified
    assert stage.cat.categories.tolist() == ["Support: New", "Closed", "Sales: New", "Won"]
    assert labelled["hubspot_owner_id"].tolist() == ["Sam Lee (a)", "Sam Lee (b)", "Ann Oh"]
    assert labelled["status"].cat.categories.tolist() == ["First", "Second"]
    only_owners = wide.hubtickets.label(Catalogue(owners=owners))  # the rest left as it is
    assert only_owners["hs_pipeline_stage"].equals(wide["hs_pipeline_stage"])
    assert only_owners["status"].equals(wide["status"])


def test_bad_arguments_are_refused_clearly() -> None:
    frame = pd.DataFrame({"from": ["1"], "to": ["2"]})
    catalogue = Catalogue(owners=pd.DataFrame({"ownerId": ["5"], "name": ["Sam"]}))
    with pytest.raises(ConfigurationError, match="property='hs_pipeline_stage'"):
        frame.hubtickets.label(catalogue)
    with pytest.raises(ConfigurationError, match="has one"):
        pd.DataFrame({"property": ["status"], "value": ["A"]}).hubtickets.label(
            catalogue, property="status"
        )
    with pytest.raises(ArgumentTypeError, match="TicketsClient or a Catalogue"):
        frame.hubtickets.label("https://api.hubapi.com")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"lacks the columns \['stageId', 'stage'\]"):
        Catalogue(pipelines=pd.DataFrame({"pipelineId": ["0"], "pipeline": ["Support"]}))


def test_a_catalogue_repeating_an_id_uses_its_first_row() -> None:
    pipelines = pd.DataFrame(
        {"pipelineId": ["0"] * 3, "pipeline": ["S"] * 3, "stageId": ["1", "2", "1"]}
    ).assign(stage=["New", "Done", "Renamed"])
    owners = pd.DataFrame({"ownerId": ["5", "5"], "name": ["Sam Lee", "Sam Lee"]})
    status = {
        "name": "status",
        "type": "enumeration",
        "options": [{"value": "A", "label": "First"}, {"value": "A", "label": "Again"}],
    }
    wide = pd.DataFrame({"hs_pipeline_stage": ["1"], "hubspot_owner_id": ["5"], "status": ["A"]})
    labelled = wide.hubtickets.label(Catalogue(pipelines, owners, [status]))
    assert labelled["hs_pipeline_stage"].cat.categories.tolist() == ["New", "Done"]
    assert labelled.iloc[0].tolist() == ["New", "Sam Lee", "First"]
