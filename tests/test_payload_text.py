"""The JSON text of bodies (to_json, per-batch fragments) and the Python bodies, held against
references written here in plain Python: every cell's text, escapes, gaps, chunking and the
garbage collector's state."""

from __future__ import annotations

import datetime as dt
import gc
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas_hubtickets  # noqa: F401  (registers the accessor)
from pandas_hubtickets import PayloadError, _payload
from pandas_hubtickets._diff import Current, compare
from pandas_hubtickets._payload import encode_frame

SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Text that needs escaping in JSON, and text that must not be escaped.
TRICKY = [
    "",
    'quote " inside',
    "back \\ slash",
    "\\",
    '"',
    "tab\tnew\nline\rret\bback\fform",
    "\x00\x01\x1f\x7f",
    "é ü 中文 🎫",
    "line\u2028para\u2029sep",
    '\\"\n',
    "plain",
]
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
cells = st.one_of(st.none(), st.sampled_from(TRICKY), texts)


#: id_property values that need escaping in JSON (text, unique, no spaces around).
KEYS = ['a"1', "b\\2", "c\n3", "é 4", "🎫5", "x"]


def reference_rows(
    df: pd.DataFrame, names: list[str], api: str, na: str, id_property: str | None = None
) -> list[Any]:
    """Each row's body object, from the frame's plain strings (None: nothing to send)."""
    out: list[Any] = []
    id_column = id_property or "objectId"
    for pos, (oid, *values) in enumerate(df[[id_column, *names]].itertuples(index=False)):
        present = [
            (n, "" if v is None and na == "clear" else v)
            for n, v in zip(names, values, strict=True)
        ]
        props = [(n, v) for n, v in present if v is not None]
        if not props:
            out.append(None)
        elif api == "v1":
            properties = [{"name": n, "value": v} for n, v in props]
            out.append({"objectId": int(oid), "properties": properties})
        else:
            named = {} if id_property is None else {"idProperty": id_property}
            trace = {"objectWriteTraceId": str(pos)}
            out.append({**trace, **named, "id": str(oid), "properties": dict(props)})
    return out


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def wrap(rows: list[Any], api: str) -> Any:
    sent = [r for r in rows if r is not None]
    return sent if api == "v1" else {"inputs": sent}


@SETTINGS
@given(
    columns=st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=4),
    api=st.sampled_from(["v1", "2026-03", "v3", "ref"]),
    na=st.sampled_from(["skip", "clear"]),
    positions=st.lists(st.integers(0, 5), max_size=8),
)
def test_text_bodies_match_a_plain_python_reference(columns, api, na, positions):
    names = [f'p{i} "é\\' for i in range(len(columns))]  # names are escaped too
    df = pd.DataFrame(
        {"objectId": range(11, 17), **dict(zip(names, columns, strict=True))}, dtype=object
    )
    key = None
    if api == "ref":  # the versioned API by a unique property whose values need escaping
        api, key, df = "2026-03", 'ref "é', df.drop(columns="objectId").assign(**{'ref "é': KEYS})
    rows = reference_rows(df, names, api, na, key)
    options = {"api": api, "na": na, "id_property": key}
    assert df.hubtickets.to_json(**options) == compact(wrap(rows, api))
    assert df.hubtickets.to_payload(**options) == wrap(rows, api)
    encoded = encode_frame(df, api=api, na=na, id_property=key, id_column=key or "objectId")
    expected = [None if rows[p] is None else compact(rows[p]) for p in positions]
    assert encoded.fragments(positions).to_pylist() == expected
    assert encoded.records(positions) == [rows[p] for p in positions if rows[p] is not None]


@pytest.mark.parametrize("dtype", [object, "string[python]", "string[pyarrow]", "category"])
def test_escapes_in_every_string_dtype(dtype):
    if dtype == "category":  # built from codes: pandas < 3.1 hashes object strings up to their
        # first NUL, so pd.Series(TRICKY, dtype="category") itself merges "" and "\x00..."
        # (pandas-dev/pandas#34551); the encoder is tested, not pandas' hashing
        codes = [*range(len(TRICKY)), -1]
        column = pd.Series(pd.Categorical.from_codes(codes, pd.Index(TRICKY, dtype=object)))
    else:
        column = pd.Series([*TRICKY, None], dtype=dtype)
    df = pd.DataFrame({"objectId": range(1, len(TRICKY) + 2), "v": column})
    plain = pd.DataFrame({"objectId": df["objectId"], "v": [*TRICKY, None]}, dtype=object)
    rows = reference_rows(plain, ["v"], "v1", "skip")
    assert df.hubtickets.to_json() == compact(wrap(rows, "v1"))
    assert json.loads(df.hubtickets.to_json()) == df.hubtickets.to_payload()


def test_categoricals_with_unused_categories_and_missing_values():
    values = pd.Categorical(
        ['say "hi"', None, "LOW", 'say "hi"', None],
        categories=["never\nused", "LOW", 'say "hi"', "unused"],
    )
    df = pd.DataFrame({"objectId": [1, 2, 3, 4, 5], "c": values, "s": ["a", None, None, "b", None]})
    hi = '{"name":"c","value":"say \\"hi\\""}'
    assert df.hubtickets.to_json() == (
        f'[{{"objectId":1,"properties":[{hi},{{"name":"s","value":"a"}}]}},'
        '{"objectId":3,"properties":[{"name":"c","value":"LOW"}]},'
        f'{{"objectId":4,"properties":[{hi},{{"name":"s","value":"b"}}]}}]'
    )
    assert encode_frame(df).fragments([4, 1]).to_pylist() == [None, None]


def test_a_lone_surrogate_is_refused_before_any_text_is_built():
    df = pd.DataFrame({"objectId": [1, 2], "v": ["fine", "bad \ud800"]}, dtype=object)
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_json()
    assert info.value.problems[["row", "code"]].values.tolist() == [[1, "INVALID_TEXT"]]


def test_rows_with_nothing_to_send_and_empty_selections():
    df = pd.DataFrame({"objectId": [1, 2], "v": [None, None]}, dtype=object)
    assert df.hubtickets.to_json() == "[]"
    assert df.hubtickets.to_json(api="2026-03") == '{"inputs":[]}'
    encoded = encode_frame(df)
    assert encoded.fragments().to_pylist() == [None, None]
    assert encoded.fragments([]).to_pylist() == []
    assert encoded.records() == []
    assert encode_frame(df.iloc[:0]).body_text() == "[]"


@pytest.mark.parametrize("limit", [1, 150, 400])
def test_text_split_into_chunks_is_the_same_text(monkeypatch, limit):
    """Very large frames are joined in chunks (an Arrow string array holds < 2 GiB)."""
    rng = np.random.default_rng(3)
    n = 40
    df = pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1),
            "a": rng.choice(np.array([*TRICKY, None], dtype=object), n),
            "b": np.where(rng.random(n) < 0.5, np.nan, rng.random(n)),
        }
    )
    rows = [0, 5, 39, 7, 7]
    whole = (df.hubtickets.to_json(), encode_frame(df).fragments(rows).to_pylist())
    monkeypatch.setattr(_payload, "_CHUNK_BYTES", limit)
    chunked = (df.hubtickets.to_json(), encode_frame(df).fragments(rows).to_pylist())
    assert chunked == whole
    assert json.loads(whole[0]) == df.hubtickets.to_payload()


@pytest.mark.parametrize("block", [7, 256, 1 << 18])
def test_every_byte_is_escaped_as_json_dumps_does(monkeypatch, block):
    """Every byte value, also across the blocks the escape check compares at a time."""
    monkeypatch.setattr(_payload, "_ESCAPE_BLOCK", block)
    texts = [chr(c) * 3 + "x" for c in range(128)] + ["é\u00e9", '中"文\n', "🎫"]
    df = pd.DataFrame({"objectId": np.arange(1, len(texts) + 1), "t": texts})
    value = [json.dumps(t, ensure_ascii=False) for t in texts]
    expected = [
        f'{{"objectId":{i},"properties":[{{"name":"t","value":{v}}}]}}'
        for i, v in enumerate(value, 1)
    ]
    assert df.hubtickets.to_json() == "[" + ",".join(expected) + "]"


def test_a_refused_key_is_not_written_even_where_it_needs_escaping():
    """A refused id_property value is null in the keys (its text kept underneath): never sent."""
    df = pd.DataFrame({"ref": [' "padded" ', 'ok"1', 'ok"1', "fine"], "v": ["a", "b", "c", "d"]})
    found = _payload.ProblemList(df.index)
    encoded = encode_frame(df, api="2026-03", id_property="ref", id_column="ref", problems=found)
    assert sorted(found.frame()["code"]) == ["DUPLICATE_ID", "DUPLICATE_ID", "INVALID_ID"]
    for positions in (None, [3, 0, 2]):
        texts = encoded.fragments(positions).to_pylist()
        assert all(t is not None and '"id":""' in t for t in texts[:-1] if "fine" not in t)
        assert not any("padded" in t or "ok" in t for t in texts)
    assert '"id":"fine"' in encoded.body_text()


@pytest.mark.parametrize("enabled", [True, False])
def test_python_bodies_leave_the_garbage_collector_as_they_found_it(enabled):
    encoded = encode_frame(pd.DataFrame({"objectId": [1, 2], "v": ["a", None]}))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert encoded.records() == [{"objectId": 1, "properties": [{"name": "v", "value": "a"}]}]
        assert gc.isenabled() is enabled
        with pytest.raises(IndexError):
            encoded.records([5])  # no such row: raises while the collector is paused
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_python_bodies_are_built_with_the_collector_paused(monkeypatch, api):
    df = pd.DataFrame({"objectId": [1, 2, 3], "a": ["x", None, "y"], "b": [1, 2, 3]})
    encoded = encode_frame(df, api=api)
    flavor = type(encoded.flavor)
    real = flavor.records
    collector: list[bool] = []

    def spy(self, *args):
        collector.append(gc.isenabled())
        return real(self, *args)

    monkeypatch.setattr(flavor, "records", spy)
    was = gc.isenabled()
    try:
        gc.enable()
        assert len(encoded.records()) == 3
        assert list(df.hubtickets.to_batches(2, api=api))  # its chunk of batches paused too
    finally:
        gc.enable() if was else gc.disable()
    assert collector == [False, False]  # records(), then the one chunk of to_batches' 2 batches


def test_object_columns_of_dates_keep_every_cell_exact():
    day = dt.date(2024, 3, 1)
    midnight = 1709251200000
    columns = {
        "dates": [day, None, np.nan, pd.NaT, pd.NA],
        "with_a_datetime": [day, dt.datetime(2024, 3, 1, 12, 30)],  # keeps its time of day
    }
    for cells in columns.values():
        df = pd.DataFrame(
            {"objectId": range(1, len(cells) + 1), "d": pd.Series(cells, dtype=object)}
        )
        sent = [p["properties"][0]["value"] for p in df.hubtickets.to_payload()]
        assert sent == [str(midnight)] + ([str(midnight + 45_000_000)] if len(cells) == 2 else [])


#: Categories that need escaping in JSON, and plain ones.
CATEGORIES = ['say "hi"', "back\\slash", "new\nline", "é 🎫", "LOW", ""]


def coded_frame(n: int, seed: int) -> pd.DataFrame:
    """Categoricals (missing cells, escapes, unused categories) and bools (numpy, with NA)
    next to each other and to text, as plain rows would hold them."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, len(CATEGORIES), n)
    flags = rng.random(n) < 0.5
    flags_na = pd.array(np.where(rng.random(n) < 0.3, None, rng.random(n) < 0.5), "boolean")
    return pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1),
            "c1": pd.Categorical.from_codes(codes, pd.Index(CATEGORIES, dtype=object)),
            "b1": flags,
            "c2": pd.Categorical(rng.choice(["OPEN", "CLOSED"], n), ["OPEN", "CLOSED", "x"]),
            "b2": flags_na,
            "t": np.where(rng.random(n) < 0.3, None, rng.choice(TRICKY, n)).astype(object),
            "c3": pd.Categorical.from_codes(rng.integers(-1, 2, n), ["a", "b"]),
        }
    )


def plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame's cells as the strings the encoder sends (None where missing)."""

    def text(v: Any) -> str | None:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        return ("true" if v else "false") if isinstance(v, bool | np.bool_) else str(v)

    return pd.DataFrame({c: [text(v) for v in df[c].astype(object)] for c in df}, dtype=object)


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    api=st.sampled_from(["v1", "2026-03"]),
    na=st.sampled_from(["skip", "clear"]),
    positions=st.lists(st.integers(0, 11), max_size=8),
    table=st.sampled_from([1, 8, 256, 1 << 20]),
)
def test_categorical_and_bool_values_taken_by_code_match_the_reference(
    seed, api, na, positions, table
):
    """Categorical and bool values joined to the glue around them by their codes: the same
    text however many codes a piece of glue may take (a small limit splits it, a large one
    makes codes wider than a byte), for every row, a subset and a frame slice."""
    df = coded_frame(12, seed)
    names = [c for c in df.columns if c != "objectId"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_payload, "_GLUE_CODES", table)
        for frame in (df, df.iloc[::-2]):
            rows = reference_rows(plain_frame(frame), names, api, na)
            assert frame.hubtickets.to_json(api=api, na=na) == compact(wrap(rows, api))
        rows = reference_rows(plain_frame(df), names, api, na)
        expected = [None if rows[p] is None else compact(rows[p]) for p in positions]
        assert encode_frame(df, api=api, na=na).fragments(positions).to_pylist() == expected


def test_coded_values_are_not_reused_once_the_values_are_replaced():
    """only_changed makes a frame with other values (dataclasses.replace): the codes of the
    original values must not write the cells it left out, nor their old text."""
    df = coded_frame(12, 3)
    encoded = encode_frame(df)
    assert any(c is not None for c in encoded.coded)
    names = [c for c in df.columns if c != "objectId"]
    plain = plain_frame(df)
    # HubSpot already holds every other row's values: only the rest is changed
    now = plain[names].copy()
    now.loc[np.arange(12) % 2 == 1, names] = "old"
    held = tuple(pa.array(now[n], pa.string()) for n in names)
    current = Current(df["objectId"].to_numpy(), held)
    changed = compare(encoded, current).only_changed()
    expected = plain.copy()
    expected.loc[np.arange(12) % 2 == 0, names] = None
    rows = reference_rows(expected, names, "v1", "skip")
    assert changed.body_text() == compact(wrap(rows, "v1"))
    assert changed.fragments([1, 2]).to_pylist() == [
        None if rows[p] is None else compact(rows[p]) for p in (1, 2)
    ]


def test_a_categorical_with_refused_categories_writes_only_the_sendable_cells():
    """Cells whose category cannot be sent are left out when the problems are collected
    (update's on_invalid="skip_cells"); the other cells' text is the same as ever."""
    categories = pd.Index([1.5, np.inf, -np.inf, 2.0], dtype=object)
    column = pd.Categorical.from_codes([0, 1, -1, 2, 3, 1], categories)
    df = pd.DataFrame({"objectId": range(1, 7), "c": column, "b": [True, False] * 3})
    found = _payload.ProblemList(df.index)
    encoded = encode_frame(df, problems=found)
    assert found.frame()["row"].tolist() == [1, 3, 5]
    plain = pd.DataFrame(
        {
            "objectId": df["objectId"],
            "c": ["1.5", None, None, None, "2", None],
            "b": ["true", "false"] * 3,
        },
        dtype=object,
    )
    rows = reference_rows(plain, ["c", "b"], "v1", "skip")
    assert encoded.body_text() == compact(wrap(rows, "v1"))
    assert encoded.fragments([5, 3]).to_pylist() == [compact(rows[5]), compact(rows[3])]
