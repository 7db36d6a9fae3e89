"""Only what changed, the preview and undo for a sheet keyed by its own unique property.

`update(..., id_property=..., only_changed=True)`, `diff(..., id_property=...)`, the dry-run
preview, `skip_cells` and the undo file of such a push, on both versioned APIs, over real
sockets against the emulator. The tickets' references are set through v1, so every read
by key must find what another API wrote.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets._cli import main
from pandas_hubtickets._files import EditsFile
from pandas_hubtickets._stream import push_file
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 640_000
VERSIONED = ["2026-03", "v3"]
REF = "external_ticket_ref"
N = 6


def client_of(hub: FakeHubSpot, api: str) -> ht.TicketsClient:
    return ht.TicketsClient(
        hub.token, base_url=hub.base_url, api=api, backoff_factor=0.01, requests_per_10s=10_000
    )


def ref(i: int) -> str:
    return f'EXT-{i} "q"'  # text that JSON must escape


@pytest.fixture
def hub():
    """N tickets (FIRST + i) with status OPEN, no priority, and the reference ref(i), set by v1."""
    with FakeHubSpot(seed=4, record_bodies=True) as hub:
        for i in range(N):
            hub.create_ticket({"subject": f"s{i}", "status": "OPEN"}, object_id=FIRST + i)
        keys = pd.DataFrame({"objectId": [FIRST + i for i in range(N)], REF: map(ref, range(N))})
        with client_of(hub, "v1") as v1:
            assert keys.hubtickets.update(v1, progress=False).ok
        hub.clear_log()
        yield hub


def value(hub: FakeHubSpot, oid: int, name: str) -> str | None:
    prop = hub.ticket(oid)["properties"].get(name)
    return None if prop is None else prop["value"]


def plain(column: pd.Series) -> list:
    """A column's values, missing ones as None."""
    return [None if pd.isna(v) else v for v in column.tolist()]


def requests_to(hub: FakeHubSpot, suffix: str) -> list:
    return [r for r in hub.requests if r.path.endswith(suffix)]


def sent_inputs(hub: FakeHubSpot) -> list[dict]:
    return [i for r in requests_to(hub, "/batch/update") for i in r.body["inputs"]]


#: Rows in another order than the tickets: 3 and 0 change, 1 holds its values, 9 is unknown.
SHEET = pd.DataFrame(
    {
        REF: [ref(3), ref(1), ref(9), ref(0)],
        "status": ["CLOSED", "OPEN", "CLOSED", "OPEN"],
        "hs_ticket_priority": ["HIGH", None, "LOW", "LOW"],
    },
    index=pd.Index(["a", "b", "c", "d"], name="row"),
)


@pytest.mark.parametrize("api", VERSIONED)
def test_diff_by_key_reads_by_the_key_and_names_each_ticket(hub, api):
    changes = SHEET.hubtickets.diff(client_of(hub, api), id_property=REF)
    assert changes.index.tolist() == ["a", "a", "c", "d"]
    assert changes["objectId"].tolist() == [ref(3), ref(3), ref(9), ref(0)]  # as written
    assert changes["hs_object_id"].tolist() == [FIRST + 3, FIRST + 3, pd.NA, FIRST]
    assert changes["property"].astype(str).tolist()[:2] == ["status", "hs_ticket_priority"]
    assert plain(changes["old"]) == ["OPEN", None, None, None]
    assert plain(changes["new"]) == ["CLOSED", "HIGH", None, "LOW"]
    assert changes["problem"].iloc[2] == (
        f"no ticket has {REF} {ref(9)!r} (or it was deleted): nothing can be changed"
    )
    reads = requests_to(hub, "/batch/read")
    assert [r.body["idProperty"] for r in reads] == [REF]
    assert {i["id"] for i in reads[0].body["inputs"]} == {ref(3), ref(1), ref(9), ref(0)}
    assert requests_to(hub, "/batch/update") == []


@pytest.mark.parametrize("api", VERSIONED)
def test_a_sheet_of_unknown_keys_is_all_missing(hub, api):
    sheet = pd.DataFrame({REF: ["EXT-none", "EXT-nope"], "status": ["CLOSED", "OPEN"]})
    changes = sheet.hubtickets.diff(client_of(hub, api), id_property=REF)
    assert changes["objectId"].tolist() == ["EXT-none", "EXT-nope"]
    assert changes["hs_object_id"].isna().all() and changes["problem"].notna().all()


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_a_sheet_of_unknown_ticket_ids_is_all_missing(hub, api):
    sheet = pd.DataFrame({"objectId": [5, 6], "status": ["CLOSED", "OPEN"]})
    changes = sheet.hubtickets.diff(client_of(hub, api))
    assert changes["objectId"].tolist() == [5, 6] and changes["problem"].notna().all()
    assert "hs_object_id" not in changes  # ids are HubSpot's already


def test_diff_by_key_needs_a_versioned_client(hub):
    with pytest.raises(ht.ConfigurationError, match="id_property='external_ticket_ref' needs"):
        SHEET.hubtickets.diff(client_of(hub, "v1"), id_property=REF)
    assert hub.requests == []


@pytest.mark.parametrize("api", VERSIONED)
def test_only_changed_by_key_sends_only_the_changed_cells(hub, api):
    client = client_of(hub, api)
    result = SHEET.hubtickets.update(client, id_property=REF, only_changed=True, progress=False)
    report = result.report
    assert report["status"].tolist() == ["updated", "unchanged", "failed", "updated"]
    assert report["objectId"].tolist() == SHEET[REF].tolist()
    assert report.loc["c", "error"] == "OBJECT_NOT_FOUND"
    assert [(i["id"], i["idProperty"], i["properties"]) for i in sent_inputs(hub)] == [
        (ref(3), REF, {"status": "CLOSED", "hs_ticket_priority": "HIGH"}),
        (ref(0), REF, {"hs_ticket_priority": "LOW"}),  # status OPEN already: not sent
    ]
    assert value(hub, FIRST + 3, "status") == "CLOSED"
    assert value(hub, FIRST, "hs_ticket_priority") == "LOW"
    hub.clear_log()
    again = SHEET.hubtickets.update(client, id_property=REF, only_changed=True, progress=False)
    assert again.report["status"].tolist() == ["unchanged", "unchanged", "failed", "unchanged"]
    assert requests_to(hub, "/batch/update") == []  # no CLOSED -> CLOSED in any history


@pytest.mark.parametrize("api", VERSIONED)
def test_only_changed_by_key_with_a_journal_reads_only_what_is_left(hub, tmp_path, api):
    journal = tmp_path / "push.jsonl"
    client = client_of(hub, api)
    options = {"id_property": REF, "only_changed": True, "journal": journal, "progress": False}
    first = SHEET.iloc[:1].hubtickets.update(client, **options)
    assert first.report["status"].tolist() == ["updated"]
    hub.clear_log()
    again = SHEET.hubtickets.update(client, **options)
    assert again.report["status"].tolist() == ["already_updated", "unchanged", "failed", "updated"]
    (read,) = requests_to(hub, "/batch/read")
    assert sorted(i["id"] for i in read.body["inputs"]) == sorted([ref(1), ref(9), ref(0)])
    assert [i["id"] for i in sent_inputs(hub)] == [ref(0)]


@pytest.mark.parametrize("api", VERSIONED)
def test_dates_read_by_key_compare_with_the_epoch_milliseconds_sent(hub, api):
    jan = "1706659200000"  # 2024-01-31, midnight UTC; read back as "2024-01-31"
    at = "1706702400000"  # 2024-01-31T12:00Z; read back in ISO 8601
    with client_of(hub, "v1") as v1:
        edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "due_date": [jan, jan]})
        assert edits.assign(closed_date=at).hubtickets.update(v1, progress=False).ok
    sheet = pd.DataFrame(
        {REF: [ref(0), ref(1)], "due_date": [jan, "1706745600000"], "closed_date": [at, at]}
    )
    result = sheet.hubtickets.update(
        client_of(hub, api), id_property=REF, only_changed=True, dry_run=True, progress=False
    )
    assert result.report["status"].tolist() == ["unchanged", "dry_run"]
    assert result.changes[["objectId", "old", "new"]].values.tolist() == [
        [ref(1), jan, "1706745600000"]
    ]


@pytest.mark.parametrize("api", VERSIONED)
def test_the_dry_run_preview_by_key_writes_nothing(hub, api):
    result = SHEET.hubtickets.update(
        client_of(hub, api), id_property=REF, only_changed=True, dry_run=True, progress=False
    )
    assert result.report["status"].tolist() == ["dry_run", "unchanged", "failed", "dry_run"]
    assert result.changes["objectId"].tolist() == [ref(3), ref(3), ref(9), ref(0)]
    assert [i["id"] for i in result.payload["inputs"]] == [ref(3), ref(0)]
    assert result.payload["inputs"][1]["properties"] == {"hs_ticket_priority": "LOW"}
    assert requests_to(hub, "/batch/update") == []
    assert "EXT-3" in repr(result) and "'OPEN' -> 'CLOSED'" in repr(result)


@pytest.mark.parametrize("api", VERSIONED)
def test_skip_cells_by_key_sends_the_valid_changed_cells(hub, api):
    sheet = pd.DataFrame(
        {
            REF: [ref(0), ref(1), ref(2)],
            "status": ["CLOSED", "OPEN", "OPEN"],
            "hs_ticket_priority": ["High", "High", "LOW"],  # 'High' is a label: refused
        }
    )
    result = sheet.hubtickets.update(
        client_of(hub, api),
        id_property=REF,
        only_changed=True,
        on_invalid="skip_cells",
        progress=False,
    )
    report = result.report
    assert report["status"].tolist() == ["partly_updated", "failed", "updated"]
    assert report["error"].tolist()[:2] == ["INVALID_OPTION", "INVALID_OPTION"]
    assert [(i["id"], i["properties"]) for i in sent_inputs(hub)] == [
        (ref(0), {"status": "CLOSED"}),
        (ref(2), {"hs_ticket_priority": "LOW"}),
    ]
    assert value(hub, FIRST + 1, "hs_ticket_priority") is None


UNDO_READERS = [*VERSIONED, "v1"]


@pytest.mark.parametrize("api", VERSIONED)
@pytest.mark.parametrize("reader", UNDO_READERS)
def test_undo_of_a_push_by_key_restores_the_pushed_tickets_by_their_id(hub, tmp_path, api, reader):
    path = tmp_path / "undo.parquet"
    pushed = SHEET.hubtickets.update(
        client_of(hub, api), id_property=REF, only_changed=True, undo=path, progress=False
    )
    assert pushed.report["status"].tolist() == ["updated", "unchanged", "failed", "updated"]
    written = pq.read_table(path).to_pandas()
    assert written.astype(object).where(written.notna(), None).values.tolist() == [
        [ref(3), "status", "OPEN", "CLOSED", FIRST + 3],
        [ref(3), "hs_ticket_priority", None, "HIGH", FIRST + 3],
        [ref(0), "hs_ticket_priority", None, "LOW", FIRST],
    ]
    with client_of(hub, "v1") as v1:  # since the push: 3's key moved, 0's priority edited
        moved = pd.DataFrame({"objectId": [FIRST + 3], REF: ["EXT-3 renumbered"]})
        edited = pd.DataFrame({"objectId": [FIRST], "hs_ticket_priority": ["URGENT"]})
        assert moved.hubtickets.update(v1, progress=False).ok
        assert edited.hubtickets.update(v1, progress=False).ok
    hub.clear_log()
    result = ht.undo(client_of(hub, reader), path, progress=False)
    report = result.report
    assert report["status"].tolist() == ["restored", "restored", "conflict"]
    assert report["objectId"].tolist() == [ref(3), ref(3), ref(0)]  # the keys, as pushed
    assert report["hs_object_id"].tolist() == [FIRST + 3, FIRST + 3, FIRST]
    assert report["current"].tolist() == ["CLOSED", "HIGH", "URGENT"]
    assert result.conflicts()["objectId"].tolist() == [ref(0)]
    assert value(hub, FIRST + 3, "status") == "OPEN"  # found by its id, not its old key
    assert value(hub, FIRST + 3, "hs_ticket_priority") == ""
    assert value(hub, FIRST, "hs_ticket_priority") == "URGENT"  # someone's edit is kept
    assert not any(r.body and "idProperty" in r.body for r in hub.requests)
    again = ht.undo(client_of(hub, reader), path, progress=False)
    assert again.report["status"].tolist() == ["unchanged", "unchanged", "conflict"]


@pytest.mark.parametrize("api", VERSIONED)
def test_a_file_keyed_by_reference_pushed_in_chunks_is_undone_from_its_folder(hub, tmp_path, api):
    csv = tmp_path / "edits.csv"
    rows = [f'"{ref(i).replace(chr(34), chr(34) * 2)}",{s}' for i, s in enumerate("CCOWCO")]
    text = "\n".join(rows).replace(",C", ",CLOSED").replace(",O", ",OPEN").replace(",W", ",WAITING")
    csv.write_text(f"{REF},status\n{text}\n")
    undo = tmp_path / "undo"
    result = push_file(
        EditsFile(csv),
        client_of(hub, api),
        id_column=None,
        id_property=REF,
        chunk_rows=4,
        only_changed=True,
        undo=undo,
        progress=False,
    )
    statuses = ["updated", "updated", "unchanged", "updated", "updated", "unchanged"]
    assert result.report["status"].tolist() == statuses
    assert sorted(p.name for p in undo.iterdir()) == ["chunk-00000.parquet", "chunk-00001.parquet"]
    assert [value(hub, FIRST + i, "status") for i in (0, 3, 4)] == ["CLOSED", "WAITING", "CLOSED"]
    restored = ht.undo(client_of(hub, api), undo, progress=False)
    assert restored.report["hs_object_id"].tolist() == [FIRST, FIRST + 1, FIRST + 3, FIRST + 4]
    assert restored.ok and (restored.report["status"] == "restored").all()
    assert [value(hub, FIRST + i, "status") for i in range(N)] == ["OPEN"] * N


@pytest.mark.parametrize("api", VERSIONED)
def test_push_by_key_with_preview_changes_file_and_undo_on_the_command_line(
    hub, tmp_path, api, monkeypatch, capsys
):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
    csv = tmp_path / "edits.csv"
    csv.write_text(f'{REF},status\n"EXT-2 ""q""",CLOSED\n"EXT-1 ""q""",OPEN\n')
    push = ["push", str(csv), "--api", api, "--id-property", REF, "--only-changed"]
    preview = tmp_path / "preview.csv"
    assert main([*push, "--dry-run", "--changes", str(preview)]) == 0
    out = capsys.readouterr().out
    assert "1 row would change (1 cell), 1 unchanged, 0 refused" in out
    assert f"{ref(2)} status: 'OPEN' -> 'CLOSED'" in out
    written = pd.read_csv(preview)
    assert written.columns.tolist()[:6] == ["row", "objectId", "property", "old", "new", "problem"]
    assert written[["objectId", "hs_object_id"]].values.tolist() == [[ref(2), FIRST + 2]]
    assert requests_to(hub, "/batch/update") == []
    undo = tmp_path / "undo.parquet"
    assert main([*push, "--undo", str(undo)]) == 0
    assert value(hub, FIRST + 2, "status") == "CLOSED"
    capsys.readouterr()
    assert main(["undo", str(undo), "--api", api]) == 0
    assert "1 cell: 1 restored" in capsys.readouterr().out
    assert value(hub, FIRST + 2, "status") == "OPEN"
