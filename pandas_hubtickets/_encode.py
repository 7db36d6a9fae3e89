"""Column-wise encoding of pandas values into the strings HubSpot expects.

Pure functions, no network. Every column becomes one ``pyarrow.StringArray``
(null where the source value is missing) plus the positions of the cells that
cannot be sent, with a code and the reason. Work is done per column with pyarrow/numpy
kernels; only object columns holding something other than plain strings,
numbers, booleans or ``datetime.date`` values fall back to a per-cell Python encoder.

The encoding table (also in the README):

==========================================  =========================================
value                                       sent as
==========================================  =========================================
str                                         unchanged (at most 65,536 characters)
bool, numpy bool, pandas boolean            ``"true"`` / ``"false"``
int, nullable Int64, whole float (``3.0``)  decimal digits, no ``.0``
other float                                 shortest decimal that round-trips in the
                                            column's own precision, never an exponent
                                            (``1e-07`` is ``0.0000001``)
datetime (any unit; naive taken as UTC)     epoch milliseconds (beyond int64: an error)
date, pyarrow date                          epoch milliseconds of midnight UTC
list, tuple, set                            values joined with ``;`` (sets sorted)
Decimal, pyarrow decimal                    its exact digits, never an exponent
categorical                                 its value, encoded as above
missing (None, NaN, NaT, pd.NA)             null: left to the caller's ``na`` rule
timedelta, duration, ``Decimal('sNaN')``    an error
==========================================  =========================================

In an object column every cell is encoded by its own type (a ``numpy.float32``
next to Python floats keeps its own precision); pyarrow's inference of a
common type is used only for plain ``str``/``bool``/``int``/``float`` cells,
where it cannot lose anything.
==========================================  =========================================
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_TEXT", "Coded", "Problems", "encode_coded", "encode_column"]

MAX_TEXT = 65_536
MS_PER_DAY = 86_400_000
_EPOCH_DATE = dt.date(1970, 1, 1)
_MS_PER_UNIT = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}
#: (multiplier, divisor) from a count of each linear numpy datetime64 unit to milliseconds.
_MS_PER_NUMPY_UNIT = {
    "W": (7 * MS_PER_DAY, 1),
    "D": (MS_PER_DAY, 1),
    "h": (3_600_000, 1),
    "m": (60_000, 1),
    **_MS_PER_UNIT,
    "ps": (1, 10**9),
    "fs": (1, 10**12),
    "as": (1, 10**15),
}
#: Beyond these many years (months) from 1970, epoch milliseconds no longer fit an int64.
_CALENDAR_LIMIT = {"Y": 300_000_000, "M": 3_600_000_000}
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
_PY_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_PY_ONE_MS = dt.timedelta(milliseconds=1)
#: Cell types whose common type pyarrow infers without losing anything (exact types:
#: numpy scalars, whose width or range pyarrow may drop, are encoded one by one).
_ARROW_SAFE = frozenset({str, bool, int, float, type(None), type(pd.NA)})
#: Cell types of a column of dates that pyarrow converts exactly (to date32); a datetime
#: among them would lose its time of day, a date subclass its own meaning: not these.
_ARROW_DATES = frozenset({dt.date, float, type(None), type(pd.NaT), type(pd.NA)})
#: Cell types of a column that pyarrow converts exactly whatever pandas infers (missing values
#: besides dates, or besides texts).
_PLAIN_DATES = frozenset({dt.date, type(None), type(pd.NaT), type(pd.NA)})
_PLAIN_TEXTS = frozenset({str, type(None), type(pd.NA)})
#: Whole floats below these (by bit width) are sent as exact integer digits, which are
#: then also their shortest round-tripping text.
_EXACT_WHOLE = {16: 2.0**11, 32: 2.0**24, 64: 2.0**53}

#: Problems found in one column: (row positions, code, reason) triples.
Problems = list[tuple[np.ndarray, str, str]]

_CONVERT = "convert them to text, numbers, booleans, dates or lists of options"
_INFINITE = "infinite number cannot be sent: replace it, or use NaN to leave the property unchanged"
_DURATION = (
    "durations are not a HubSpot type: convert them to a number of the unit you want "
    "(e.g. s.dt.total_seconds())"
)
_OUT_OF_RANGE = (
    "date is too far from 1970: its epoch milliseconds do not fit HubSpot's 64-bit range; "
    "correct it"
)

#: The codes of cells that cannot be sent, whatever the property.
UNSENDABLE_TYPE = "UNSENDABLE_TYPE"
INFINITE_NUMBER = "INFINITE_NUMBER"
INVALID_TEXT = "INVALID_TEXT"
TOO_LONG = "TOO_LONG"
INVALID_LIST = "INVALID_LIST"
INVALID_NUMBER = "INVALID_NUMBER"
DATE_OUT_OF_RANGE = "DATE_OUT_OF_RANGE"


class _Unsendable(Exception):
    """A single cell that cannot be encoded (raised and caught inside this module)."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


def encode_column(s: pd.Series) -> tuple[pa.StringArray, Problems]:
    """Encode one column.

    Parameters
    ----------
    s : pandas.Series
        Any dtype: numpy, nullable, pyarrow-backed, categorical or object.

    Returns
    -------
    values : pyarrow.StringArray
        The encoded strings, null where the source is missing or unsendable.
    problems : list of (positions, code, reason)
        Row positions (into ``s``) of cells that cannot be sent, with a code
        (``UNSENDABLE_TYPE``, ``INFINITE_NUMBER``, ``INVALID_NUMBER``,
        ``DATE_OUT_OF_RANGE``, ``INVALID_TEXT``, ``TOO_LONG``, ``INVALID_LIST``)
        and the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> values, problems = encode_column(pd.Series([3.0, 2.5, None]))
    >>> values.to_pylist(), problems
    (['3', '2.5', None], [])
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        values, problems, _ = encode_coded(s)
        return values, problems
    if s.dtype == object:
        return _encode_objects(s)
    try:
        arr = _to_arrow(s)
    except (pa.ArrowException, TypeError, ValueError):
        return _encode_objects(s.astype(object))
    return _encode_arrow(arr)


def encode_coded(s: pd.Series) -> tuple[pa.StringArray, Problems, Coded | None]:
    """:func:`encode_column`, and for a column of few possible values, those and each row's code.

    The codes: for a categorical or bool column, ``(texts, codes)`` where
    ``texts[codes[i]]`` is the text of row ``i`` and a missing cell has code
    ``-1``; ``None`` for other columns, and where a category cannot be sent
    or there are more than :data:`MAX_CODES` categories.

    Examples
    --------
    >>> values, problems, coded = encode_coded(pd.Series(pd.Categorical(["b", None, "a"])))
    >>> values.to_pylist(), coded[0], coded[1].tolist()
    (['b', None, 'a'], ('a', 'b'), [1, -1, 0])
    >>> encode_coded(pd.Series([True, False]))[2][1].tolist()
    [1, 0]
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        categorical = s.array  # pandas.Categorical: its codes without a Series around them
        codes = categorical.codes
        categories = encode_column(pd.Series(categorical.categories))
        values, problems = _take_encoded(categories, codes, codes < 0)
        texts, refused = categories
        few = len(texts) <= MAX_CODES and not refused and not texts.null_count
        return values, problems, (tuple(texts.to_pylist()), codes) if few else None
    if s.dtype == bool:
        codes = s.to_numpy().view(np.int8)
    elif isinstance(s.dtype, pd.BooleanDtype):
        codes = s.to_numpy(dtype=np.int8, na_value=-1)
    else:
        values, problems = encode_column(s)
        return values, problems, None
    # a take of the two texts by code: a third of the cost of Arrow's cast from booleans
    missing = codes < 0
    values = _BOOL_ARRAY.take(pa.array(codes, mask=missing if missing.any() else None))
    return values, [], (_BOOL_TEXTS, codes)


#: A column's few texts and each row's code into them (-1: missing), from :func:`encode_coded`.
Coded = tuple[tuple[str, ...], np.ndarray]
_BOOL_TEXTS = ("false", "true")
_BOOL_ARRAY = pa.array(_BOOL_TEXTS, pa.string())
#: At most this many categories are coded by :func:`encode_coded`.
MAX_CODES = 16


def _to_arrow(s: pd.Series) -> pa.Array:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        # the same instants in UTC, without a time zone: pyarrow's conversion of a
        # zoned column looks the zone up again (a failed import) on every call
        return pa.array(s.to_numpy(dtype=f"datetime64[{s.dtype.unit}]"), from_pandas=True)
    arr = pa.array(s, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _take_encoded(
    encoded: tuple[pa.StringArray, Problems], codes: np.ndarray, missing: np.ndarray
) -> tuple[pa.StringArray, Problems]:
    """Values of a categorical/dictionary column from its encoded categories.

    ``codes`` index the categories (``missing`` marks null codes); the
    categories' problems become problems of the rows that use them.
    """
    categories, category_problems = encoded
    values = pc.take(categories, pa.array(codes, mask=missing))
    problems = [
        (np.flatnonzero(~missing & np.isin(codes, pos)), code, why)
        for pos, code, why in category_problems
    ]
    return values, [(pos, code, why) for pos, code, why in problems if len(pos)]


def _encode_arrow(arr: pa.Array) -> tuple[pa.StringArray, Problems]:
    t = arr.type
    if pa.types.is_dictionary(t):
        missing = arr.indices.is_null().to_numpy(zero_copy_only=False)
        codes = arr.indices.fill_null(0).to_numpy(zero_copy_only=False)
        return _take_encoded(_encode_arrow(arr.dictionary), codes, missing)
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string()), []
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _checked_text(arr.cast(pa.string()))
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return arr.cast(pa.string()), []
    if pa.types.is_decimal(t):  # Arrow writes "1.23E+4" for a negative scale
        return _without_exponents(arr.cast(pa.string()), "E"), []
    if pa.types.is_floating(t):
        return _encode_floats(arr)
    if pa.types.is_timestamp(t):
        mul, div = _MS_PER_UNIT[t.unit]
        return _epoch_ms(arr.cast(pa.int64()), mul, div)
    if pa.types.is_date32(t):
        return _epoch_ms(arr.view(pa.int32()), MS_PER_DAY, 1)
    if pa.types.is_date64(t):
        return _epoch_ms(arr.view(pa.int64()), 1, 1)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _encode_objects(pd.Series(arr.to_pylist(), dtype=object))
    present = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False))
    reason = (
        _DURATION if pa.types.is_duration(t) else f"values of type {t} cannot be sent: {_CONVERT}"
    )
    problems = [(present, UNSENDABLE_TYPE, reason)] if len(present) else []
    return pa.nulls(len(arr), pa.string()), problems


def _checked_text(values: pa.StringArray) -> tuple[pa.StringArray, Problems]:
    # no more characters than bytes: only a text of over MAX_TEXT bytes needs counting
    offsets, _ = offsets_and_data(values)
    if not len(values) or int(np.diff(offsets).max()) <= MAX_TEXT:
        return values, []
    too_long = pc.fill_null(pc.greater(pc.utf8_length(values), MAX_TEXT), False)
    pos = np.flatnonzero(too_long.to_numpy(zero_copy_only=False))
    if not len(pos):
        return values, []
    reason = f"text longer than HubSpot's limit of {MAX_TEXT:,} characters: shorten it"
    return pc.if_else(too_long, pa.scalar(None, pa.string()), values), [(pos, TOO_LONG, reason)]


def offsets_and_data(arr: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """numpy views of a string array's offsets (``len + 1`` of them) and data buffer."""
    _, offsets, data = arr.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return starts, np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(
        0, np.uint8
    )


def _epoch_ms(ints: pa.Array, mul: int, div: int) -> tuple[pa.StringArray, Problems]:
    """Epoch milliseconds as text from int32 (days) or int64 counts: ``floor(ints * mul / div)``."""
    missing = ints.is_null().to_numpy(zero_copy_only=False) if ints.null_count else None
    ms = (ints.fill_null(0) if ints.null_count else ints).to_numpy(zero_copy_only=False)
    pos = np.empty(0, dtype=np.int64)
    if ms.dtype.itemsize < 8:  # int32 days: in milliseconds, far inside int64's range
        ms = ms.astype(np.int64) * mul
    elif mul > 1:  # raw * mul would wrap around silently beyond int64: such values are refused
        over = (ms > _INT64_MAX // mul) | (ms < -(-_INT64_MIN // mul))
        pos = np.flatnonzero(over)
        if len(pos):
            ms = np.where(over, 0, ms)
            missing = over if missing is None else missing | over
        ms = ms * mul
    if div > 1:
        ms = np.floor_divide(ms, div)  # floor: never rounds up
    values = pa.array(ms, mask=missing).cast(pa.string())
    return values, [(pos, DATE_OUT_OF_RANGE, _OUT_OF_RANGE)] if len(pos) else []


def _without_exponents(text: pa.StringArray, marker: str = "e") -> pa.StringArray:
    """The same numbers with any exponent written out (``"1e-07"``: ``"0.0000001"``).

    Exact: the digits are the ones given, only the decimal point moves. Only the
    values whose text has an exponent (typically few) go through Python.
    """
    offsets, data = offsets_and_data(text)
    at = np.flatnonzero(data[offsets[0] : offsets[-1]] == ord(marker)) + offsets[0]
    if not len(at):
        return text
    rows = np.searchsorted(offsets, at, side="right") - 1  # one exponent per number
    has_exponent = np.zeros(len(text), dtype=bool)
    has_exponent[rows] = True
    plain = [format(decimal.Decimal(t), "f") for t in text.take(rows).to_pylist()]
    return pc.replace_with_mask(text, pa.array(has_exponent), pa.array(plain, pa.string()))


def _shortest(arr: pa.FloatingPointArray) -> pa.StringArray:
    """The shortest decimal that round-trips *in the column's own precision*, without exponent.

    ``float32(0.1)`` is ``"0.1"``, not the ``"0.10000000149011612"`` of its float64 widening.
    Non-finite values come out as text the caller discards.
    """
    if pa.types.is_float16(arr.type):  # Arrow's cast is not shortest for half floats
        halves = arr.to_numpy(zero_copy_only=False)
        return pa.array(
            [np.format_float_positional(v, unique=True, trim="-") for v in halves], pa.string()
        )
    return _without_exponents(arr.cast(pa.string()))


def _encode_floats(arr: pa.FloatingPointArray) -> tuple[pa.StringArray, Problems]:
    # exact; nulls become NaN (numpy widens: Arrow < 16 cannot cast half floats)
    x = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(x)
    # whole and small (neither NaN nor an infinity is below the bound); also "0" for -0.0
    exact = (np.trunc(x) == x) & (np.abs(x) < _EXACT_WHOLE[arr.type.bit_width])

    def digits() -> pa.StringArray:
        return pa.array(np.where(exact, x, 0.0).astype(np.int64), mask=~exact).cast(pa.string())

    if (exact | ~finite).all():  # whole numbers (and missing ones): digits only
        values = digits()
    else:
        values = _shortest(arr)
        if exact.any():
            values = pc.if_else(pa.array(exact), digits(), values)
        if not finite.all():
            values = pc.if_else(pa.array(finite), values, pa.nulls(len(x), pa.string()))
    inf = np.flatnonzero(np.isinf(x))
    problems = [(inf, INFINITE_NUMBER, _INFINITE)] if len(inf) else []
    return values, problems


def _format_float(v: float | np.floating[Any]) -> str:
    if isinstance(v, np.longdouble) and np.finfo(np.longdouble).nmant > 52:
        return _format_longdouble(v)
    values, _ = _encode_floats(pa.array(np.asarray([v])))  # keeps a numpy scalar's precision
    text = values[0].as_py()
    assert isinstance(text, str)
    return text


def _format_longdouble(v: np.longdouble) -> str:
    """The shortest decimal that round-trips in long double precision (Arrow has no such type)."""
    if v == np.trunc(v) and abs(v) < 2.0 ** (np.finfo(np.longdouble).nmant + 1):
        return str(int(v))  # exact digits, "0" for -0.0, as for the other widths
    text = np.format_float_positional(v, unique=True, trim="-")
    if np.longdouble(text) != v:  # a platform whose long double numpy cannot print exactly
        raise _Unsendable(
            UNSENDABLE_TYPE,
            f"long double {text} cannot be written exactly here: "
            "convert it to float64 or Decimal first",
        )
    return text


def _encode_objects(s: pd.Series) -> tuple[pa.StringArray, Problems]:
    cells = s.to_numpy()
    types = set(map(type, cells))  # iterating the ndarray: 10x faster than s.array
    # plain dates (or texts) and missing values only: pandas' inference could say nothing more
    if types <= _PLAIN_DATES or types <= _PLAIN_TEXTS:
        arrow = True
    else:
        kind = pd.api.types.infer_dtype(s, skipna=True)
        fast = ("string", "empty", "boolean", "integer", "floating", "mixed-integer-float")
        arrow = (kind in fast and types <= _ARROW_SAFE) or (
            kind == "date" and types <= _ARROW_DATES
        )
    if arrow:
        try:
            return _encode_arrow(pa.array(cells, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            pass  # ints beyond 64 bits, lone surrogates: the per-cell encoder handles them
    out: list[str | None] = []
    bad: dict[tuple[str, str], list[int]] = {}
    for i, v in enumerate(s.tolist()):
        try:
            out.append(encode_scalar(v))
        except _Unsendable as exc:
            out.append(None)
            bad.setdefault((exc.code, str(exc)), []).append(i)
    values, problems = _checked_text(pa.array(out, pa.string()))
    found = [(np.asarray(pos), code, why) for (code, why), pos in bad.items()]
    return values, problems + found


def is_missing(v: Any) -> bool:
    """Whether one value is a missing marker (None, NaN, NaT, pd.NA, a quiet Decimal NaN).

    Unlike :func:`pandas.isna`, never raises (``Decimal('sNaN')`` is not missing).
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return bool(np.isnan(v))
    if isinstance(v, decimal.Decimal):
        return v.is_qnan()
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    return False


def encode_scalar(v: Any) -> str | None:
    """Encode one Python value; ``None`` for missing. Raises ``_Unsendable``."""
    if is_missing(v):
        return None
    if isinstance(v, dt.timedelta | np.timedelta64):  # before ints: a timedelta64 is one
        raise _Unsendable(UNSENDABLE_TYPE, _DURATION)
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise _Unsendable(
                INVALID_TEXT,
                "text is not valid Unicode (a lone surrogate): remove or replace the character",
            ) from None
        return v
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        if np.isinf(v):
            raise _Unsendable(INFINITE_NUMBER, _INFINITE)
        return _format_float(v)
    if isinstance(v, decimal.Decimal):
        return _format_decimal(v)
    if isinstance(v, dt.datetime | np.datetime64):
        return str(_checked_ms(_datetime_ms(v)))
    if isinstance(v, dt.date):
        return str((v - _EPOCH_DATE).days * MS_PER_DAY)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        raise _Unsendable(
            UNSENDABLE_TYPE, "a 0-d numpy array cannot be sent: take its value with .item()"
        )
    if isinstance(v, list | tuple | set | frozenset | np.ndarray):
        return _join_options(v)
    raise _Unsendable(
        UNSENDABLE_TYPE, f"values of type {type(v).__name__} cannot be sent: {_CONVERT}"
    )


def _format_decimal(v: decimal.Decimal) -> str:
    if v.is_snan():
        raise _Unsendable(
            INVALID_NUMBER,
            "a signalling NaN (Decimal('sNaN')) cannot be sent: "
            "use None or NaN to leave the property unchanged",
        )
    if v.is_infinite():
        raise _Unsendable(INFINITE_NUMBER, _INFINITE)
    sign, digits, exponent = v.as_tuple()
    assert isinstance(exponent, int)
    # the exact length of its positional form, known before building it (1E+999999999)
    if exponent >= 0:
        length = 1 if digits == (0,) else len(digits) + exponent
    else:
        length = max(len(digits) + exponent, 1) + 1 - exponent
    if sign + length > MAX_TEXT:
        raise _Unsendable(
            TOO_LONG, f"number longer than HubSpot's limit of {MAX_TEXT:,} characters: round it"
        )
    return format(v, "f")


def _datetime_ms(v: dt.datetime | np.datetime64) -> int:
    """Exact epoch milliseconds (floored), with Python integers: no range but the input's."""
    if isinstance(v, pd.Timestamp):  # may hold nanoseconds; asm8 is its UTC value
        v = v.asm8
    if isinstance(v, dt.datetime):
        aware = v if v.utcoffset() is not None else v.replace(tzinfo=dt.timezone.utc)
        return (aware - _PY_EPOCH) // _PY_ONE_MS
    unit, count = np.datetime_data(v.dtype)
    n = int(v.astype(np.int64)) * count
    if unit in _CALENDAR_LIMIT:  # years, months: numpy's calendar gives the days
        if abs(n) > _CALENDAR_LIMIT[unit]:
            raise _Unsendable(DATE_OUT_OF_RANGE, _OUT_OF_RANGE)
        days = np.array(n, dtype=f"datetime64[{unit}]").astype("datetime64[D]")
        n, unit = int(days.astype(np.int64)), "D"
    mul, div = _MS_PER_NUMPY_UNIT[unit]
    return n * mul // div


def _checked_ms(ms: int) -> int:
    if not _INT64_MIN <= ms <= _INT64_MAX:
        raise _Unsendable(DATE_OUT_OF_RANGE, _OUT_OF_RANGE)
    return ms


def _join_options(v: Iterable[Any]) -> str:
    parts = []
    for item in v:
        if isinstance(item, list | tuple | set | frozenset | np.ndarray | dict):
            raise _Unsendable(INVALID_LIST, "nested collections cannot be sent: flatten the list")
        text = encode_scalar(item)
        if text is None:
            raise _Unsendable(
                INVALID_LIST, "missing value inside a list of options: drop it from the list"
            )
        if ";" in text:
            raise _Unsendable(
                INVALID_LIST,
                f"option {text!r} contains ';', HubSpot's option separator: "
                "split it into separate options",
            )
        parts.append(text)
    if isinstance(v, set | frozenset):
        parts.sort()
    return ";".join(parts)
