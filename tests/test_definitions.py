"""Checking values against HubSpot's property definitions, without a network."""

from __future__ import annotations

import pandas as pd
import pytest

from pandas_hubtickets._definitions import check_values
from pandas_hubtickets._payload import ProblemList, encode_frame

OPTIONS = [{"label": "Low", "value": "LOW"}, {"label": "High", "value": "HIGH"}]
DEFINITIONS = pd.DataFrame(
    [
        {"name": "subject", "type": "string", "fieldType": "text"},
        {"name": "priority", "type": "enumeration", "fieldType": "select", "options": OPTIONS},
        {"name": "tags", "type": "enumeration", "fieldType": "checkbox", "options": OPTIONS},
        {"name": "stage", "type": "enumeration", "externalOptions": True, "options": []},
        {"name": "escalated", "type": "bool", "fieldType": "booleancheckbox"},
        {"name": "amount", "type": "number", "fieldType": "number"},
        {"name": "due", "type": "date", "fieldType": "date"},
        {"name": "closed", "type": "datetime", "fieldType": "date"},
        {"name": "created", "type": "datetime", "readOnlyValue": True},
        {"name": "owner", "type": "number", "modificationMetadata": {"readOnlyValue": True}},
    ]
)


def problems(column, values):
    frame = encode_frame(pd.DataFrame({"objectId": range(1, len(values) + 1), column: values}))
    return check_values(frame, DEFINITIONS)


def found(column, values):
    """(rows, code) per code, rows ascending."""
    by_code: dict[str, list[int]] = {}
    for f in problems(column, values):
        by_code.setdefault(f.code, []).extend(f.rows.tolist())
    return [(sorted(rows), code) for code, rows in by_code.items()]


def test_valid_values_and_empty_strings_pass():
    frame = encode_frame(
        pd.DataFrame(
            {
                "objectId": [1, 2],
                "subject": [" any text ", ""],
                "priority": ["LOW", ""],
                "tags": ["LOW;HIGH", "HIGH"],
                "stage": ["whatever-id", "3"],
                "escalated": [True, False],
                "amount": [1.5, -3],
                "due": pd.to_datetime(["2026-01-02", "1969-12-31"]),
                "closed": pd.to_datetime(["2026-01-02 13:01", None]),
            }
        )
    )
    assert check_values(frame, DEFINITIONS) == []


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("priority", ["LOW", "Low", "MEDIUM"], [([1, 2], "INVALID_OPTION")]),
        ("tags", ["LOW;NOPE", "HIGH", "LOW;", "LOW;HIGH"], [([0, 2], "INVALID_OPTION")]),
        ("escalated", ["true", "yes", "FALSE"], [([1, 2], "INVALID_BOOLEAN")]),
        ("amount", ["1e3", "12", "1,5", "n/a"], [([0, 2, 3], "INVALID_INTEGER")]),
        (
            "amount",
            ["+1", "1.", ".5", "-0", "007", "\u0661", "9" * 400],
            [([0, 1, 2, 5], "INVALID_INTEGER")],
        ),
        (
            "due",
            ["2026-01-02", "86400000", "86400001", "-86400000", "9" * 19],
            [([0, 4], "INVALID_LONG"), ([2], "INVALID_DATE")],
        ),
        ("closed", ["1767312000123", "2026-01-02T13:01:00Z"], [([1], "INVALID_LONG")]),
        ("amount", [" 12", "12", "\u200b12"], [([0, 2], "LEADING_TRAILING_WHITESPACE")]),
        ("priority", ["LOW ", "LOW"], [([0], "LEADING_TRAILING_WHITESPACE")]),
        ("tags", ["LOW; HIGH", "LOW;HIGH"], [([0], "LEADING_TRAILING_WHITESPACE")]),
        ("stage", [" 3", "3"], [([0], "LEADING_TRAILING_WHITESPACE")]),
    ],
)
def test_values_hubspot_refuses(column, values, expected):
    assert found(column, values) == expected


def test_unknown_and_read_only_columns_are_column_findings():
    frame = encode_frame(
        pd.DataFrame({"objectId": [1], "nope": ["x"], "created": [1], "owner": [2]})
    )
    findings = check_values(frame, DEFINITIONS)
    assert [(f.rows, f.column, f.code) for f in findings] == [
        (None, "nope", "PROPERTY_DOESNT_EXIST"),
        (None, "created", "READ_ONLY_VALUE"),
        (None, "owner", "READ_ONLY_VALUE"),
    ]


def test_labels_get_a_hint_and_the_error_lists_rows():
    frame = encode_frame(
        pd.DataFrame({"objectId": [7, 8], "priority": ["High", "HIGH"]}, index=["a", "b"])
    )
    found = ProblemList(frame.index, pd.Series(frame.object_ids))
    found.extend(check_values(frame, DEFINITIONS))
    error = found.error()
    assert error is not None
    assert error.problems.values.tolist() == [
        [
            "a",
            7,
            "priority",
            "INVALID_OPTION",
            "High",
            "'High' is not an option of 'priority': use the option value 'HIGH'",
        ]
    ]
    assert "INVALID_OPTION: 'High' is not an option" in str(error)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("priority", "Low", "'Low' is not an option of 'priority': use the option value 'LOW'"),
        ("priority", "low", "'low' is not an option of 'priority': use the option value 'LOW'"),
        ("priority", "Medium", "'Medium' is not an option of 'priority': use one of 'LOW', 'HIGH'"),
        (
            "tags",
            "LOW;High",
            "'LOW;High': 'High' is not an option of 'tags': use the option value 'LOW;HIGH'",
        ),
        ("priority", " LOW", "' LOW' has spaces around it: strip them"),
        ("tags", "LOW; HIGH", "'LOW; HIGH' has spaces around an option: strip them"),
        ("escalated", "yes", "'yes' is not a boolean: send true or false"),
        ("amount", "1e-7", "'1e-7' is not a plain decimal number: send 0.0000001"),
        ("amount", "+5", "'+5' is not a plain decimal number: send 5"),
        (
            "amount",
            "1,5",
            "'1,5' is not a number: send digits with an optional '-' and '.', e.g. -1234.5",
        ),
        (
            "due",
            "1704110400000",
            "1704110400000 is not midnight UTC (2024-01-01 12:00 UTC): convert to UTC midnight, "
            "e.g. 1704067200000",
        ),
        (
            "due",
            "1704063600000",  # midnight in Paris is 23:00 UTC the day before: the nearest midnight
            "1704063600000 is not midnight UTC (2023-12-31 23:00 UTC): convert to UTC midnight, "
            "e.g. 1704067200000",
        ),
        (
            "due",
            "2024-01-01",
            "'2024-01-01' is not epoch milliseconds: send 1704067200000 (2024-01-01 00:00 UTC), "
            "or a datetime column",
        ),
        (
            "closed",
            "99999999999999999999",
            "'99999999999999999999' is beyond the range of epoch milliseconds: "
            "send a date or datetime",
        ),
    ],
)
def test_messages_quote_the_value_and_say_the_fix(column, value, message):
    assert [(p.message, p.values) for p in problems(column, [value])] == [(message, [value])]


def test_one_problem_per_distinct_value_with_all_its_rows():
    found = problems("escalated", ["yes", "true", "no", "yes"])
    assert [(p.rows.tolist(), p.values) for p in found] == [([0, 3], ["yes", "yes"]), ([2], ["no"])]


def test_beyond_the_quoted_values_the_rest_share_one_problem():
    values = [str(86_400_000 * day + 1) for day in range(150)]
    found = problems("due", values)
    assert len(found) == 101
    assert found[-1].rows.tolist() == list(range(100, 150))
    assert found[-1].values == values[100:]
    assert found[-1].message.startswith("not midnight UTC")


def test_an_enumeration_without_options_takes_none():
    definitions = pd.DataFrame(
        [{"name": "kind", "type": "enumeration", "fieldType": "select", "options": []}]
    )
    frame = encode_frame(pd.DataFrame({"objectId": [1, 2], "kind": ["x", ""]}))
    assert [(p.rows.tolist(), p.code, p.message) for p in check_values(frame, definitions)] == [
        ([0], "INVALID_OPTION", "'x' is not an option of 'kind', which has no options")
    ]
