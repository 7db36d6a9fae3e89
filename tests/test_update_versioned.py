"""What only the versioned APIs (2026-03 and v3) do when writing: update by a unique property,
answers mapped by trace id, 207s that name their culprits, admin validation rules.

Over real sockets against the emulator. What both generations share is tested once,
parametrised over the APIs, in tests/test_update.py, tests/test_faults.py and the others;
only_changed, the preview and undo by a unique property in tests/test_changes_by_key.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import ConfigurationError, PayloadError
from pandas_hubtickets._cli import main
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 610_000
VERSIONED = ["2026-03", "v3"]
REF = "external_ticket_ref"


def client_of(hub: FakeHubSpot, api: str, **kw) -> ht.TicketsClient:
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("requests_per_10s", 1000)
    return ht.TicketsClient(hub.token, base_url=hub.base_url, api=api, **kw)


def refs(n: int) -> list[str]:
    return [f'EXT-{i:04d} "quoted"' for i in range(n)]  # text that JSON must escape


@pytest.fixture
def hub():
    """Tickets whose external reference was set through v1: the other API finds them by it."""
    with FakeHubSpot(seed=9) as hub:
        ids = hub.seed_tickets(30, start_id=FIRST)
        with client_of(hub, "v1") as v1:
            pd.DataFrame({"objectId": ids, REF: refs(30)}).hubtickets.update(v1, progress=False)
        hub.clear_log()
        yield hub


def batch_updates(hub: FakeHubSpot) -> list:
    return [r for r in hub.requests if r.path.endswith("/batch/update")]


@pytest.mark.parametrize("api", VERSIONED)
def test_a_sheet_keyed_by_its_own_reference_updates_the_right_tickets(hub, api):
    order = np.random.default_rng(1).permutation(30)  # rows in another order than the tickets
    sheet = pd.DataFrame(
        {REF: [refs(30)[i] for i in order], "status": ["CLOSED", "WAITING"] * 15},
        index=pd.Index([f"r{i}" for i in range(30)], name="row"),
    )
    result = sheet.hubtickets.update(
        client_of(hub, api), id_property=REF, batch_size=7, tickets=False, progress=False
    )
    assert (result.report["status"] == "updated").all()
    assert result.report["objectId"].tolist() == sheet[REF].tolist()  # as written in the sheet
    for i, status in zip(order, sheet["status"], strict=True):
        assert hub.ticket(FIRST + int(i))["properties"]["status"]["value"] == status
    # batches go concurrently: their order of arrival is not the frame's
    assert sorted(r.objects for r in batch_updates(hub)) == [2, 7, 7, 7, 7]


@pytest.mark.parametrize("api", VERSIONED)
def test_an_unknown_reference_is_named_by_the_207_and_fails_alone(hub, api):
    sheet = pd.DataFrame({REF: [*refs(5), "EXT-nope"], "subject": list("abcdef")})
    result = sheet.hubtickets.update(
        client_of(hub, api), id_property=REF, tickets=False, progress=False
    )
    report = result.report
    assert report["status"].tolist() == ["updated"] * 5 + ["failed"]
    assert report["error"].iloc[-1] == "OBJECT_NOT_FOUND"
    assert report["http_status"].tolist() == [207] * 6
    assert "may be deleted or not exist" in report["message"].iloc[-1]
    assert len(batch_updates(hub)) == 1  # HubSpot named the culprit: no split


@pytest.mark.parametrize("api", VERSIONED)
def test_a_journal_of_references_resumes(hub, api, tmp_path):
    journal = tmp_path / "push.jsonl"
    sheet = pd.DataFrame({REF: refs(10), "subject": [f"s{i}" for i in range(10)]})
    client = client_of(hub, api)
    first = sheet.iloc[:6].hubtickets.update(
        client, id_property=REF, journal=journal, progress=False
    )
    assert first.ok
    entries = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert [e["objectId"] for e in entries] == refs(6)  # the references, never a guess of the id
    hub.clear_log()
    # the same rows again, in another place of a bigger frame: resumed, the rest sent
    again = sheet.iloc[::-1].hubtickets.update(
        client, id_property=REF, journal=journal, progress=False
    )
    counts = again.report["status"].value_counts()
    assert counts["already_updated"] == 6 and counts["updated"] == 4
    assert sum(r.objects for r in batch_updates(hub)) == 4


def test_id_property_needs_a_versioned_api_and_is_refused_before_sending(hub):
    sheet = pd.DataFrame({REF: refs(2), "subject": ["a", "b"]})
    with pytest.raises(ConfigurationError, match=r"id_property='external_ticket_ref' needs api="):
        sheet.hubtickets.update(client_of(hub, "v1"), id_property=REF, progress=False)
    with pytest.raises(ConfigurationError, match="id_property"):
        sheet.hubtickets.to_payload(id_property=REF)
    assert hub.requests == []


@pytest.mark.parametrize("api", VERSIONED)
def test_bad_references_are_all_refused_at_once_before_sending(hub, api):
    sheet = pd.DataFrame(
        {REF: [refs(1)[0], " EXT-9", "", None, 17, "EXT-2", "EXT-2"], "subject": list("abcdefg")}
    )
    with pytest.raises(PayloadError) as info:
        sheet.hubtickets.update(client_of(hub, api), id_property=REF, progress=False)
    problems = info.value.problems
    assert problems[["row", "code"]].values.tolist() == [
        [1, "INVALID_ID"],
        [2, "INVALID_ID"],
        [3, "MISSING_ID"],
        [4, "INVALID_ID"],
        [5, "DUPLICATE_ID"],
        [6, "DUPLICATE_ID"],
    ]
    assert problems["column"].eq(REF).all()
    assert "spaces around" in problems["problem"].iloc[0]
    assert batch_updates(hub) == []


@pytest.mark.parametrize(
    ("name", "why"),
    [("external_ticket_rf", "no ticket property named"), ("subject", "does not have unique")],
)
def test_an_id_property_hubspot_cannot_find_by_is_refused_before_sending(hub, name, why):
    sheet = pd.DataFrame({name: ["a", "b"], "status": ["OPEN", "OPEN"]})
    with pytest.raises(PayloadError) as info:
        sheet.hubtickets.update(client_of(hub, "2026-03"), id_property=name, progress=False)
    assert info.value.problems["code"].tolist() == ["INVALID_ID_PROPERTY"]
    assert why in info.value.problems["problem"].iloc[0]
    assert batch_updates(hub) == []


@pytest.mark.parametrize("api", VERSIONED)
def test_an_admin_validation_rule_fails_only_its_row_with_hubspots_message(hub, api):
    hub.add_validation_rule("subject", r"[A-Z].*", "Subject must start with a capital letter")
    sheet = pd.DataFrame(
        {"objectId": range(FIRST, FIRST + 8), "subject": [*"ABCDE", "lower", "F", "G"]}
    )
    result = sheet.hubtickets.update(client_of(hub, api), tickets=False, progress=False)
    report = result.report
    assert report["status"].tolist() == ["updated"] * 5 + ["failed", "updated", "updated"]
    assert report["error"].iloc[5] == "VALIDATION_ERROR"
    assert report["message"].iloc[5] == "subject: Subject must start with a capital letter"
    assert report["http_status"].iloc[5] == 400
    assert hub.ticket(FIRST + 5)["properties"]["subject"]["value"] != "lower"
    assert hub.ticket(FIRST + 6)["properties"]["subject"]["value"] == "F"


def test_a_v1_write_is_not_held_to_the_versioned_apis_rules(hub):
    hub.add_validation_rule("subject", r"[A-Z].*", "Subject must start with a capital letter")
    sheet = pd.DataFrame({"objectId": [FIRST], "subject": ["lower"]})
    assert sheet.hubtickets.update(client_of(hub, "v1"), progress=False).ok


def test_a_push_by_reference_on_the_command_line(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    csv = tmp_path / "edits.csv"
    csv.write_text(f'{REF},status\nEXT-0001 "quoted",CLOSED\n')
    code = main(["push", str(csv), "--id-property", REF, "--base-url", hub.base_url])
    err = capsys.readouterr().err
    assert code == 2 and batch_updates(hub) == []  # the default API is v1
    assert "--id-property 'external_ticket_ref' needs --api 2026-03 or --api v3" in err
    assert "id_property" not in err


def test_a_push_by_reference_on_the_command_line_lands(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    csv = tmp_path / "edits.csv"
    csv.write_text(f'{REF},status\n"EXT-0001 ""quoted""",CLOSED\n')
    argv = ["push", str(csv), "--id-property", REF, "--api", "2026-03"]
    assert main([*argv, "--base-url", hub.base_url]) == 0
    assert hub.ticket(FIRST + 1)["properties"]["status"]["value"] == "CLOSED"


@pytest.mark.parametrize("api", VERSIONED)
def test_a_file_keyed_by_reference_streams_in_chunks(hub, api, tmp_path):
    from pandas_hubtickets._files import EditsFile
    from pandas_hubtickets._stream import push_file

    csv = tmp_path / "edits.csv"
    rows = [f'"{r.replace(chr(34), chr(34) * 2)}",s{i}' for i, r in enumerate(refs(12))]
    csv.write_text(f"{REF},subject\n" + "\n".join([*rows, rows[3].replace(",s3", ",again")]))
    result = push_file(
        EditsFile(csv),
        client_of(hub, api),
        id_column=None,
        id_property=REF,
        keep="last",
        chunk_rows=5,
        progress=False,
    )
    report = result.report
    assert report["status"].tolist() == ["updated"] * 3 + ["skipped"] + ["updated"] * 9
    assert report["objectId"].tolist() == [*refs(12), refs(12)[3]]
    assert hub.ticket(FIRST + 3)["properties"]["subject"]["value"] == "again"


@pytest.mark.parametrize("api", VERSIONED)
def test_the_clients_batch_update_speaks_the_versioned_shapes(hub, api):
    with client_of(hub, api) as client:
        inputs = [
            {"id": str(FIRST), "properties": {"status": "CLOSED"}, "objectWriteTraceId": "a"},
            {"id": "42", "properties": {"status": "CLOSED"}},
        ]
        results = client.batch_update(inputs)
        reply = client.batch_update_reply(inputs[:1])
        text = client.batch_update_reply(f'{{"inputs":[{{"id":"{FIRST}","properties":{{}}}}]}}')
    assert [(r["id"], r["objectWriteTraceId"]) for r in results] == [(str(FIRST), "a")]
    assert reply.status == 200 and reply.data["status"] == "COMPLETE"
    assert text.status == 200
    prefix = "/crm/objects/2026-03/tickets" if api == "2026-03" else "/crm/v3/objects/tickets"
    assert {r.path for r in hub.requests} == {f"{prefix}/batch/update"}
    assert [r.status for r in hub.requests] == [207, 200, 200]  # 42: named in the 207's errors


@pytest.mark.parametrize("api", ["v1", *VERSIONED])
def test_objects_of_the_other_api_are_refused_before_sending(hub, api):
    """A script that switches api= keeps its v1 body (or the reverse): a clear error, no 400."""
    v1 = {"objectId": FIRST, "properties": [{"name": "status", "value": "OPEN"}]}
    versioned = {"id": str(FIRST + 1), "properties": {"status": "OPEN"}}
    other, own = (versioned, v1) if api == "v1" else (v1, versioned)
    with client_of(hub, api) as client:
        with pytest.raises(ConfigurationError) as refused:
            client.batch_update([own, other, other])
        with pytest.raises(ConfigurationError):
            client.batch_update_reply([other])
    assert hub.requests == []  # nothing was sent
    message = str(refused.value)
    assert "objects 1, 2" in message and f"api={api!r}" in message
    assert "'objectId'" in message and "'id'" in message  # the shape it got, the one it takes
    assert "nothing was sent" in message


@pytest.mark.parametrize("column", ["objectId", "Ref"])
def test_without_the_id_property_column_the_refusal_names_it(hub, column):
    """A sheet keyed by the reference but whose column is named otherwise (or holds HubSpot's
    ids): the refusal names the column it looked for, never treats HubSpot's ids as references."""
    sheet = pd.DataFrame({column: ["610000"], "status": ["OPEN"]})
    if column == "objectId":
        sheet[column] = [FIRST]  # HubSpot's ids, as an export holds them
    with pytest.raises(PayloadError) as info:
        sheet.hubtickets.update(client_of(hub, "2026-03"), id_property=REF, progress=False)
    problems = info.value.problems
    missing = problems[problems["code"] == "NO_ID_COLUMN"]["problem"].tolist()
    assert len(missing) == 1 and repr(REF) in missing[0], problems
    assert "INVALID_ID" not in problems["code"].tolist()  # no '.astype(str)' advice
    assert batch_updates(hub) == []


@pytest.mark.parametrize("api", ["v1", *VERSIONED])
def test_the_bodies_the_accessor_builds_are_what_batch_update_takes(hub, api):
    """``to_payload``/``to_batches(api=client.api)`` go to ``client.batch_update`` on every API."""
    sheet = pd.DataFrame({"objectId": [FIRST, FIRST + 1, FIRST + 2], "status": ["CLOSED"] * 3})
    with client_of(hub, api) as client:
        whole = client.batch_update(sheet.hubtickets.to_payload(api=client.api))
        parts = [client.batch_update(b) for b in sheet.hubtickets.to_batches(2, api=client.api)]
        assert client.batch_update(sheet.iloc[:0].hubtickets.to_payload(api=client.api)) == []
        if api != "v1":  # a mapping that is not a body: refused, naming what it takes
            with pytest.raises(ConfigurationError, match=r"\{'inputs': \[\.\.\.\]\}"):
                client.batch_update({"id": str(FIRST), "properties": {"status": "OPEN"}})
    assert [len(whole), *map(len, parts)] == [3, 2, 1]
    writes = [r for r in hub.requests if r.path.endswith(("/batch/update", "/batch-update"))]
    assert len(writes) == 3


def test_a_versioned_body_on_a_v1_client_is_refused_before_sending(hub):
    body = pd.DataFrame({"objectId": [FIRST], "status": ["OPEN"]}).hubtickets.to_payload(
        api="2026-03"
    )
    with client_of(hub, "v1") as client, pytest.raises(ConfigurationError, match="api='v1'"):
        client.batch_update(body)
    assert hub.requests == []
