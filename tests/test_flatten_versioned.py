"""Date-versioned (2026-03) and v3 objects to tidy frames: golden twin, shapes, extras, errors.

v3 answers have the same shapes as 2026-03's under another prefix, so what holds
for one holds for the other; v1's own shapes are in test_flatten.py.
"""

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
import pytest
from histories import iso
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_hubtickets import FlattenError
from pandas_hubtickets._flatten import (
    EXTRA_COLUMNS,
    TIDY_COLUMNS,
    _streamed,
    compact,
    concat_tidy,
    current,
    flatten,
    read_tidy,
    tidy_of,
    to_arrow,
    write_tidy,
)
from pandas_hubtickets._json import NotStreamable
from pandas_hubtickets.testing.schema import v2_definitions

DATA = Path(__file__).parent / "data"
STRING = pd.ArrowDtype(pa.string())
VIDS = pd.ArrowDtype(pa.list_(pa.int64()))


def ms(epoch_ms: int) -> pd.Timestamp:
    return pd.Timestamp(epoch_ms, unit="ms", tz="UTC")


@pytest.fixture(autouse=True)
def _every_parser(parser: str) -> None:
    """Every test here runs with orjson, with the standard library, and streamed."""


@pytest.fixture
def seed() -> list[dict[str, Any]]:
    """The v1 seed: HubSpot's example batch-update response."""
    return json.loads((DATA / "example-batch-update-response.json").read_text())


@pytest.fixture
def twin() -> dict[str, Any]:
    """The seed's tickets as the 2026-03 batch read with history answers (built by hand).

    Each v1 ticket became a SimplePublicObject: ``id`` the objectId as text,
    ``properties`` each property's current value, ``propertiesWithHistory``
    its versions (newest first) with the epoch milliseconds written as ISO 8601
    and ``source`` as ``sourceType`` (``name`` and ``sourceVid`` dropped: the
    new API has neither), ``isDeleted`` as ``archived``; ``objectType`` and
    ``portalId`` dropped; ``createdAt``/``updatedAt`` the oldest/newest version.
    The datetime property ``hs_lastmodifieddate`` reads as ISO 8601 text, as
    the new API writes it.
    """
    return json.loads((DATA / "example-batch-read-response-2026-03.json").read_text())


def records(tidy: pd.DataFrame) -> list[tuple[Any, ...]]:
    """(objectId, property, value, timestamp, source, sourceId, sourceVid, version), NA as None."""
    columns = ["objectId", "property", "value", "timestamp", "source", "sourceId", "sourceVid"]
    lists = [[None if v is pd.NA or v is pd.NaT else v for v in tidy[c]] for c in columns]
    return [(*row, v) for *row, v in zip(*lists, tidy["version"], strict=True)]


def assert_versioned_dtypes(tidy: pd.DataFrame) -> None:
    """The tidy dtypes, with portalId nullable (the new API has none)."""
    assert list(tidy.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert tidy["objectId"].dtype == np.int64
    assert tidy["portalId"].dtype == pd.Int64Dtype()
    assert tidy["isDeleted"].dtype == np.bool_
    assert tidy["value"].dtype == STRING
    assert tidy["sourceId"].dtype == STRING
    assert tidy["timestamp"].dtype == pd.DatetimeTZDtype("ms", "UTC")
    assert tidy["sourceVid"].dtype == VIDS
    assert tidy["version"].dtype == np.int32
    for column in ["objectType", "property", "source"]:
        assert isinstance(tidy[column].dtype, pd.CategoricalDtype), column
        assert tidy[column].cat.categories.dtype == STRING, column
        assert tidy[column].cat.codes.dtype == np.int8, column
    assert isinstance(tidy.index, pd.RangeIndex)


# --- golden -------------------------------------------------------------------------------

CONTENT_176602 = "This is now an updated ticket marked as closed."
CONTENT_178218 = "This is another updated ticket marked as in progress."


def test_golden_twin(twin):
    tidy = flatten(twin)
    assert records(tidy) == [
        (176602, "content", CONTENT_176602, ms(1522872562016), "API", None, None, 0),
        (176602, "status", "CLOSED", ms(1522870759430), "API", None, None, 0),
        (
            178218,
            "hs_lastmodifieddate",
            "1970-01-01T00:00:00.000Z",
            ms(0),
            "CALCULATED",
            None,
            None,
            0,
        ),
        (178218, "content", CONTENT_178218, ms(1522876779774), "API", None, None, 0),
        (178218, "status", "IN_PROGRESS", ms(1522876779774), "API", None, None, 0),
        (178218, "status", "OPEN", ms(1522870759430), "API", None, None, 1),
    ]
    assert list(tidy.columns) == list(TIDY_COLUMNS)  # no sourceLabel, no updatedByUserId
    assert tidy["objectType"].isna().all() and tidy["portalId"].isna().all()
    assert tidy["isDeleted"].tolist() == [False] * 6
    assert_versioned_dtypes(tidy)
    assert tidy["property"].cat.categories.tolist() == ["content", "status", "hs_lastmodifieddate"]
    assert tidy["source"].cat.categories.tolist() == ["API", "CALCULATED"]


def test_golden_twin_looks_like_the_v1_seed_wherever_both_apis_say_the_same(seed, twin):
    ours, v1 = flatten(twin), flatten(seed)
    same = ["objectId", "isDeleted", "property", "timestamp", "source", "sourceId", "version"]
    pd.testing.assert_frame_equal(ours[same], v1[same])
    differs = ours["value"] != v1["value"]
    assert differs.tolist() == [False, False, True, False, False, False]  # epoch ms v. ISO text
    typed = [current_typed(frame) for frame in (ours, v1)]
    pd.testing.assert_frame_equal(typed[0], typed[1])
    assert typed[0]["hs_lastmodifieddate"].tolist() == [pd.NaT, ms(0)]


def current_typed(tidy: pd.DataFrame) -> pd.DataFrame:
    return tidy.hubtickets.current(typed=True, definitions=v2_definitions())


def test_golden_twin_current(twin):
    wide = current(flatten(twin))
    assert list(wide.columns) == ["objectId", "content", "status", "hs_lastmodifieddate"]
    assert wide["objectId"].tolist() == [176602, 178218]
    assert wide["status"].tolist() == ["CLOSED", "IN_PROGRESS"]
    assert wide["hs_lastmodifieddate"].isna().tolist() == [True, False]


# --- input shapes -------------------------------------------------------------------------


def pages(results: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The objects one a page, as GET .../tickets?limit=1&after= pages them."""
    for i, obj in enumerate(results):
        more = {"paging": {"next": {"after": str(i + 1)}}} if i + 1 < len(results) else {}
        yield {"results": [obj], **more}


NOT_FOUND = {
    "status": "error",
    "category": "OBJECT_NOT_FOUND",
    "message": "Could not get some TICKET objects, they may be deleted or not exist.",
    "context": {"ids": ["999"]},
}
SHAPES = {
    "json str": lambda a: json.dumps(a),
    "json bytes": lambda a: json.dumps(a).encode(),
    "207 with errors": lambda a: {**a, "numErrors": 1, "errors": [NOT_FOUND]},
    "207 as json, results last": lambda a: json.dumps(
        {"status": "COMPLETE", "numErrors": 1, "errors": [NOT_FOUND], "results": a["results"]}
    ),
    "results first as json": lambda a: json.dumps({"results": a["results"], "status": "COMPLETE"}),
    "list of objects": lambda a: a["results"],
    "list of objects as json": lambda a: json.dumps(a["results"]),
    "generator of objects": lambda a: iter(a["results"]),
    "one page": lambda a: {"results": a["results"], "paging": {"next": {"after": "2"}}},
    "generator of pages": lambda a: pages(a["results"]),
    "list of pages as json": lambda a: json.dumps(list(pages(a["results"]))),
    "generator of json bodies": lambda a: (json.dumps(p) for p in pages(a["results"])),
    "tuple of answers": lambda a: (
        {"status": "COMPLETE", "results": a["results"][:1]},
        {"status": "COMPLETE", "results": a["results"][1:]},
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_input_shape_gives_the_same_frame(twin, shape):
    expected = flatten(twin)
    pd.testing.assert_frame_equal(flatten(SHAPES[shape](copy.deepcopy(twin))), expected)


def test_a_single_object(twin):
    tidy = flatten(twin["results"][1])
    assert tidy["objectId"].tolist() == [178218] * 4
    assert tidy["version"].tolist() == [0, 0, 0, 1]
    assert_versioned_dtypes(tidy)


def test_a_read_without_history_gives_version_0_of_each_set_property():
    obj = {
        "id": "5",
        "properties": {"status": "OPEN", "closed_date": None, "subject": ""},
        "createdAt": "2024-01-31T12:00:00.000Z",
        "archived": True,
    }
    tidy = flatten(obj)
    # An unset property (null) has no row, as v1 leaves it out; "" (cleared) is a value.
    assert records(tidy) == [
        (5, "status", "OPEN", None, None, None, None, 0),
        (5, "subject", "", None, None, None, None, 0),
    ]
    assert tidy["isDeleted"].tolist() == [True, True]
    assert_versioned_dtypes(tidy)


def test_history_wins_over_the_text_and_history_only_properties_come_last():
    obj = {
        "id": "7",
        "properties": {"a": "new", "hs_object_id": "7", "c": "kept"},
        "propertiesWithHistory": {
            "b": [{"value": "only", "timestamp": iso(5), "sourceType": "IMPORT"}],
            "a": [
                {"value": "new", "timestamp": iso(4), "sourceType": "CRM_UI", "sourceId": "u:1"},
                {"value": "old", "timestamp": iso(3), "sourceType": "API"},
            ],
            "c": [],
        },
    }
    assert records(flatten(obj)) == [
        (7, "a", "new", ms(4), "CRM_UI", "u:1", None, 0),
        (7, "a", "old", ms(3), "API", None, None, 1),
        (7, "hs_object_id", "7", None, None, None, None, 0),
        (7, "c", "kept", None, None, None, None, 0),
        (7, "b", "only", ms(5), "IMPORT", None, None, 0),
    ]


MOMENTS = {
    "2018-04-04T20:09:22.016Z": 1522872562016,
    "2018-04-04T20:09:22Z": 1522872562000,
    "2018-04-04T22:09:22.016+02:00": 1522872562016,
    "2018-04-04T15:09:22.016-0500": 1522872562016,
    "2018-04-04T20:09Z": 1522872540000,
    "2018-04-04T20:09:22.016999Z": 1522872562016,  # beyond the millisecond: floored
    "1969-12-31T23:59:59.9999Z": -1,
    "1970-01-01T00:00:00.000Z": 0,
}


@pytest.mark.parametrize("together", [False, True])
def test_iso_timestamps_of_every_form_are_epoch_milliseconds(together):
    def obj(i: int, stamps: list[str]) -> dict[str, Any]:
        history = [
            {"value": str(k), "timestamp": t, "sourceType": "API"} for k, t in enumerate(stamps)
        ]
        return {"id": str(i), "propertiesWithHistory": {"p": history}}

    stamps = list(MOMENTS)
    objects = [obj(1, stamps)] if together else [obj(i, [t]) for i, t in enumerate(stamps)]
    tidy = flatten(objects)
    assert tidy["timestamp"].tolist() == [ms(m) for m in MOMENTS.values()]
    assert tidy["timestamp"].dtype == pd.DatetimeTZDtype("ms", "UTC")


# --- extra columns, mixed shapes, saving ---------------------------------------------------


def labelled() -> dict[str, Any]:
    """An object whose newest version names who made it; the older one does not."""
    return {
        "id": "9",
        "properties": {"status": "CLOSED"},
        "propertiesWithHistory": {
            "status": [
                {
                    "value": "CLOSED",
                    "timestamp": iso(20),
                    "sourceType": "CRM_UI",
                    "sourceId": "userId:7",
                    "sourceLabel": "Ada Lovelace",
                    "updatedByUserId": 7,
                },
                {"value": "OPEN", "timestamp": iso(10), "sourceType": "API"},
            ]
        },
        "archived": False,
    }


def test_source_label_and_updated_by_user_id_are_extra_columns_where_present():
    tidy = flatten({"results": [labelled()]})
    assert list(tidy.columns) == [*TIDY_COLUMNS, *EXTRA_COLUMNS]
    assert tidy["sourceLabel"].dtype == STRING
    assert tidy["updatedByUserId"].dtype == pd.Int64Dtype()
    assert tidy["sourceLabel"].tolist() == ["Ada Lovelace", pd.NA]
    assert tidy["updatedByUserId"].tolist() == [7, pd.NA]
    assert tidy["sourceId"].tolist() == ["userId:7", pd.NA]
    only_user = labelled()
    del only_user["propertiesWithHistory"]["status"][0]["sourceLabel"]
    assert list(flatten(only_user).columns) == [*TIDY_COLUMNS, "updatedByUserId"]


def v1_ticket(object_id: int) -> dict[str, Any]:
    version = {"value": "OPEN", "timestamp": 1, "source": "API", "sourceVid": [3]}
    return {
        "objectType": "TICKET",
        "portalId": 62515,
        "objectId": object_id,
        "properties": {"status": {**version, "versions": [version]}},
        "isDeleted": False,
    }


def test_shapes_mixed_in_one_call_keep_their_order_and_their_own_fields():
    tidy = flatten([v1_ticket(1), labelled(), v1_ticket(2)])
    assert tidy["objectId"].tolist() == [1, 9, 9, 2]
    assert tidy["portalId"].tolist() == [62515, pd.NA, pd.NA, 62515]
    assert tidy["portalId"].dtype == pd.Int64Dtype()
    assert tidy["objectType"].isna().tolist() == [False, True, True, False]
    assert tidy["objectType"].dropna().tolist() == ["TICKET", "TICKET"]
    assert tidy["sourceVid"].isna().tolist() == [False, True, True, False]
    assert tidy["sourceVid"].dropna().tolist() == [[3], [3]]
    assert tidy["sourceLabel"].tolist() == [pd.NA, "Ada Lovelace", pd.NA, pd.NA]
    parts = [flatten([v1_ticket(1)]), flatten(labelled()), flatten([v1_ticket(2)])]
    pd.testing.assert_frame_equal(concat_tidy(parts), tidy)
    arrow = [to_arrow([v1_ticket(1)]), to_arrow(labelled()), to_arrow([v1_ticket(2)])]
    pd.testing.assert_frame_equal(tidy_of([compact(arrow)]), tidy)
    pd.testing.assert_frame_equal(tidy_of(arrow), tidy)


def test_v1_alone_keeps_int64_portal_ids_and_no_extra_columns():
    tidy = concat_tidy([flatten([v1_ticket(1)]), flatten([v1_ticket(2)])])
    assert tidy["portalId"].dtype == np.int64
    assert list(tidy.columns) == list(TIDY_COLUMNS)


@pytest.mark.parametrize("writer", ["write_tidy", "to_parquet"])
def test_read_tidy_restores_a_saved_versioned_frame_exactly(tmp_path, writer):
    tidy = flatten([v1_ticket(1), labelled()])
    path = tmp_path / "history.parquet"
    if writer == "write_tidy":
        write_tidy(tidy, path)
    else:
        tidy.to_parquet(path)
    pd.testing.assert_frame_equal(read_tidy(path), tidy)
    assert read_tidy(path)["portalId"].dtype == pd.Int64Dtype()


def test_read_tidy_leaves_out_extra_columns_saved_empty(tmp_path):
    # A dataset's schema is fixed: its files may hold the extra columns with no value.
    tidy = flatten([v1_ticket(1), v1_ticket(2)])
    empty = tidy.assign(
        sourceLabel=pd.array([None, None], dtype=STRING),
        updatedByUserId=pd.array([None, 5], dtype="Int64"),
    )
    write_tidy(empty, tmp_path / "history.parquet")
    back = read_tidy(tmp_path / "history.parquet")
    assert list(back.columns) == [*TIDY_COLUMNS, "updatedByUserId"]
    pd.testing.assert_frame_equal(back.drop(columns="updatedByUserId"), tidy)


# --- malformed input ----------------------------------------------------------------------


def obj(object_id: Any = "1", **history: Any) -> dict[str, Any]:
    return {"id": object_id, "properties": {"status": "OPEN"}, "propertiesWithHistory": history}


GOOD = {"value": "OPEN", "timestamp": "2024-01-31T12:00:00.000Z", "sourceType": "API"}
MALFORMED = [
    ([obj(), {"properties": {}, "propertiesWithHistory": {}}], "object 1: no id"),
    ([{"id": None, "properties": {}}], "object 0: no id"),
    ([obj(5)], "object 0: bad id 5 (expected the digits of an int64, as text)"),
    ([obj("abc")], "object 0: bad id 'abc' (expected the digits of an int64, as text)"),
    ([obj(), obj(" 5")], "object 1: bad id ' 5' (expected"),
    ([obj("-5")], "object 0: bad id '-5' (expected"),
    ([obj("9223372036854775808")], "object 0: bad id '9223372036854775808' (expected"),
    ([obj("99999999999999999999")], "object 0: bad id '99999999999999999999' (expected"),
    ([{**obj(), "archived": "no"}], "object 0: bad archived 'no' (expected bool)"),
    ([{**obj(), "properties": ["status"]}], "object 0: properties is not a JSON object (got list)"),
    (
        [{**obj(), "propertiesWithHistory": [GOOD]}],
        "object 0: propertiesWithHistory is not a JSON object (got list)",
    ),
    (
        [{"id": "1", "properties": {"status": 5}}],
        "object 0, property 'status': bad value 5 (expected string)",
    ),
    (
        [{"id": "1", "properties": {"status": "\ud800"}}],
        "object 0, property 'status': bad value '\\ud800'",
    ),
    (
        [obj(status={"0": GOOD})],
        "object 0, property 'status': its history is not a list (got dict)",
    ),
    (
        [obj(status=[GOOD, None])],
        "object 0, property 'status', version 1: not a JSON object (got NoneType)",
    ),
    (
        [obj(status=[GOOD, {**GOOD, "timestamp": "31/01/2024"}])],
        "object 0, property 'status', version 1: bad timestamp '31/01/2024' "
        "(expected ISO 8601 with a zone)",
    ),
    (
        [obj(status=[{**GOOD, "timestamp": "2024-01-31"}])],
        "version 0: bad timestamp '2024-01-31' (expected ISO 8601 with a zone)",
    ),
    (
        [obj(status=[{**GOOD, "timestamp": "2024-01-31T12:00:00"}])],
        "version 0: bad timestamp '2024-01-31T12:00:00' (expected ISO 8601 with a zone)",
    ),
    (
        [obj(status=[{**GOOD, "timestamp": "2024-02-30T12:00:00Z"}])],
        "version 0: bad timestamp '2024-02-30T12:00:00Z' (expected ISO 8601 with a zone)",
    ),
    (
        [obj(status=[{**GOOD, "timestamp": 1706702400000}])],
        "version 0: bad timestamp 1706702400000 (expected string)",
    ),
    (
        [obj(a=[GOOD], status=[GOOD, {**GOOD, "updatedByUserId": "7"}])],
        "object 0, property 'status', version 1: bad updatedByUserId '7' (expected int64)",
    ),
    (
        [obj(status=[{**GOOD, "sourceLabel": 7}])],
        "version 0: bad sourceLabel 7 (expected string)",
    ),
    # The position counts objects across answers, pages and lists, and across the APIs.
    (({"results": [obj(), obj()]}, [v1_ticket(1), obj("x")]), "object 3: bad id 'x'"),
    ({"status": "COMPLETE", "results": {"0": obj()}}, "an answer's results is not a list"),
    (
        {"status": "error", "message": "Property values were not valid", "category": "VALIDATION"},
        "an error answer holds no tickets: 'Property values were not valid'",
    ),
    ({"category": "OBJECT_NOT_FOUND", "message": "gone"}, "an error answer holds no tickets"),
]


@pytest.mark.parametrize(("response", "message"), MALFORMED)
def test_malformed_input_names_the_offending_object(response, message):
    with pytest.raises(FlattenError, match=re.escape(message)):
        flatten(response)


# --- streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize("results_last", [False, True])
def test_an_answer_streams_one_object_at_a_time(twin, results_last):
    answer = {**twin, "numErrors": 1, "errors": [NOT_FOUND]}
    if results_last:
        answer = {**{k: v for k, v in answer.items() if k != "results"}, "results": twin["results"]}
    assert list(_streamed(json.dumps(answer), block=7)) == twin["results"]


NOT_STREAMED = {
    "a map then results": {"176602": {"id": "176602"}, "results": []},
    "an answer holding an object's key": {"status": "COMPLETE", "results": [], "id": "5"},
    "an answer without results": {"status": "error", "message": "no"},
    "an answer then objects": {"status": "COMPLETE", "results": [], "objects": []},
    "a single object": {"id": "5", "properties": {}},
}


@pytest.mark.parametrize("name", NOT_STREAMED)
def test_what_the_whole_parse_reads_otherwise_is_not_streamed(name):
    with pytest.raises(NotStreamable):
        list(_streamed(json.dumps(NOT_STREAMED[name]), block=7))


# --- properties ---------------------------------------------------------------------------


def reference_rows(objects: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What flatten must give, written the obvious way, one row at a time.

    :func:`records`' fields, then isDeleted, sourceLabel and updatedByUserId.
    """
    rows = []
    for o in objects:
        text = o.get("properties", {})
        history = o.get("propertiesWithHistory", {})
        for name in [*text, *(n for n in history if n not in text)]:
            versions = history.get(name) or (
                [] if text.get(name) is None else [{"value": text[name]}]
            )
            for k, v in enumerate(versions):
                stamp = v.get("timestamp")
                rows.append(
                    (
                        int(o["id"]),
                        name,
                        v.get("value"),
                        None if stamp is None else pd.Timestamp(stamp),
                        v.get("sourceType"),
                        v.get("sourceId"),
                        None,
                        k,
                        o["archived"],
                        v.get("sourceLabel"),
                        v.get("updatedByUserId"),
                    )
                )
    return rows


maybe_text = st.none() | st.text(max_size=8)
value_with_timestamp_st = st.fixed_dictionaries(
    {
        "value": st.text(max_size=8),
        "timestamp": st.integers(-(2**40), 2**45).map(iso),
        "sourceType": st.sampled_from(["API", "CRM_UI", "CALCULATED"]),
    },
    optional={
        "sourceId": maybe_text,
        "sourceLabel": maybe_text,
        "updatedByUserId": st.none() | st.integers(0, 2**31),
    },
)
names_st = st.text(max_size=4)
objects_st = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(1, 2**63 - 1).map(str),
            "properties": st.dictionaries(names_st, maybe_text, max_size=4),
            "archived": st.booleans(),
        },
        optional={
            "propertiesWithHistory": st.dictionaries(
                names_st, st.lists(value_with_timestamp_st, max_size=3), max_size=4
            )
        },
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(objects_st)
def test_flatten_agrees_with_a_row_by_row_reference(objects):
    tidy = flatten({"status": "COMPLETE", "results": objects})
    expected = reference_rows(objects)
    present = [
        e for k, e in enumerate(EXTRA_COLUMNS) if any(r[9 + k] is not None for r in expected)
    ]
    assert list(tidy.columns) == [*TIDY_COLUMNS, *present]
    extras = [tidy[e].tolist() if e in present else [None] * len(tidy) for e in EXTRA_COLUMNS]
    got = [
        (*row, deleted, *(None if x is pd.NA else x for x in more))
        for row, deleted, *more in zip(records(tidy), tidy["isDeleted"], *extras, strict=True)
    ]
    assert got == expected
