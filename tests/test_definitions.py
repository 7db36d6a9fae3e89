"""Checking values against HubSpot's property definitions.

The rules are checked without a network; the definitions each API serves
(v2's bare list for v1, ``/crm/properties/{v3,2026-03}/tickets`` for the
others) are read from FakeHubSpot over real sockets and must check, coerce
and type alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from helpers import client_for

import pandas_hubtickets as ht
from pandas_hubtickets._api import APIS, endpoints
from pandas_hubtickets._definitions import _parse, check_values
from pandas_hubtickets._payload import ProblemList, encode_frame
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.schema import PROPERTIES

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


# --- the definitions of every API, read from the emulator ---

MESSY = Path(__file__).parent / "data" / "messy-export.csv"


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(seed=5) as hub:
        hub.seed_tickets(3, start_id=176000)
        yield hub


def read_definitions(hub: FakeHubSpot, api: str) -> list[dict]:
    hub.clear_log()
    with client_for(hub, api=api) as client:
        records = client.properties()
    assert [r.path for r in hub.requests] == [endpoints(api).properties]
    return records


@pytest.mark.parametrize("api", APIS)
def test_each_apis_definitions_read_as_the_portals_properties(hub, api) -> None:
    records = read_definitions(hub, api)
    if api != "v1":  # the newer shape: read-only only in modificationMetadata
        assert not any("readOnlyValue" in r for r in records)
        assert all("readOnlyValue" in r["modificationMetadata"] for r in records)
    known = _parse(records)
    assert list(known) == list(PROPERTIES)  # expected facts come from the emulator's own table
    for name, p in PROPERTIES.items():
        d = known[name]
        assert (d.type, d.field_type, d.label, d.read_only) == (
            p.type,
            p.field_type,
            p.label,
            p.read_only,
        ), name
        enumerated = p.type == "enumeration" and not p.external_options
        assert d.options == (tuple(v for v, _ in p.options) if enumerated else None), name
        assert d.choices == p.options, name


BAD_SHEET = pd.DataFrame(
    {
        "objectId": [176000, 176001, 176002],
        "status": ["CLOSED", "Closed", "DONE"],  # a label, then no option at all
        "hs_ticket_category": ["BILLING_ISSUE;PRODUCT_ISSUE", "BILLING_ISSUE; X", "NOPE"],
        "is_escalated": ["true", "Yes", "false"],
        "hubspot_owner_id": ["51234567", "5e7", " 51234568"],
        "due_date": ["86400000", "86400001", "2026-01-02"],
        "closed_date": ["1767312000123", "", "x"],
        "createdate": ["0", "0", "0"],  # read-only
        "time_to_close": ["1", "2", "3"],  # calculated
        "stauts": ["OPEN", "OPEN", "OPEN"],  # no such property
    }
)


@pytest.mark.parametrize("api", APIS)
def test_the_pre_check_refuses_the_same_cells_through_every_api(hub, api) -> None:
    hub.clear_log()
    with client_for(hub, api=api) as client, pytest.raises(ht.PayloadError) as refused:
        BAD_SHEET.hubtickets.update(client, dry_run=True)
    assert [r.path for r in hub.requests] == [endpoints(api).properties]  # nothing was sent
    problems = refused.value.problems
    by_column = problems.groupby("column", sort=False)["code"].unique().map(sorted).to_dict()
    assert by_column == {
        "status": ["INVALID_OPTION"],
        "hs_ticket_category": ["INVALID_OPTION", "LEADING_TRAILING_WHITESPACE"],
        "is_escalated": ["INVALID_BOOLEAN"],
        "hubspot_owner_id": ["INVALID_INTEGER", "LEADING_TRAILING_WHITESPACE"],
        "due_date": ["INVALID_DATE", "INVALID_LONG"],
        "closed_date": ["INVALID_LONG"],
        "createdate": ["READ_ONLY_VALUE"],
        "time_to_close": ["READ_ONLY_VALUE"],
        "stauts": ["PROPERTY_DOESNT_EXIST"],
    }
    with client_for(hub) as v1:  # the same problems, word for word, as through v1
        expected = BAD_SHEET.hubtickets.validate(v1)
    pd.testing.assert_frame_equal(problems.reset_index(drop=True), expected.reset_index(drop=True))


@pytest.mark.filterwarnings("ignore:read-only columns of the export:UserWarning")
@pytest.mark.parametrize("api", APIS[1:])
def test_an_export_coerces_alike_through_every_api(hub, api) -> None:
    sheet = pd.read_csv(MESSY, dtype=str, keep_default_na=False, na_values=[""])
    options = {"dayfirst": True, "thousands": ",", "tz": "Europe/Paris"}
    hub.clear_log()
    with client_for(hub, api=api) as client:
        coerced = sheet.hubtickets.coerce(client, **options)
    assert [r.path for r in hub.requests] == [endpoints(api).properties]
    with client_for(hub) as v1:
        expected = sheet.hubtickets.coerce(v1, **options)
    assert set(coerced.columns.dropped.values()) == {"createdate", "num_notes"}  # read-only
    assert coerced.columns == expected.columns
    pd.testing.assert_frame_equal(coerced.frame, expected.frame)
    pd.testing.assert_frame_equal(coerced.changes, expected.changes)
    pd.testing.assert_frame_equal(coerced.problems, expected.problems)
    assert len(coerced.changes) > 1000  # the export needed coercing: the comparison means much


@pytest.mark.parametrize("api", APIS[1:])
def test_current_values_type_alike_with_every_apis_definitions(hub, api) -> None:
    with client_for(hub) as v1:
        tidy = ht.flatten(v1.batch_read([176000, 176001, 176002], history=True))
        expected = tidy.hubtickets.current(typed=True, definitions=v1)
    hub.clear_log()
    with client_for(hub, api=api) as client:
        typed = tidy.hubtickets.current(typed=True, definitions=client)
    assert [r.path for r in hub.requests] == [endpoints(api).properties]
    pd.testing.assert_frame_equal(typed, expected)
    assert isinstance(typed["status"].dtype, pd.CategoricalDtype)  # typed by the definitions


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("as_frame", [pd.DataFrame.from_records, pd.json_normalize])
def test_a_frame_of_any_apis_definitions_reads_like_the_records(hub, api, as_frame) -> None:
    # json_normalize spreads modificationMetadata into "modificationMetadata.readOnlyValue"
    records = read_definitions(hub, api)
    frame = as_frame(records)
    assert _parse(frame) == _parse(records)
    encoded = encode_frame(pd.DataFrame({"objectId": [1], "createdate": ["0"], "subject": ["a"]}))
    assert [(f.column, f.code) for f in check_values(encoded, frame)] == [
        ("createdate", "READ_ONLY_VALUE")
    ]
