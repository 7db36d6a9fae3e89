"""The contract check itself: HubSpot's OpenAPI documents find wrong bodies, pass right ones.

The ``contract`` fixture (tests/conftest.py) runs :func:`specs.check_exchange`
on every versioned request of every test; these tests prove that it finds
what strays, in requests and in answers, and that it passes what the client
builds and what the emulator answers today.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import specs

import pandas_hubtickets as ht  # noqa: F401  (registers df.hubtickets)
from pandas_hubtickets._api import endpoints
from pandas_hubtickets.testing import FakeHubSpot, Faults, RequestRecord, record_bodies
from pandas_hubtickets.testing.api import ApiError, resolve

TESTS = Path(__file__).parent
IDS = (176602, 178218)


def routed(method: str, path: str) -> bool:
    """Whether the emulator serves ``method path`` (versioned endpoints land part by part)."""
    try:
        resolve(method, path)
    except ApiError:
        return False
    return True


def writes_routed(api: str) -> pytest.MarkDecorator:
    path = endpoints(api).tickets + "/batch/update"
    return pytest.mark.skipif(
        not routed("POST", path), reason=f"the emulator does not serve {path} yet"
    )


VERSIONED = [pytest.param(api, marks=writes_routed(api)) for api in specs.VERSIONED_APIS]


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as h:
        for oid in IDS:
            h.create_ticket({"subject": f"ticket {oid}", "status": "OPEN"}, object_id=oid)
        yield h


def exchange(
    hub: FakeHubSpot, method: str, path: str, body: Any = None, **kw: Any
) -> RequestRecord:
    """Send one request over a socket; the emulator's record of it, bodies included."""
    token = kw.pop("token", hub.token)
    with record_bodies() as seen:
        requests.request(
            method,
            hub.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kw,
        )
    (record,) = seen
    return record


def update_body(*inputs: tuple[object, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"inputs": [{"id": i, "properties": p, **extra} for i, p in inputs]}


# --- which documents cover which endpoints ---


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
def test_the_library_endpoints_are_covered_by_the_documents_here(api):
    ends = endpoints(api)
    for prefix in (ends.tickets, ends.properties):
        assert specs.covered("GET", prefix)
        name = specs.COVERED[prefix]
        assert (specs.SPEC_DIR / name).is_file()
        assert specs.load(name).operation("GET", prefix) is not None  # list, or the definitions
    for prefix in (ends.pipelines, ends.owners):
        assert prefix in specs.UNPUBLISHED
        assert not specs.covered("GET", prefix)
    assert not specs.covered("POST", endpoints("v1").tickets + "/batch-update")


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "{tickets}/batch/update", "{tickets}/batch/update"),
        ("POST", "{tickets}/batch/read", "{tickets}/batch/read"),
        ("GET", "{tickets}", "{tickets}"),
        ("GET", "{tickets}/176602", "{tickets}/{{ticketId}}"),
        ("GET", "{properties}", "{objects}/{{objectType}}"),
        ("GET", "{properties}/groups", "{objects}/{{objectType}}/groups"),
        ("GET", "{properties}/subject", "{objects}/{{objectType}}/{{propertyName}}"),
    ],
)
def test_operations_are_found_by_method_and_path(api, method, path, template):
    ends = endpoints(api)
    objects = ends.properties.rsplit("/", 1)[0]
    names = {"tickets": ends.tickets, "properties": ends.properties, "objects": objects}
    op = specs.operation(method, path.format(**names))
    assert op is not None
    assert op.template == template.format(**names)


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
def test_no_operation_for_a_wrong_method_or_an_unknown_path(api):
    tickets = endpoints(api).tickets
    assert specs.operation("PUT", tickets + "/batch/update") is None
    assert specs.operation("GET", tickets + "/batch/updates") is None
    record = RequestRecord(1, "PUT", tickets + "/batch/update", "", 405, None, None, 0, 0, ())
    (problem,) = specs.check_exchange(record)
    assert "has no operation PUT" in problem


# --- requests: the client's bodies hold; wrong ones are found ---


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
def test_the_payload_the_library_builds_holds_to_the_contract(api):
    frame = pd.DataFrame(
        {
            "objectId": [176602, 178218, 178219],
            "status": ["CLOSED", None, "OPEN"],
            "due_date": pd.to_datetime(["2020-01-16", "2021-05-01", None]),
            "hs_ticket_priority": pd.Categorical(["HIGH", "LOW", None]),
            "is_escalated": [True, False, None],
        }
    )
    body = frame.hubtickets.to_payload(api=api)
    assert len(body["inputs"]) == 3
    op = specs.operation("POST", endpoints(api).tickets + "/batch/update")
    assert op is not None
    assert op.check_request(body) == []
    assert op.check_request(json.loads(frame.hubtickets.to_json(api=api))) == []


WRONG_BODIES = {
    "an id as a JSON number": (
        update_body((176602, {"status": "CLOSED"})),
        "inputs/0/id",
        "is not of type 'string'",
    ),
    "a value as a JSON number": (
        update_body(("176602", {"hs_ticket_priority": 3})),
        "inputs/0/properties/hs_ticket_priority",
        "is not of type 'string'",
    ),
    "a misspelt objectWriteTraceId": (
        update_body(("176602", {"status": "CLOSED"}), objectWriteTraceID="0"),
        "inputs/0",
        "'objectWriteTraceID' was unexpected",
    ),
    "a trace id as a number": (
        update_body(("176602", {"status": "CLOSED"}), objectWriteTraceId=0),
        "inputs/0/objectWriteTraceId",
        "is not of type 'string'",
    ),
    "no properties": (
        {"inputs": [{"id": "176602"}]},
        "inputs/0",
        "'properties' is a required property",
    ),
    "v1's body": (
        [{"objectId": 176602, "properties": [{"name": "status", "value": "CLOSED"}]}],
        "(top)",
        "is not of type 'object'",
    ),
    "an unknown top-level key": (
        {**update_body(("176602", {"status": "CLOSED"})), "idProperty": "x"},
        "(top)",
        "'idProperty' was unexpected",
    ),
}


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
@pytest.mark.parametrize("case", list(WRONG_BODIES))
def test_a_wrong_request_body_is_found_where_it_is_wrong(api, case):
    body, where, message = WRONG_BODIES[case]
    op = specs.operation("POST", endpoints(api).tickets + "/batch/update")
    assert op is not None
    problems = op.check_request(body)
    assert any(f"at {where} " in p and message in p for p in problems), problems


@pytest.mark.parametrize("api", specs.VERSIONED_APIS)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offset=100", "query parameter 'offset' is not in the contract"),
        ("limit=ten", "'ten' is not of type 'integer'"),
        ("limit=3000000000", "is greater than the maximum of 2147483647"),
        ("archived=yes", "'yes' is not of type 'boolean'"),
        ("after=5&after=6", "is not of type 'string'"),
    ],
)
def test_a_wrong_query_is_found(api, query, message):
    op = specs.operation("GET", endpoints(api).tickets)
    assert op is not None
    assert op.check_request(None, "limit=100&after=5&properties=a&properties=b") == []
    assert any(message in p for p in op.check_request(None, query))


def test_a_body_where_none_is_taken_and_none_where_one_is_needed():
    tickets = endpoints("2026-03").tickets
    listing = specs.operation("GET", tickets)
    update = specs.operation("POST", tickets + "/batch/update")
    assert listing is not None and update is not None
    assert listing.check_request({"inputs": []}) == ["a body is sent, but the operation takes none"]
    assert update.check_request(None) == ["the JSON body is missing (or is not JSON)"]


# --- answers: the emulator's hold; wrong ones are found ---


@pytest.mark.parametrize("api", VERSIONED)
def test_the_emulators_batch_update_answers_hold_to_the_contract(hub, api):
    path = endpoints(api).tickets + "/batch/update"
    sent = [
        update_body(("176602", {"status": "CLOSED"}), objectWriteTraceId="0"),  # 200
        update_body(("178218", {"status": "OPEN"}), ("999", {"status": "OPEN"})),  # 207
        update_body(("176602", {"hs_ticket_priority": "NOPE"})),  # 400, a bad value
    ]
    records = [exchange(hub, "POST", path, body) for body in sent]
    records.append(exchange(hub, "POST", path, sent[0], token="pat-na1-wrong"))  # 401
    assert [r.status for r in records] == [200, 207, 400, 401]
    assert specs.check_exchanges(records) == []


@pytest.mark.off_contract("an empty body, to record the emulator's 400")
def test_recorded_answers_are_what_was_sent(hub):
    record = exchange(hub, "POST", endpoints("2026-03").tickets + "/batch/update", {})
    assert record.status == 400
    assert record.body == {}
    assert record.answer["category"] == "VALIDATION_ERROR"
    (problem,) = specs.check_exchange(record)
    assert "'inputs' is a required property" in problem
    assert specs.check_exchange(record, request=False) == []  # the answer itself holds


def _answer_200(hub: FakeHubSpot) -> RequestRecord:
    path = endpoints("2026-03").tickets + "/batch/update"
    record = exchange(hub, "POST", path, update_body(("176602", {"status": "CLOSED"})))
    assert record.status == 200
    return record


def _drop_completed_at(answer: dict[str, Any]) -> None:
    del answer["completedAt"]


def _id_as_number(answer: dict[str, Any]) -> None:
    answer["results"][0]["id"] = 176602


def _epoch_ms_updated_at(answer: dict[str, Any]) -> None:
    answer["results"][0]["updatedAt"] = "1700000000000"


def _archived_as_text(answer: dict[str, Any]) -> None:
    answer["results"][0]["archived"] = "false"


def _history_without_source_type(answer: dict[str, Any]) -> None:
    answer["results"][0]["propertiesWithHistory"] = {
        "status": [{"value": "CLOSED", "timestamp": "2026-11-29T01:00:00.000Z"}]
    }


def _unknown_status(answer: dict[str, Any]) -> None:
    answer["status"] = "DONE"


@pytest.mark.parametrize(
    ("spoil", "where", "message"),
    [
        (_drop_completed_at, "(top)", "'completedAt' is a required property"),
        (_id_as_number, "results/0/id", "is not of type 'string'"),
        (_epoch_ms_updated_at, "results/0/updatedAt", "is not a 'date-time'"),
        (_archived_as_text, "results/0/archived", "is not of type 'boolean'"),
        (
            _history_without_source_type,
            "results/0/propertiesWithHistory/status/0",
            "'sourceType' is a required property",
        ),
        (_unknown_status, "status", "is not one of"),
    ],
)
def test_a_wrong_answer_is_found_where_it_is_wrong(hub, spoil, where, message):
    record = _answer_200(hub)
    assert specs.check_exchange(record) == []
    answer = copy.deepcopy(record.answer)
    spoil(answer)
    problems = specs.check_exchange(RequestRecord(**{**record.__dict__, "answer": answer}))
    assert any(f"at {where} " in p and message in p for p in problems), problems


def test_rate_limit_and_gateway_answers_are_not_the_apis(hub):
    path = endpoints("2026-03").tickets + "/batch/update"
    body = update_body(("176602", {"status": "CLOSED"}))
    answers = {}
    for kind in ("429", "502", "503"):
        hub.faults = Faults(**{f"rate_{kind}": 1.0})
        record = exchange(hub, "POST", path, body)
        assert record.status == int(kind)
        answers[kind] = record
    assert all(specs.check_exchange(r) == [] for r in answers.values())
    # the same 429 body as the API's own 400 would be refused: it has no category
    as_400 = RequestRecord(**{**answers["429"].__dict__, "status": 400})
    assert any("'category' is a required property" in p for p in specs.check_exchange(as_400))


def test_documents_using_openapi_only_keywords_are_refused():
    document = json.loads((specs.SPEC_DIR / "tickets-2026-03.openapi.json").read_text())
    document["components"]["schemas"]["SimplePublicObject"]["nullable"] = True
    with pytest.raises(ValueError, match="uses nullable"):
        specs.Spec("changed", document)


# --- the fixture: a test whose hub sees an off-contract request fails ---

INNER_TESTS = """
import pytest
import requests

from pandas_hubtickets.testing import FakeHubSpot

PATH = "/crm/objects/2026-03/tickets/batch/update"


def send(ticket_id):
    with FakeHubSpot() as hub:
        hub.create_ticket({"subject": "x"}, object_id=176602)
        requests.post(
            hub.base_url + PATH,
            json={"inputs": [{"id": ticket_id, "properties": {"subject": "y"}}]},
            headers={"Authorization": f"Bearer {hub.token}"},
            timeout=10,
        )


def test_on_contract():
    send("176602")


def test_off_contract():
    send(176602)


@pytest.mark.off_contract("an id as a JSON number, on purpose")
def test_spared():
    send(176602)
"""


def test_the_contract_fixture_fails_a_test_that_sends_a_wrong_body(tmp_path):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(TESTS / "specs.py", tmp_path / "specs.py")
    shutil.copytree(specs.SPEC_DIR, tmp_path / "data" / "specs")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    report = tmp_path / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes: dict[str, list[str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcomes.setdefault(case.get("name", ""), []).extend(
            (child.tag, child.get("message", ""))
            for child in case  # type: ignore[misc]
        )
    assert outcomes["test_on_contract"] == []
    assert outcomes["test_spared"] == []
    ((tag, message),) = outcomes["test_off_contract"]
    assert tag == "error"  # at teardown, after the test's own assertions
    assert "departures from HubSpot's OpenAPI contract" in message
    assert "inputs/0/id" in message and "is not of type 'string'" in message


def test_a_disagreement_between_the_two_engines_is_reported(monkeypatch):
    spec = specs.load("tickets-2026-03.openapi.json")
    schema = {"$ref": "#/components/schemas/BatchInputSimplePublicObjectBatchInput"}
    body = update_body(("176602", {"status": "CLOSED"}))
    assert spec.errors(schema, body, closed=True, what="body") == []

    def refuses(instance: Any) -> None:
        raise specs.fastjsonschema.JsonSchemaValueException("data must be better")

    monkeypatch.setattr(spec, "_fast", lambda schema, closed: refuses)
    (problem,) = spec.errors(schema, body, closed=True, what="body")
    assert "fastjsonschema refuses it (data must be better), jsonschema does not" in problem
