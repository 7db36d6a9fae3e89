"""The emulator's cheap paths say what the plain ones say, byte for byte.

Request bodies are parsed by orjson where it reads them as ``json.loads``
does, answers written by orjson where it writes ``json.dumps``' bytes, each
distinct value of a request checked once, ISO 8601 moments formatted by
arithmetic, versioned writes found by id without an index. Every test runs
with orjson (when installed) and with it hidden, as users without it run.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pandas_hubtickets import _json
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing import emulator as emulator_module
from pandas_hubtickets.testing.api import Verdicts, _problems, _repeated
from pandas_hubtickets.testing.emulator import _json_bytes, _parse_json
from pandas_hubtickets.testing.schema import PROPERTIES, check_write
from pandas_hubtickets.testing.shapes import iso_ms

V1 = "/crm-objects/v1/objects/tickets"
V3 = "/crm/objects/2026-03/tickets"
CHECKED = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ODD_TEXTS = ["\x7f", "é", "\u2028", "\ud800", "\udfff", "\x00\x1f\n", '"\\/', "😀", ""]
"""Texts json.dumps escapes and orjson does not (DEL, non-ASCII), or refuses (lone surrogates)."""

texts = st.one_of(st.text(st.characters(exclude_categories=())), st.sampled_from(ODD_TEXTS))
integers = st.one_of(
    st.integers(-(2**63), 2**64 - 1), st.integers(), st.sampled_from([2**64, -(2**63) - 1])
)
answers = st.recursive(
    st.one_of(st.none(), st.booleans(), integers, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)
"""What answers are made of: every number an integer (see ``_json_bytes``)."""

requests_sent = st.recursive(
    st.one_of(st.none(), st.booleans(), integers, texts, st.floats()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)
"""What clients send: floats too, NaN and infinity among them."""


@pytest.fixture(params=["orjson", "json"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``orjson``: as installed (skipped without it); ``json``: orjson hidden."""
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(_json, "orjson", None)
    return str(request.param)


# --- answers: json.dumps' bytes ---


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@CHECKED
@given(answers)
@example({"status": "\x7f"})
@example(["é", 2**64])
@example({"\ud800": None})
def test_answers_are_written_as_json_dumps_writes_them(parser: str, body: Any) -> None:
    assert _json_bytes(body) == _dumps(body)


def test_ascii_answers_skip_json_dumps_when_orjson_is_installed(
    parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[Any] = []

    def spy(body: Any, **kw: Any) -> str:
        called.append(body)
        return json.JSONEncoder(**kw).encode(body)

    monkeypatch.setattr(emulator_module.json, "dumps", spy)
    plain = [{"objectId": 1, "properties": {"status": {"value": "OPEN", "sourceId": None}}}]
    assert (
        _json_bytes(plain)
        == b'[{"objectId":1,"properties":{"status":{"value":"OPEN","sourceId":null}}}]'
    )
    assert called == ([] if parser == "orjson" else [plain])
    called.clear()
    assert _json_bytes({"subject": "Café\x7f"}) == b'{"subject":"Caf\\u00e9\\u007f"}'
    assert called == [{"subject": "Café\x7f"}]  # non-ASCII or DEL: json.dumps writes it


# --- request bodies: what json.loads reads, NaN and Infinity refused ---


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(raw: bytes) -> tuple[str | None, str | None]:
    """The plain parse: the repr of json.loads' result (ints and floats apart), or its error."""
    try:
        return repr(json.loads(raw, parse_constant=_refuse)), None
    except ValueError as error:  # UnicodeDecodeError included
        return None, str(error)


def _parsed(raw: bytes) -> tuple[str | None, str | None]:
    body, error = _parse_json(raw)
    return (None, error) if error is not None else (repr(body), None)


@CHECKED
@given(requests_sent, st.booleans(), st.integers(0, 40), st.sampled_from([b"", b"\xef\xbb\xbf"]))
@example({"objectId": 18446744073709551616}, True, 0, b"")
@example([{"value": 1e400}], True, 0, b"")
@example({"x": "\ud800"}, False, 0, b"")
def test_request_bodies_are_read_as_json_loads_reads_them(
    parser: str, sent: Any, ascii_only: bool, cut: int, prefix: bytes
) -> None:
    text = prefix + json.dumps(sent, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    for raw in (text, text[: len(text) - cut], text.replace(b"Infinity", b"1e400")):
        if raw:
            assert _parsed(raw) == _loads(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"[1, 2",
        b"\xff\xfe{}",
        b'{"a": "\xed\xa0\x80"}',
        b'{"a": 1, "a": 2}',
        b"-0",
        b"NaN",
        b" {} ",
    ],
)
def test_odd_request_bodies_are_read_or_refused_as_json_loads_does(parser: str, raw: bytes) -> None:
    assert _parsed(raw) == _loads(raw)


# --- checks: each distinct (name, value) once, one problem per cell ---

names = st.sampled_from([*PROPERTIES, "nope"])
values = st.one_of(
    st.sampled_from(["OPEN", "open", "", " 1", "1.5", "1e5", "true", "86400000", "1", "\u200b"]),
    st.text(max_size=5),
)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.tuples(names, values), max_size=5), max_size=4))
def test_checks_kept_for_a_request_give_every_cell_its_own_verdict(
    objects: list[list[tuple[str, str]]],
) -> None:
    verdicts: Verdicts = {}
    for pairs in objects:
        expected = [p for name, value in pairs if (p := check_write(name, value)) is not None]
        assert _problems(pairs, verdicts) == expected


def test_repeated_items_are_named_once_in_order_of_first_appearance() -> None:
    assert _repeated([3, 1, 3, 2, 1, 3]) == [3, 1]
    assert _repeated(iter(["a", "b"])) == []


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as h:
        yield h


def _post(hub: FakeHubSpot, path: str, body: Any) -> requests.Response:
    return requests.post(
        hub.base_url + path,
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_value_refused_in_many_objects_is_named_once_per_object(
    parser: str, hub: FakeHubSpot
) -> None:
    ids = hub.seed_tickets(100)
    cells = [
        [
            ("status", "open"),
            ("hs_ticket_priority", "HIGH"),
            ("is_escalated", "yes" if i % 3 else "true"),
        ]
        for i in range(100)
    ]
    body = [
        {"objectId": oid, "properties": [{"name": n, "value": v} for n, v in pairs]}
        for oid, pairs in zip(ids, cells, strict=True)
    ]

    r = _post(hub, f"{V1}/batch-update", body)

    expected = [p.to_json() for pairs in cells for n, v in pairs if (p := check_write(n, v))]
    assert r.status_code == 400
    assert r.json()["validationResults"] == expected
    assert len(expected) == 100 + 66
    assert hub.writes == []


def test_stored_versions_are_left_alone_by_the_garbage_collector(hub: FakeHubSpot) -> None:
    ids = hub.seed_tickets(2)
    _post(
        hub,
        f"{V1}/batch-update",
        [{"objectId": ids[0], "properties": [{"name": "status", "value": "CLOSED"}]}],
    )
    versions = [v for t in hub._store.tickets.values() for vs in t.history.values() for v in vs]
    gc.collect()
    assert len(versions) > 20
    assert not any(gc.is_tracked(v) for v in versions)


# --- whole answers over HTTP: exactly json.dumps' bytes ---


def test_every_answer_is_json_dumps_of_itself(parser: str, hub: FakeHubSpot) -> None:
    """Non-ASCII and DEL values, refusals, partial failures, reads with history; v1, versioned."""
    ids = hub.seed_tickets(30)
    hub.generate_history(10)
    odd = ["Café", "naïve\x7f", "\u2028 line", "emoji 😀", "plain", '"quoted" \\ /']
    update = [
        {"objectId": oid, "properties": [{"name": "subject", "value": odd[i % len(odd)]}]}
        for i, oid in enumerate(ids)
    ]
    versioned = {
        "inputs": [
            {"id": str(oid), "properties": {"content": odd[i % len(odd)], "status": "CLOSED"}}
            for i, oid in enumerate(ids[:20])
        ]
        + [{"id": k, "properties": {"status": "OPEN"}} for k in ("0" + str(ids[0]), "99999999")]
    }
    calls: list[tuple[str, Any]] = [
        (f"{V1}/batch-update", update),
        (
            f"{V1}/batch-update",
            [{"objectId": ids[0], "properties": [{"name": "due_date", "value": "1"}]}],
        ),
        (f"{V1}/batch-read?propertiesWithHistory=subject&properties=status", {"ids": ids}),
        (f"{V3}/batch/update", versioned),
        (f"{V3}/batch/update", {"inputs": [{"id": str(ids[0]), "properties": {"status": "é"}}]}),
        (
            f"{V3}/batch/read",
            {
                "inputs": [{"id": str(i)} for i in ids],
                "properties": ["subject"],
                "propertiesWithHistory": [],
            },
        ),
        (
            f"{V3}/batch/read",
            {
                "inputs": [{"id": str(i)} for i in range(100_001, 100_041)],
                "properties": [],
                "propertiesWithHistory": ["content", "subject", "hs_pipeline_stage"],
            },
        ),
        (f"{V1}/batch-update", {"not": "a list"}),
    ]
    answers = [_post(hub, path, body) for path, body in calls]
    assert [r.status_code for r in answers] == [200, 400, 200, 207, 400, 200, 207, 400]
    for (path, _), r in zip(calls, answers, strict=True):
        assert r.content == _dumps(json.loads(r.content)), path


# --- versioned writes: ids as HubSpot writes them ---


@pytest.mark.parametrize("id_property", [None, "hs_object_id"])
def test_a_versioned_write_finds_tickets_by_their_id_as_written(
    hub: FakeHubSpot, id_property: str | None
) -> None:
    first = hub.seed_tickets(3)[0]
    odd = [f"0{first}", f"+{first}", f"{first}_0", f" {first}", "١٢", "x", "-1"]
    keys = [str(first), *odd, str(first + 1)]
    extra = {} if id_property is None else {"idProperty": id_property}
    inputs = [{"id": k, "properties": {"status": "CLOSED"}, **extra} for k in keys]

    r = _post(hub, f"{V3}/batch/update", {"inputs": inputs})

    if id_property is None:  # only digits are ids
        assert r.status_code == 400
        assert r.json()["message"] == f'inputs[2].id must be a ticket id, not "+{first}"'
        inputs = [i for i in inputs if re.fullmatch(r"\d+", i["id"])]
        r = _post(hub, f"{V3}/batch/update", {"inputs": inputs})
        odd = [f"0{first}", "١٢"]  # digits, but not as HubSpot writes an id
    assert r.status_code == 207
    assert [t["id"] for t in r.json()["results"]] == [str(first), str(first + 1)]
    assert r.json()["errors"][0]["context"]["ids"] == odd
    assert {(w["objectId"], w["value"]) for w in hub.writes} == {
        (first, "CLOSED"),
        (first + 1, "CLOSED"),
    }


# --- ISO 8601 moments ---


def _iso_reference(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


YEAR_1_MS = -62_135_596_800_000
YEAR_10000_MS = 253_402_300_800_000


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(YEAR_1_MS, YEAR_10000_MS - 1))
@example(YEAR_1_MS)
@example(YEAR_10000_MS - 1)
@example(-1)
@example(0)
@example(-30_610_224_000_001)  # 999-12-31T23:59:59.999
def test_moments_are_formatted_as_datetime_formats_them(epoch_ms: int) -> None:
    assert iso_ms(epoch_ms) == _iso_reference(epoch_ms)
    assert iso_ms(epoch_ms) == _iso_reference(epoch_ms)  # kept: the same text again


@pytest.mark.parametrize("epoch_ms", [YEAR_1_MS - 1, YEAR_10000_MS, 2**63 - 1, -(2**63)])
def test_moments_outside_years_1_to_9999_fail_as_datetime_fails(epoch_ms: int) -> None:
    with pytest.raises((ValueError, OverflowError)):
        _iso_reference(epoch_ms)
    with pytest.raises((ValueError, OverflowError)):
        iso_ms(epoch_ms)


def test_moments_are_exact_at_every_millisecond_of_a_second() -> None:
    start = 1_700_000_000_000
    for epoch_ms in range(start - 1000, start + 1000):
        assert iso_ms(epoch_ms) == _iso_reference(epoch_ms)


# --- v1 ticket objects, property writes and repeated names, built with fewer objects ---


def test_v1_versions_name_their_source_id_only_when_they_have_one(
    parser: str, hub: FakeHubSpot
) -> None:
    """Over HTTP, a batch update's answer and a read with history: keys in HubSpot's order."""
    hub.seed_history(
        [
            {"objectId": 501, "name": "status", "value": "OPEN", "timestamp": 1_700_000_000_000},
            {
                "objectId": 501,
                "name": "status",
                "value": "WAITING",
                "timestamp": 1_700_000_100_000,
                "source": "AUTOMATION",
                "sourceId": "workflow:1041",
            },
        ]
    )
    update = [{"objectId": 501, "properties": [{"name": "status", "value": "CLOSED"}]}]

    answer = _post(hub, f"{V1}/batch-update", update).json()[0]
    read = requests.get(
        f"{hub.base_url}{V1}/501?propertiesWithHistory=status",
        headers={"Authorization": f"Bearer {hub.token}"},
        timeout=10,
    ).json()

    for ticket in (answer, read):
        versions = ticket["properties"]["status"]["versions"]
        assert [list(v) for v in versions] == [
            ["name", "value", "timestamp", "source", "sourceVid"],
            ["name", "value", "timestamp", "source", "sourceId", "sourceVid"],
            ["name", "value", "timestamp", "source", "sourceVid"],
        ]
        assert [(v["value"], v["source"], v.get("sourceId")) for v in versions] == [
            ("CLOSED", "API", None),
            ("WAITING", "AUTOMATION", "workflow:1041"),
            ("OPEN", "CRM_UI", None),
        ]
        assert all(v["sourceVid"] == [] and v["name"] == "status" for v in versions)
    assert list(answer["properties"]) == ["status", "hs_lastmodifieddate"]
    assert list(answer["properties"]["status"]) == [
        "versions",
        "value",
        "timestamp",
        "source",
        "sourceId",
    ]
    assert len(answer["properties"]["hs_lastmodifieddate"]["versions"]) == 1


def test_writes_are_fresh_dicts_of_every_field_in_order() -> None:
    with FakeHubSpot(app_id=4242) as hub:
        _check_writes(hub)


def _check_writes(hub: FakeHubSpot) -> None:
    ids = hub.seed_tickets(2)
    update = [
        {
            "objectId": oid,
            "properties": [{"name": "status", "value": v}, {"name": "subject", "value": "s"}],
        }
        for oid, v in zip(ids, ("CLOSED", "WAITING"), strict=True)
    ]
    assert _post(hub, f"{V1}/batch-update", update).status_code == 200

    writes = hub.writes
    writes[0]["value"] = "changed by the caller"

    seq = hub.requests[-1].seq
    assert [list(w) for w in writes] == [
        ["objectId", "name", "value", "timestamp", "source", "sourceId", "request"]
    ] * 4
    assert [(w["objectId"], w["name"], w["source"], w["request"]) for w in writes] == [
        (ids[0], "status", "API", seq),
        (ids[0], "subject", "API", seq),
        (ids[1], "status", "API", seq),
        (ids[1], "subject", "API", seq),
    ]
    assert [w["value"] for w in hub.writes] == ["CLOSED", "s", "WAITING", "s"]
    stamps = {w["objectId"]: w["timestamp"] for w in writes}
    assert stamps == {oid: hub.ticket(oid)["properties"]["status"]["timestamp"] for oid in ids}
    assert all(w["sourceId"] == "app:4242" for w in writes)


def test_a_name_set_twice_in_one_object_is_refused_naming_each_repeat_once(
    parser: str, hub: FakeHubSpot
) -> None:
    (oid,) = hub.seed_tickets(1)
    names = ["status", "subject", "status", "subject", "status", "content"]
    update = [{"objectId": oid, "properties": [{"name": n, "value": "x"} for n in names]}]

    r = _post(hub, f"{V1}/batch-update", update)

    assert r.status_code == 400
    assert r.json()["message"] == "objects[0].properties sets status, subject more than once"
    assert hub.writes == []
