"""Undo: the undo file written before sending, ht.undo and `hubtickets undo`, conflicts kept."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets._cli import main
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 710_000


#: An undo reads, then writes, through the client's API.
READING = ["v1", "2026-03"]


def make_client(hub: FakeHubSpot, api: str = "v1") -> ht.TicketsClient:
    return ht.TicketsClient(
        hub.token, base_url=hub.base_url, backoff_factor=0.01, requests_per_10s=10_000, api=api
    )


@pytest.fixture
def hub():
    with FakeHubSpot(seed=6) as hub:
        for i in range(4):
            hub.create_ticket({"subject": f"s{i}", "status": "OPEN"}, object_id=FIRST + i)
        yield hub


def value(hub: FakeHubSpot, oid: int, name: str) -> str | None:
    prop = hub.ticket(oid)["properties"].get(name)
    return None if prop is None else prop["value"]


def edit(client: ht.TicketsClient, oid: int, **props: str) -> None:
    """Someone else's edit, through ``client`` (a v1 one)."""
    client.batch_update(
        [{"objectId": oid, "properties": [{"name": k, "value": v} for k, v in props.items()]}]
    )


EDITS = pd.DataFrame(
    {
        "objectId": [FIRST, FIRST + 1, FIRST + 2, FIRST + 3],
        "status": ["CLOSED", "CLOSED", "OPEN", "WAITING"],
        "hs_ticket_priority": ["HIGH", None, None, None],  # none before: undo clears it
    }
)


@pytest.mark.parametrize("api", READING)
def test_undo_restores_what_landed_and_keeps_later_edits(hub, tmp_path, api):
    client = make_client(hub, api)
    path = tmp_path / "undo.parquet"
    pushed = EDITS.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    assert pushed.report["status"].tolist() == ["updated", "updated", "unchanged", "updated"]
    written = pq.read_table(path).to_pandas()
    assert written.astype(object).where(written.notna(), None).values.tolist() == [
        [FIRST, "status", "OPEN", "CLOSED"],
        [FIRST, "hs_ticket_priority", None, "HIGH"],
        [FIRST + 1, "status", "OPEN", "CLOSED"],
        [FIRST + 3, "status", "OPEN", "WAITING"],
    ]
    edit(make_client(hub), FIRST + 1, status="IN_PROGRESS")  # someone's later edit (v1)
    hub.clear_log()
    result = ht.undo(client, path, progress=False)
    report = result.report
    assert report["status"].tolist() == ["restored", "restored", "conflict", "restored"]
    assert report["current"].tolist()[2] == "IN_PROGRESS"
    assert "changed since the push" in report["message"].tolist()[2]
    assert not result.ok
    assert result.conflicts()["objectId"].tolist() == [FIRST + 1]
    assert value(hub, FIRST, "status") == "OPEN"
    assert value(hub, FIRST, "hs_ticket_priority") == ""  # cleared, as it was (no value)
    assert value(hub, FIRST + 1, "status") == "IN_PROGRESS"  # the later edit stays
    assert value(hub, FIRST + 3, "status") == "OPEN"
    assert sorted((w["objectId"], w["name"], w["value"]) for w in hub.writes) == [
        (FIRST, "hs_ticket_priority", ""),
        (FIRST, "status", "OPEN"),
        (FIRST + 3, "status", "OPEN"),
    ]
    assert "conflict" in repr(result) and "#ef6c00" in result._repr_html_()


@pytest.mark.parametrize("api", READING)
def test_undo_is_safe_to_run_again(hub, tmp_path, api):
    client = make_client(hub, api)
    path = tmp_path / "undo.parquet"
    EDITS.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    first = ht.undo(client, path, progress=False)
    assert set(first.report["status"]) == {"restored"}
    hub.clear_log()
    again = ht.undo(client, path, progress=False)
    assert set(again.report["status"]) == {"unchanged"}
    assert again.ok
    assert hub.writes == []


def test_undo_of_rows_that_did_not_land_sends_nothing(hub, tmp_path):
    client = make_client(hub)
    path = tmp_path / "undo.parquet"
    EDITS.hubtickets.update(client, only_changed=True, undo=path, dry_run=True, progress=False)
    assert not path.exists()  # a dry run writes no undo file
    edits = EDITS.assign(objectId=[FIRST, FIRST + 1, FIRST + 2, FIRST + 3])
    edits.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    # pretend the push to FIRST + 3 never landed: HubSpot holds the old value again
    edit(client, FIRST + 3, status="OPEN")
    client.send("DELETE", f"/crm-objects/v1/objects/tickets/{FIRST + 1}")
    hub.clear_log()
    result = ht.undo(client, path, progress=False)
    assert result.report["status"].tolist() == ["restored", "restored", "failed", "unchanged"]
    assert result.report["error"].tolist()[2] == "OBJECT_NOT_FOUND"
    assert {w["objectId"] for w in hub.writes} == {FIRST}


def test_the_undo_file_is_written_before_sending_and_never_replaced(hub, tmp_path):
    client = make_client(hub)
    path = tmp_path / "undo.parquet"
    path.write_text("an earlier push's undo file")
    with pytest.raises(ht.ConfigurationError, match="exists already"):
        EDITS.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    assert path.read_text() == "an earlier push's undo file"
    assert hub.writes == []
    with pytest.raises(ht.ConfigurationError, match="folder does not exist"):
        EDITS.hubtickets.update(
            client, only_changed=True, undo=tmp_path / "no" / "u.parquet", progress=False
        )
    with pytest.raises(ht.InputFileError, match="not an undo file"):
        ht.undo(client, path)
    with pytest.raises(ht.InputFileError, match="no undo file"):
        ht.undo(client, tmp_path / "missing.parquet")
    assert hub.writes == []
    assert [p.name for p in tmp_path.iterdir()] == ["undo.parquet"]  # no temporary file left


def test_the_undo_file_exists_when_the_first_request_goes_out(hub, tmp_path, monkeypatch):
    client = make_client(hub)
    path = tmp_path / "undo.parquet"
    seen: list[bool] = []
    send = client.batch_update_reply

    def spy(body):  # the moment the first write leaves
        seen.append(path.exists() and len(pq.read_table(path)) == 4)
        return send(body)

    monkeypatch.setattr(client, "batch_update_reply", spy)
    synced: list[int] = []
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), fsync(fd))[1])
    EDITS.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    assert seen and all(seen)
    assert len(synced) >= 2  # the file and its folder


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def env(hub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
    (tmp_path / "edits.csv").write_text(
        "Ticket ID,status,hs_ticket_priority\n"
        f"{FIRST},CLOSED,HIGH\n"
        f"{FIRST + 1},OPEN,\n"
        f"{FIRST + 2},WAITING,High\n"
    )
    return hub


def test_cli_preview_push_and_undo(env, capsys):
    hub = env
    code = main(["push", "edits.csv", "--only-changed", "--dry-run", "--skip-invalid-cells"])
    out = capsys.readouterr().out
    assert code == 1  # a refused cell
    assert "2 rows would change (3 cells), 1 unchanged, 0 refused:" in out
    assert f"{FIRST} status: 'OPEN' -> 'CLOSED'" in out
    assert f"{FIRST} hs_ticket_priority: (no value) -> 'HIGH'" in out
    assert hub.writes == []
    code = main(
        [
            "push",
            "edits.csv",
            "--only-changed",
            "--changes",
            "changes.csv",
            "--report",
            "report.csv",
            "--undo",
            "undo.parquet",
            "--skip-invalid-cells",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "previous values -> undo.parquet" in out
    report = pd.read_csv("report.csv")
    assert report["status"].tolist() == ["updated", "unchanged", "partly_updated"]
    assert pd.read_csv("changes.csv")["property"].tolist() == [
        "status",
        "hs_ticket_priority",
        "status",
    ]
    assert main(["push", "edits.csv", "--only-changed", "--undo", "undo.parquet"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["push", "edits.csv", "--undo", "other.parquet"]) == 2
    assert "--undo needs --only-changed" in capsys.readouterr().err
    assert main(["push", "edits.csv", "--changes", "other.csv"]) == 2
    assert "--changes needs --only-changed" in capsys.readouterr().err
    hub.clear_log()
    assert main(["undo", "undo.parquet", "--dry-run"]) == 0
    assert "3 cells: 3 dry_run" in capsys.readouterr().out
    assert hub.writes == []
    assert main(["undo", "undo.parquet", "--report", "undone.csv"]) == 0
    assert "3 cells: 3 restored" in capsys.readouterr().out
    assert pd.read_csv("undone.csv")["status"].tolist() == ["restored"] * 3
    assert main(["undo", "undo.parquet"]) == 0
    assert "3 cells: 3 unchanged" in capsys.readouterr().out
    assert main(["undo", "edits.csv"]) == 2
    assert "not an undo file" in capsys.readouterr().err


def test_cli_undo_exits_1_on_a_conflict(env, capsys):
    hub = env
    assert (
        main(["push", "edits.csv", "--only-changed", "--undo", "u.parquet", "--skip-invalid-cells"])
        == 1
    )
    edit(make_client(hub), FIRST, status="IN_PROGRESS")
    capsys.readouterr()
    assert main(["undo", "u.parquet"]) == 1
    out = capsys.readouterr().out
    assert "1 conflict" in out
    assert f"{FIRST} status: conflict: changed since the push" in out


def test_an_undo_file_of_a_push_that_changed_nothing_undoes_nothing(hub, tmp_path):
    client = make_client(hub)
    same = pd.DataFrame({"objectId": [FIRST], "status": ["OPEN"]})
    path = tmp_path / "undo.parquet"
    pushed = same.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    assert pushed.report["status"].tolist() == ["unchanged"]
    assert len(pq.read_table(path)) == 0
    hub.clear_log()
    result = ht.undo(client, path, progress=False)
    assert result.report.empty and result.ok
    assert hub.requests == []


def test_undo_result_counts_cells_in_a_terminal_and_a_notebook(hub, tmp_path):
    client = make_client(hub)
    path = tmp_path / "undo.parquet"
    EDITS.hubtickets.update(client, only_changed=True, undo=path, progress=False)
    result = ht.undo(client, path, dry_run=True, progress=False)
    assert len(result.report) == 4  # one row a cell, three tickets
    assert repr(result).startswith("UndoResult(4 cells: 4 dry_run in ")
    assert "</b>: 4 cells in " in result._repr_html_()


@pytest.mark.parametrize(("pushed", "undone"), [("v1", "2026-03"), ("2026-03", "v1")])
def test_an_undo_file_written_through_one_api_is_undone_through_the_other(
    hub, tmp_path, pushed, undone
):
    """Old values are kept as they are sent (epoch ms), whichever API read them."""
    before = "1704067200000"  # 2024-01-01T00:00Z, a datetime HubSpot v1 shows as is
    edit(make_client(hub), FIRST, closed_date=before)
    path = tmp_path / "undo.parquet"
    sheet = pd.DataFrame(
        {"objectId": [FIRST, FIRST + 1], "closed_date": ["1706745600000", "1706745600000"]}
    )
    pushed_result = sheet.hubtickets.update(
        make_client(hub, pushed), only_changed=True, undo=path, progress=False
    )
    assert pushed_result.ok
    cells = pd.read_parquet(path).set_index("objectId")
    assert cells.loc[FIRST, "old"] == before  # not "2024-01-01T00:00:00.000Z"
    result = ht.undo(make_client(hub, undone), path, progress=False)
    assert result.ok and result.conflicts().empty
    assert value(hub, FIRST, "closed_date") == before
    assert value(hub, FIRST + 1, "closed_date") == ""  # it had none: cleared again
