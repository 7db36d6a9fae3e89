"""The hubtickets command: demo end to end, push and pull against the emulator."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pandas_hubtickets import read_tidy
from pandas_hubtickets.cli import main, read_edits
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 176_000


def test_demo_runs_offline_and_writes_the_history(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "INVALID_DATE" in out and "INVALID_OPTION" in out and "OBJECT_NOT_FOUND" in out
    history = read_tidy(tmp_path / "history.parquet")
    assert set(history["source"].astype(str)) >= {"API", "CALCULATED"}
    assert history["objectId"].nunique() == 996  # 1,001 rows, 5 refused
    journal = (tmp_path / "push-journal.jsonl").read_text().splitlines()
    assert len(journal) == 1001 - 4  # the 4 rows refused before sending are not journaled


@pytest.fixture
def hub(monkeypatch):
    with FakeHubSpot(seed=1) as hub:
        hub.seed_tickets(5, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        yield hub


def test_push_sends_a_csv_and_exits_nonzero_when_rows_fail(hub, tmp_path, capsys):
    csv = tmp_path / "edits.csv"
    csv.write_text(
        "Ticket ID,status,due_date\n"
        f"{FIRST},CLOSED,2026-01-02\n"
        f"{FIRST + 1},NOPE,\n"
        f"{FIRST + 2},NA,\n"  # the text "NA" is a value, not a missing cell
    )
    report = tmp_path / "report.csv"
    args = ["push", str(csv), "--base-url", hub.base_url, "--report", str(report)]
    assert main([*args, "--date-columns", "due_date"]) == 2  # refused before sending
    assert "'NOPE' is not an option of 'status'" in capsys.readouterr().err
    assert hub.requests[-1].path.endswith("/properties")
    code = main([*args, "--date-columns", "due_date", "--skip-invalid"])
    assert code == 1
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"
    assert hub.ticket(FIRST)["properties"]["due_date"]["value"] == "1767312000000"
    statuses = pd.read_csv(report, index_col="Ticket ID")["status"].tolist()
    assert statuses == ["updated", "failed", "failed"]
    assert "1 updated, 2 failed" in capsys.readouterr().out


def test_push_dry_run_sends_nothing(hub, tmp_path):
    csv = tmp_path / "edits.csv"
    csv.write_text(f"Ticket ID,status\n{FIRST},CLOSED\n")
    assert main(["push", str(csv), "--base-url", hub.base_url, "--dry-run"]) == 0
    assert [r.method for r in hub.requests] == ["GET"] and hub.writes == []  # the definitions


def test_push_reports_bad_input_without_sending(hub, tmp_path, capsys):
    csv = tmp_path / "edits.csv"
    csv.write_text(f"Ticket ID,status\n{FIRST},CLOSED\n{FIRST},OPEN\n")
    assert main(["push", str(csv), "--base-url", hub.base_url]) == 2
    assert "appears in more than one row" in capsys.readouterr().err
    assert [r.method for r in hub.requests] == ["GET"] and hub.writes == []  # the definitions


def test_pull_saves_every_ticket(hub, tmp_path, capsys):
    out = tmp_path / "all.parquet"
    assert main(["pull", str(out), "--base-url", hub.base_url, "--properties", "status"]) == 0
    tidy = read_tidy(out)
    assert sorted(tidy["objectId"].unique().tolist()) == list(range(FIRST, FIRST + 5))
    assert set(tidy["property"].astype(str)) == {"status"}
    assert hub.token not in capsys.readouterr().out


def test_read_edits_keeps_what_was_typed_and_parses_only_named_dates(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("Ticket ID,close_date,note,zip,candidate\n1,2026-01-02,n/a,01234,1.10\n2,,,,\n")
    edits = read_edits(csv, "Ticket ID", ["close_date"])
    assert str(edits["close_date"].dtype).startswith("datetime64")
    assert edits.loc["1", ["note", "zip", "candidate"]].tolist() == ["n/a", "01234", "1.10"]
    assert edits.loc["2", ["note", "zip", "candidate"]].isna().all()
    assert json.loads(edits.hubtickets.to_json(id_column="Ticket ID"))[0]["properties"][0] == {
        "name": "close_date",
        "value": "1767312000000",
    }


def test_push_refuses_a_date_column_that_is_not_dates(hub, tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text(f"Ticket ID,due_date\n{FIRST},soon\n")
    code = main(["push", str(csv), "--base-url", hub.base_url, "--date-columns", "due_date"])
    assert code == 2
    assert "column 'due_date' holds a value that is not an ISO 8601 date" in capsys.readouterr().err
    assert hub.requests == []
