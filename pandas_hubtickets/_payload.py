"""Wide rows to HubSpot batch-update bodies (pure: validation and encoding, no network).

A wide frame holds a ticket id and one column per ticket property.
:func:`encode_frame` validates the whole frame, collecting every problem into
one :class:`~pandas_hubtickets.errors.PayloadError`, and encodes it column by
column into an :class:`EncodedFrame`. From that, request bodies are built
either as Python objects (:meth:`EncodedFrame.records`) or directly as compact
JSON text (:meth:`EncodedFrame.fragments`, for the rows asked for), vectorised
with pyarrow.

The two API flavours differ only in the shape of a body; that difference
lives in the :class:`Flavor` classes below and nowhere else.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._columns import ID_COLUMNS
from ._encode import encode_column, is_missing
from ._ids import ticket_id
from .errors import PROBLEM_COLUMNS, ArgumentTypeError, ConfigurationError, PayloadError

__all__ = [
    "MAX_BATCH",
    "EncodedFrame",
    "Problem",
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
        message = f"api must be one of {sorted(FLAVORS)}, not {api!r}"
        raise ConfigurationError(message) from None


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` if it is a whole number from 1 to 100 (HubSpot's limit), else raise.

    Raises
    ------
    ArgumentTypeError
        When it is not an int (a float, a bool or a string is refused).
    ConfigurationError
        When it is out of range.

    Examples
    --------
    >>> check_batch_size(50)
    50
    >>> check_batch_size(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: batch_size must be ... from 1 to 100, not 0
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        got = type(batch_size).__name__
        message = f"batch_size must be an int from 1 to {MAX_BATCH}, got {got} {batch_size!r}"
        raise ArgumentTypeError(message)
    if not 1 <= batch_size <= MAX_BATCH:
        message = f"batch_size must be a whole number from 1 to {MAX_BATCH}, not {batch_size!r}"
        raise ConfigurationError(message)
    return int(batch_size)


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

    def fragments(self, positions: Sequence[int] | np.ndarray | None = None) -> pa.StringArray:
        """Each row's body object as compact JSON text (null where nothing is sent).

        Only the rows at ``positions`` (default: every row) are encoded, so a
        run builds one batch's text at a time. Safe to call from several threads.

        Examples
        --------
        >>> frame = pd.DataFrame({"objectId": [7, 8], "subject": ["a", None]})
        >>> encode_frame(frame).fragments().to_pylist()
        ['{"objectId":7,"properties":[{"name":"subject","value":"a"}]}', None]
        >>> encode_frame(frame).fragments([0]).to_pylist()
        ['{"objectId":7,"properties":[{"name":"subject","value":"a"}]}']
        """
        if positions is None:
            values, ids, sendable = self.values, self.object_ids, self.sendable
        else:
            rows = np.asarray(positions, dtype=np.int64)
            take = pa.array(rows, pa.int64())
            values = tuple(arr.take(take) for arr in self.values)
            ids, sendable = self.object_ids[rows], self.sendable[rows]
        # Each present property becomes ",<json>" and a missing one "", so that plain
        # concatenation joins them; the leading comma is cut at the end. (Joining with
        # null_handling="skip" is not used: pyarrow drops rows whose inputs are all null.)
        parts = []
        for name, arr in zip(self.names, values, strict=True):
            before, after = self.flavor.property_affixes(name)
            part = pc.binary_join_element_wise("," + before, _json_strings(arr), after, "")
            parts.append(part.fill_null(""))
        joined = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*parts, ""), 1)
        head, middle, tail = self.flavor.row_affixes()
        id_text = pa.array(ids).cast(pa.string())
        texts = pc.binary_join_element_wise(head, id_text, middle, joined, tail, "")
        return pc.if_else(pa.array(sendable), texts, pa.nulls(len(ids), pa.string()))

    def body_text(self, positions: Sequence[int] | np.ndarray | None = None) -> str:
        """The compact JSON body for the rows at ``positions`` (default: every sendable row)."""
        return self.wrap_fragments(self.fragments(positions).drop_null().to_pylist())

    def wrap_fragments(self, fragments: Sequence[str]) -> str:
        """The compact JSON body holding these rows' :meth:`fragments`."""
        return self.flavor.wrap_text(",".join(fragments))

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """Positions of the sendable rows, in chunks of at most ``batch_size``."""
        rows = np.flatnonzero(self.sendable)
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]


def _json_strings(arr: pa.StringArray) -> pa.StringArray:
    """Each string as a JSON string literal, quotes included (null stays null)."""
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    needs = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_ESCAPE), False)
    if not pc.any(needs).as_py():
        return quoted
    escaped = pa.array([_dumps(v) for v in arr.filter(needs).to_pylist()], pa.string())
    return pc.replace_with_mask(quoted, needs, escaped)


@dataclass(frozen=True)
class Problem:
    """Cells of one column (or a whole column, or the frame) that cannot be sent as they are.

    Attributes
    ----------
    rows : numpy.ndarray or None
        Row positions, or ``None`` when the column (or the frame) itself is at fault.
    column : Hashable or None
        The column label, or ``None`` for a frame-level problem.
    code : str
        Machine-readable: ``DUPLICATE_ID``, ``INFINITE_NUMBER``, HubSpot's
        ``INVALID_OPTION``, ...
    message : str
        What is wrong, and the fix where there is one.
    values : sequence or None
        The offending values, one per row of ``rows`` (``None``: not applicable).
    """

    rows: np.ndarray | None
    column: Hashable | None
    code: str
    message: str
    values: Sequence[Any] | None = None


class ProblemList:
    """Collects :class:`Problem` s; one PayloadError lists them all.

    Parameters
    ----------
    index : pandas.Index
        The frame's row labels, to name rows by label.
    ids : pandas.Series, optional
        The ids as given, to show next to each row (set by :func:`encode_frame`).
    """

    def __init__(self, index: pd.Index, ids: pd.Series | None = None) -> None:
        self.index = index
        self.ids = ids
        self.items: list[Problem] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(
        self,
        rows: np.ndarray | None,
        column: Hashable | None,
        code: str,
        message: str,
        values: Sequence[Any] | None = None,
    ) -> None:
        """Record a problem (rows as positions); an empty ``rows`` records nothing."""
        if rows is None or len(rows):
            self.items.append(Problem(rows, column, code, message, values))

    def extend(self, problems: Sequence[Problem]) -> None:
        """Record problems found elsewhere (e.g. by the property-definitions check)."""
        for p in problems:
            self.add(p.rows, p.column, p.code, p.message, p.values)

    @property
    def refuses_frame(self) -> bool:
        """True when a problem is about a whole column or the frame, not some rows."""
        return any(p.rows is None for p in self.items)

    def row_mask(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        mask = np.zeros(len(self.index), dtype=bool)
        for p in self.items:
            if p.rows is not None:
                mask[p.rows] = True
        return mask

    def frame(self) -> pd.DataFrame:
        """Every problem as a row (``PayloadError.problems``): frame-level first, then by row."""
        frames = []
        for p in self.items:
            pos = np.array([-1]) if p.rows is None else np.asarray(p.rows)
            n = len(pos)
            rows = [None] if p.rows is None else self.index[pos].tolist()
            ids = [None] * n if self.ids is None or p.rows is None else self.ids.iloc[pos]
            values = [None] * n if p.values is None else list(p.values)
            frame = {
                "row": rows,
                "objectId": list(ids),
                "column": [p.column] * n,
                "code": [p.code] * n,
                "value": values,
                "problem": [p.message] * n,
            }
            frames.append(pd.DataFrame(frame, dtype=object).assign(_pos=pos))
        if not frames:
            empty: pd.DataFrame = pd.DataFrame({c: [] for c in PROBLEM_COLUMNS}, dtype=object)
            return empty
        # frame-level problems first, then by row, keeping the column order within a row
        problems = pd.concat(frames, ignore_index=True).sort_values("_pos", kind="stable")
        ordered: pd.DataFrame = problems[PROBLEM_COLUMNS].reset_index(drop=True)
        return ordered

    def error(self) -> PayloadError | None:
        """The PayloadError listing every problem, if there is any."""
        if not self.items:
            return None
        return PayloadError(self.frame())

    def raise_if_any(self) -> None:
        error = self.error()
        if error is not None:
            raise error


def _id_series(df: pd.DataFrame, id_column: str) -> pd.Series | None:
    if id_column in df.columns:
        positions = np.flatnonzero(df.columns == id_column)
        return cast(pd.Series, df.iloc[:, positions[0]]) if len(positions) == 1 else None
    if id_column in df.index.names:
        level: pd.Series = pd.Series(df.index.get_level_values(id_column), index=df.index)
        return level
    return None


_INT64_MAX = np.iinfo(np.int64).max


def _check_ids(raw: pd.Series, id_column: str, problems: ProblemList) -> np.ndarray:
    """Validate the ids; return them as int64 (0 where invalid)."""
    n = len(raw)
    if raw.dtype == object:  # pandas.isna raises on Decimal("sNaN")
        missing = np.fromiter(map(is_missing, raw.array), dtype=bool, count=n)
    else:
        missing = raw.isna().to_numpy()

    def add(rows: np.ndarray, code: str, message: str) -> None:
        problems.add(rows, id_column, code, message, raw.iloc[rows].tolist())

    add(np.flatnonzero(missing), "MISSING_ID", "id is missing")
    ids = np.zeros(n, dtype=np.int64)
    if pd.api.types.is_bool_dtype(raw.dtype):
        add(np.flatnonzero(~missing), "INVALID_ID", "id is a boolean, not a ticket id")
    elif pd.api.types.is_integer_dtype(raw.dtype):  # exact and vectorised
        unsigned = pd.api.types.is_unsigned_integer_dtype(raw.dtype)
        values = raw.to_numpy(dtype=np.uint64 if unsigned else np.int64, na_value=0)
        add(np.flatnonzero(~missing & (values <= 0)), "INVALID_ID", "id is not positive")
        big = values > _INT64_MAX if unsigned else np.zeros(n, dtype=bool)
        add(np.flatnonzero(big), "INVALID_ID", "id is too large for a ticket id")
        ids = np.where(big, 0, values).astype(np.int64)
    else:  # floats, or objects/strings ("176602" from a CSV read as text): one by one
        # numpy scalars keep a float32's width, which bounds the ids it holds exactly
        cells = raw.to_numpy() if isinstance(raw.dtype, np.dtype) else raw.tolist()
        reasons: dict[str, list[int]] = {}
        for i, v in enumerate(cells):
            if missing[i]:
                continue
            got = ticket_id(v)
            if isinstance(got, str):
                reasons.setdefault(got, []).append(i)
            else:
                ids[i] = got
        for reason, rows in reasons.items():
            add(np.asarray(rows), "INVALID_ID", reason)
    ids = np.where(ids > 0, ids, 0)
    dup = (ids > 0) & pd.Series(ids).duplicated(keep=False).to_numpy()
    message = "id appears in more than one row: keep one row per ticket"
    add(np.flatnonzero(dup), "DUPLICATE_ID", message)
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
            p.add(None, name, "BAD_COLUMN_NAME", f"property name {name!r} is not a string")
        elif not name.strip():
            p.add(None, name, "BAD_COLUMN_NAME", "property name is empty")
        elif not _is_unicode(name):
            message = f"property name {name!r} is not valid Unicode (a lone surrogate): rename it"
            p.add(None, name, "BAD_COLUMN_NAME", message)
        elif name == id_column:
            message = "the id column cannot also be sent as a property"
            p.add(None, name, "ID_COLUMN_AS_PROPERTY", message)
        elif name in seen or len(positions.get(name, ())) > 1:
            p.add(None, name, "DUPLICATE_COLUMN", f"property {name!r} appears more than once")
        elif name not in positions:
            message = f"no column named {name!r}{_suggest(name, df.columns)}"
            p.add(None, name, "NO_SUCH_COLUMN", message)
        else:
            picked.append((name, positions[name][0]))
        seen.add(name)
    if not names:
        p.add(None, None, "NO_PROPERTIES", "no property columns to send")
    return picked


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _suggest(name: str, labels: Iterable[Hashable]) -> str:
    """``"; did you mean 'x'?"`` for the closest label, or ``""``."""
    texts = {str(label): label for label in labels}
    close = difflib.get_close_matches(name, list(texts), n=1, cutoff=0.6)
    if not close:  # export headers: "Ticket ID" for "ticket_id"
        folded = {k.lower().replace(" ", "_"): k for k in texts}
        close = [folded[k] for k in difflib.get_close_matches(name.lower(), list(folded), n=1)]
    return f"; did you mean {texts[close[0]]!r}?" if close else ""


def _id_problem(df: pd.DataFrame, id_column: str) -> str:
    """Why ``id_column`` names no id, with the frame's columns and the closest one."""
    if id_column in df.columns and id_column in df.index.names:
        return f"{id_column!r} is both a column and the index name"
    if id_column in df.columns:
        return f"id column {id_column!r} names several columns"
    labels = [*df.columns, *(n for n in df.index.names if n is not None)]
    shown = ", ".join(repr(c) for c in labels[:20]) + (", ..." if len(labels) > 20 else "")
    what, hint = f"id column {id_column!r} is not", _suggest(id_column, labels)
    if id_column == ID_COLUMNS[0]:  # the default: none of the usual names is there
        what = f"no ticket id column: none of {', '.join(map(repr, ID_COLUMNS))} is"
        hint = next(filter(None, (_suggest(name, labels) for name in ID_COLUMNS)), "")
    return (
        f"{what} a column nor the index name "
        f"(the frame has {shown or 'no columns'}){hint}; "
        "pass id_column= to name the column holding the ticket ids"
    )


def encode_frame(
    df: pd.DataFrame,
    properties: Sequence[Hashable] | str | None = None,
    *,
    id_column: str = "objectId",
    na: NaMode = "skip",
    api: Api | str = "v1",
    problems: ProblemList | None = None,
) -> EncodedFrame:
    """Validate and encode a wide frame; raise one PayloadError listing every problem.

    See :meth:`pandas_hubtickets._accessor.HubTicketsAccessor.to_payload` for the
    meaning of the arguments.

    Parameters
    ----------
    problems : ProblemList, optional
        Collect the problems here instead of raising (a caller that checks
        more before it reports them all at once). Cells at fault are null in
        the result, and rows with a bad id have id 0.

    Examples
    --------
    >>> import pandas as pd
    >>> found = ProblemList(pd.RangeIndex(2))
    >>> frame = pd.DataFrame({"objectId": [7, 7], "subject": ["a", "b"]})
    >>> encoded = encode_frame(frame, problems=found)
    >>> found.frame()[["row", "code"]].values.tolist()
    [[0, 'DUPLICATE_ID'], [1, 'DUPLICATE_ID']]
    """
    if not isinstance(df, pd.DataFrame):
        raise ArgumentTypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if not isinstance(id_column, str):
        got = type(id_column).__name__
        raise ArgumentTypeError(f"id_column must be a str (a column or index name), got {got}")
    if properties is not None and not isinstance(properties, Iterable):
        got = type(properties).__name__
        raise ArgumentTypeError(f"properties must be a list of column names or None, got {got}")
    if na not in _NA_MODES:
        raise ConfigurationError(f"na must be one of {_NA_MODES}, not {na!r}")
    flavor = _flavor(api)
    collect = problems is not None
    found = problems if problems is not None else ProblemList(df.index)
    raw_ids = _id_series(df, id_column)
    if id_column in df.columns and id_column in df.index.names:
        raw_ids = None
    if raw_ids is None:
        found.add(None, id_column, "NO_ID_COLUMN", _id_problem(df, id_column))
        ids = np.zeros(len(df), dtype=np.int64)
    else:
        found.ids = raw_ids
        ids = _check_ids(raw_ids, id_column, found)
    picked = _pick_columns(df, properties, id_column, found)
    values = []
    for name, pos in picked:
        column = df.iloc[:, pos]
        arr, cell_problems = encode_column(column)
        missing = np.array(arr.is_null().to_numpy(zero_copy_only=False))
        for rows, code, why in cell_problems:
            found.add(rows, name, code, why, column.iloc[rows].tolist())
            missing[rows] = False  # reported already; not also as missing
        if na == "clear":
            arr = arr.fill_null("")
        elif na == "error":
            message = "missing value (na='error'): fill it, or use na='skip' to leave it unchanged"
            found.add(np.flatnonzero(missing), name, "MISSING_VALUE", message)
        values.append(arr)
    if not collect:
        found.raise_if_any()
    return EncodedFrame(
        index=df.index,
        object_ids=ids,
        names=tuple(str(name) for name, _ in picked),
        values=tuple(values),
        flavor=flavor,
    )
