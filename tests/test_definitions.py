"""Checking values against HubSpot's property definitions, without a network."""

from __future__ import annotations

import pandas as pd
import pytest

from pandas_hubtickets.definitions import check_values
from pandas_hubtickets.payload import ProblemList, encode_frame

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


def found(column, values):
    frame = encode_frame(pd.DataFrame({"objectId": range(1, len(values) + 1), column: values}))
    return [(f.rows.tolist(), f.code) for f in check_values(frame, DEFINITIONS)]


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
        ("priority", ["LOW", "Low", "MEDIUM"], [([1], "INVALID_OPTION"), ([2], "INVALID_OPTION")]),
        ("tags", ["LOW;NOPE", "HIGH"], [([0], "INVALID_OPTION")]),
        ("escalated", ["true", "yes", "FALSE"], [([1, 2], "INVALID_BOOLEAN")]),
        ("amount", ["1e3", "12", "1,5", "n/a"], [([2, 3], "INVALID_LONG")]),
        (
            "due",
            ["2026-01-02", "86400000", "86400001"],
            [([0], "INVALID_LONG"), ([2], "INVALID_DATE")],
        ),
        ("closed", ["1767312000123", "2026-01-02T13:01:00Z"], [([1], "INVALID_LONG")]),
        ("amount", [" 12", "12"], [([0], "INVALID_WHITESPACE")]),
        ("priority", ["LOW ", "LOW"], [([0], "INVALID_WHITESPACE")]),
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
            "'High' is not an option of 'priority' (did you mean 'HIGH'?)",
        ]
    ]
    assert "INVALID_OPTION: 'High' is not an option" in str(error)
