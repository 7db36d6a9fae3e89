"""FakeHubSpot over real sockets, with requests and http.client (not the project's client)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
import requests

from pandas_hubtickets.testing import FakeHubSpot, Faults, record_bodies

V1 = "/crm-objects/v1/objects/tickets"
DATA = Path(__file__).resolve().parents[1] / "data"
SEED_IDS = (176602, 178218)


class Http:
    """A ``requests`` session that sends the hub's token, with short helpers."""

    def __init__(self, hub: FakeHubSpot, token: str | None = None) -> None:
        self.hub = hub
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or hub.token}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 5)
        return self.session.request(method, self.hub.base_url + path, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kw)

    def update(self, *objects: tuple[int, dict[str, str]], timeout: float = 5) -> requests.Response:
        """A v1 batch update from ``(objectId, {name: value})`` pairs."""
        body = [
            {"objectId": oid, "properties": [{"name": n, "value": v} for n, v in props.items()]}
            for oid, props in objects
        ]
        return self.post(f"{V1}/batch-update", body, timeout=timeout)


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as h:
        yield h


@pytest.fixture
def http(hub: FakeHubSpot) -> Http:
    return Http(hub)


@pytest.fixture
def seeded(hub: FakeHubSpot) -> FakeHubSpot:
    """The seed example's two tickets, both ``status: OPEN``."""
    for oid in SEED_IDS:
        hub.create_ticket({"subject": f"ticket {oid}", "status": "OPEN"}, object_id=oid)
    return hub


def assert_newest_first(prop: dict[str, Any]) -> None:
    stamps = [v["timestamp"] for v in prop["versions"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(set(stamps)) == len(stamps)
    assert prop["value"] == prop["versions"][0]["value"]
    assert prop["timestamp"] == prop["versions"][0]["timestamp"]


# --- the seed example ---


def test_seed_request_round_trips_in_the_seed_response_shape(
    seeded: FakeHubSpot, http: Http
) -> None:
    raw = (DATA / "example-batch-update-request.json").read_bytes()
    expected = json.loads((DATA / "example-batch-update-response.json").read_text())

    r = http.request(
        "POST", f"{V1}/batch-update", data=raw, headers={"Content-Type": "application/json"}
    )

    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    got = r.json()
    assert [o["objectId"] for o in got] == list(SEED_IDS)
    seed_prop = expected[1]["properties"]["status"]
    for obj, want in zip(got, expected, strict=True):
        assert obj.keys() == want.keys()
        assert (obj["objectType"], obj["portalId"], obj["isDeleted"]) == ("TICKET", 62515, False)
        assert set(obj["properties"]) == {"status", "content", "hs_lastmodifieddate"}
        for name, prop in obj["properties"].items():
            assert prop.keys() == seed_prop.keys()
            assert all(v.keys() == seed_prop["versions"][0].keys() for v in prop["versions"])
            assert all(v["name"] == name and v["sourceVid"] == [] for v in prop["versions"])
            assert prop["sourceId"] is None
            assert_newest_first(prop)
        for name in ("status", "content"):
            assert obj["properties"][name]["source"] == "API"
        modified = obj["properties"]["hs_lastmodifieddate"]
        assert modified["source"] == "CALCULATED"
        assert modified["value"] == str(obj["properties"]["status"]["timestamp"])
    assert [v["value"] for v in got[1]["properties"]["status"]["versions"]] == [
        "IN_PROGRESS",
        "OPEN",
    ]
    assert got[0]["properties"]["content"]["value"] == (
        "This is now an updated ticket marked as closed."
    )


def test_writes_get_strictly_increasing_timestamps_and_are_logged(
    seeded: FakeHubSpot, http: Http
) -> None:
    for value in ("IN_PROGRESS", "WAITING", "CLOSED"):
        assert http.update((176602, {"status": value})).status_code == 200

    status = seeded.ticket(176602)["properties"]["status"]
    assert [v["value"] for v in status["versions"]] == ["CLOSED", "WAITING", "IN_PROGRESS", "OPEN"]
    assert_newest_first(status)
    writes = seeded.writes
    assert [(w["objectId"], w["name"], w["value"]) for w in writes] == [
        (176602, "status", "IN_PROGRESS"),
        (176602, "status", "WAITING"),
        (176602, "status", "CLOSED"),
    ]
    assert [w["request"] for w in writes] == [r.seq for r in seeded.requests]
    assert all(w["source"] == "API" for w in writes)


# --- authentication ---


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({}, {}),
        ({"Authorization": "Bearer pat-na1-wrong"}, {}),
        ({"Authorization": "Basic abc"}, {}),
        (None, {"hapikey": "abc"}),
    ],
    ids=["missing", "wrong-token", "not-bearer", "hapikey"],
)
def test_bad_credentials_are_401(
    seeded: FakeHubSpot, headers: dict[str, str] | None, params: dict[str, str]
) -> None:
    url = f"{seeded.base_url}{V1}/batch-update"
    if headers is None:
        headers = {"Authorization": f"Bearer {seeded.token}"}
    body = [{"objectId": 176602, "properties": [{"name": "status", "value": "CLOSED"}]}]
    r = requests.post(url, json=body, headers=headers, params=params, timeout=5)

    assert r.status_code == 401
    assert r.json()["category"] == "INVALID_AUTHENTICATION"
    assert r.json()["status"] == "error" and r.json()["correlationId"]
    assert seeded.writes == []
    assert seeded.ticket(176602)["properties"]["status"]["value"] == "OPEN"


def test_default_token_looks_like_a_private_app_token() -> None:
    assert FakeHubSpot().token.startswith("pat-na1-")
    assert FakeHubSpot().token != FakeHubSpot().token
    assert FakeHubSpot(token="secret").token == "secret"


# --- validation of v1 batch updates ---

BAD_VALUES = [
    ("nope", "x", "PROPERTY_DOESNT_EXIST"),
    ("due_date", "1579179660000", "INVALID_DATE"),
    ("due_date", "2020-01-16", "INVALID_LONG"),
    ("closed_date", "2020-01-16T13:01:00Z", "INVALID_LONG"),
    ("hubspot_owner_id", "12 monkeys", "INVALID_INTEGER"),
    ("time_to_close", "5", "READ_ONLY_VALUE"),
    ("num_notes", "5", "READ_ONLY_VALUE"),
    ("createdate", "1579132800000", "READ_ONLY_VALUE"),
    ("hs_lastmodifieddate", "1579132800000", "READ_ONLY_VALUE"),
    ("status", "Closed", "INVALID_OPTION"),
    ("hs_ticket_category", "BILLING_ISSUE;bogus", "INVALID_OPTION"),
    ("is_escalated", "yes", "INVALID_BOOLEAN"),
    ("subject", "x" * 65_537, "TOO_LONG"),
    ("hs_ticket_priority", " HIGH", "LEADING_TRAILING_WHITESPACE"),
    ("hubspot_owner_id", "5 ", "LEADING_TRAILING_WHITESPACE"),
    ("hubspot_owner_id", "\u200b5", "LEADING_TRAILING_WHITESPACE"),
    ("hs_ticket_category", "BILLING_ISSUE; PRODUCT_ISSUE", "LEADING_TRAILING_WHITESPACE"),
    ("hubspot_owner_id", "1e-7", "INVALID_INTEGER"),
    ("hubspot_owner_id", "+5", "INVALID_INTEGER"),
    ("hubspot_owner_id", "5.", "INVALID_INTEGER"),
    ("hubspot_owner_id", ".5", "INVALID_INTEGER"),
    ("hubspot_owner_id", "\u0661\u0662", "INVALID_INTEGER"),  # Arabic-Indic digits
    ("hubspot_owner_id", "1" * 65_537, "TOO_LONG"),
    ("due_date", "9" * 20, "INVALID_LONG"),
]


@pytest.mark.parametrize(("name", "value", "code"), BAD_VALUES, ids=[c[2] for c in BAD_VALUES])
def test_each_bad_value_fails_a_single_object_batch_with_its_code(
    seeded: FakeHubSpot, http: Http, name: str, value: str, code: str
) -> None:
    r = http.update((176602, {"content": "fine", name: value}))

    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error"
    assert body["message"] == "Property values were not valid"
    assert body["correlationId"] and body["requestId"]
    assert body["validationResults"] == [
        {
            "isValid": False,
            "message": body["validationResults"][0]["message"],
            "error": code,
            "name": name,
        }
    ]
    assert seeded.writes == []
    assert "content" not in seeded.ticket(176602)["properties"]


def test_date_not_at_midnight_message_matches_hubspot(seeded: FakeHubSpot, http: Http) -> None:
    r = http.update((176602, {"due_date": "1579179660000"}))

    assert r.json()["validationResults"][0]["message"] == (
        "1579179660000 is at 13:1:0.0 UTC, not midnight!"
    )


GOOD_VALUES = [
    ("content", ""),
    ("due_date", "1579132800000"),
    ("closed_date", "1579179660123"),
    ("hubspot_owner_id", "-12.5"),
    ("hs_ticket_category", "BILLING_ISSUE;FEATURE_REQUEST"),
    ("hs_pipeline_stage", "any-stage-id"),
    ("is_escalated", "false"),
    ("subject", "  spaces are fine in text  "),
    ("content", "y" * 65_536),
    ("hs_ticket_priority", ""),
    ("hubspot_owner_id", "0.0000001"),
    ("hubspot_owner_id", "-0"),
    ("hubspot_owner_id", "0070"),
    ("hubspot_owner_id", "9" * 400),
    ("due_date", "-86400000"),
    ("closed_date", str(2**63 - 1)),
    ("subject", "\u200b text with invisible edges \ufeff"),
]


@pytest.mark.parametrize(("name", "value"), GOOD_VALUES, ids=[c[0] for c in GOOD_VALUES])
def test_valid_values_are_written(seeded: FakeHubSpot, http: Http, name: str, value: str) -> None:
    r = http.update((176602, {name: value}))

    assert r.status_code == 200, r.text
    assert r.json()[0]["properties"][name]["value"] == value
    assert seeded.ticket(176602)["properties"][name]["value"] == value


def test_one_bad_object_fails_the_whole_batch_and_writes_nothing(
    seeded: FakeHubSpot, http: Http
) -> None:
    before = seeded.tickets
    r = http.update(
        (176602, {"status": "CLOSED"}),
        (178218, {"status": "DONE", "is_escalated": "maybe"}),
    )

    assert r.status_code == 400
    assert [(v["name"], v["error"]) for v in r.json()["validationResults"]] == [
        ("status", "INVALID_OPTION"),
        ("is_escalated", "INVALID_BOOLEAN"),
    ]
    assert all("objectId" not in v for v in r.json()["validationResults"])
    assert seeded.tickets == before
    assert seeded.writes == []


@pytest.mark.parametrize("deleted", [False, True], ids=["unknown", "deleted"])
def test_unknown_or_deleted_object_fails_the_batch(
    seeded: FakeHubSpot, http: Http, deleted: bool
) -> None:
    oid = 178218 if deleted else 999
    if deleted:
        assert http.request("DELETE", f"{V1}/{oid}").status_code == 204
    r = http.update((176602, {"status": "CLOSED"}), (oid, {"status": "CLOSED"}))

    assert r.status_code == 400
    assert [v["error"] for v in r.json()["validationResults"]] == ["OBJECT_NOT_FOUND"]
    assert seeded.writes == []


def test_batch_limit_is_100_objects(hub: FakeHubSpot, http: Http) -> None:
    ids = hub.seed_tickets(101)
    objects = [(oid, {"status": "CLOSED"}) for oid in ids]

    too_many = http.update(*objects)
    assert too_many.status_code == 400
    assert "100" in too_many.json()["message"]
    assert hub.writes == []
    assert http.update(*objects[:100]).status_code == 200
    assert len(hub.writes) == 100


def test_the_same_object_twice_is_rejected(seeded: FakeHubSpot, http: Http) -> None:
    r = http.update((176602, {"status": "CLOSED"}), (176602, {"content": "x"}))

    assert r.status_code == 400
    assert "176602" in r.json()["message"]
    assert seeded.writes == []


MALFORMED = [
    (b"not json", "not-json"),
    (b'[{"objectId": 176602, "properties": [{"name": "num", "value": NaN}]}]', "nan"),
    (b'{"objectId": 176602, "properties": []}', "object-not-list"),
    (b"[]", "empty"),
    (b'[{"objectId": "176602", "properties": []}]', "string-id"),
    (b'[{"objectId": 176602, "properties": [{"name": "subject", "value": 5}]}]', "number-value"),
    (b'[{"objectId": 176602, "properties": {"subject": "x"}}]', "properties-dict"),
    (
        b'[{"objectId": 176602, "properties": [{"name": "subject", "value": "a"},'
        b' {"name": "subject", "value": "b"}]}]',
        "property-twice",
    ),
]


@pytest.mark.parametrize("raw", [m[0] for m in MALFORMED], ids=[m[1] for m in MALFORMED])
def test_malformed_bodies_are_400(seeded: FakeHubSpot, http: Http, raw: bytes) -> None:
    r = http.request("POST", f"{V1}/batch-update", data=raw)

    assert r.status_code == 400
    assert r.json()["status"] == "error" and r.json()["message"]
    assert seeded.writes == []


def test_unknown_route_is_404_and_wrong_method_405_without_auth(hub: FakeHubSpot) -> None:
    assert requests.get(f"{hub.base_url}/nowhere", timeout=5).status_code == 404
    assert requests.get(f"{hub.base_url}{V1}/batch-update", timeout=5).status_code == 405


# --- rate limits ---


def test_ten_secondly_limit_refuses_then_recovers(seeded: FakeHubSpot) -> None:
    with FakeHubSpot(requests_per_10s=3, _window_seconds=0.4) as hub:
        hub.create_ticket({"status": "OPEN"}, object_id=1)
        http = Http(hub)
        remaining = []
        for _ in range(3):
            r = http.update((1, {"status": "CLOSED"}))
            assert r.status_code == 200
            remaining.append(r.headers["X-HubSpot-RateLimit-Remaining"])
        refused = http.update((1, {"status": "WAITING"}))
        time.sleep(0.45)
        recovered = http.update((1, {"status": "WAITING"}))

    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert refused.json()["errorType"] == "RATE_LIMIT"
    assert refused.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert "Retry-After" not in refused.headers
    assert refused.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert refused.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "400"
    assert recovered.status_code == 200
    assert [w["value"] for w in hub.writes] == ["CLOSED"] * 3 + ["WAITING"]
    assert [r.codes for r in hub.requests if r.status == 429] == [("TEN_SECONDLY_ROLLING",)]


def test_refused_requests_do_not_count_against_the_window() -> None:
    with FakeHubSpot(requests_per_10s=1, _window_seconds=0.6) as hub:
        http = Http(hub)
        statuses = [http.get("/properties/v2/tickets/properties").status_code]
        time.sleep(0.35)
        statuses.append(http.get("/properties/v2/tickets/properties").status_code)
        time.sleep(0.35)
        statuses.append(http.get("/properties/v2/tickets/properties").status_code)

    assert statuses == [200, 429, 200]


def test_daily_limit_and_its_headers() -> None:
    with FakeHubSpot(daily_limit=2, retry_after=0.2) as hub:
        http = Http(hub)
        answers = [http.get("/properties/v2/tickets/properties") for _ in range(3)]

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["X-HubSpot-RateLimit-Daily-Remaining"] for r in answers] == ["1", "0", "0"]
    assert answers[0].headers["X-HubSpot-RateLimit-Daily"] == "2"
    assert answers[2].json()["policyName"] == "DAILY"
    assert "daily" in answers[2].json()["message"]
    assert answers[2].headers["Retry-After"] == "1"
    assert "X-HubSpot-RateLimit-Max" not in answers[0].headers


def test_burst_headers_default_to_a_ten_second_interval() -> None:
    with FakeHubSpot(requests_per_10s=100) as hub:
        r = Http(hub).get("/properties/v2/tickets/properties")

    assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert r.headers["X-HubSpot-RateLimit-Remaining"] == "99"
    assert "X-HubSpot-RateLimit-Daily" not in r.headers


# --- fault injection ---


@pytest.mark.parametrize(
    ("faults", "status", "content_type"),
    [
        (Faults(rate_429=1.0), 429, "application/json"),
        (Faults(rate_500=1.0), 500, "application/json"),
        (Faults(rate_502=1.0), 502, "text/html"),
        (Faults(rate_503=1.0), 503, "application/json"),
    ],
    ids=["429", "500", "502", "503"],
)
def test_injected_error_answers_change_nothing(
    faults: Faults, status: int, content_type: str
) -> None:
    with FakeHubSpot(faults=faults) as hub:
        hub.create_ticket({"status": "OPEN"}, object_id=1)
        r = Http(hub).update((1, {"status": "CLOSED"}))

    assert r.status_code == status
    assert r.headers["Content-Type"].startswith(content_type)
    if status == 429:
        assert r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    elif status == 502:
        assert "502 Bad Gateway" in r.text
    else:
        assert r.json()["status"] == "error"
    assert hub.writes == []
    assert hub.ticket(1)["properties"]["status"]["value"] == "OPEN"
    assert [(rec.fault, rec.status) for rec in hub.requests] == [(str(status), status)]


def test_dropped_connection_gets_no_answer_and_changes_nothing() -> None:
    with FakeHubSpot(faults=Faults(drop=1.0)) as hub:
        hub.create_ticket({"status": "OPEN"}, object_id=1)
        with pytest.raises(requests.ConnectionError):
            Http(hub).update((1, {"status": "CLOSED"}))
        records = hub.requests

    assert [(r.fault, r.status, r.objects) for r in records] == [("drop", None, 1)]
    assert hub.writes == []


def test_stalled_request_times_out_the_client_and_is_then_applied() -> None:
    with FakeHubSpot(faults=Faults(stall=1.0, stall_seconds=0.3)) as hub:
        hub.create_ticket({"status": "OPEN"}, object_id=1)
        with pytest.raises(requests.ReadTimeout):
            Http(hub).update((1, {"status": "CLOSED"}), timeout=0.1)
        deadline = time.monotonic() + 2
        while not hub.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        record = hub.requests[0]

    assert (record.fault, record.status) == ("stall", 200)
    assert record.elapsed >= 0.3
    assert [w["value"] for w in hub.writes] == ["CLOSED"]


def test_fault_draws_are_reproducible_for_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with FakeHubSpot(seed=seed, faults=Faults(rate_500=0.3, rate_503=0.2)) as hub:
            http = Http(hub)
            return [http.get("/properties/v2/tickets/properties").status_code for _ in range(30)]

    first = statuses(7)
    assert first == statuses(7)
    assert first != statuses(8)
    assert {200, 500, 503} == set(first)


@pytest.mark.parametrize(
    "kwargs",
    [{"rate_429": -0.1}, {"drop": 1.5}, {"rate_500": 0.6, "rate_502": 0.6}, {"stall_seconds": -1}],
)
def test_faults_reject_impossible_rates(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Faults(**kwargs)


# --- reads ---


def test_batch_read_with_and_without_history(seeded: FakeHubSpot, http: Http) -> None:
    http.update((176602, {"status": "IN_PROGRESS"}))
    http.update((176602, {"status": "CLOSED"}))

    r = http.post(
        f"{V1}/batch-read",
        {"ids": [176602, 178218, 999]},
        params={"propertiesWithHistory": "status", "properties": ["subject", "nope"]},
    )

    assert r.status_code == 200
    found = r.json()
    assert set(found) == {"176602", "178218"}
    status = found["176602"]["properties"]["status"]
    assert [v["value"] for v in status["versions"]] == ["CLOSED", "IN_PROGRESS", "OPEN"]
    assert_newest_first(status)
    assert set(found["176602"]["properties"]) == {"status", "subject"}
    assert len(found["176602"]["properties"]["subject"]["versions"]) == 1
    assert len(found["178218"]["properties"]["status"]["versions"]) == 1


def test_batch_read_without_properties_gives_current_values_of_all(
    seeded: FakeHubSpot, http: Http
) -> None:
    http.update((176602, {"status": "CLOSED"}))

    obj = http.post(f"{V1}/batch-read", {"ids": [176602]}).json()["176602"]

    assert {"status", "subject", "createdate", "hs_lastmodifieddate"} <= set(obj["properties"])
    assert all(len(p["versions"]) == 1 for p in obj["properties"].values())
    assert obj["properties"]["status"]["value"] == "CLOSED"


def test_many_names_are_read_and_an_overlong_target_is_414(seeded: FakeHubSpot, http: Http) -> None:
    http.update((176602, {"status": "CLOSED"}))
    many = [f"custom_property_{i:04d}" for i in range(160)] + ["status"]  # about 7,100 chars

    r = http.post(f"{V1}/batch-read", {"ids": [176602]}, params={"propertiesWithHistory": many})
    too_long = http.post(
        f"{V1}/batch-read", {"ids": [176602]}, params={"propertiesWithHistory": many * 2}
    )

    assert r.status_code == 200
    assert set(r.json()["176602"]["properties"]) == {"status"}  # unknown names are ignored
    assert len(r.json()["176602"]["properties"]["status"]["versions"]) == 2
    assert too_long.status_code == 414
    assert "8192" in too_long.json()["message"]
    assert seeded.requests[-1].codes == ("URI_TOO_LONG",)


def test_paged_visits_every_live_ticket_once(hub: FakeHubSpot, http: Http) -> None:
    ids = hub.seed_tickets(250)
    http.request("DELETE", f"{V1}/{ids[10]}")
    seen: list[int] = []
    offset, pages, more = 0, 0, True
    while more:
        page = http.get(f"{V1}/paged", params={"offset": offset, "properties": "subject"}).json()
        assert len(page["objects"]) <= 100
        seen += [o["objectId"] for o in page["objects"]]
        assert all(set(o["properties"]) == {"subject"} for o in page["objects"])
        offset, more, pages = page["offset"], page["hasMore"], pages + 1

    assert sorted(seen) == sorted(set(ids) - {ids[10]})
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_get_one_and_deleted_tickets(seeded: FakeHubSpot, http: Http) -> None:
    assert http.get(f"{V1}/176602").json()["objectId"] == 176602
    missing = http.get(f"{V1}/999")
    assert missing.status_code == 404
    assert missing.json()["status"] == "error"

    assert http.post(f"{V1}/batch-delete", {"ids": [176602, 999]}).status_code == 204
    assert http.get(f"{V1}/176602").status_code == 404
    kept = http.get(f"{V1}/176602", params={"includeDeletes": "true"})
    assert kept.status_code == 200 and kept.json()["isDeleted"] is True
    assert http.request("DELETE", f"{V1}/176602").status_code == 404


# --- creates and single updates ---


def test_create_requires_subject_and_stage_and_fills_calculated(
    hub: FakeHubSpot, http: Http
) -> None:
    refused = http.post(f"{V1}/", [{"name": "status", "value": "OPEN"}])
    assert refused.status_code == 400
    assert {v["name"] for v in refused.json()["validationResults"]} == {
        "subject",
        "hs_pipeline_stage",
    }

    fields = [{"name": "subject", "value": "New"}, {"name": "hs_pipeline_stage", "value": "1"}]
    created = http.post(f"{V1}", fields)
    assert created.status_code == 200
    props = created.json()["properties"]
    assert props["hs_pipeline"]["value"] == "0"
    assert props["createdate"]["value"] == props["hs_lastmodifieddate"]["value"]
    oid = created.json()["objectId"]
    assert [(w["objectId"], w["name"]) for w in hub.writes] == [
        (oid, "subject"),
        (oid, "hs_pipeline_stage"),
    ]


def test_batch_create_is_atomic(hub: FakeHubSpot, http: Http) -> None:
    good = [{"name": "subject", "value": "A"}, {"name": "hs_pipeline_stage", "value": "1"}]
    bad = [*good, {"name": "status", "value": "??"}]

    assert http.post(f"{V1}/batch-create", [good, bad]).status_code == 400
    assert hub.tickets == {}
    made = http.post(f"{V1}/batch-create", [good, good])
    assert made.status_code == 200
    assert len(made.json()) == 2 and len(hub.tickets) == 2


def test_put_updates_one_ticket(seeded: FakeHubSpot, http: Http) -> None:
    r = http.request("PUT", f"{V1}/176602", json=[{"name": "status", "value": "CLOSED"}])
    assert r.status_code == 200
    assert [v["value"] for v in r.json()["properties"]["status"]["versions"]] == ["CLOSED", "OPEN"]
    bad = http.request("PUT", f"{V1}/176602", json=[{"name": "status", "value": "closed"}])
    assert bad.status_code == 400
    assert seeded.ticket(176602)["properties"]["status"]["value"] == "CLOSED"


# --- property definitions ---


def test_property_definitions_in_v2_shape(http: Http) -> None:
    r = http.get("/properties/v2/tickets/properties")

    assert r.status_code == 200
    defs = {d["name"]: d for d in r.json()}
    assert {
        "subject", "content", "status", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority",
        "hs_ticket_category", "source_type", "hubspot_owner_id", "time_to_close", "closed_date",
        "due_date", "is_escalated", "num_notes", "createdate", "hs_lastmodifieddate",
    } <= set(defs)  # fmt: skip
    for d in defs.values():
        assert {"label", "type", "fieldType", "groupName", "readOnlyValue", "calculated",
                "options", "externalOptions"} <= set(d)  # fmt: skip
        assert d["type"] in {"string", "number", "date", "datetime", "enumeration", "bool"}
    assert [o["value"] for o in defs["status"]["options"]] == [
        "OPEN", "IN_PROGRESS", "WAITING", "CLOSED"
    ]  # fmt: skip
    assert defs["hs_pipeline_stage"]["externalOptions"] is True
    assert defs["hs_pipeline_stage"]["options"] == []
    assert defs["hs_ticket_category"]["fieldType"] == "checkbox"
    assert defs["time_to_close"]["readOnlyValue"] and defs["time_to_close"]["calculated"]
    assert defs["hs_lastmodifieddate"]["calculated"] and defs["createdate"]["readOnlyValue"]
    assert not defs["subject"]["readOnlyValue"]
    assert set(defs["status"]["options"][0]) >= {"label", "value", "hidden", "displayOrder"}


# --- Python-side helpers ---


def test_seed_tickets_is_deterministic_and_valid() -> None:
    a, b = FakeHubSpot(seed=3), FakeHubSpot(seed=3)
    ids = a.seed_tickets(20, start_id=500)
    assert b.seed_tickets(20, start_id=500) == ids == list(range(500, 520))
    assert a.tickets == b.tickets
    other = FakeHubSpot(seed=4)
    other.seed_tickets(20, start_id=500)
    assert other.tickets != a.tickets
    for t in a.tickets.values():
        props = t["properties"]
        assert {"subject", "content", "status", "hs_pipeline", "hs_pipeline_stage"} <= set(props)
        assert all(len(p["versions"]) == 1 for p in props.values())
        assert props["status"]["source"] == "CRM_UI"
    more = a.seed_tickets(2)
    assert more[1] == more[0] + 1 and more[0] > max(ids)
    with pytest.raises(ValueError, match="already exist"):
        a.seed_tickets(1, start_id=519)


def test_seeded_data_passes_hubspot_validation(hub: FakeHubSpot, http: Http) -> None:
    hub.seed_tickets(50)
    read_only = {"createdate", "hs_lastmodifieddate"}
    objects = [
        (t["objectId"], {n: p["value"] for n, p in t["properties"].items() if n not in read_only})
        for t in hub.tickets.values()
    ]

    r = http.update(*objects)

    assert r.status_code == 200, r.text


def test_create_ticket_checks_values_and_ids(hub: FakeHubSpot) -> None:
    oid = hub.create_ticket({"status": "OPEN", "num_notes": "3"})
    assert hub.ticket(oid)["properties"]["num_notes"]["value"] == "3"
    with pytest.raises(ValueError, match="INVALID_OPTION"):
        hub.create_ticket({"status": "open"})
    with pytest.raises(ValueError, match="already exists"):
        hub.create_ticket({}, object_id=oid)
    with pytest.raises(KeyError):
        hub.ticket(12345)


def test_clear_log_keeps_tickets(seeded: FakeHubSpot, http: Http) -> None:
    http.update((176602, {"status": "CLOSED"}))
    seeded.clear_log()

    assert seeded.writes == [] and seeded.requests == []
    assert seeded.ticket(176602)["properties"]["status"]["value"] == "CLOSED"


# --- the server itself ---


def test_latency_is_slept_outside_the_lock() -> None:
    with FakeHubSpot(latency=0.25) as hub:
        ids = hub.seed_tickets(4)
        codes: list[int] = []

        def one(oid: int) -> None:
            codes.append(Http(hub).update((oid, {"status": "CLOSED"})).status_code)

        threads = [threading.Thread(target=one, args=(oid,)) for oid in ids]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start

    assert codes == [200] * 4
    assert 0.25 <= elapsed < 0.75
    assert len(hub.writes) == 4


def test_keep_alive_serves_several_requests_on_one_connection(
    seeded: FakeHubSpot,
) -> None:
    host, port = seeded.base_url.removeprefix("http://").split(":")
    conn = HTTPConnection(host, int(port), timeout=5)
    auth = {"Authorization": f"Bearer {seeded.token}", "Content-Type": "application/json"}
    bodies, sockets = [], []
    for _ in range(3):
        conn.request("POST", f"{V1}/batch-read", body=b'{"ids": [176602]}', headers=auth)
        answer = conn.getresponse()
        payload = answer.read()
        assert int(answer.headers["Content-Length"]) == len(payload)
        bodies.append(json.loads(payload))
        sockets.append(conn.sock)
    conn.close()

    assert sockets[0] is not None and sockets.count(sockets[0]) == 3
    assert all(set(b) == {"176602"} for b in bodies)


def test_stop_closes_idle_keep_alive_connections() -> None:
    hub = FakeHubSpot().start()
    host, port = hub.base_url.removeprefix("http://").split(":")
    conn = HTTPConnection(host, int(port), timeout=2)
    auth = {"Authorization": f"Bearer {hub.token}"}
    conn.request("GET", "/properties/v2/tickets/properties", headers=auth)
    assert conn.getresponse().read()
    hub.stop()

    with pytest.raises(OSError):  # not served by a leftover handler thread
        conn.request("GET", "/properties/v2/tickets/properties", headers=auth)
        conn.getresponse()
    conn.close()
    with pytest.raises(RuntimeError):
        _ = hub.base_url


def test_serve_forever_returns_after_stop() -> None:
    hub = FakeHubSpot()
    runner = threading.Thread(target=hub.serve_forever)
    runner.start()
    deadline = time.monotonic() + 5
    while hub._server is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert Http(hub).get("/properties/v2/tickets/properties").status_code == 200
    hub.stop()
    runner.join(timeout=5)

    assert not runner.is_alive()


# --- the date-versioned API ---

V2026 = "/crm/objects/2026-03/tickets/batch/update"
#: The batch update of the date-versioned API and of v3: the same handler, the same shapes.
VERSIONED_UPDATES = [V2026, "/crm/v3/objects/tickets/batch/update"]


@pytest.mark.parametrize("path", VERSIONED_UPDATES)
def test_date_versioned_batch_update(seeded: FakeHubSpot, http: Http, path: str) -> None:
    r = http.post(
        path,
        {
            "inputs": [
                {"id": "176602", "properties": {"status": "CLOSED"}, "objectWriteTraceId": "row-0"},
                {"id": "178218", "properties": {"due_date": "1579132800000"}},
            ]
        },
    )

    assert r.status_code == 200
    body = r.json()
    assert {"completedAt", "results", "startedAt", "status"} <= set(body)
    assert body["status"] == "COMPLETE"
    first, second = body["results"]
    assert all(
        {"archived", "createdAt", "id", "properties", "updatedAt"} <= set(o)
        for o in (first, second)
    )
    assert first["id"] == "176602" and first["objectWriteTraceId"] == "row-0"
    assert first["properties"]["status"] == "CLOSED"
    assert second["properties"]["due_date"] == "2020-01-16"
    assert first["updatedAt"].endswith("Z") and first["archived"] is False
    assert len(seeded.writes) == 2


@pytest.mark.parametrize("path", VERSIONED_UPDATES)
def test_date_versioned_batch_update_errors(seeded: FakeHubSpot, http: Http, path: str) -> None:
    bad = http.post(path, {"inputs": [{"id": "176602", "properties": {"status": "x"}}]})
    assert bad.status_code == 400
    assert {"category", "correlationId", "message"} <= set(bad.json())
    assert bad.json()["category"] == "VALIDATION_ERROR"
    assert bad.json()["errors"][0]["code"] == "INVALID_OPTION"

    partial = http.post(
        path,
        {
            "inputs": [
                {"id": "176602", "properties": {"status": "CLOSED"}},
                {"id": "999", "properties": {"status": "CLOSED"}},
            ]
        },
    )
    assert partial.status_code == 207
    assert {"completedAt", "results", "startedAt", "status"} <= set(partial.json())
    error = partial.json()["errors"][0]
    assert {"category", "context", "errors", "links", "message", "status"} <= set(error)
    assert partial.json()["numErrors"] == 1
    assert partial.json()["errors"][0]["context"]["ids"] == ["999"]
    assert [r["id"] for r in partial.json()["results"]] == ["176602"]
    assert [w["objectId"] for w in seeded.writes] == [176602]


# --- bodies: kept only when asked for ---


def test_bodies_are_kept_only_when_asked_for(seeded: FakeHubSpot, http: Http) -> None:
    body = {"inputs": [{"id": "176602", "properties": {"status": "CLOSED"}}]}
    http.post(V2026, body)
    assert (seeded.requests[-1].body, seeded.requests[-1].answer) == (None, None)

    with FakeHubSpot(record_bodies=True, faults=Faults(rate_502=0.5), seed=3) as keeping:
        keeper = Http(keeping)
        answers = [keeper.post(f"{V1}/batch-read", {"ids": [176602]}) for _ in range(6)]
    records = keeping.requests
    assert [r.body for r in records] == [{"ids": [176602]}] * 6
    assert {r.status for r in records} == {200, 502}  # the seed draws both
    for record, answer in zip(records, answers, strict=True):
        expected = answer.json() if record.status == 200 else answer.text
        assert record.answer == expected  # parsed back from the bytes sent; HTML as text


def test_record_bodies_collects_the_selected_requests_of_every_hub(
    seeded: FakeHubSpot, http: Http
) -> None:
    def versioned(method: str, path: str) -> bool:
        return path.startswith("/crm/objects/")

    body = {"inputs": [{"id": "176602", "properties": {"status": "CLOSED"}}]}
    with record_bodies(versioned) as seen, record_bodies() as everything:
        http.update((176602, {"status": "OPEN"}))
        http.post(V2026, body)
    http.post(V2026, body)  # after the block: not collected
    assert [(r.path, r.body, r.answer["status"]) for r in seen] == [(V2026, body, "COMPLETE")]
    assert [r.path for r in everything] == [f"{V1}/batch-update", V2026]
    assert all(r.body is None for r in seeded.requests)  # the hub's own log keeps none


def _by_ref(ref: str, **props: str) -> dict[str, Any]:
    return {"id": ref, "idProperty": "external_ticket_ref", "properties": props}


@pytest.mark.parametrize("path", VERSIONED_UPDATES)
def test_an_id_property_finds_tickets_by_their_unique_value(
    seeded: FakeHubSpot, http: Http, path: str
) -> None:
    assert http.update((176602, {"external_ticket_ref": "EXT-1"})).status_code == 200
    r = http.post(
        path,
        {
            "inputs": [
                {**_by_ref("EXT-1", status="CLOSED"), "objectWriteTraceId": "4"},
                _by_ref("EXT-404", status="CLOSED"),
            ]
        },
    )
    assert r.status_code == 207
    (result,) = r.json()["results"]
    assert result["id"] == "176602" and result["objectWriteTraceId"] == "4"
    assert r.json()["errors"][0]["context"]["ids"] == ["EXT-404"]  # as they were sent
    assert seeded.ticket(176602)["properties"]["status"]["value"] == "CLOSED"


@pytest.mark.off_contract("bad inputs on purpose: the emulator must refuse them")
@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ([{"id": "a", "idProperty": "subject", "properties": {}}], "unique values"),
        ([{"id": "EXT-1", "properties": {}}], "must be a ticket id"),
        ([{"id": 176602, "properties": {}}], "string id"),
        ([{"id": "176602", "properties": {}, "objectWriteTraceId": 3}], "objectWriteTraceId"),
        ([{"id": "176602", "properties": {}}] * 2, "Duplicate IDs"),
    ],
)
def test_bad_versioned_inputs_fail_the_whole_call(
    seeded: FakeHubSpot, http: Http, inputs: list[Any], said: str
) -> None:
    r = http.post(V2026, {"inputs": inputs})
    assert r.status_code == 400 and said in r.json()["message"]
    assert r.json()["category"] == "VALIDATION_ERROR"
    assert seeded.writes == []


def test_a_unique_value_another_ticket_holds_is_refused(seeded: FakeHubSpot, http: Http) -> None:
    assert http.update((176602, {"external_ticket_ref": "EXT-1"})).status_code == 200
    seeded.clear_log()
    r = http.post(
        V2026, {"inputs": [{"id": "178218", "properties": {"external_ticket_ref": "EXT-1"}}]}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "DUPLICATE_UNIQUE_VALUE"
    both = [{"id": i, "properties": {"external_ticket_ref": "EXT-2"}} for i in ("176602", "178218")]
    assert http.post(V2026, {"inputs": both}).status_code == 400  # nor two inputs one value
    assert seeded.writes == []


def test_admin_validation_rules_refuse_versioned_writes_only(
    seeded: FakeHubSpot, http: Http
) -> None:
    seeded.add_validation_rule("subject", r"[A-Z].*", "Subject must start with a capital letter")
    r = http.post(V2026, {"inputs": [{"id": "176602", "properties": {"subject": "lower"}}]})
    assert r.status_code == 400
    (detail,) = r.json()["errors"]
    assert detail == {
        "message": "Subject must start with a capital letter",
        "code": "VALIDATION_ERROR",
        "context": {"propertyName": ["subject"]},
    }
    ok = http.post(V2026, {"inputs": [{"id": "176602", "properties": {"subject": "Upper"}}]})
    assert ok.status_code == 200
    assert http.update((176602, {"subject": "lower"})).status_code == 200  # v1: not checked
