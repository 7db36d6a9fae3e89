"""Wide frames to batch-update bodies: golden seed, shapes, NA rules, validation, flavours."""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets  # noqa: F401  (registers the accessor)
from pandas_hubtickets import ArgumentTypeError, ConfigurationError, PayloadError
from pandas_hubtickets._client import _ticket_id
from pandas_hubtickets._payload import encode_frame

DATA = Path(__file__).parent / "data"
NOT_DIGITS = (
    "id must be written in plain digits: an id is a whole number such as 176602: digits 0-9 "
    "only (spaces around them and a trailing .0 are allowed), no sign, exponent, separator or "
    "other digits"
)


@pytest.fixture
def seed_request():
    return json.loads((DATA / "example-batch-update-request.json").read_text())


@pytest.fixture
def seed_frame(seed_request):
    """The seed's two rows as a wide frame, built from the spelled-out values."""
    return pd.DataFrame(
        {
            "objectId": [176602, 178218],
            "status": ["CLOSED", "IN_PROGRESS"],
            "content": [
                "This is now an updated ticket marked as closed.",
                "This is another updated ticket marked as in progress.",
            ],
        }
    )


def test_golden_seed_request(seed_frame, seed_request):
    payload = seed_frame.hubtickets.to_payload()
    assert payload == seed_request
    # key order as in the seed, all the way down
    assert json.dumps(payload) == json.dumps(seed_request)


def test_golden_seed_json_is_compact_and_equal(seed_frame, seed_request):
    text = seed_frame.hubtickets.to_json()
    assert json.loads(text) == seed_request
    assert text == json.dumps(seed_request, separators=(",", ":"))


def test_id_from_an_index_named_like_hubspot_exports(seed_frame, seed_request):
    exported = seed_frame.rename(columns={"objectId": "Ticket ID"}).set_index("Ticket ID")
    assert exported.hubtickets.to_payload(id_column="Ticket ID") == seed_request


def test_properties_pick_and_order_columns(seed_frame):
    body = seed_frame.hubtickets.to_payload(["content", "status"])
    assert [p["name"] for p in body[0]["properties"]] == ["content", "status"]
    assert seed_frame.hubtickets.to_payload("status")[1]["properties"] == [
        {"name": "status", "value": "IN_PROGRESS"}
    ]


def test_na_skip_leaves_property_out_and_drops_empty_rows():
    df = pd.DataFrame({"objectId": [1, 2, 3], "a": ["x", None, None], "b": [1.0, 2.0, np.nan]})
    assert df.hubtickets.to_payload() == [
        {"objectId": 1, "properties": [{"name": "a", "value": "x"}, {"name": "b", "value": "1"}]},
        {"objectId": 2, "properties": [{"name": "b", "value": "2"}]},
    ]


def test_na_clear_sends_empty_strings():
    df = pd.DataFrame({"objectId": [1], "a": [None], "b": [pd.NaT]})
    assert df.hubtickets.to_payload(na="clear") == [
        {"objectId": 1, "properties": [{"name": "a", "value": ""}, {"name": "b", "value": ""}]}
    ]


def test_na_error_lists_every_missing_cell():
    df = pd.DataFrame({"objectId": [1, 2], "a": [None, "x"], "b": [np.nan, np.nan]})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload(na="error")
    assert info.value.problems[["row", "column"]].values.tolist() == [[0, "a"], [0, "b"], [1, "b"]]


def test_bad_na_and_api_arguments(seed_frame):
    with pytest.raises(ValueError, match="na must be one of"):
        seed_frame.hubtickets.to_payload(na="drop")
    with pytest.raises(ValueError, match="api must be one of"):
        seed_frame.hubtickets.to_payload(api="v4")
    with pytest.raises(ConfigurationError):  # under HubTicketsError too
        seed_frame.hubtickets.to_payload(api="v4")


def test_wrong_argument_types_name_what_was_expected(seed_frame):
    with pytest.raises(ArgumentTypeError, match=r"id_column must be a str.*got int"):
        seed_frame.hubtickets.to_payload(id_column=0)
    with pytest.raises(ArgumentTypeError, match="properties must be a list of column names"):
        seed_frame.hubtickets.to_payload(3)
    with pytest.raises(TypeError, match="expected a pandas DataFrame, got dict"):
        encode_frame({"objectId": [1]})


def test_all_problems_reported_at_once_in_row_order():
    df = pd.DataFrame(
        {
            "objectId": [5, 5, -1, 2.5, None, 7],
            "subject": ["ok", "ok", "ok", "ok", "ok", {"not": "sendable"}],
            "score": [1.0, np.inf, 1.0, 1.0, 1.0, 1.0],
        },
        index=list("abcdef"),
    )
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    problems = info.value.problems
    assert list(problems.columns) == ["row", "objectId", "column", "code", "value", "problem"]
    duplicate = "id appears in more than one row: keep one row per ticket"
    infinite = (
        "infinite number cannot be sent: replace it, or use NaN to leave the property unchanged"
    )
    unsendable = (
        "values of type dict cannot be sent: "
        "convert them to text, numbers, booleans, dates or lists of options"
    )
    assert problems[["row", "column", "code", "problem"]].values.tolist() == [
        ["a", "objectId", "DUPLICATE_ID", duplicate],
        ["b", "objectId", "DUPLICATE_ID", duplicate],
        ["b", "score", "INFINITE_NUMBER", infinite],
        ["c", "objectId", "INVALID_ID", "id is not positive"],
        ["d", "objectId", "INVALID_ID", "id is not a whole number"],
        ["e", "objectId", "MISSING_ID", "id is missing"],
        ["f", "subject", "UNSENDABLE_TYPE", unsendable],
    ]
    assert problems["value"].tolist()[2:5] == [np.inf, -1.0, 2.5]
    assert problems["value"].iloc[-1] == {"not": "sendable"}
    assert problems["objectId"].iloc[-1] == 7
    message = str(info.value)
    assert message.startswith("7 problems found")
    assert "row 'a'" in message and "and 2 more" in message
    assert isinstance(info.value, ValueError)


def test_bad_property_names():
    df = pd.DataFrame([[1, "a", "b", "c", "d"]], columns=["objectId", "", 3, "dup", "dup"])
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    assert info.value.problems["problem"].tolist() == [
        "property name is empty",
        "property name 3 is not a string",
        "property 'dup' appears more than once",
    ]
    assert info.value.problems["row"].isna().all()


def test_properties_naming_the_id_or_unknown_columns():
    df = pd.DataFrame({"objectId": [1], "a": ["x"]})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload(["objectId", "nope", "a", "a"])
    assert info.value.problems["problem"].tolist() == [
        "the id column cannot also be sent as a property",
        "no column named 'nope'",
        "property 'a' appears more than once",
    ]


def test_id_both_column_and_index_name_is_ambiguous():
    df = pd.DataFrame({"objectId": [1], "a": ["x"]}, index=pd.Index([2], name="objectId"))
    with pytest.raises(PayloadError, match="is both a column and the index name"):
        df.hubtickets.to_payload()


def test_missing_id_column_names_it():
    with pytest.raises(PayloadError, match="no ticket id column: none of 'objectId', "):
        pd.DataFrame({"ticket": [1], "a": ["x"]}).hubtickets.to_payload()
    with pytest.raises(PayloadError, match="id column 'mine' is not a column"):
        pd.DataFrame({"ticket": [1], "a": ["x"]}).hubtickets.to_payload(id_column="mine")


def test_ids_as_digit_strings_and_nullable_ints():
    df = pd.DataFrame({"objectId": ["12", "x"], "a": ["p", "q"]})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    assert info.value.problems[["row", "problem"]].values.tolist() == [[1, NOT_DIGITS]]
    ok = pd.DataFrame({"objectId": pd.array([12, 9], dtype="Int64"), "a": ["p", "q"]})
    assert [o["objectId"] for o in ok.hubtickets.to_payload()] == [12, 9]


def test_ids_in_object_columns_are_read_exactly():
    df = pd.DataFrame(
        {
            "objectId": pd.Series(
                [2**53 + 1, "9007199254740995", " 12 ", True, "x", 2.5, 7.0, 2**64], dtype=object
            ),
            "a": "v",
        }
    )
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    assert info.value.problems[["row", "problem"]].values.tolist() == [
        [3, "id is a boolean, not a ticket id"],
        [4, NOT_DIGITS],
        [5, "id is not a whole number"],
        [7, "id is too large for a ticket id"],
    ]
    ok = df.iloc[[0, 1, 2, 6]].hubtickets.to_payload()
    assert [o["objectId"] for o in ok] == [2**53 + 1, 9007199254740995, 12, 7]


def test_float_ids_beyond_exact_range_and_unsigned_overflow_are_refused():
    floats = pd.DataFrame({"objectId": [1.0, 2.0**53], "a": "v"})
    with pytest.raises(PayloadError, match="too large to be held exactly in a float"):
        floats.hubtickets.to_payload()
    unsigned = pd.DataFrame({"objectId": np.array([2**63 + 5, 0], dtype=np.uint64), "a": "v"})
    with pytest.raises(PayloadError) as info:
        unsigned.hubtickets.to_payload()
    assert info.value.problems["problem"].tolist() == [
        "id is too large for a ticket id",
        "id is not positive",
    ]


def test_large_integer_ids_stay_exact():
    big = 2**60 + 1
    df = pd.DataFrame({"objectId": [big], "a": ["p"]})
    assert df.hubtickets.to_payload()[0]["objectId"] == big
    assert json.loads(df.hubtickets.to_json())[0]["objectId"] == big


def test_to_batches_sizes_and_validation(seed_frame):
    df = pd.DataFrame({"objectId": range(1, 251), "a": "x"})
    assert [len(b) for b in df.hubtickets.to_batches()] == [100, 100, 50]
    assert [len(b) for b in df.hubtickets.to_batches(batch_size=1)][:3] == [1, 1, 1]
    for bad in (0, 101):
        with pytest.raises(ConfigurationError, match="batch_size"):
            df.hubtickets.to_batches(bad)
    for bad in (2.0, True, "10"):  # a wrong type is a TypeError naming the type expected
        with pytest.raises(ArgumentTypeError, match="batch_size must be an int"):
            df.hubtickets.to_batches(bad)


def test_to_batches_validates_before_iterating():
    df = pd.DataFrame({"objectId": [1, 1], "a": ["x", "y"]})
    with pytest.raises(PayloadError):
        df.hubtickets.to_batches(1)  # raises here, not on the first next()


def test_date_versioned_flavour(seed_frame):
    body = seed_frame.hubtickets.to_payload(api="2026-03")
    assert body == {
        "inputs": [
            {
                "objectWriteTraceId": "0",
                "id": "176602",
                "properties": {
                    "status": "CLOSED",
                    "content": "This is now an updated ticket marked as closed.",
                },
            },
            {
                "objectWriteTraceId": "1",
                "id": "178218",
                "properties": {
                    "status": "IN_PROGRESS",
                    "content": "This is another updated ticket marked as in progress.",
                },
            },
        ]
    }
    assert json.loads(seed_frame.hubtickets.to_json(api="2026-03")) == body
    assert [len(b["inputs"]) for b in seed_frame.hubtickets.to_batches(1, api="2026-03")] == [1, 1]


def test_json_escapes_agree_with_the_python_payload():
    df = pd.DataFrame(
        {
            "objectId": [1, 2, 3],
            'we"ird\\name': ['quote " back \\ slash', "tab\tnew\nline\x01", "émoji 🎫 \u2028"],
        }
    )
    assert json.loads(df.hubtickets.to_json()) == df.hubtickets.to_payload()


def test_mixed_frame_json_equals_payload():
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1),
            "s": rng.choice(["a", "b", None], n),
            "c": pd.Categorical(rng.choice(["LOW", "HIGH"], n)),
            "f": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 9, n).astype(float)),
            "g": rng.random(n),
            "b": rng.random(n) < 0.5,
            "t": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 1e9, n), "s"),
        }
    )
    assert json.loads(df.hubtickets.to_json()) == df.hubtickets.to_payload()


def test_accessor_refuses_multiindex_columns():
    df = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")]))
    with pytest.raises(AttributeError, match="flat column labels"):
        _ = df.hubtickets


def test_wrong_id_column_lists_the_columns_and_suggests_the_closest():
    df = pd.DataFrame({"Ticket ID": [1], "status": ["OPEN"]})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload(id_column="ticket_id")
    (problem,) = info.value.problems.to_dict("records")
    assert problem["code"] == "NO_ID_COLUMN"
    assert "'Ticket ID', 'status'" in problem["problem"]
    assert "did you mean 'Ticket ID'?" in problem["problem"]


def test_a_misspelt_property_gets_a_suggestion():
    df = pd.DataFrame({"objectId": [1], "status": ["OPEN"]})
    with pytest.raises(PayloadError, match="did you mean 'status'"):
        df.hubtickets.to_payload(["stauts"])


@pytest.mark.parametrize(
    "text",
    [
        "1_000",  # int() reads it as 1000
        "2e3",  # float() reads it as 2000
        "+5",
        "-5",
        "1,000",
        "0x10",
        "\u0663",  # Arabic-Indic 3: str.isdigit() and int() accept it
        "\uff11\uff12",  # full-width 12
        "\u00b2",  # superscript 2: isdigit() but not int()
        "1.5",
        "1.",
        ".0",
        "12\u00a0",  # no-break space: only spaces and tabs are trimmed
        "",
        "nan",
        "inf",
    ],
)
def test_ids_in_text_are_plain_ascii_digits_only(text):
    df = pd.DataFrame({"objectId": pd.Series([text, "7"], dtype=object), "a": "v"})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    assert info.value.problems[["row", "code", "problem"]].values.tolist() == [
        [0, "INVALID_ID", NOT_DIGITS]
    ]


def test_ids_in_text_may_have_spaces_around_and_a_trailing_zero_fraction():
    ids = [" 176602 ", "\t12", "0013", "176603.0", "176604.000"]
    for dtype in (object, "string"):
        df = pd.DataFrame({"objectId": pd.Series(ids, dtype=dtype), "a": "v"})
        assert [o["objectId"] for o in df.hubtickets.to_payload()] == [
            176602,
            12,
            13,
            176603,
            176604,
        ]


def test_odd_decimal_and_numpy_ids_are_problems_not_crashes():
    cells = [
        decimal.Decimal("sNaN"),  # pandas.isna raises InvalidOperation on it
        decimal.Decimal("Infinity"),
        decimal.Decimal("1E+999999999"),  # int() of it would take gigabytes
        decimal.Decimal("2.5"),
        decimal.Decimal("12E+1"),
        np.timedelta64(5, "D"),  # a numpy integer, not an id
        np.float32(2.0**24),  # beyond what a float32 holds exactly
        np.float32(4096),
        np.array(9),
    ]
    df = pd.DataFrame({"objectId": pd.Series(cells, dtype=object), "a": "v"})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_payload()
    problems = info.value.problems
    assert set(problems["code"]) == {"INVALID_ID"}
    assert problems[["row", "problem"]].values.tolist() == [
        [0, "id is not a number: " + NOT_DIGITS.split(": ", 1)[1]],
        [1, "id is not a number: " + NOT_DIGITS.split(": ", 1)[1]],
        [2, "id is too large for a ticket id"],
        [3, "id is not a whole number"],
        [5, "id is not a number: " + NOT_DIGITS.split(": ", 1)[1]],
        [6, "id is too large to be held exactly in a float"],
        [8, "id is not a number: " + NOT_DIGITS.split(": ", 1)[1]],
    ]
    assert [o["objectId"] for o in df.iloc[[4, 7]].hubtickets.to_payload()] == [120, 4096]


def test_float32_id_column_is_bounded_by_its_own_precision():
    df = pd.DataFrame({"objectId": np.array([16_777_216, 7], dtype=np.float32), "a": "v"})
    with pytest.raises(PayloadError, match="too large to be held exactly in a float"):
        df.hubtickets.to_payload()


def test_client_reads_ids_by_the_same_rule():
    for bad in ("\u0663", "1_000", "2e3", True, 0, -3, 1.5):
        with pytest.raises(ValueError, match="a ticket id must be a positive integer"):
            _ticket_id(bad)
    assert [_ticket_id(v) for v in (" 42 ", "42.0", 42.0, np.int64(42), 42)] == [42] * 5


@pytest.mark.parametrize("name", ["sub\ud800ject", "\udcff"])
def test_a_column_name_that_is_not_unicode_is_refused_before_to_json(name):
    df = pd.DataFrame({"objectId": [1], name: ["v"], b"raw\xff": ["w"]})
    for build in (df.hubtickets.to_payload, df.hubtickets.to_json):
        with pytest.raises(PayloadError) as info:
            build()
        assert info.value.problems[["code", "problem"]].values.tolist() == [
            [
                "BAD_COLUMN_NAME",
                f"property name {name!r} is not valid Unicode (a lone surrogate): rename it",
            ],
            ["BAD_COLUMN_NAME", "property name b'raw\\xff' is not a string"],
        ]


def test_odd_cells_are_payload_errors_with_codes():
    cells = [np.array(5), decimal.Decimal("sNaN"), np.timedelta64(3, "h"), "ok"]
    df = pd.DataFrame({"objectId": [1, 2, 3, 4], "a": pd.Series(cells, dtype=object)})
    with pytest.raises(PayloadError) as info:
        df.hubtickets.to_json()
    assert info.value.problems[["row", "code"]].values.tolist() == [
        [0, "UNSENDABLE_TYPE"],
        [1, "INVALID_NUMBER"],
        [2, "UNSENDABLE_TYPE"],
    ]
