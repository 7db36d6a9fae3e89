"""Value encoding: every row of the README's table, per dtype family, numpy and pyarrow alike."""

from __future__ import annotations

import datetime as dt
import decimal
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_hubtickets._encode import MAX_TEXT, encode_column, encode_scalar

MIDNIGHT_2024 = 1_704_067_200_000  # 2024-01-01T00:00:00Z in epoch ms


def enc(values, dtype=None):
    out, problems = encode_column(pd.Series(values, dtype=dtype))
    assert problems == []
    return out.to_pylist()


def test_strings_unchanged_in_every_string_dtype():
    text = ["CLOSED", "", " padded ", 'é\n"q"', None]
    for dtype in (object, "string", pd.StringDtype("pyarrow"), pd.ArrowDtype(pa.string())):
        assert enc(text, dtype) == ["CLOSED", "", " padded ", 'é\n"q"', None]


@pytest.mark.parametrize("dtype", [bool, "boolean", pd.ArrowDtype(pa.bool_()), object])
def test_booleans(dtype):
    values = [True, False] if dtype is bool else [True, False, None]
    assert enc(values, dtype) == ["true", "false", None][: len(values)]


def test_numpy_bool_scalars_in_object_column():
    assert enc([np.bool_(True), np.bool_(False)], object) == ["true", "false"]


@pytest.mark.parametrize(
    "dtype", ["int64", "int8", "uint64", "Int64", pd.ArrowDtype(pa.int32()), object]
)
def test_integers(dtype):
    values = [0, 3, 120] if dtype in ("int64", "int8", "uint64") else [0, 3, None]
    expected = ["0", "3", "120"] if dtype in ("int64", "int8", "uint64") else ["0", "3", None]
    assert enc(values, dtype) == expected


def test_int_column_turned_float_by_nan_sends_digits():
    assert enc([3.0, np.nan, -7.0, 0.0, -0.0]) == ["3", None, "-7", "0", "0"]


def test_other_floats_are_shortest_round_trip():
    values = [2.5, 0.1, 1 / 3, 123456789.123, 1e-7]
    out = enc(values)
    assert out == ["2.5", "0.1", "0.3333333333333333", "123456789.123", "0.0000001"]
    assert [float(v) for v in out] == values


PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.mark.parametrize(
    ("dtype", "value", "expected"),
    [
        ("float64", 1e-7, "0.0000001"),
        ("float64", -1.25e-10, "-0.000000000125"),
        ("float64", 5e-324, "0." + "0" * 323 + "5"),
        ("float64", 1e15, "1000000000000000"),
        ("float64", 1.5e22, "15000000000000000000000"),
        ("float64", 2.0**70, "1180591620717411300000"),
        ("float64", -1.7976931348623157e308, "-17976931348623157" + "0" * 292),
        ("float32", 1e-8, "0.00000001"),
        ("float32", 123456789.0, "123456790"),  # float32 holds 123456792: shortest is ...790
        ("float32", 3.4e38, "34" + "0" * 37),
        ("float32", 1e10, "10000000000"),
        ("float16", 1e-7, "0.0000001"),
        ("float16", 0.0001, "0.0001"),
        ("float16", 65504.0, "65500"),
        ("float16", 2.5, "2.5"),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "pyarrow", "object"])
def test_floats_of_every_width_and_magnitude_have_no_exponent(dtype, value, expected, backend):
    if backend == "numpy":
        s = pd.Series([value, None], dtype=dtype)
    elif backend == "pyarrow":
        s = pd.Series([value, None], dtype=pd.ArrowDtype(pa.from_numpy_dtype(np.dtype(dtype))))
    else:
        s = pd.Series([np.dtype(dtype).type(value), None], dtype=object)
    assert enc(s) == [expected, None]
    assert np.dtype(dtype).type(expected) == np.dtype(dtype).type(value)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.sampled_from(["float16", "float32", "float64"]).flatmap(
        lambda dtype: st.tuples(
            st.just(dtype),
            st.lists(
                st.floats(width=int(dtype[5:]), allow_nan=False, allow_infinity=False),
                min_size=1,
                max_size=20,
            ),
        )
    )
)
def test_every_encoded_float_is_plain_digits_that_round_trip(case):
    dtype, values = case
    kind = np.dtype(dtype).type
    out = enc(pd.Series(values, dtype=dtype))
    for value, text in zip(values, out, strict=True):
        assert PLAIN_NUMBER.fullmatch(text), text
        assert kind(text) == kind(value)


def test_single_and_half_precision_floats_keep_their_own_shortest_form():
    assert enc([0.1, 2.5, 3.0, None], "float32") == ["0.1", "2.5", "3", None]
    assert enc([0.1, 2.5], "float16") == ["0.1", "2.5"]
    assert enc([0.1], pd.ArrowDtype(pa.float32())) == ["0.1"]
    assert enc([np.float32(0.1), "text"], object) == ["0.1", "text"]


def test_huge_whole_floats_are_plain_digits():
    assert enc([1e20, 2.0**53 + 2]) == ["100000000000000000000", str(2**53 + 2)]


def test_float_dtypes_agree():
    values = [1.0, 2.25, None]
    expected = ["1", "2.25", None]
    for dtype in ("float64", "float32", "Float64", pd.ArrowDtype(pa.float64()), object):
        assert enc(values, dtype) == expected


def test_infinity_is_a_problem_at_its_position():
    out, problems = encode_column(pd.Series([1.0, np.inf, -np.inf]))
    assert out.to_pylist()[0] == "1"
    assert [(p.tolist(), code, why) for p, code, why in problems] == [
        (
            [1, 2],
            "INFINITE_NUMBER",
            "infinite number cannot be sent: replace it, or use NaN to leave the property "
            "unchanged",
        )
    ]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_naive_datetimes_of_every_unit_are_utc_epoch_ms(unit):
    s = pd.Series(pd.to_datetime(["2024-01-01 00:00:01.5", None])).astype(f"datetime64[{unit}]")
    expected_ms = MIDNIGHT_2024 + (1000 if unit == "s" else 1500)
    assert enc(s) == [str(expected_ms), None]


def test_aware_datetimes_are_converted_to_utc():
    s = pd.Series(pd.to_datetime(["2024-01-01 01:00"])).dt.tz_localize("Europe/Paris")
    assert enc(s) == [str(MIDNIGHT_2024)]
    arrow = s.astype(pd.ArrowDtype(pa.timestamp("ms", tz="America/New_York")))
    assert enc(arrow) == [str(MIDNIGHT_2024)]


def test_sub_millisecond_parts_are_floored_also_before_1970():
    s = pd.Series(pd.to_datetime(["1969-12-31 23:59:59.9995"])).astype("datetime64[us]")
    assert enc(s) == ["-1"]


def test_python_datetimes_and_dates_in_object_columns():
    values = [
        dt.datetime(2024, 1, 1),
        dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.date(2024, 1, 1),
        pd.Timestamp("2024-01-01", tz="UTC"),
        None,
    ]
    assert enc(values, object) == [str(MIDNIGHT_2024)] * 4 + [None]


def test_pyarrow_dates_are_midnight_utc():
    s = pd.Series([dt.date(2024, 1, 1), None], dtype=pd.ArrowDtype(pa.date32()))
    assert enc(s) == [str(MIDNIGHT_2024), None]
    assert enc(s.astype(pd.ArrowDtype(pa.date64()))) == [str(MIDNIGHT_2024), None]


def test_lists_tuples_sets_join_with_semicolons():
    values = [["b", "a"], ("x", 1), {"z", "y"}, [], None]
    assert enc(values, object) == ["b;a", "x;1", "y;z", "", None]


def test_pyarrow_list_column():
    s = pd.Series([["a", "b"], None], dtype=pd.ArrowDtype(pa.list_(pa.string())))
    assert enc(s) == ["a;b", None]


def test_option_containing_separator_is_a_problem():
    out, problems = encode_column(pd.Series([["a;b"], ["ok"]], dtype=object))
    assert out.to_pylist() == [None, "ok"]
    assert len(problems) == 1 and problems[0][0].tolist() == [0] and "';'" in problems[0][2]
    assert problems[0][1] == "INVALID_LIST"


def test_decimals_are_exact():
    values = [decimal.Decimal("1.50"), decimal.Decimal("1E+2"), decimal.Decimal("NaN")]
    assert enc(values, object) == ["1.50", "100", None]
    arrow = pd.Series([decimal.Decimal("1.50")], dtype=pd.ArrowDtype(pa.decimal128(5, 2)))
    assert enc(arrow) == ["1.50"]


def test_decimals_never_have_an_exponent():
    values = [decimal.Decimal("1E-9"), decimal.Decimal("-1.5E+25"), decimal.Decimal("-0")]
    assert enc(values, object) == ["0.000000001", "-15000000000000000000000000", "-0"]
    negative_scale = pa.array([decimal.Decimal("12300"), None], pa.decimal128(5, -2))
    assert enc(pd.Series(negative_scale, dtype=pd.ArrowDtype(negative_scale.type))) == [
        "12300",
        None,
    ]


def test_categoricals_send_their_values_encoded():
    assert enc(pd.Categorical(["HIGH", None, "LOW", "HIGH"])) == ["HIGH", None, "LOW", "HIGH"]
    assert enc(pd.Categorical([1.0, 2.5, None])) == ["1", "2.5", None]


def test_missing_markers_are_all_null():
    assert enc([None, np.nan, pd.NA, pd.NaT, "x"], object) == [None] * 4 + ["x"]


def test_unsupported_types_are_named_with_their_positions():
    out, problems = encode_column(pd.Series(["ok", {"a": 1}, b"raw", 1j, {"b": 2}], dtype=object))
    found = {why.split(":")[0]: (code, p.tolist()) for p, code, why in problems}
    assert found == {
        "values of type dict cannot be sent": ("UNSENDABLE_TYPE", [1, 4]),
        "values of type bytes cannot be sent": ("UNSENDABLE_TYPE", [2]),
        "values of type complex cannot be sent": ("UNSENDABLE_TYPE", [3]),
    }
    assert all(
        why.endswith("convert them to text, numbers, booleans, dates or lists of options")
        for _, _, why in problems
    )
    assert out.to_pylist() == ["ok", None, None, None, None]


def test_complex_column_is_refused():
    _, problems = encode_column(pd.Series([1j, 2j]))
    assert [(p.tolist(), code) for p, code, _ in problems] == [([0, 1], "UNSENDABLE_TYPE")]


def test_text_over_the_limit_is_a_problem_and_not_sent():
    out, problems = encode_column(pd.Series(["x" * MAX_TEXT, "x" * (MAX_TEXT + 1)]))
    assert [(p.tolist(), code) for p, code, _ in problems] == [([1], "TOO_LONG")]
    assert out.is_null().to_pylist() == [False, True]


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]"])
def test_the_text_limit_counts_characters_not_bytes(dtype):
    # bytes are counted first (a cheap bound): only texts of over MAX_TEXT bytes are counted
    texts = ["é" * MAX_TEXT, "🎫" * (MAX_TEXT + 1), None, "x" * (MAX_TEXT // 2)]
    out, problems = encode_column(pd.Series(texts, dtype=dtype))
    assert [(p.tolist(), code) for p, code, _ in problems] == [([1], "TOO_LONG")]
    assert out.to_pylist() == [texts[0], None, None, texts[3]]


def test_python_ints_beyond_64_bits_are_exact():
    assert enc([2**70, 5], object) == [str(2**70), "5"]


def test_lone_surrogates_are_a_problem_not_a_crash():
    out, problems = encode_column(pd.Series(["ok", "\ud800"], dtype=object))
    assert out.to_pylist() == ["ok", None]
    assert [(p.tolist(), code, why) for p, code, why in problems] == [
        (
            [1],
            "INVALID_TEXT",
            "text is not valid Unicode (a lone surrogate): remove or replace the character",
        )
    ]


def problem_codes(values, dtype=object):
    out, problems = encode_column(pd.Series(values, dtype=dtype))
    return out.to_pylist(), sorted((p.tolist(), code) for p, code, _ in problems)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([np.float16(1.5), 7], ["1.5", "7"]),  # pyarrow inferred int64: "1"
        ([np.longdouble(1.5), 7], ["1.5", "7"]),  # likewise "1"
        ([np.uint64(2**64 - 1), 1.5], ["18446744073709551615", "1.5"]),  # wrapped to "-1"
        ([np.float32(0.1), 2.5], ["0.1", "2.5"]),  # widened: "0.10000000149011612"
        ([np.int8(-3), np.float64(0.5), 2], ["-3", "0.5", "2"]),
        ([2**53 + 1, 1.5], ["9007199254740993", "1.5"]),
    ],
)
def test_object_columns_mixing_numpy_and_python_numbers_keep_each_value(values, expected):
    assert enc(values, object) == expected


def test_long_doubles_are_their_own_shortest_form():
    third = np.longdouble(1) / np.longdouble(3)
    (text,) = enc([third], object)
    assert np.longdouble(text) == third
    assert enc(pd.Series([np.longdouble(2.5), np.longdouble(4)], dtype=np.longdouble)) == [
        "2.5",
        "4",
    ]


@pytest.mark.parametrize(
    "value",
    [
        *(np.timedelta64(5, unit) for unit in ("ns", "ps", "Y", "M", "D", "s", "h")),
        dt.timedelta(hours=1),
        pd.Timedelta(5, "min"),
    ],
    ids=repr,
)
def test_durations_in_object_columns_are_refused(value):
    out, problems = encode_column(pd.Series([value, "x"], dtype=object))
    assert out.to_pylist() == [None, "x"]
    assert [(p.tolist(), code) for p, code, _ in problems] == [([0], "UNSENDABLE_TYPE")]
    assert problems[0][2].startswith("durations are not a HubSpot type: convert them to a number")


def test_duration_columns_get_the_same_message():
    for dtype in ("timedelta64[ns]", pd.ArrowDtype(pa.duration("s"))):
        s = pd.Series(pd.to_timedelta([1, None], "s")).astype(dtype)
        out, problems = encode_column(s)
        assert out.to_pylist() == [None, None]
        assert [(p.tolist(), code) for p, code, _ in problems] == [([0], "UNSENDABLE_TYPE")]
        assert problems[0][2].startswith("durations are not a HubSpot type")


FIRST_DAY_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
LAST_DAY_MS = 253_402_214_400_000  # 9999-12-31T00:00:00Z


def test_datetimes_beyond_the_nanosecond_range_in_object_columns_are_exact():
    paris = dt.timezone(dt.timedelta(hours=1))
    values = [
        dt.datetime(1, 1, 1),
        dt.datetime(9999, 12, 31),
        np.datetime64("0001-01-01"),
        np.datetime64("9999-12-31T00:00:00.000001"),
        dt.datetime(1, 1, 1, 1, tzinfo=paris),
        pd.Timestamp("0001-01-01", tz="UTC"),
        np.datetime64(-1, "as"),  # one attosecond before 1970: floored
        np.datetime64(1, "Y"),
        np.datetime64(-1, "M"),
    ]
    assert enc(values, object) == [
        str(FIRST_DAY_MS),
        str(LAST_DAY_MS),
        str(FIRST_DAY_MS),
        str(LAST_DAY_MS),
        str(FIRST_DAY_MS),
        str(FIRST_DAY_MS),
        "-1",
        "31536000000",
        "-2678400000",
    ]


def test_mixed_offset_datetimes_are_each_converted():
    values = [
        dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2023, 12, 31, 19, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ]
    assert enc(values, object) == [str(MIDNIGHT_2024)] * 2 + [str(FIRST_DAY_MS + 5 * 3_600_000)]


def test_datetimes_whose_epoch_ms_overflow_int64_are_refused():
    seconds = np.array([2**62, -(2**62), 0, "NaT"], dtype="datetime64[s]")
    for s in (pd.Series(seconds), pd.Series(seconds, dtype=pd.ArrowDtype(pa.timestamp("s")))):
        assert problem_codes(s, None) == (
            [None, None, "0", None],
            [([0, 1], "DATE_OUT_OF_RANGE")],
        )
    far = [np.datetime64(2**62, "s"), np.datetime64(10**9, "Y"), np.datetime64(-(10**12), "M")]
    assert problem_codes(far) == ([None] * 3, [([0, 1, 2], "DATE_OUT_OF_RANGE")])


def test_odd_cells_are_problems_with_codes_not_exceptions():
    values = [
        np.array(5),
        np.array("x"),
        decimal.Decimal("sNaN"),
        decimal.Decimal("-sNaN"),
        decimal.Decimal("1E+999999999"),
        decimal.Decimal("-1E-70000"),
        decimal.Decimal("Infinity"),
        np.longdouble("inf"),
        "ok",
    ]
    assert problem_codes(values) == (
        [None] * 8 + ["ok"],
        sorted(
            [
                ([0, 1], "UNSENDABLE_TYPE"),
                ([2, 3], "INVALID_NUMBER"),
                ([4, 5], "TOO_LONG"),
                ([6, 7], "INFINITE_NUMBER"),
            ]
        ),
    )


def test_decimals_at_the_length_limit():
    fits = decimal.Decimal(f"1E+{MAX_TEXT - 1}")  # MAX_TEXT digits
    assert enc([fits, decimal.Decimal(f"-1E-{MAX_TEXT - 3}")], object) == [
        "1" + "0" * (MAX_TEXT - 1),
        "-0." + "0" * (MAX_TEXT - 4) + "1",
    ]
    assert problem_codes([decimal.Decimal(f"1E+{MAX_TEXT}")]) == ([None], [([0], "TOO_LONG")])


def test_arrow_decimals_with_a_negative_scale_and_python_decimals_agree():
    python = [decimal.Decimal("1E+2"), decimal.Decimal("-1.23E+4"), decimal.Decimal("0E+2")]
    arrow = pd.Series(python, dtype=pd.ArrowDtype(pa.decimal128(5, -2)))
    assert enc(arrow) == enc(python, object) == ["100", "-12300", "0"]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_zoned_datetimes_of_every_unit_are_their_utc_instants(unit):
    """A zoned column is converted as its UTC instants (its time zone never looked up)."""
    utc = pd.Series(pd.to_datetime(["1969-12-31 23:59:59.9995", None, "2024-01-01 00:00:00.0"]))
    zoned = utc.dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata").dt.as_unit(unit)
    assert enc(zoned) == enc(utc.dt.as_unit(unit))
    assert enc(zoned)[1:] == [None, str(MIDNIGHT_2024)]


@pytest.mark.parametrize(
    "values",
    [
        [dt.date(2024, 1, 1), None, pd.NaT, pd.NA, dt.date(1969, 12, 31)],
        ['é "x"', None, pd.NA, ""],
        [pd.NaT, None],
        [None, pd.NA],
    ],
)
def test_object_columns_of_plain_dates_or_texts_match_the_per_cell_encoder(values):
    """Cell types alone decide the fast path; the result is the per-cell encoder's."""
    s = pd.Series(values, dtype=object)
    assert enc(s) == [encode_scalar(v) for v in values]
