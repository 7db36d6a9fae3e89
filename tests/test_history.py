"""Tidy-frame analyses: spells, transitions, the audit trail, values as of a moment, typed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from histories import APIS, DAY, as_api, ticket
from hypothesis import given, settings
from hypothesis import strategies as st

import pandas_hubtickets as ht
from pandas_hubtickets import ConfigurationError, FlattenError
from pandas_hubtickets._flatten import concat_tidy
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.catalogue import OWNERS, PIPELINES
from pandas_hubtickets.testing.schema import PROPERTIES, v2_definitions

STRING = pd.ArrowDtype(pa.string())
MOMENT = pd.DatetimeTZDtype("ms", "UTC")


def ms(epoch_ms: int) -> pd.Timestamp:
    return pd.Timestamp(epoch_ms, unit="ms", tz="UTC")


def plain(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows as lists, NA and NaT as None."""
    return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).values]


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    """Each analysis runs on the tidy frame of v1's answers and of the date-versioned API's."""
    return str(request.param)


def flat(api: str, *tickets: dict[str, Any]) -> pd.DataFrame:
    """``flatten`` of v1 ticket objects, as ``api`` returns them."""
    return ht.flatten([as_api(t, api) for t in tickets])


@pytest.fixture
def tidy(api: str) -> pd.DataFrame:
    """Two tickets moving through stages, with a re-sent stage and changes by many sources."""
    return flat(
        api,
        *[
            ticket(
                1,
                hs_pipeline_stage=[
                    ("1", 0, "API", None),
                    ("2", DAY, "WORKFLOWS", "workflow:9"),
                    ("2", 2 * DAY, "WORKFLOWS", "workflow:9"),  # re-sent: no new spell
                    ("3", 5 * DAY, "CRM_UI", "userId:7"),
                ],
                status=[
                    ("OPEN", 0, "IMPORT", "import:3"),
                    ("CLOSED", 5 * DAY, "CRM_UI", "userId:7"),
                ],
            ),
            ticket(
                2,
                hs_pipeline_stage=[("1", DAY, "API", None), ("3", 3 * DAY, "CRM_UI", "userId:8")],
                status=[("OPEN", DAY, "API", None)],
            ),
        ],
    )


# --- durations -----------------------------------------------------------------------------


def test_durations_one_row_per_spell_resent_values_do_not_start_one(tidy):
    spells = tidy.hubtickets.durations()
    assert list(spells.columns) == ["objectId", "value", "start", "end", "duration", "source"]
    assert plain(spells) == [
        [1, "1", ms(0), ms(DAY), pd.Timedelta(days=1), "API"],
        [1, "2", ms(DAY), ms(5 * DAY), pd.Timedelta(days=4), "WORKFLOWS"],
        [1, "3", ms(5 * DAY), None, None, "CRM_UI"],
        [2, "1", ms(DAY), ms(3 * DAY), pd.Timedelta(days=2), "API"],
        [2, "3", ms(3 * DAY), None, None, "CRM_UI"],
    ]
    assert spells["objectId"].dtype == np.int64
    assert spells["value"].dtype == STRING
    assert spells["start"].dtype == MOMENT and spells["end"].dtype == MOMENT
    assert spells["duration"].dtype == np.dtype("timedelta64[ms]")
    assert spells["source"].dtype == tidy["source"].dtype


def test_durations_until_closes_open_spells_and_cuts_the_future(tidy):
    spells = tidy.hubtickets.durations("hs_pipeline_stage", until=pd.Timestamp(4 * DAY, unit="ms"))
    assert plain(spells[["objectId", "value", "end", "duration"]]) == [
        [1, "1", ms(DAY), pd.Timedelta(days=1)],
        [1, "2", ms(4 * DAY), pd.Timedelta(days=3)],  # naive until: UTC; the move to 3 is later
        [2, "1", ms(3 * DAY), pd.Timedelta(days=2)],
        [2, "3", ms(4 * DAY), pd.Timedelta(days=1)],
    ]


def test_analyses_do_not_depend_on_row_order(tidy):
    shuffled = tidy.sample(frac=1, random_state=3).reset_index(drop=True)
    assert shuffled.hubtickets.durations().equals(tidy.hubtickets.durations())
    assert shuffled.hubtickets.transitions().equals(tidy.hubtickets.transitions())
    assert shuffled.hubtickets.changes().equals(tidy.hubtickets.changes())


def test_unknown_property_names_the_known_ones(tidy):
    with pytest.raises(ConfigurationError, match=r"no property 'stage'.*'hs_pipeline_stage'"):
        tidy.hubtickets.durations("stage")


def test_missing_columns_and_bad_moments_are_refused(tidy):
    with pytest.raises(FlattenError, match=r"missing column.*timestamp"):
        tidy.drop(columns="timestamp").hubtickets.transitions()
    with pytest.raises(ConfigurationError, match="until must be a moment in time, got 'soon'"):
        tidy.hubtickets.durations(until="soon")


# --- transitions ---------------------------------------------------------------------------


def test_transitions_are_changes_between_two_values(tidy):
    moves = tidy.hubtickets.transitions("hs_pipeline_stage")
    assert list(moves.columns) == ["objectId", "from", "to", "at", "source", "sourceId"]
    assert plain(moves) == [
        [1, "1", "2", ms(DAY), "WORKFLOWS", "workflow:9"],
        [1, "2", "3", ms(5 * DAY), "CRM_UI", "userId:7"],
        [2, "1", "3", ms(3 * DAY), "CRM_UI", "userId:8"],
    ]
    assert moves["at"].dtype == MOMENT
    assert moves["from"].dtype == STRING and moves["sourceId"].dtype == STRING
    counts = moves.value_counts(["from", "to"])
    assert counts.to_dict() == {("1", "2"): 1, ("2", "3"): 1, ("1", "3"): 1}


# --- changes -------------------------------------------------------------------------------


def test_changes_is_the_audit_trail_in_time_order(tidy):
    trail = tidy.hubtickets.changes()
    assert list(trail.columns) == [
        "objectId",
        "property",
        "old",
        "new",
        "timestamp",
        "source",
        "sourceId",
    ]
    assert plain(trail) == [
        [1, "hs_pipeline_stage", None, "1", ms(0), "API", None],
        [1, "status", None, "OPEN", ms(0), "IMPORT", "import:3"],
        [1, "hs_pipeline_stage", "1", "2", ms(DAY), "WORKFLOWS", "workflow:9"],
        [2, "hs_pipeline_stage", None, "1", ms(DAY), "API", None],
        [2, "status", None, "OPEN", ms(DAY), "API", None],
        [2, "hs_pipeline_stage", "1", "3", ms(3 * DAY), "CRM_UI", "userId:8"],
        [1, "hs_pipeline_stage", "2", "3", ms(5 * DAY), "CRM_UI", "userId:7"],
        [1, "status", "OPEN", "CLOSED", ms(5 * DAY), "CRM_UI", "userId:7"],
    ]
    assert trail["timestamp"].dtype == MOMENT
    closed = trail[trail["new"] == "CLOSED"]  # who closed these tickets: one line
    assert closed[["objectId", "sourceId"]].values.tolist() == [[1, "userId:7"]]


def test_changes_since_until(tidy):
    trail = tidy.hubtickets.changes(since=ms(DAY), until=ms(5 * DAY))
    assert trail["timestamp"].tolist() == [ms(DAY)] * 3 + [ms(3 * DAY)]


def test_older_versions_are_attributed_to_their_own_source_not_the_latest_user(api):
    # The property-level sourceId (userId:7) is the newest version's only: the workflow's
    # change before it must not be attributed to the user.
    obj = ticket(1, status=[("OPEN", 0, "WORKFLOWS", None), ("CLOSED", DAY, "CRM_UI", "userId:7")])
    obj["properties"]["status"]["sourceId"] = "userId:7"
    trail = flat(api, obj).hubtickets.changes()
    assert plain(trail[["new", "source", "sourceId"]]) == [
        ["OPEN", "WORKFLOWS", None],
        ["CLOSED", "CRM_UI", "userId:7"],
    ]


# --- against a per-ticket reference --------------------------------------------------------


def reference_spells(tickets: list[dict[str, Any]], name: str) -> list[list[Any]]:
    """Spells the obvious way: one ticket at a time, one version at a time."""
    out = []
    for t in tickets:
        prop = t["properties"].get(name)
        if prop is None:
            continue
        history = sorted(reversed(prop["versions"]), key=lambda v: v["timestamp"])
        spells: list[list[Any]] = []
        for v in history:
            if spells and spells[-1][1] == v["value"]:
                continue
            if spells:
                spells[-1][3] = ms(v["timestamp"])
                spells[-1][4] = spells[-1][3] - spells[-1][2]
            spells.append([t["objectId"], v["value"], ms(v["timestamp"]), None, None, v["source"]])
        out += spells
    return out


histories = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 50), st.sampled_from(["API", "X"])),
    min_size=1,
    max_size=6,
)


@pytest.mark.parametrize("api", APIS)
@settings(max_examples=100, deadline=None)
@given(st.lists(histories, min_size=1, max_size=5), st.integers(0, 50))
def test_analyses_agree_with_a_per_ticket_reference(api, per_ticket, cutoff):
    tickets = [
        ticket(100 + i, stage=[(v, t, s, None) for v, t, s in history])
        for i, history in enumerate(per_ticket)
    ]
    tidy = flat(api, *tickets)
    expected = reference_spells(tickets, "stage")
    assert plain(tidy.hubtickets.durations("stage")) == expected
    moves = tidy.hubtickets.transitions("stage")
    expected_moves = [
        [b[0], a[1], b[1], b[2]] for a, b in itertools.pairwise(expected) if a[0] == b[0]
    ]
    assert plain(moves[["objectId", "from", "to", "at"]]) == expected_moves
    firsts = [s for k, s in enumerate(expected) if k == 0 or expected[k - 1][0] != s[0]]
    expected_trail = [[s[0], None, s[1], s[2]] for s in firsts] + expected_moves
    trail = tidy.hubtickets.changes()
    got = plain(trail[["objectId", "old", "new", "timestamp"]])
    assert sorted(got, key=str) == sorted(expected_trail, key=str)
    assert trail["timestamp"].is_monotonic_increasing
    then = []
    for i, history in enumerate(per_ticket):  # oldest first; ties: the later in the list
        known = sorted((t, k, v) for k, (v, t, _) in enumerate(history) if t <= cutoff)
        if known:
            then.append([100 + i, known[-1][2]])
    assert plain(tidy.hubtickets.current(as_of=ms(cutoff))) == then


# --- current: as of a moment, typed --------------------------------------------------------


def test_current_as_of_a_moment_and_per_ticket(tidy):
    then = tidy.hubtickets.current(as_of=ms(2 * DAY))
    assert plain(then) == [[1, "2", "OPEN"], [2, "1", "OPEN"]]
    assert then["hs_pipeline_stage"].dtype == STRING
    assert plain(tidy.hubtickets.current(as_of=ms(0))) == [[1, "1", "OPEN"]]  # 2 did not exist
    per_ticket = pd.Series([ms(5 * DAY), ms(DAY)], index=[1, 2])
    assert plain(tidy.hubtickets.current(as_of=per_ticket)) == [
        [1, "3", "CLOSED"],
        [2, "1", "OPEN"],
    ]
    only_one = pd.Series([pd.Timestamp(3 * DAY, unit="ms")], index=[2])  # naive: UTC
    assert plain(tidy.hubtickets.current(as_of=only_one)) == [[2, "3", "OPEN"]]
    assert plain(tidy.hubtickets.current()) == plain(tidy.hubtickets.current(as_of=ms(9 * DAY)))


def test_current_as_of_keeps_every_property_as_a_column(tidy, api):
    extra = flat(api, ticket(3, subject=[("Hi", 9 * DAY, "API", None)]))
    both = concat_tidy([tidy, extra])
    then = both.hubtickets.current(as_of=ms(DAY))
    assert list(then.columns) == ["objectId", "hs_pipeline_stage", "status", "subject"]
    assert then["subject"].dtype == STRING and then["subject"].isna().all()


def typed_ticket(api: str) -> dict[str, Any]:
    """One ticket with a value of each type, written as ``api`` writes it."""
    values = {
        "status": "WAITING",
        "hs_ticket_priority": "SOMETIMES",  # no longer an option: kept, after the options
        "hs_ticket_category": "BILLING_ISSUE;GENERAL_INQUIRY",
        "hs_pipeline_stage": "2",
        # v1: epoch milliseconds; the date-versioned API: ISO 8601, a date alone for a date
        "closed_date": str(1_700_000_000_123) if api == "v1" else "2023-11-14T22:13:20.123Z",
        "due_date": str(19_000 * DAY) if api == "v1" else "2022-01-08",
        "hubspot_owner_id": "12345678",
        "num_notes": "",
        "is_escalated": "true",
        "subject": "007",
        "mystery": "x",
    }
    return as_api(ticket(9, **{k: [(v, 1, "API", None)] for k, v in values.items()}), api)


def test_typed_current_gives_each_property_its_type(api):
    wide = ht.flatten(typed_ticket(api)).hubtickets.current(
        typed=True, definitions=v2_definitions()
    )
    dtypes = wide.dtypes.astype(str).to_dict()
    assert dtypes == {
        "objectId": "int64",
        "status": "category",
        "hs_ticket_priority": "category",
        "hs_ticket_category": "string[pyarrow]",
        "hs_pipeline_stage": "string[pyarrow]",
        "closed_date": "datetime64[ms, UTC]",
        "due_date": "datetime64[ms, UTC]",
        "hubspot_owner_id": "Int64",
        "num_notes": "Int64",
        "is_escalated": "boolean",
        "subject": "string[pyarrow]",
        "mystery": "string[pyarrow]",
    }
    for text in ["hs_ticket_category", "hs_pipeline_stage", "subject", "mystery"]:
        assert wide[text].dtype == STRING, text
    assert wide["status"].cat.categories.tolist() == ["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"]
    assert wide["hs_ticket_priority"].cat.categories.tolist() == [
        "LOW",
        "MEDIUM",
        "HIGH",
        "URGENT",
        "SOMETIMES",
    ]
    row = wide.iloc[0]
    assert row["closed_date"] == ms(1_700_000_000_123)
    assert row["due_date"] == ms(19_000 * DAY)
    assert row["hubspot_owner_id"] == 12_345_678 and row["num_notes"] is pd.NA
    assert row["is_escalated"] is np.True_ or row["is_escalated"] is True
    assert row["subject"] == "007"


def test_typed_numbers_are_float_when_any_value_has_a_fraction(api):
    tidy = flat(
        api,
        ticket(1, hubspot_owner_id=[("2.5", 1, "API", None)]),
        ticket(2, hubspot_owner_id=[("3", 1, "API", None)]),
    )
    wide = tidy.hubtickets.current(typed=True, definitions=v2_definitions())
    assert wide["hubspot_owner_id"].dtype == np.float64
    assert wide["hubspot_owner_id"].tolist() == [2.5, 3.0]


def test_options_in_display_order_not_list_order():
    definitions = [
        {
            "name": "status",
            "type": "enumeration",
            "fieldType": "select",
            "options": [
                {"value": "B", "label": "b", "displayOrder": 1},
                {"value": "Z", "label": "z", "displayOrder": -1},
                {"value": "A", "label": "a", "displayOrder": 0},
            ],
        }
    ]
    wide = ht.flatten(ticket(1, status=[("A", 1, "API", None)])).hubtickets.current(
        typed=True, definitions=definitions
    )
    assert wide["status"].cat.categories.tolist() == ["A", "B", "Z"]


def test_typed_values_that_do_not_read_are_all_listed(api):
    tidy = flat(
        api,
        ticket(
            1,
            closed_date=[("2024-01-01", 1, "API", None)],  # a date alone is no datetime
            is_escalated=[("yes", 1, "API", None)],
        ),
        ticket(2, closed_date=[("soon", 1, "API", None)], is_escalated=[("true", 1, "API", None)]),
    )
    with pytest.raises(FlattenError) as refused:
        tidy.hubtickets.current(typed=True, definitions=v2_definitions())
    message = str(refused.value)
    assert "'closed_date' (datetime): 2 value(s)" in message
    assert "objectId 1, 2: '2024-01-01', 'soon'" in message
    assert "'is_escalated' (bool): 1 value(s)" in message and "objectId 1: 'yes'" in message


def test_typed_needs_definitions(tidy):
    with pytest.raises(ConfigurationError, match="typed=True needs the property definitions"):
        tidy.hubtickets.current(typed=True)
    with pytest.raises(ConfigurationError, match="only with typed=True"):
        tidy.hubtickets.current(definitions=v2_definitions())


@pytest.mark.parametrize("api", APIS)
def test_history_through_the_emulator_typed_with_a_client(api):
    with FakeHubSpot() as hub:
        ids = [hub.create_ticket({"status": "OPEN", "subject": f"t{i}"}) for i in range(3)]
        client = ht.TicketsClient(hub.token, base_url=hub.base_url)
        for status in ["IN_PROGRESS", "IN_PROGRESS", "CLOSED"]:  # the second one re-sends
            pd.DataFrame({"objectId": ids[:2], "status": status}).hubtickets.update(
                client, progress=False
            )
        reader = ht.TicketsClient(hub.token, base_url=hub.base_url, api=api)  # v1's writes
        tidy = ht.flatten(reader.batch_read(ids, properties=["status"], history=True))
        typed = tidy.hubtickets.current(typed=True, definitions=reader)
    assert tidy["portalId"].isna().all() == (api != "v1")  # read in the API's own shape
    assert typed["status"].dtype.categories.tolist() == ["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"]
    assert typed.set_index("objectId")["status"].loc[ids[:2]].tolist() == ["CLOSED", "CLOSED"]
    moves = tidy.hubtickets.transitions("status")
    assert [moves.loc[moves["objectId"] == i, "to"].tolist() for i in ids[:2]] == [
        ["IN_PROGRESS", "CLOSED"],
        ["IN_PROGRESS", "CLOSED"],
    ]
    assert ids[2] not in set(moves["objectId"])  # never changed
    spells = tidy.hubtickets.durations("status")
    assert (spells.groupby("objectId").size().loc[ids[:2]] == 3).all()


# --- labels= on the analyses, over HTTP against the emulator's generated histories ----------
# Expected labels come from the emulator's catalogue, never from the frames under test.

STAGES = [s.label for p in PIPELINES for s in p.stages]
STAGE_LABEL = {s.stage_id: s.label for p in PIPELINES for s in p.stages}
PIPELINE_OF = {s.stage_id: p.label for p in PIPELINES for s in p.stages}
OWNER_NAME = {o.owner_id: f"{o.first_name} {o.last_name}" for o in OWNERS}
BILLING = {s.stage_id for s in PIPELINES[1].stages}


@dataclass
class Portal:
    hub: FakeHubSpot
    client: ht.TicketsClient
    tidy: pd.DataFrame


@pytest.fixture(scope="module", params=APIS)
def portal(request: pytest.FixtureRequest) -> Iterator[Portal]:
    """Forty generated ticket histories read back with history; the hub and client stay up.

    The tidy frame is flattened from v1's answer, or from its date-versioned twin.
    """
    with FakeHubSpot(seed=5) as hub, ht.TicketsClient(hub.token, base_url=hub.base_url) as client:
        ids = hub.generate_history(tickets=40)
        read = client.batch_read(ids)
        yield Portal(hub, client, ht.flatten([as_api(t, request.param) for t in read.values()]))


def test_durations_with_labels_read_stage_names_in_pipeline_order(portal):
    raw = portal.tidy.hubtickets.durations()
    spells = portal.tidy.hubtickets.durations(labels=portal.client)
    assert list(spells.columns) == [
        "objectId",
        "value",
        "pipeline",
        "start",
        "end",
        "duration",
        "source",
    ]
    assert spells["value"].cat.ordered
    assert spells["value"].cat.categories.tolist() == STAGES  # every stage, pipeline by pipeline
    assert spells["value"].tolist() == [STAGE_LABEL[v] for v in raw["value"]]
    assert spells["pipeline"].tolist() == [PIPELINE_OF[v] for v in raw["value"]]
    assert spells.drop(columns=["value", "pipeline"]).equals(raw.drop(columns="value"))
    per_stage = spells.groupby("value", observed=False)["duration"].median()
    assert per_stage.index.tolist() == STAGES  # a table or chart reads through the pipeline


def test_transitions_with_labels_share_the_stage_categories(portal):
    raw = portal.tidy.hubtickets.transitions()
    moves = portal.tidy.hubtickets.transitions(labels=portal.client)
    assert moves["from"].tolist() == [STAGE_LABEL[v] for v in raw["from"]]
    assert moves["to"].tolist() == [STAGE_LABEL[v] for v in raw["to"]]
    assert moves["from"].dtype == moves["to"].dtype
    assert moves["to"].cat.categories.tolist() == STAGES
    counts = moves.value_counts(["from", "to"])
    assert counts.sum() == len(raw) and counts.loc[("New", "Waiting on us")] > 0


def test_changes_with_a_catalogue_label_each_property_and_keep_the_rest(portal):
    catalogue = ht.Catalogue.from_client(portal.client)
    requests_before = len(portal.hub.requests)
    raw = portal.tidy.hubtickets.changes()
    trail = portal.tidy.hubtickets.changes(labels=catalogue)
    assert len(portal.hub.requests) == requests_before  # a catalogue needs no request
    owner = (raw["property"] == "hubspot_owner_id").to_numpy()
    stage = (raw["property"] == "hs_pipeline_stage").to_numpy()
    assert trail["new"][owner].tolist() == [OWNER_NAME[v] for v in raw["new"][owner]]
    assert trail["new"][stage].tolist() == [STAGE_LABEL[v] for v in raw["new"][stage]]
    assert trail["old"][stage].dropna().isin(STAGES).all()
    subject = (raw["property"] == "subject").to_numpy()
    assert trail["new"][subject].tolist() == raw["new"][subject].tolist()  # text stays text
    closed = trail[stage & (trail["new"] == "Closed")]  # who closed these tickets
    raw_closed = raw[stage & (raw["new"] == "4").to_numpy()]
    assert len(closed) and closed["sourceId"].tolist() == raw_closed["sourceId"].tolist()


def test_current_typed_with_labels_reads_options_owners_and_stages(portal):
    typed = portal.tidy.hubtickets.current(typed=True, definitions=portal.client)
    wide = portal.tidy.hubtickets.current(
        typed=True, definitions=portal.client, labels=portal.client
    )
    assert wide["objectId"].tolist() == typed["objectId"].tolist()
    stages = [STAGE_LABEL[v] for v in typed["hs_pipeline_stage"]]
    assert wide["hs_pipeline_stage"].tolist() == stages
    assert wide["hs_pipeline_stage"].cat.categories.tolist() == STAGES
    owners = [None if pd.isna(o) else OWNER_NAME[str(o)] for o in typed["hubspot_owner_id"]]
    assert [None if pd.isna(o) else o for o in wide["hubspot_owner_id"]] == owners
    status_labels = [label for _, label in PROPERTIES["status"].options]
    assert wide["status"].cat.categories.tolist() == status_labels
    assert wide["createdate"].equals(typed["createdate"])  # not a labelled property: as it was
    then = portal.tidy.hubtickets.current(as_of="2026-09-15", labels=portal.client)
    assert set(then["hs_pipeline_stage"].dropna()) <= set(STAGES)
    assert len(then) < len(wide)  # tickets created later are not there yet


def test_labels_warning_points_at_the_callers_line(portal):
    support_only = ht.Catalogue(pipelines=portal.client.pipelines().iloc[:4])
    with pytest.warns(ht.errors.UnknownLabelsWarning) as caught:
        spells = portal.tidy.hubtickets.durations(labels=support_only)
    assert caught[0].filename == __file__
    unlabelled = set(spells.attrs["unlabelled"]["hs_pipeline_stage"])
    assert unlabelled and unlabelled <= BILLING  # the billing stages stay as they were


def test_labels_must_be_a_client_or_a_catalogue(tidy):
    with pytest.raises(ht.errors.ArgumentTypeError, match="TicketsClient or a Catalogue"):
        tidy.hubtickets.transitions(labels="https://api.hubapi.com")


def test_every_analysis_of_the_date_versioned_twin_equals_v1s(portal):
    ids = portal.tidy["objectId"].unique().tolist()
    read = portal.client.batch_read(ids)
    v1, twin = (ht.flatten([as_api(t, api) for t in read.values()]) for api in APIS)
    catalogue = ht.Catalogue.from_client(portal.client)
    analyses = {
        "durations": lambda tidy: tidy.hubtickets.durations(labels=catalogue),
        "transitions": lambda tidy: tidy.hubtickets.transitions("status", labels=catalogue),
        "changes": lambda tidy: tidy.hubtickets.changes(since="2026-01-01", labels=catalogue),
        "current": lambda tidy: tidy.hubtickets.current(
            typed=True, definitions=portal.client, labels=catalogue
        ),
        "as of": lambda tidy: tidy.hubtickets.current(as_of="2026-09-15"),
    }
    for name, analysis in analyses.items():
        ours, theirs = analysis(twin), analysis(v1)
        assert len(theirs), name
        pd.testing.assert_frame_equal(ours, theirs, obj=name)
