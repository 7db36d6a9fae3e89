"""The Python bodies (to_payload, to_batches) built from shared decoded values and in chunks of
batches, held against the plain Python reference of test_payload_text."""

from __future__ import annotations

import gc
import sys
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_payload_text import TRICKY, reference_rows, wrap

import pandas_hubtickets  # noqa: F401  (registers the accessor)
from pandas_hubtickets import _payload
from pandas_hubtickets._payload import encode_frame

N = 300


def frame(n: int = N) -> pd.DataFrame:
    """A column of a few values repeated (with gaps), one of free text, one with no value."""
    rng = np.random.default_rng(5)
    few = np.array([*TRICKY[:4], "é ü 中文 🎫", None], dtype=object)
    return pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1),
            "few": few[rng.integers(0, len(few), n)],
            "free": [None if i % 7 == 3 else f'note {i} n°{i} 🎫 "{i * 31}"' for i in range(n)],
            "none": [None] * n,
        },
        dtype=object,
    )


def expected(df: pd.DataFrame, api: str) -> Any:
    return wrap(reference_rows(df, list(df.columns[1:]), api, "skip"), api)


def values_of(body: Any, name: str) -> list[str]:
    if isinstance(body, dict):
        return [row["properties"][name] for row in body["inputs"] if name in row["properties"]]
    return [p["value"] for row in body for p in row["properties"] if p["name"] == name]


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_repeated_values_are_decoded_once_and_shared(api):
    df = frame()
    encoded = encode_frame(df, api=api)
    few, free, none = encoded._shared
    assert free is None  # free text: decoded cell by cell
    assert few is not None and none is not None
    assert few[0].tolist() == [*sorted(set(df["few"].dropna()), key=list(df["few"]).index), None]
    body = df.hubtickets.to_payload(api=api)
    assert body == expected(df, api)
    sent = values_of(body, "few")
    assert len(sent) > 200 and len({id(v) for v in sent}) == 5  # one string per distinct value
    assert len({id(v) for v in values_of(body, "free")}) == len(values_of(body, "free"))


@pytest.mark.parametrize("cells", [4, 32, 1 << 16])
def test_a_sample_of_the_cells_decides_and_the_body_stays_the_same(monkeypatch, cells):
    """Where a column's values repeat in a sample of its cells only, every cell is still right."""
    df = frame()
    free = ["same" if i % 9 == 0 else v for i, v in enumerate(df["free"])]
    df["free"] = pd.Series(free, dtype=object)
    monkeypatch.setattr(_payload, "_SAMPLE_CELLS", cells)
    shared = encode_frame(df)._shared[1]
    assert (shared is not None) is (cells == 32)  # sampled every 9th cell: all "same"
    assert df.hubtickets.to_payload() == expected(df, "v1")
    assert df.hubtickets.to_payload(api="2026-03") == expected(df, "2026-03")


@pytest.mark.parametrize("api", ["v1", "2026-03"])
@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_batches_are_the_payload_cut_in_order_across_chunks(monkeypatch, api, batch_size):
    df = frame()
    df.loc[[0, 1, 50, N - 1], ["few", "free"]] = None  # rows with nothing to send are left out
    rows = [r for r in reference_rows(df, list(df.columns[1:]), api, "skip") if r is not None]
    monkeypatch.setattr(_payload, "_BATCHED_ROWS", 20)  # several chunks of batches
    batches = list(df.hubtickets.to_batches(batch_size, api=api))
    cut = [rows[start : start + batch_size] for start in range(0, len(rows), batch_size)]
    assert batches == [wrap(batch, api) for batch in cut]


@pytest.mark.parametrize("enabled", [True, False])
def test_batches_are_handed_over_with_the_collector_as_it_was(enabled):
    """A batch waiting in its chunk is handed over with the collector as the caller had it."""
    df = frame()
    sendable = sum(r is not None for r in reference_rows(df, list(df.columns[1:]), "v1", "skip"))
    batches = df.hubtickets.to_batches(10)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        seen = []
        for _ in batches:
            seen.append(gc.isenabled())
        assert seen == [enabled] * -(-sendable // 10)
    finally:
        gc.enable() if was else gc.disable()


def coded_frames(n: int = N) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A frame of categorical and boolean columns (with gaps), and the same as plain strings."""
    rng = np.random.default_rng(11)
    few = np.array([*TRICKY[:3], "é 🎫", None], dtype=object)
    flags = np.array(["true", "false", None], dtype=object)
    plain = pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1),
            "cat": few[rng.integers(0, len(few), n)],
            "flag": flags[rng.integers(0, 3, n)],
            "bool": flags[rng.integers(0, 2, n)],
        },
        dtype=object,
    )
    typed = plain.assign(
        cat=plain["cat"].astype("category"),
        flag=plain["flag"].map({"true": True, "false": False}).astype("boolean"),
        bool=plain["bool"] == "true",
    )
    return typed, plain


@pytest.mark.parametrize("api", ["v1", "2026-03"])
@pytest.mark.parametrize("na", ["skip", "clear"])
def test_coded_columns_share_their_texts_from_their_codes(monkeypatch, api, na):
    """Categorical and bool columns: their strings come from their codes, nothing hashed."""
    typed, plain = coded_frames()
    hashed = []
    distinct_and_codes = _payload._distinct_and_codes
    monkeypatch.setattr(
        _payload, "_distinct_and_codes", lambda arr: hashed.append(arr) or distinct_and_codes(arr)
    )
    names = ["cat", "flag", "bool"]
    rows = reference_rows(plain, names, api, na)
    assert typed.hubtickets.to_payload(api=api, na=na) == wrap(rows, api)
    assert hashed == []
    sent = [r for r in rows if r is not None]
    cut = [sent[start : start + 7] for start in range(0, len(sent), 7)]
    assert list(typed.hubtickets.to_batches(7, api=api, na=na)) == [wrap(b, api) for b in cut]
    cats = values_of(typed.hubtickets.to_payload(api=api, na=na), "cat")
    assert len({id(v) for v in cats}) == len(set(cats))  # one string per distinct value


def sparse_frame(n: int, columns: int, missing: float, seed: int = 2) -> pd.DataFrame:
    """Categorical, repeated and free-text columns, each missing on a share of its rows."""
    rng = np.random.default_rng(seed)
    few = np.array([*TRICKY[:5], "é 🎫"], dtype=object)
    data: dict[str, Any] = {"objectId": np.arange(1, n + 1)}
    for j in range(columns):
        gaps = rng.random(n) < (missing if j % 2 else missing / 4)
        if j % 3 == 0:
            values = pd.Categorical(few[rng.integers(0, len(few), n)])
            data[f"cat{j}"] = pd.Series(values).mask(gaps)
        elif j % 3 == 1:
            data[f"few{j}"] = np.where(gaps, None, few[rng.integers(0, len(few), n)])
        else:
            data[f"free{j}"] = [None if g else f"note {i} {j} é" for i, g in enumerate(gaps)]
    return pd.DataFrame(data)


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as plain strings (None where missing), as reference_rows reads it."""
    return df.astype(object).where(df.notna(), None)


@pytest.mark.parametrize("api", ["v1", "2026-03"])
@pytest.mark.parametrize(("columns", "grouped"), [(6, True), (24, False)])
def test_rows_sending_different_properties_are_built_by_group_then_put_back_in_order(
    monkeypatch, api, columns, grouped
):
    """Rows that send the same properties are built together where such sets are few (6
    columns with gaps: at most 64 sets in a block of 2,000 rows), else row by row (24 columns:
    nearly every row its own set); either way each row is where it was, with its properties."""
    df = sparse_frame(4000, columns, 0.3)
    names = list(df.columns[1:])
    rows = reference_rows(plain(df), names, api, "skip")
    patterns = _payload._patterns
    found: list[bool] = []

    def spy(present: list[np.ndarray]) -> Any:
        got = patterns(present)
        found.append(got is not None)
        return got

    monkeypatch.setattr(_payload, "_patterns", spy)
    monkeypatch.setattr(_payload, "_BATCHED_ROWS", 2000)  # two blocks
    assert df.hubtickets.to_payload(api=api) == wrap(rows, api)
    assert found == [grouped] * 2
    sent = [r for r in rows if r is not None]
    cut = [sent[start : start + 100] for start in range(0, len(sent), 100)]
    assert list(df.hubtickets.to_batches(api=api)) == [wrap(batch, api) for batch in cut]
    positions = [3999, 5, 5, 0, 1234, 7]  # any order, a row twice
    expected = [rows[p] for p in positions if rows[p] is not None]
    assert encode_frame(df, api=api).records(positions) == expected


@pytest.mark.parametrize("api", ["v1", "2026-03"])
@pytest.mark.parametrize("forms", [0, 1 << 10])
def test_every_row_has_its_own_containers(monkeypatch, api, forms):
    """A property made by copying its value's form (or not: forms=0) is its row's own: a
    user may change one row's body without changing another's, or another call's."""
    monkeypatch.setattr(_payload, "_FORMS", forms)
    df = sparse_frame(300, 6, 0.2)
    body = df.hubtickets.to_payload(api=api)
    records = body if api == "v1" else body["inputs"]
    properties = [r["properties"] for r in records]
    containers = [*records, *properties]
    if api == "v1":
        containers += [p for props in properties for p in props]
    assert len({id(c) for c in containers}) == len(containers)
    if api == "v1":
        records[0]["properties"][0]["value"] = "changed"
    else:
        records[0]["properties"][next(iter(records[0]["properties"]))] = "changed"
    again = df.hubtickets.to_payload(api=api)
    assert again == wrap(reference_rows(plain(df), list(df.columns[1:]), api, "skip"), api)
    assert body != again and "changed" not in str(records[1:])


def spare(items: list[Any]) -> int:
    """The bytes a list's array of items holds beyond its items, in the allocator's steps of
    16 bytes (a slice is a list of exactly its items)."""
    empty = sys.getsizeof([])
    return (
        -(-(sys.getsizeof(items) - empty) // 16) * 16
        - -(-(sys.getsizeof(items[:]) - empty) // 16) * 16
    )


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_lists_hold_no_room_for_more_items(api):
    """No list of a body holds room for more items than it has (a million rows' worth of
    spare slots is memory for nothing). CPython gives a list made from a tuple an even
    number of slots, which costs nothing: memory is handed out in steps of 16 bytes."""
    df = sparse_frame(3000, 6, 0.3)
    body = df.hubtickets.to_payload(api=api)
    records = body if api == "v1" else body["inputs"]
    lists = [records] + ([r["properties"] for r in records] if api == "v1" else [])
    batches = [b if api == "v1" else b["inputs"] for b in df.hubtickets.to_batches(api=api)]
    assert [spare(x) for x in [*lists, *batches]] == [0] * (len(lists) + len(batches))


def test_a_null_in_the_sample_is_not_counted_as_a_value():
    """The sample of every 8th cell holds 4 nulls and 4 "a": one value in 4 cells sent,
    so the column's values repeat."""
    arr = pa.array((["a"] * 8 + [None] * 8) * 4)
    distinct, codes = _payload._distinct_and_codes(arr)
    assert distinct.tolist() == ["a", None]
    assert distinct[codes].tolist() == arr.to_pylist()
