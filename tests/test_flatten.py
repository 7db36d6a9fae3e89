"""Ticket objects to tidy frames and back to wide: golden seed, shapes, errors, round trips."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_hubtickets import ArgumentTypeError, FlattenError
from pandas_hubtickets._flatten import (
    _AT_ONCE,
    _CHUNK_ROWS,
    TIDY_COLUMNS,
    current,
    flatten,
    read_tidy,
    write_tidy,
)

DATA = Path(__file__).parent / "data"
STRING = pd.ArrowDtype(pa.string())


def ms(epoch_ms: int) -> pd.Timestamp:
    return pd.Timestamp(epoch_ms, unit="ms", tz="UTC")


@pytest.fixture(autouse=True)
def _every_parser(parser: str) -> None:
    """Every test here runs with orjson, with the standard library, and streamed."""


@pytest.fixture
def seed() -> list[dict[str, Any]]:
    return json.loads((DATA / "example-batch-update-response.json").read_text())


def records(tidy: pd.DataFrame) -> list[tuple[Any, ...]]:
    """(objectId, property, value, timestamp, source, sourceId, sourceVid, version), NA as None."""
    columns = ["objectId", "property", "value", "timestamp", "source", "sourceId", "sourceVid"]
    lists = [[None if v is pd.NA or v is pd.NaT else v for v in tidy[c]] for c in columns]
    return [(*row, v) for *row, v in zip(*lists, tidy["version"], strict=True)]


def assert_tidy_dtypes(tidy: pd.DataFrame) -> None:
    assert list(tidy.columns) == list(TIDY_COLUMNS)
    assert tidy["objectId"].dtype == np.int64
    assert tidy["portalId"].dtype == np.int64
    assert tidy["isDeleted"].dtype == np.bool_
    assert tidy["value"].dtype == STRING
    assert tidy["sourceId"].dtype == STRING
    assert tidy["timestamp"].dtype == pd.DatetimeTZDtype("ms", "UTC")
    assert tidy["sourceVid"].dtype == pd.ArrowDtype(pa.list_(pa.int64()))
    assert tidy["version"].dtype == np.int32
    for column in ["objectType", "property", "source"]:
        assert isinstance(tidy[column].dtype, pd.CategoricalDtype), column
        assert tidy[column].cat.categories.dtype == STRING, column
        assert tidy[column].cat.codes.dtype == np.int8, column
    assert isinstance(tidy.index, pd.RangeIndex)


# --- golden -------------------------------------------------------------------------------


def test_golden_seed_response(seed):
    tidy = flatten(seed)
    assert records(tidy) == [
        (
            176602,
            "content",
            "This is now an updated ticket marked as closed.",
            ms(1522872562016),
            "API",
            None,
            [],
            0,
        ),
        (176602, "status", "CLOSED", ms(1522870759430), "API", None, [], 0),
        (178218, "hs_lastmodifieddate", "0", ms(0), "CALCULATED", None, [], 0),
        (
            178218,
            "content",
            "This is another updated ticket marked as in progress.",
            ms(1522876779774),
            "API",
            None,
            [],
            0,
        ),
        (178218, "status", "IN_PROGRESS", ms(1522876779774), "API", None, [], 0),
        (178218, "status", "OPEN", ms(1522870759430), "API", None, [], 1),
    ]
    assert tidy["timestamp"][2] == pd.Timestamp("1970-01-01", tz="UTC")
    assert tidy["objectType"].tolist() == ["TICKET"] * 6
    assert tidy["portalId"].tolist() == [62515] * 6
    assert tidy["isDeleted"].tolist() == [False] * 6
    assert_tidy_dtypes(tidy)
    assert tidy["property"].cat.categories.tolist() == ["content", "status", "hs_lastmodifieddate"]
    assert tidy["source"].cat.categories.tolist() == ["API", "CALCULATED"]


def test_golden_seed_current(seed):
    wide = current(flatten(seed))
    assert list(wide.columns) == ["objectId", "content", "status", "hs_lastmodifieddate"]
    assert wide["objectId"].tolist() == [176602, 178218]
    assert wide["status"].tolist() == ["CLOSED", "IN_PROGRESS"]
    assert wide["hs_lastmodifieddate"].isna().tolist() == [True, False]
    assert wide["hs_lastmodifieddate"][1] == "0"
    assert wide["objectId"].dtype == np.int64
    assert (wide.dtypes.iloc[1:] == STRING).all()


# --- input shapes -------------------------------------------------------------------------


def pages(tickets: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for i, ticket in enumerate(tickets):
        yield {"objects": [ticket], "hasMore": i + 1 < len(tickets), "offset": i + 1}


SHAPES = {
    "json str": lambda s: json.dumps(s),
    "json bytes": lambda s: json.dumps(s).encode(),
    "batch-read map": lambda s: {str(t["objectId"]): t for t in s},
    "batch-read map as json": lambda s: json.dumps({str(t["objectId"]): t for t in s}),
    "one page": lambda s: {"objects": s, "hasMore": False, "offset": 2},
    "generator of pages": pages,
    "list of pages as json": lambda s: json.dumps(list(pages(s))),
    "generator of json bodies": lambda s: (json.dumps(p) for p in pages(s)),
    "generator of single tickets": lambda s: iter(s),
    "tuple of batch responses": lambda s: ([s[0]], [s[1]]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_input_shape_gives_the_same_frame(seed, shape):
    expected = flatten(seed)
    pd.testing.assert_frame_equal(flatten(SHAPES[shape](copy.deepcopy(seed))), expected)


def test_single_ticket_object(seed):
    tidy = flatten(seed[1])
    assert tidy["objectId"].tolist() == [178218] * 4
    assert tidy["version"].tolist() == [0, 0, 0, 1]
    assert_tidy_dtypes(tidy)


def test_a_dict_with_an_object_id_is_a_ticket_even_with_an_objects_key():
    tidy = flatten({"objectId": 1, "portalId": 2, "objects": [], "properties": {"a": GOOD}})
    assert tidy["objectId"].tolist() == [1]


def test_property_without_versions_is_one_row_from_its_own_fields():
    ticket = {
        "objectId": 1,
        "portalId": 2,
        "properties": {
            "status": {"value": "OPEN", "timestamp": 5, "source": "CRM_UI", "sourceId": "u:9"},
            "subject": {"value": "Hi", "timestamp": 6, "source": "API", "versions": []},
        },
    }
    assert records(flatten(ticket)) == [
        (1, "status", "OPEN", ms(5), "CRM_UI", "u:9", [], 0),
        (1, "subject", "Hi", ms(6), "API", None, [], 0),
    ]


def test_source_id_from_the_version_else_the_property():
    versions = [
        {"value": "b", "timestamp": 2, "source": "API", "sourceVid": [7, 8]},
        {"value": "a", "timestamp": 1, "source": "IMPORT", "sourceId": "own", "sourceVid": []},
    ]
    ticket = {
        "objectId": 1,
        "portalId": 2,
        "properties": {"status": {"sourceId": "prop", "versions": versions}},
    }
    assert records(flatten(ticket)) == [
        (1, "status", "b", ms(2), "API", "prop", [7, 8], 0),
        (1, "status", "a", ms(1), "IMPORT", "own", [], 1),
    ]


def test_seed_older_versions_keep_their_own_missing_source_id(seed):
    # The seed gives no sourceId anywhere; a user then sets the property-level one, as
    # HubSpot does for the newest change: only version 0 is theirs, "OPEN" stays unattributed.
    seed[1]["properties"]["status"]["sourceId"] = "userId:123"
    tidy = flatten(seed)
    status = tidy[(tidy["objectId"] == 178218) & (tidy["property"] == "status")]
    assert status[["value", "sourceId", "version"]].values.tolist() == [
        ["IN_PROGRESS", "userId:123", 0],
        ["OPEN", pd.NA, 1],
    ]
    assert tidy["sourceId"].isna().sum() == len(tidy) - 1


def test_history_mixing_sources_keeps_each_versions_source_id():
    versions = [
        {"value": "4", "timestamp": 40, "source": "CRM_UI", "sourceId": "userId:7"},
        {"value": "3", "timestamp": 30, "source": "WORKFLOWS"},
        {"value": "2", "timestamp": 20, "source": "IMPORT", "sourceId": "import:55"},
        {"value": "1", "timestamp": 10, "source": "API"},
    ]
    ticket = {
        "objectId": 1,
        "portalId": 2,
        "properties": {"hs_pipeline_stage": {"sourceId": "userId:7", "versions": versions}},
    }
    tidy = flatten(ticket)
    assert tidy[["source", "sourceId"]].astype(object).values.tolist() == [
        ["CRM_UI", "userId:7"],
        ["WORKFLOWS", pd.NA],
        ["IMPORT", "import:55"],
        ["API", pd.NA],
    ]


def test_missing_values_timestamps_and_envelope_fields():
    ticket = {
        "objectId": 1,
        "portalId": 2,
        "properties": {"status": {"versions": [{"value": None, "source": None}]}},
    }
    tidy = flatten(ticket)
    assert records(tidy) == [(1, "status", None, None, None, None, [], 0)]
    assert tidy["objectType"].isna().all()
    assert tidy["isDeleted"].tolist() == [False]
    assert_tidy_dtypes(tidy)
    deleted = flatten({**ticket, "isDeleted": True, "objectType": "TICKET"})
    assert deleted["isDeleted"].tolist() == [True]
    assert deleted["objectType"].tolist() == ["TICKET"]


def test_versions_are_numbered_per_property_across_tickets():
    def prop(*values: str) -> dict[str, Any]:
        return {"versions": [{"value": v, "timestamp": 1} for v in values]}

    tickets = [
        {"objectId": 1, "portalId": 9, "properties": {"a": prop("x", "y", "z"), "b": prop("u")}},
        {"objectId": 2, "portalId": 8, "properties": {}},
        {"objectId": 3, "portalId": 7, "properties": {"b": prop("v", "w")}},
    ]
    tidy = flatten(tickets)
    assert tidy["objectId"].tolist() == [1, 1, 1, 1, 3, 3]
    assert tidy["portalId"].tolist() == [9, 9, 9, 9, 7, 7]
    assert tidy["property"].tolist() == ["a", "a", "a", "b", "b", "b"]
    assert tidy["value"].tolist() == ["x", "y", "z", "u", "v", "w"]
    assert tidy["version"].tolist() == [0, 1, 2, 0, 0, 1]


EMPTY = {
    "empty list": [],
    "empty map": {},
    "empty page": {"objects": [], "hasMore": False, "offset": 0},
    "empty json": "[]",
    "empty generator": iter(()),
    "ticket without properties": {"objectId": 1, "portalId": 2, "properties": {}},
}


@pytest.mark.parametrize("empty", EMPTY)
def test_empty_input_has_the_columns_and_dtypes(empty):
    tidy = flatten(EMPTY[empty])
    assert len(tidy) == 0
    assert_tidy_dtypes(tidy)
    wide = current(tidy)
    assert list(wide.columns) == ["objectId"]
    assert len(wide) == 0
    assert wide["objectId"].dtype == np.int64


# --- malformed input ----------------------------------------------------------------------


def ticket(object_id: int = 1, **props: Any) -> dict[str, Any]:
    status = {"value": "OPEN", "versions": [{"value": "OPEN", "timestamp": 1}]}
    return {"objectId": object_id, "portalId": 2, "properties": props or {"status": status}}


def versions(*items: Any) -> dict[str, Any]:
    return {"value": "OPEN", "versions": list(items)}


GOOD = {"value": "OPEN", "timestamp": 1, "source": "API", "sourceVid": []}
MALFORMED = [
    ([ticket(), ticket(), ticket(), {"portalId": 2, "properties": {}}], "object 3: no objectId"),
    ([{"objectId": None, "portalId": 2, "properties": {}}], "object 0: no objectId"),
    ([ticket(), {"objectId": 5, "properties": {}}], "object 1: no portalId"),
    ([{"objectId": 1, "portalId": 2}], "object 0: no properties"),
    (
        [ticket(), ticket(), {"objectId": 1, "portalId": 2, "properties": [{"name": "a"}]}],
        "object 2: properties is not a JSON object (got list)",
    ),
    ([ticket(), 5], "object 1: not a JSON object (got int)"),
    (None, "object 0: not a JSON object (got NoneType)"),
    ('[{"objectId": 1, "portalId": 2, "properties": {}}, "text"]', "object 1: not a JSON "),
    ({"17": "TICKET"}, "object 0: not a JSON object (got str)"),
    ([{**ticket(), "objectId": "abc"}], "object 0: bad objectId 'abc' (expected int64)"),
    ([{**ticket(), "isDeleted": "no"}], "object 0: bad isDeleted 'no' (expected bool)"),
    ([ticket(status=None)], "object 0, property 'status': not a JSON object (got NoneType)"),
    (
        [ticket(), ticket(status={"value": "A", "timestamp": "yesterday"})],
        "object 1, property 'status': bad timestamp 'yesterday' (expected int64)",
    ),
    (
        [ticket(status={"sourceId": 7, "versions": [GOOD]})],
        "object 0, property 'status': bad sourceId 7 (expected string)",
    ),
    (
        [ticket(status={"versions": {"0": GOOD}})],
        "object 0, property 'status': versions is not a list (got dict)",
    ),
    (
        [ticket(status={"versions": 5})],
        "object 0, property 'status': versions is not a list (got int)",
    ),
    (
        [ticket(status=versions(GOOD, {**GOOD, "timestamp": "1522870759430"}))],
        "object 0, property 'status', version 1: bad timestamp '1522870759430' (expected int64)",
    ),
    (
        [ticket(status=versions(GOOD, None))],
        "object 0, property 'status', version 1: not a JSON object (got NoneType)",
    ),
    (
        [ticket(a=versions(GOOD), status=versions({**GOOD, "value": 5}))],
        "object 0, property 'status', version 0: bad value 5 (expected string)",
    ),
    (
        [ticket(status=versions({**GOOD, "timestamp": 2**64}))],
        "object 0, property 'status', version 0: bad timestamp 18446744073709551616",
    ),
    (
        [ticket(status=versions({**GOOD, "value": "\ud800"}))],
        "object 0, property 'status', version 0: bad value '\\ud800'",
    ),
    (
        [ticket(status=versions({**GOOD, "sourceVid": ["x"]}))],
        "object 0, property 'status', version 0: bad sourceVid ['x'] (expected list<item",
    ),
    # The position counts ticket objects across pages, maps and lists.
    (
        ({"objects": [ticket(), ticket()]}, [ticket(), {"1": ticket(status=None)}]),
        "object 3, property 'status': not a JSON object",
    ),
    ("[{]", "not valid JSON"),
    ({"objects": {"a": 1}}, "a page's objects is not a list"),
]


@pytest.mark.parametrize(("response", "message"), MALFORMED)
def test_malformed_input_names_the_offending_object(response, message):
    with pytest.raises(FlattenError, match=re.escape(message)):
        flatten(response)


def test_the_first_problem_in_stream_order_is_reported():
    bad_version = ticket(status=versions({**GOOD, "timestamp": "x"}))
    with pytest.raises(FlattenError, match=r"^object 1, property 'status', version 0: "):
        flatten([ticket(), bad_version, {"objectId": 3, "portalId": 2, "properties": 5}])


def test_flatten_error_is_a_value_error():
    with pytest.raises(ValueError, match="object 0: no objectId"):
        flatten([{"properties": {}}])


# --- current ------------------------------------------------------------------------------


def test_current_orders_tickets_and_properties_by_first_appearance():
    def prop(value: str) -> dict[str, Any]:
        return {"versions": [{"value": value}, {"value": "older"}]}

    tidy = flatten(
        [
            {"objectId": 30, "portalId": 1, "properties": {"b": prop("b30"), "a": prop("a30")}},
            {"objectId": 10, "portalId": 1, "properties": {"c": prop("c10"), "a": prop("a10")}},
        ]
    )
    wide = current(tidy)
    assert list(wide.columns) == ["objectId", "b", "a", "c"]
    assert wide["objectId"].tolist() == [30, 10]
    assert wide["a"].tolist() == ["a30", "a10"]
    assert wide["b"].isna().tolist() == [False, True]
    assert wide["c"].isna().tolist() == [True, False]
    assert isinstance(wide.index, pd.RangeIndex)


def test_current_uses_only_version_zero_and_needs_only_four_columns(seed):
    tidy = flatten(seed)[["version", "value", "property", "objectId"]].iloc[::-1]
    wide = current(tidy)
    assert wide["objectId"].tolist() == [178218, 176602]
    assert wide["status"].tolist() == ["IN_PROGRESS", "CLOSED"]


def test_current_names_the_missing_columns(seed):
    with pytest.raises(ValueError, match=r"missing column\(s\) property, version"):
        current(flatten(seed).drop(columns=["property", "version"]))


def test_current_rejects_two_current_values_for_one_cell(seed):
    tidy = flatten(seed)
    twice = pd.concat([tidy, tidy], ignore_index=True)
    with pytest.raises(
        ValueError,
        match=r"^5 cell\(s\) with two current values, e.g. objectId 176602, property .content.$",
    ):
        current(twice)


# --- properties ---------------------------------------------------------------------------


def reference_records(tickets: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What flatten must give, written the obvious way, one row at a time."""
    rows = []
    for t in tickets:
        for name, prop in t["properties"].items():
            for k, v in enumerate(prop.get("versions") or [prop]):
                source_id = v.get("sourceId")
                stamp = v.get("timestamp")
                rows.append(
                    (
                        t["objectId"],
                        name,
                        v.get("value"),
                        None if stamp is None else ms(stamp),
                        v.get("source"),
                        prop.get("sourceId") if source_id is None and k == 0 else source_id,
                        v.get("sourceVid") or [],
                        k,
                    )
                )
    return rows


maybe_text = st.none() | st.text(max_size=8)
version_st = st.fixed_dictionaries(
    {"value": maybe_text, "source": st.sampled_from(["API", "CRM_UI", "CALCULATED"])},
    optional={
        "timestamp": st.none() | st.integers(-(2**45), 2**45),
        "sourceId": maybe_text,
        "sourceVid": st.lists(st.integers(0, 2**63 - 1), max_size=2),
    },
)
property_st = st.fixed_dictionaries(
    {"value": maybe_text, "sourceId": maybe_text, "timestamp": st.integers(0, 2**42)},
    optional={"versions": st.lists(version_st, max_size=3)},
)
tickets_st = st.lists(
    st.fixed_dictionaries(
        {
            "objectId": st.integers(1, 2**62),
            "portalId": st.integers(1, 2**31),
            "properties": st.dictionaries(st.text(max_size=4), property_st, max_size=4),
        }
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(tickets_st)
def test_flatten_agrees_with_a_row_by_row_reference(tickets):
    tidy = flatten(tickets)
    assert records(tidy) == reference_records(tickets)
    assert tidy["portalId"].tolist() == [
        t["portalId"]
        for t in tickets
        for p in t["properties"].values()
        for _ in p.get("versions") or [p]
    ]
    assert list(tidy.columns) == list(TIDY_COLUMNS)


def respond(payload: list[dict[str, Any]], older: bool, clock: int = 1_700_000_000_000) -> Any:
    """HubSpot's answer to a v1 batch update, with an older version of every property if asked."""
    out = []
    for obj in payload:
        props = {}
        for item in obj["properties"]:
            newest = {"name": item["name"], "value": item["value"], "timestamp": clock}
            history = [newest, {**newest, "value": "before", "timestamp": clock - 1}]
            props[item["name"]] = {
                "versions": history if older else history[:1],
                "value": item["value"],
                "timestamp": clock,
                "source": "API",
                "sourceId": None,
            }
        out.append(
            {
                "objectType": "TICKET",
                "portalId": 62515,
                "objectId": obj["objectId"],
                "properties": props,
                "isDeleted": False,
            }
        )
    return out


@st.composite
def wide_frames(draw: st.DrawFn) -> pd.DataFrame:
    ids = draw(st.lists(st.integers(1, 2**53), unique=True, max_size=6))
    names = draw(
        st.lists(
            st.text(min_size=1, max_size=6).filter(lambda n: n != "objectId"),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    cells = st.none() | st.text(max_size=10)
    columns = {name: draw(st.lists(cells, min_size=len(ids), max_size=len(ids))) for name in names}
    return pd.DataFrame({"objectId": ids, **columns}, dtype=object)


@settings(max_examples=150, deadline=None)
@given(wide_frames(), st.booleans(), st.booleans())
def test_round_trip_through_an_emulated_batch_update(wide, older, as_json):
    names = list(wide.columns[1:])
    payload = [
        {
            "objectId": int(row["objectId"]),
            "properties": [{"name": n, "value": row[n]} for n in names if row[n] is not None],
        }
        for _, row in wide.iterrows()
    ]
    response = respond(payload, older)
    back = current(flatten(json.dumps(response) if as_json else response))

    sent = [obj for obj in payload if obj["properties"]]
    assert back["objectId"].tolist() == [obj["objectId"] for obj in sent]
    for position, obj in enumerate(sent):
        values = {item["name"]: item["value"] for item in obj["properties"]}
        for name in back.columns[1:]:
            got = back[name][position]
            if name in values:
                assert got == values[name]
            else:
                assert got is pd.NA
    assert set(back.columns[1:]) == {item["name"] for obj in sent for item in obj["properties"]}


def test_read_tidy_restores_a_saved_frame_exactly(tmp_path):
    tidy = flatten(json.loads((DATA / "example-batch-update-response.json").read_text()))
    tidy.to_parquet(tmp_path / "h.parquet")
    with pytest.raises(TypeError, match="not understood"):  # why read_tidy exists
        pd.read_parquet(tmp_path / "h.parquet")
    pd.testing.assert_frame_equal(read_tidy(tmp_path / "h.parquet"), tidy)
    empty = flatten([])
    empty.to_parquet(tmp_path / "e.parquet")
    pd.testing.assert_frame_equal(read_tidy(tmp_path / "e.parquet"), empty)


def test_write_tidy_opens_with_plain_readers(tmp_path):
    versions = [
        {"value": "OPEN", "timestamp": 1522876779774, "source": "API", "sourceVid": [7, 8]},
        {"value": "NEW", "timestamp": 1522870759430, "source": "CALCULATED"},
    ]
    ticket = {"objectId": 1, "portalId": 7, "properties": {"status": {"versions": versions}}}
    response = json.loads((DATA / "example-batch-update-response.json").read_text())
    tidy = flatten([ticket, response])
    path = tmp_path / "h.parquet"
    write_tidy(tidy, path)
    plain = pd.read_parquet(path)  # no help from this package
    assert plain.columns.tolist() == list(TIDY_COLUMNS)
    assert plain["value"].tolist() == tidy["value"].tolist()
    assert plain["property"].astype(str).tolist() == tidy["property"].astype(str).tolist()
    assert plain["timestamp"].equals(tidy["timestamp"])
    assert [list(v) for v in plain["sourceVid"]] == [list(v) for v in tidy["sourceVid"]]
    table = pq.read_table(path)  # what other Parquet readers see: plain Arrow types
    assert table.schema.metadata is None or b"pandas" not in table.schema.metadata
    assert table.column("sourceVid").to_pylist()[0] == [7, 8]
    pd.testing.assert_frame_equal(read_tidy(path), tidy)


def test_flatten_of_a_frame_says_what_it_takes():
    tidy = flatten({"objectId": 1, "portalId": 7, "properties": {"a": {"value": "x"}}})
    with pytest.raises(ArgumentTypeError, match="takes the JSON HubSpot returned") as info:
        flatten(tidy)
    assert "nothing left to flatten" in str(info.value)
    assert isinstance(info.value, TypeError)
    with pytest.raises(ArgumentTypeError, match="tidy must be a DataFrame, got list"):
        current([])


# Sources are dictionary-encoded chunk by chunk as they are converted (part-flatmem): the
# categories stay in order of first appearance over every chunk, with pandas' codes dtype.


def _many_sources(tickets: int, sources: int, *, versioned: bool) -> list[dict[str, Any]]:
    """Tickets of 3 versions each, source of ticket i version k: SRC_{(3i + k) % sources}."""
    out: list[dict[str, Any]] = []
    for i in range(tickets):
        names = [f"SRC_{(3 * i + k) % sources}" for k in range(3)]
        if versioned:
            history = [
                {"value": str(k), "timestamp": f"2024-01-0{k + 1}T00:00:00.000Z", "sourceType": s}
                for k, s in enumerate(names)
            ]
            out.append(
                {
                    "id": str(i + 1),
                    "properties": {"status": "0"},
                    "propertiesWithHistory": {"status": history},
                }
            )
        else:
            versions = [{"value": str(k), "timestamp": k, "source": s} for k, s in enumerate(names)]
            out.append(
                {"objectId": i + 1, "portalId": 7, "properties": {"status": {"versions": versions}}}
            )
    return out


@pytest.mark.parametrize("versioned", [False, True], ids=["v1", "2026-03"])
def test_sources_over_many_chunks_keep_first_appearance_order(
    versioned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pandas_hubtickets import _flatten

    monkeypatch.setattr(_flatten, "_CHUNK_ROWS", 30)  # 10 tickets a chunk: each adds sources
    tickets = _many_sources(200, 300, versioned=versioned)
    tidy = flatten(tickets)
    expected = [f"SRC_{(3 * i + k) % 300}" for i in range(200) for k in range(3)]
    order = list(dict.fromkeys(expected))
    assert tidy["source"].astype(object).tolist() == expected
    assert tidy["source"].cat.categories.tolist() == order
    assert tidy["source"].cat.codes.dtype == np.int16  # 300 categories: as pandas picks


@pytest.mark.parametrize("versioned", [False, True], ids=["v1", "2026-03"])
def test_compacted_parts_with_different_sources_flatten_as_one(versioned: bool) -> None:
    from pandas_hubtickets._flatten import compact, tidy_of, to_arrow

    tickets = _many_sources(40, 120, versioned=versioned)  # parts see different sources
    parts = [to_arrow(tickets[i : i + 10]) for i in range(0, 40, 10)]
    assert tidy_of([compact(parts)]).equals(flatten(tickets))
    assert tidy_of(parts).equals(flatten(tickets))


def test_a_list_mixing_tickets_and_pages_flattens_as_its_tickets(seed):
    # a list of ticket objects only (an update's answer) is taken as it is; anything else
    # in the list is unpacked as before, and a bad item is still named by its position
    first, second = copy.deepcopy(seed)
    mixed = flatten([first, {"objects": [second], "hasMore": False}])
    pd.testing.assert_frame_equal(mixed, flatten([first, second]))
    with pytest.raises(FlattenError, match=re.escape("object 1: not a JSON object (got int)")):
        flatten([first, 5])


def test_a_list_of_tickets_flattens_as_the_same_tickets_one_at_a_time(seed):
    # a short list of v1 ticket objects (an update's answer) is gathered at once, in one
    # chunk however many versions it holds; a long one as any other input: the same frame
    bare = {"value": "x", "timestamp": 5, "source": "API", "sourceId": "s"}
    odd = {"objectId": 3, "portalId": 2, "properties": {"a": bare, "b": {**bare, "versions": []}}}
    deep = {"objectId": 4, "portalId": 2, "properties": {"c": {"versions": [bare] * 50}}}
    assert len([deep] * 90) * 50 > _CHUNK_ROWS and len([deep] * 90) <= _AT_ONCE
    for many in ([*seed, odd], [*seed, odd, *[deep] * 90], [*seed, odd] * 600):
        pd.testing.assert_frame_equal(flatten(many), flatten(iter(many)))
