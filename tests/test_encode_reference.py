"""Every encoded cell against an independent reference encoder written from the README's table.

The reference below is written from scratch, value by value in plain Python (the
calendar, the shortest round-tripping digits, the positional notation): it calls
nothing of the library. Hypothesis generates columns of every dtype pandas has
(numpy, nullable, pyarrow-backed, categorical) and object columns mixing numpy
and Python scalars of every kind with every missing marker; each cell must come
out equal to the reference, or be refused by both.

Bounded and seeded (``derandomize=True``): ``HUBTICKETS_FUZZ_EXAMPLES`` examples
per test (default 100, a few seconds); ``make fuzz`` runs many more.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pandas_hubtickets._encode import encode_column

SCALE = max(1, int(os.environ.get("HUBTICKETS_RELIABILITY_SCALE", "1")))  # make reliability
EXAMPLES = int(os.environ.get("HUBTICKETS_FUZZ_EXAMPLES", str(100 * SCALE)))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

REFUSED = object()  # the reference's verdict for a cell that cannot be sent
LIMIT = 65_536  # HubSpot's longest text
INT64 = range(-(2**63), 2**63)
DAY_MS = 86_400_000


# ---------------------------------------------------------------- the reference encoder


def ref_text(text: str) -> Any:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text) or len(text) > LIMIT:
        return REFUSED
    return text


def positional(scientific: str) -> str:
    """Scientific notation (``-1.25e-07``) written out, the decimal point moved, no exponent."""
    mantissa, _, exp = scientific.lower().partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    whole, _, frac = mantissa.lstrip("+-").partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = int(exp or 0) - len(frac)  # the value is int(digits) * 10**exponent
    while digits.endswith("0"):
        digits, exponent = digits[:-1], exponent + 1
    if not digits:
        return "0"
    if exponent >= 0:
        return sign + digits + "0" * exponent
    digits = digits.rjust(-exponent + 1, "0")
    return sign + digits[:exponent] + "." + digits[exponent:]


#: significand bits by float kind: whole numbers below 2**bits are exact
FLOATS = {
    np.float16: 11,
    np.float32: 24,
    np.float64: 53,
    np.longdouble: np.finfo(np.longdouble).nmant + 1,
}


def ref_float(x: Any, kind: Any) -> Any:
    """A float in its own precision ``kind``: digits if whole and exact, else the shortest."""
    x = kind(x)
    if x != x:
        return None
    if x in (np.inf, -np.inf):
        return REFUSED
    if x == int(x) and abs(int(x)) < 2 ** FLOATS[kind]:
        return str(int(x))
    exact = Fraction(*x.as_integer_ratio())
    sign = "-" if x < 0 else ""
    for significant in range(1, 40):  # the fewest significant digits that read back as x
        # x correctly rounded to that many digits, and its neighbours: next to a power of
        # two the rounding interval is lopsided, and only a neighbour may read back
        text = np.format_float_scientific(abs(x), precision=significant - 1, unique=False)
        mantissa, _, exp = text.partition("e")
        nearest = int(mantissa.replace(".", ""))
        scale = int(exp) - (significant - 1)
        fits = [
            (
                abs(Fraction(int(sign + str(d))) * Fraction(10) ** scale - exact),
                f"{sign}{d}e{scale}",
            )
            for d in (nearest - 1, nearest, nearest + 1)
            if d > 0 and kind(f"{sign}{d}e{scale}") == x
        ]
        if fits:
            return positional(min(fits)[1])
    raise AssertionError(f"no decimal reads back as {x!r}")


def ref_decimal(d: decimal.Decimal) -> Any:
    if d.is_qnan():
        return None
    if d.is_snan() or d.is_infinite():
        return REFUSED
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    number = "".join(map(str, digits))
    if exponent >= 0:
        body = number + "0" * exponent if number.strip("0") else "0"
    else:
        number = number.rjust(-exponent + 1, "0")
        body = number[:exponent] + "." + number[exponent:]
    text = ("-" if sign else "") + body
    return REFUSED if len(text) > LIMIT else text


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date, for any year (H. Hinnant)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


#: milliseconds per count of each linear datetime64 unit, as a fraction
UNIT_MS = {
    "W": (604_800_000, 1),
    "D": (DAY_MS, 1),
    "h": (3_600_000, 1),
    "m": (60_000, 1),
    "s": (1000, 1),
    "ms": (1, 1),
    "us": (1, 1000),
    "ns": (1, 10**6),
    "ps": (1, 10**9),
    "fs": (1, 10**12),
    "as": (1, 10**15),
}


def ref_ms(ms: int) -> Any:
    return str(ms) if ms in INT64 else REFUSED


def ref_count(n: int, unit: str) -> Any:
    """A count of ``unit`` since the epoch (UTC), floored to milliseconds."""
    if unit == "Y":
        return ref_ms(days_from_civil(1970 + n, 1, 1) * DAY_MS)
    if unit == "M":
        return ref_ms(days_from_civil(1970 + n // 12, n % 12 + 1, 1) * DAY_MS)
    mul, div = UNIT_MS[unit]
    return ref_ms(n * mul // div)


def ref_datetime(d: dt.datetime) -> Any:
    offset = d.utcoffset() or dt.timedelta(0)
    clock = ((d.hour * 60 + d.minute) * 60 + d.second) * 1000 + d.microsecond // 1000
    ms = days_from_civil(d.year, d.month, d.day) * DAY_MS + clock
    return ref_ms(ms - offset // dt.timedelta(milliseconds=1))


def ref_cell(v: Any) -> Any:
    """One cell of an object column, by its own type (the README's table)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.datetime64 | np.timedelta64) and np.isnat(v):
        return None
    if isinstance(v, dt.timedelta | np.timedelta64):
        return REFUSED
    if isinstance(v, str):
        return ref_text(v)
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, np.floating):
        return ref_float(v, type(v))
    if isinstance(v, float):
        return ref_float(v, np.float64)
    if isinstance(v, decimal.Decimal):
        return ref_decimal(v)
    if isinstance(v, pd.Timestamp):
        return ref_count(v.value, "ns")
    if isinstance(v, dt.datetime):
        return ref_datetime(v)
    if isinstance(v, dt.date):
        return ref_ms(days_from_civil(v.year, v.month, v.day) * DAY_MS)
    if isinstance(v, np.datetime64):
        unit, count = np.datetime_data(v.dtype)
        return ref_count(int(v.astype(np.int64)) * count, unit)
    if isinstance(v, list | tuple | set | frozenset) or (isinstance(v, np.ndarray) and v.ndim == 1):
        return ref_options(v)
    return REFUSED  # dict, bytes, complex, 0-d arrays, anything else


def ref_options(items: Any) -> Any:
    parts = []
    for item in items:
        if isinstance(item, list | tuple | set | frozenset | dict | np.ndarray):
            return REFUSED
        text = ref_cell(item)
        if text is None or text is REFUSED or ";" in text:
            return REFUSED
        parts.append(text)
    if isinstance(items, set | frozenset):
        parts.sort()
    return ref_text(";".join(parts))


# ---------------------------------------------------------------- checking a column


def check(series: pd.Series, expected: list[Any]) -> None:
    values, problems = encode_column(series)
    got: list[Any] = values.to_pylist()
    for rows, code, why in problems:
        assert code and why
        for i in rows:
            assert got[i] is None
            got[i] = REFUSED
    for i, (mine, ref) in enumerate(zip(got, expected, strict=True)):
        assert mine == ref or mine is ref is REFUSED, (i, series.iloc[i], mine, ref)


# ---------------------------------------------------------------- generated values

texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", ";", "a;b", "x" * LIMIT, "x" * (LIMIT + 1), '"q"\\\n']
)
WIDTHS = {np.float16: 16, np.float32: 32, np.float64: 64}


def floats_of(kind: Any) -> st.SearchStrategy[Any]:
    width = WIDTHS.get(kind, 64)
    special = st.sampled_from([0.0, -0.0, 2.0**11, 2.0**24, 2.0**53, 1e-7, 0.1, 1e22, 2.0**64])
    in_range = special.filter(lambda v: abs(v) <= float(np.finfo(kind).max))
    values = (st.floats(width=width) | in_range).map(kind)
    if kind is np.longdouble:  # values a float64 cannot hold
        return values | st.integers(-(2**70), 2**70).map(lambda n: np.longdouble(n) / 3)
    return values


decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [
        decimal.Decimal(t)
        for t in ("sNaN", "-sNaN", "NaN", "1E+2", "-0", "0E+5", "0E-5", "1E-9", "1E+70000")
    ]
)
int_kinds = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
float_kinds = [np.float16, np.float32, np.float64, np.longdouble]
offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
datetimes = st.datetimes(timezones=st.none() | offsets)
units = st.sampled_from(["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "as"])


@st.composite
def numpy_ints(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(int_kinds))
    info = np.iinfo(kind)
    return kind(draw(st.integers(int(info.min), int(info.max))))


missing_markers = st.sampled_from(
    [None, np.nan, pd.NA, pd.NaT, np.float32("nan"), decimal.Decimal("NaN"), np.datetime64("NaT")]
)
scalars = st.one_of(
    missing_markers,
    texts | st.sampled_from(["\ud800", "a\udfffb"]),  # lone surrogates: object columns only
    st.booleans(),
    st.booleans().map(np.bool_),
    st.integers(-(2**70), 2**70),
    numpy_ints(),
    st.sampled_from(float_kinds).flatmap(floats_of),
    decimals,
    datetimes,
    st.dates(),
    st.builds(
        pd.Timestamp,
        st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2261, 1, 1)),
    ),
    st.builds(np.datetime64, st.integers(-(2**62), 2**62), units),
    st.builds(np.timedelta64, st.integers(-(2**40), 2**40), units),
    st.timedeltas(),
    st.sampled_from([b"raw", 1j, {"a": 1}, np.array(5), np.array("x"), np.complex64(1)]),
)
options = st.lists(
    st.one_of(texts, st.integers(-(2**40), 2**40), st.booleans(), st.floats(), st.none()),
    max_size=4,
)
cells = st.one_of(
    scalars,
    options,
    options.map(tuple),
    st.lists(texts, max_size=4).map(set),
    st.lists(texts, max_size=3).map(lambda x: np.array(x, dtype=object)),
    st.lists(st.lists(texts, max_size=2), min_size=1, max_size=2),
)


@FUZZ
@given(st.lists(cells, min_size=1, max_size=8))
# what issue 7 found, always tried first
@example([np.float16(1.5), 7])
@example([np.longdouble(1.5), 7])
@example([np.uint64(2**64 - 1), 1.5])
@example([np.timedelta64(5, "ns"), np.timedelta64(5, "D")])
@example([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31), np.datetime64("0001-01-01")])
@example([np.array(5), decimal.Decimal("sNaN")])
@pytest.mark.reliability
def test_object_columns_match_the_reference(figures, values):
    column = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):  # each cell as it is: no inference, no unpacking
        column[i] = v
    assert all(a is b for a, b in zip(column, values, strict=True))
    check(pd.Series(column, dtype=object), [ref_cell(v) for v in values])
    figures.add(
        "encoding", "object cells (numpy and Python mixed) matched to the reference", len(values)
    )


@FUZZ
@given(
    st.sampled_from([int, float, str, bool]).flatmap(
        lambda kind: st.lists(
            {
                int: st.integers(-(2**64), 2**64),
                float: st.floats(),
                str: texts,
                bool: st.booleans(),
            }[kind]
            | st.sampled_from([None, np.nan, pd.NA]),
            min_size=1,
            max_size=8,
        )
    )
)
@pytest.mark.reliability
def test_plain_python_object_columns_match_the_reference(figures, values):
    """Plain Python cells take pyarrow's fast path: it must agree cell by cell."""
    check(pd.Series(values, dtype=object), [ref_cell(v) for v in values])
    figures.add("encoding", "plain Python cells matched to the reference", len(values))


# ---------------------------------------------------------------- typed columns


@st.composite
def numpy_int_columns(draw: st.DrawFn) -> tuple[pd.Series, list[Any]]:
    kind = draw(st.sampled_from(int_kinds))
    info = np.iinfo(kind)
    ints = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=1, max_size=8))
    nullable = draw(st.sampled_from([None, "masked", "arrow"]))
    if nullable is None:
        return pd.Series(np.array(ints, dtype=kind)), [str(n) for n in ints]
    cells = [None if draw(st.booleans()) else n for n in ints]
    dtype = (
        pd.api.types.pandas_dtype(np.dtype(kind).name.capitalize().replace("Ui", "UI"))
        if nullable == "masked"
        else pd.ArrowDtype(pa.from_numpy_dtype(np.dtype(kind)))
    )
    return pd.Series(cells, dtype=dtype), [None if n is None else str(n) for n in cells]


@st.composite
def float_columns(draw: st.DrawFn) -> tuple[pd.Series, list[Any]]:
    kind = draw(st.sampled_from(float_kinds))
    values = draw(st.lists(floats_of(kind), min_size=1, max_size=8))
    backend = draw(st.sampled_from(["numpy", "masked", "arrow"]))
    if backend == "numpy" or (kind in (np.longdouble, np.float16) and backend == "masked"):
        series = pd.Series(np.array(values, dtype=kind))
    elif backend == "masked":
        series = pd.Series(np.array(values, dtype=kind)).astype(
            "Float32" if kind is np.float32 else "Float64"
        )
    else:
        if kind is np.longdouble:
            kind = np.float64
            values = [np.float64(v) for v in values]
        series = pd.Series(
            pa.array(np.array(values, dtype=kind)),
            dtype=pd.ArrowDtype(pa.from_numpy_dtype(np.dtype(kind))),
        )
    return series, [ref_float(v, kind) for v in values]


@st.composite
def datetime_columns(draw: st.DrawFn) -> tuple[pd.Series, list[Any]]:
    unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    counts = draw(
        st.lists(
            st.integers(-(2**63) + 1, 2**63 - 1) | st.integers(-(10**12), 10**12) | st.none(),
            min_size=1,
            max_size=8,
        )
    )
    nat = np.iinfo(np.int64).min
    raw = np.array([nat if n is None else n for n in counts], dtype=np.int64)
    tz = draw(st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York", "+05:30"]))
    if draw(st.booleans()):  # pyarrow-backed
        arr = pa.array(raw, pa.int64(), mask=raw == nat).cast(pa.timestamp(unit, tz=tz))
        series = pd.Series(arr, dtype=pd.ArrowDtype(arr.type))
    else:
        series = pd.Series(raw.view(f"datetime64[{unit}]"))
        if tz is not None:
            series = series.dt.tz_localize("UTC").dt.tz_convert(tz)
    return series, [None if n is None else ref_count(n, unit) for n in counts]


@st.composite
def arrow_columns(draw: st.DrawFn) -> tuple[pd.Series, list[Any]]:
    kind = draw(st.sampled_from(["decimal", "date32", "date64", "list", "string", "bool"]))
    if kind == "decimal":
        precision = draw(st.integers(1, 38))
        scale = draw(st.integers(-5, precision))
        ints = draw(
            st.lists(
                st.integers(-(10**precision) + 1, 10**precision - 1) | st.none(),
                min_size=1,
                max_size=8,
            )
        )
        values = [None if n is None else decimal.Decimal(f"{n}E{-scale}") for n in ints]
        arr = pa.array(values, pa.decimal128(precision, scale))
        return pd.Series(arr, dtype=pd.ArrowDtype(arr.type)), [
            None if v is None else ref_decimal(v) for v in values
        ]
    if kind in ("date32", "date64"):
        days = draw(st.lists(st.integers(-(10**6), 10**6) | st.none(), min_size=1, max_size=8))
        arr = pa.array(days, pa.int32()).cast(pa.date32())
        arr = arr if kind == "date32" else arr.cast(pa.date64())
        expected = [None if d is None else str(d * DAY_MS) for d in days]
        return pd.Series(arr, dtype=pd.ArrowDtype(arr.type)), expected
    if kind == "list":
        lists = draw(
            st.lists(st.lists(texts | st.none(), max_size=3) | st.none(), min_size=1, max_size=8)
        )
        arr = pa.array(lists, pa.list_(pa.string()))
        expected = [None if x is None else ref_options(x) for x in lists]
        return pd.Series(arr, dtype=pd.ArrowDtype(arr.type)), expected
    if kind == "string":
        strings = draw(st.lists(texts | st.none(), min_size=1, max_size=8))
        dtype = draw(
            st.sampled_from(["string", pd.StringDtype("pyarrow"), pd.ArrowDtype(pa.string())])
        )
        return pd.Series(strings, dtype=dtype), [
            None if t is None else ref_text(t) for t in strings
        ]
    bools = draw(st.lists(st.booleans() | st.none(), min_size=1, max_size=8))
    dtype = draw(st.sampled_from(["boolean", pd.ArrowDtype(pa.bool_())]))
    if all(b is not None for b in bools) and draw(st.booleans()):
        dtype = bool
    expected = [None if b is None else ("true" if b else "false") for b in bools]
    return pd.Series(bools, dtype=dtype), expected


@st.composite
def categorical_columns(draw: st.DrawFn) -> tuple[pd.Series, list[Any]]:
    pool = draw(
        st.sampled_from(
            [
                st.text(st.characters(codec="utf-8"), max_size=5),
                st.integers(-(2**60), 2**60),
                st.floats(allow_nan=False),
            ]
        )
    )
    values = draw(st.lists(pool | st.none(), min_size=1, max_size=8))
    series = pd.Series(values, dtype="category")
    categories = series.cat.categories
    expected = [
        None if code < 0 else ref_cell(categories[code]) for code in series.cat.codes.tolist()
    ]
    return series, expected


@FUZZ
@given(
    st.one_of(
        numpy_int_columns(),
        float_columns(),
        datetime_columns(),
        arrow_columns(),
        categorical_columns(),
    )
)
@example((pd.Series(np.array([2**62, 0], dtype="datetime64[s]")), [REFUSED, "0"]))
@example((pd.Series([-0.0], dtype=np.longdouble), ["0"]))
@pytest.mark.reliability
def test_typed_columns_match_the_reference(figures, case):
    series, expected = case
    check(series, expected)
    figures.add("encoding", "typed-column cells matched to the reference", len(expected))


def test_the_reference_itself_on_the_readme_examples():
    """The reference agrees with the README's own examples (so it is not vacuous)."""
    assert [ref_float(v, np.float64) for v in (3.0, 2.5, 0.1, 1e-7, 1.5e22)] == [
        "3",
        "2.5",
        "0.1",
        "0.0000001",
        "15000000000000000000000",
    ]
    assert ref_float(1e-8, np.float32) == "0.00000001"
    assert ref_float(123456789.0, np.float32) == "123456790"
    assert [ref_decimal(decimal.Decimal(t)) for t in ("1E+2", "1E-9", "1.50")] == [
        "100",
        "0.000000001",
        "1.50",
    ]
    assert ref_cell(dt.datetime(2024, 1, 1)) == "1704067200000"
    assert ref_cell(dt.date(1, 1, 1)) == str(-62_135_596_800_000)
    assert ref_cell({"z", "y"}) == "y;z"
    assert ref_cell(np.datetime64(-1, "us")) == "-1"
    assert ref_cell(np.float32("inf")) is REFUSED
