"""Wide rows to HubSpot batch-update bodies (pure: validation and encoding, no network).

A wide frame holds a ticket id and one column per ticket property.
:func:`encode_frame` validates the whole frame, collecting every problem into
one :class:`~pandas_hubtickets.errors.PayloadError`, and encodes it column by
column into an :class:`EncodedFrame`. From that, request bodies are built
either as Python objects (:meth:`EncodedFrame.records`) or directly as compact
JSON text (:meth:`EncodedFrame.fragments`), vectorised with pyarrow.

The two API flavours differ only in the shape of a body; that difference
lives in the :class:`Flavor` classes below and nowhere else.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .encode import encode_column
from .errors import PROBLEM_COLUMNS, PayloadError

__all__ = [
    "MAX_BATCH",
    "EncodedFrame",
    "ProblemList",
    "check_batch_size",
    "encode_frame",
]

MAX_BATCH = 100
NaMode = Literal["skip", "clear", "error"]
Api = Literal["v1", "2026-03"]
_NA_MODES = ("skip", "clear", "error")
# A JSON string literal needs escaping only for quotes, backslashes and control characters.
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Flavor:
    """How one API version shapes a batch-update body."""

    name: ClassVar[str]

    def record(self, object_id: int, props: list[tuple[str, str]]) -> dict[str, Any]:
        raise NotImplementedError

    def property_affixes(self, name: str) -> tuple[str, str]:
        """JSON text before and after a property's quoted value."""
        raise NotImplementedError

    def row_affixes(self) -> tuple[str, str, str]:
        """JSON text before the id, between the id and the properties, and after them."""
        raise NotImplementedError

    def wrap(self, records: list[dict[str, Any]]) -> Any:
        raise NotImplementedError

    def wrap_text(self, rows: str) -> str:
        raise NotImplementedError


class V1(Flavor):
    """CRM Objects v1: ``[{"objectId": 1, "properties": [{"name", "value"}]}]``."""

    name = "v1"

    def record(self, object_id: int, props: list[tuple[str, str]]) -> dict[str, Any]:
        return {"objectId": object_id, "properties": [{"name": n, "value": v} for n, v in props]}

    def property_affixes(self, name: str) -> tuple[str, str]:
        return '{"name":' + _dumps(name) + ',"value":', "}"

    def row_affixes(self) -> tuple[str, str, str]:
        return '{"objectId":', ',"properties":[', "]}"

    def wrap(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return records

    def wrap_text(self, rows: str) -> str:
        return "[" + rows + "]"


class DateVersioned(Flavor):
    """The date-versioned API (2026-03): ``{"inputs": [{"id": "1", "properties": {...}}]}``."""

    name = "2026-03"

    def record(self, object_id: int, props: list[tuple[str, str]]) -> dict[str, Any]:
        return {"id": str(object_id), "properties": dict(props)}

    def property_affixes(self, name: str) -> tuple[str, str]:
        return _dumps(name) + ":", ""

    def row_affixes(self) -> tuple[str, str, str]:
        return '{"id":"', '","properties":{', "}}"

    def wrap(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"inputs": records}

    def wrap_text(self, rows: str) -> str:
        return '{"inputs":[' + rows + "]}"


FLAVORS: dict[str, Flavor] = {f.name: f for f in (V1(), DateVersioned())}


def _flavor(api: str) -> Flavor:
    try:
        return FLAVORS[api]
    except KeyError:
        raise ValueError(f"api must be one of {sorted(FLAVORS)}, not {api!r}") from None


def check_batch_size(size: object) -> int:
    """Return ``size`` if it is a whole number from 1 to 100 (HubSpot's limit), else raise."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or not 1 <= size <= 100:
        raise ValueError(f"batch size must be a whole number from 1 to {MAX_BATCH}, not {size!r}")
    return int(size)


@dataclass(frozen=True)
class EncodedFrame:
    """A validated wide frame, encoded column by column.

    Attributes
    ----------
    index : pandas.Index
        The frame's row labels, in order.
    object_ids : numpy.ndarray
        The ticket ids (int64), one per row.
    names : tuple of str
        The property names, in column order.
    values : tuple of pyarrow.StringArray
        One array per property: the string to send, or null to leave the
        property untouched (``na`` has already been applied).
    flavor : Flavor
        The API body shape.
    """

    index: pd.Index
    object_ids: np.ndarray
    names: tuple[str, ...]
    values: tuple[pa.StringArray, ...]
    flavor: Flavor

    def __len__(self) -> int:
        return len(self.object_ids)

    @cached_property
    def sendable(self) -> np.ndarray:
        """Boolean mask of the rows with at least one property to send."""
        mask = np.zeros(len(self), dtype=bool)
        for arr in self.values:
            mask |= arr.is_valid().to_numpy(zero_copy_only=False)
        return mask

    def records(self, positions: Sequence[int] | np.ndarray | None = None) -> list[dict[str, Any]]:
        """Body objects for the rows at ``positions`` (default: every sendable row)."""
        rows = np.flatnonzero(self.sendable) if positions is None else np.asarray(positions)
        take = pa.array(rows, pa.int64())
        columns = [arr.take(take).to_pylist() for arr in self.values]
        ids = self.object_ids[rows].tolist()
        names = self.names
        record = self.flavor.record
        out = []
        for oid, *cells in zip(ids, *columns, strict=True):
            props = [(n, v) for n, v in zip(names, cells, strict=True) if v is not None]
            if props:
                out.append(record(oid, props))
        return out

    @cached_property
    def fragments(self) -> pa.StringArray:
        """Each row's body object as compact JSON text (null where nothing is sent)."""
        # Each present property becomes ",<json>" and a missing one "", so that plain
        # concatenation joins them; the leading comma is cut at the end. (Joining with
        # null_handling="skip" is not used: pyarrow drops rows whose inputs are all null.)
        parts = []
        for name, arr in zip(self.names, self.values, strict=True):
            before, after = self.flavor.property_affixes(name)
            fragment = pc.binary_join_element_wise("," + before, _json_strings(arr), after, "")
            parts.append(fragment.fill_null(""))
        joined = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*parts, ""), 1)
        head, middle, tail = self.flavor.row_affixes()
        ids = pa.array(self.object_ids).cast(pa.string())
        rows = pc.binary_join_element_wise(head, ids, middle, joined, tail, "")
        return pc.if_else(pa.array(self.sendable), rows, pa.nulls(len(self), pa.string()))

    def body_text(self, positions: Sequence[int] | np.ndarray | None = None) -> str:
        """The compact JSON body for the rows at ``positions`` (default: every sendable row)."""
        frags = self.fragments
        if positions is not None:
            frags = frags.take(pa.array(np.asarray(positions), pa.int64()))
        return self.flavor.wrap_text(",".join(frags.drop_null().to_pylist()))

    def batches(self, size: int) -> Iterator[np.ndarray]:
        """Positions of the sendable rows, in chunks of at most ``size``."""
        rows = np.flatnonzero(self.sendable)
        for start in range(0, len(rows), size):
            yield rows[start : start + size]


def _json_strings(arr: pa.StringArray) -> pa.StringArray:
    """Each string as a JSON string literal, quotes included (null stays null)."""
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    needs = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_ESCAPE), False)
    if not pc.any(needs).as_py():
        return quoted
    escaped = pa.array([_dumps(v) for v in arr.filter(needs).to_pylist()], pa.string())
    return pc.replace_with_mask(quoted, needs, escaped)


class ProblemList:
    """Collects problems as (row positions, column, reason); one PayloadError lists them all."""

    def __init__(self) -> None:
        self.items: list[tuple[np.ndarray | None, Hashable | None, str]] = []

    def add(self, positions: np.ndarray | None, column: Hashable | None, problem: str) -> None:
        if positions is None or len(positions):
            self.items.append((positions, column, problem))

    def raise_if_any(self, index: pd.Index, raw_ids: pd.Series | None) -> None:
        error = self.error(index, raw_ids)
        if error is not None:
            raise error

    def error(self, index: pd.Index, raw_ids: pd.Series | None) -> PayloadError | None:
        """The PayloadError listing every problem (rows as labels of ``index``), if any."""
        if not self.items:
            return None
        frames = []
        for positions, column, problem in self.items:
            pos = np.array([-1]) if positions is None else np.asarray(positions)
            rows = [None] if positions is None else index[pos].tolist()
            ids = [None] * len(pos) if raw_ids is None or positions is None else raw_ids.iloc[pos]
            frame = {"row": rows, "objectId": list(ids), "column": [column] * len(pos)}
            frames.append(pd.DataFrame(frame, dtype=object).assign(problem=problem, _pos=pos))
        # frame-level problems first, then by row, keeping the column order within a row
        problems = pd.concat(frames, ignore_index=True).sort_values("_pos", kind="stable")
        return PayloadError(problems[PROBLEM_COLUMNS])


def _id_series(df: pd.DataFrame, id_column: str) -> pd.Series | None:
    if id_column in df.columns:
        positions = np.flatnonzero(df.columns == id_column)
        return cast(pd.Series, df.iloc[:, positions[0]]) if len(positions) == 1 else None
    if id_column in df.index.names:
        level: pd.Series = pd.Series(df.index.get_level_values(id_column), index=df.index)
        return level
    return None


_INT64_MAX = np.iinfo(np.int64).max
_EXACT_FLOAT = 2.0**53  # from here on a float64 no longer holds every whole number


def _one_id(v: Any) -> int | str:
    """One id from an object column: the exact int, or why it is not a ticket id."""
    if isinstance(v, bool | np.bool_):
        return "id is a boolean, not a ticket id"
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, str):
        text = v.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        try:
            v = float(text)
        except ValueError:
            return "id is not a number"
    if isinstance(v, float | np.floating | decimal.Decimal):
        if not math.isfinite(v) or v != int(v):
            return "id is not a whole number"
        if isinstance(v, float | np.floating) and abs(v) >= _EXACT_FLOAT:
            return "id is too large to be held exactly in a float"
        return int(v)
    return "id is not a number"


def _check_ids(raw: pd.Series, id_column: str, problems: ProblemList) -> np.ndarray:
    """Validate the ids; return them as int64 (0 where invalid)."""
    n = len(raw)
    missing = raw.isna().to_numpy()
    problems.add(np.flatnonzero(missing), id_column, "id is missing")
    ids = np.zeros(n, dtype=np.int64)
    if pd.api.types.is_bool_dtype(raw.dtype):
        problems.add(np.flatnonzero(~missing), id_column, "id is a boolean, not a ticket id")
    elif pd.api.types.is_integer_dtype(raw.dtype):  # exact and vectorised
        unsigned = pd.api.types.is_unsigned_integer_dtype(raw.dtype)
        values = raw.to_numpy(dtype=np.uint64 if unsigned else np.int64, na_value=0)
        problems.add(np.flatnonzero(~missing & (values <= 0)), id_column, "id is not positive")
        big = values > _INT64_MAX if unsigned else np.zeros(n, dtype=bool)
        problems.add(np.flatnonzero(big), id_column, "id is too large for a ticket id")
        ids = np.where(big, 0, values).astype(np.int64)
    else:  # floats, or objects/strings ("176602" from a CSV read as text): one by one
        reasons: dict[str, list[int]] = {}
        for i, v in enumerate(raw.tolist()):
            if missing[i]:
                continue
            got = _one_id(v)
            if isinstance(got, int) and got > _INT64_MAX:
                got = "id is too large for a ticket id"
            elif isinstance(got, int) and got <= 0:
                got = "id is not positive"
            if isinstance(got, str):
                reasons.setdefault(got, []).append(i)
            else:
                ids[i] = got
        for reason, rows in reasons.items():
            problems.add(np.asarray(rows), id_column, reason)
    ids = np.where(ids > 0, ids, 0)
    dup = (ids > 0) & pd.Series(ids).duplicated(keep=False).to_numpy()
    problems.add(np.flatnonzero(dup), id_column, "id appears in more than one row")
    return ids


def _pick_columns(
    df: pd.DataFrame, properties: Sequence[Hashable] | str | None, id_column: str, p: ProblemList
) -> list[tuple[Hashable, int]]:
    """Return (name, column position) for each property to send, recording naming problems."""
    positions: dict[Hashable, list[int]] = {}
    for i, label in enumerate(df.columns):
        positions.setdefault(label, []).append(i)
    if properties is None:
        names = [c for c in positions if c != id_column]
    else:
        names = [properties] if isinstance(properties, str) else list(properties)
    picked: list[tuple[Hashable, int]] = []
    seen: set[Hashable] = set()
    for name in names:
        if not isinstance(name, str):
            p.add(None, name, f"property name {name!r} is not a string")
        elif not name.strip():
            p.add(None, name, "property name is empty")
        elif name == id_column:
            p.add(None, name, "the id column cannot also be sent as a property")
        elif name in seen or len(positions.get(name, ())) > 1:
            p.add(None, name, f"property {name!r} appears more than once")
        elif name not in positions:
            p.add(None, name, f"no column named {name!r}")
        else:
            picked.append((name, positions[name][0]))
        seen.add(name)
    if not names:
        p.add(None, None, "no property columns to send")
    return picked


def encode_frame(
    df: pd.DataFrame,
    properties: Sequence[Hashable] | str | None = None,
    *,
    id_column: str = "objectId",
    na: NaMode = "skip",
    api: Api | str = "v1",
) -> EncodedFrame:
    """Validate and encode a wide frame; raise one PayloadError listing every problem.

    See :meth:`pandas_hubtickets.accessor.HubTicketsAccessor.to_payload` for the
    meaning of the arguments.
    """
    if na not in _NA_MODES:
        raise ValueError(f"na must be one of {_NA_MODES}, not {na!r}")
    flavor = _flavor(api)
    problems = ProblemList()
    raw_ids = _id_series(df, id_column)
    if id_column in df.columns and id_column in df.index.names:
        raw_ids = None
        problems.add(None, id_column, f"{id_column!r} is both a column and the index name")
    elif raw_ids is None:
        where = "is not a column" if id_column not in df.columns else "names several columns"
        problems.add(None, id_column, f"id column {id_column!r} {where} nor the index name")
        ids = np.zeros(len(df), dtype=np.int64)
    else:
        ids = _check_ids(raw_ids, id_column, problems)
    picked = _pick_columns(df, properties, id_column, problems)
    values = []
    for name, pos in picked:
        arr, cell_problems = encode_column(df.iloc[:, pos])
        missing = np.array(arr.is_null().to_numpy(zero_copy_only=False))
        for rows, why in cell_problems:
            problems.add(rows, name, why)
            missing[rows] = False  # reported already; not also as missing
        if na == "clear":
            arr = arr.fill_null("")
        elif na == "error":
            problems.add(np.flatnonzero(missing), name, "missing value (na='error')")
        values.append(arr)
    problems.raise_if_any(df.index, raw_ids)
    return EncodedFrame(
        index=df.index,
        object_ids=ids,
        names=tuple(str(name) for name, _ in picked),
        values=tuple(values),
        flavor=flavor,
    )
