"""Pushing a file a chunk at a time: one report, one outcome per row, checks before sending."""

from __future__ import annotations

import pandas as pd
import pytest

from pandas_hubtickets import TicketsClient
from pandas_hubtickets._api import endpoints
from pandas_hubtickets._cli import main
from pandas_hubtickets._files import EditsFile
from pandas_hubtickets._progress import progress_bar
from pandas_hubtickets._stream import push_file
from pandas_hubtickets._update import update
from pandas_hubtickets.errors import ConfigurationError, PayloadError, UpdateStopped
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 176_000


@pytest.fixture
def hub(monkeypatch):
    with FakeHubSpot(seed=3) as hub:
        hub.seed_tickets(20, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        yield hub


@pytest.fixture(params=["v1", "2026-03"])
def client(hub, request):
    """A client of each API: a streamed push is the same on both."""
    with TicketsClient(hub.token, base_url=hub.base_url, api=request.param) as client:
        yield client


def _csv(tmp_path, rows, name="edits.csv"):
    path = tmp_path / name
    lines = ["Ticket ID,status,subject"] + [f"{i},{s},{t}" for i, s, t in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _posts(hub):
    return [r for r in hub.requests if r.method == "POST"]


def _definition_reads(hub, client):
    path = endpoints(client.api).properties
    return [r for r in hub.requests if r.method == "GET" and r.path.startswith(path)]


def test_a_file_in_chunks_is_one_report_with_one_outcome_per_row(hub, client, tmp_path):
    rows = [(FIRST + i, "CLOSED", f"s{i}") for i in range(10)]
    path = _csv(tmp_path, rows)
    result = push_file(EditsFile(path), client, id_column="Ticket ID", chunk_rows=3, progress=False)
    report = result.report
    assert report.index.tolist() == [str(r[0]) for r in rows]  # file order, every row once
    assert report["objectId"].tolist() == [r[0] for r in rows]
    assert report["status"].tolist() == ["updated"] * 10
    assert report["batch"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]  # numbered on
    assert result.ok and result.failed_rows().empty
    assert len(_definition_reads(hub, client)) == 1  # read once for the four chunks
    assert len(_posts(hub)) == 4
    assert {w["objectId"] for w in hub.writes} == {r[0] for r in rows}
    assert hub.ticket(FIRST + 9)["properties"]["subject"]["value"] == "s9"


def test_a_bad_value_in_the_last_chunk_refuses_the_file_before_anything_is_sent(
    hub, client, tmp_path
):
    rows = [(FIRST + i, "CLOSED", "x") for i in range(7)] + [(FIRST + 7, "Closed", "x")]
    path = _csv(tmp_path, rows)
    with pytest.raises(PayloadError) as refused:
        push_file(EditsFile(path), client, id_column="Ticket ID", chunk_rows=3, progress=False)
    found = refused.value.problems
    assert found[["row", "column", "code"]].values.tolist() == [
        [str(FIRST + 7), "status", "INVALID_OPTION"]
    ]
    assert _posts(hub) == []


def test_skip_invalid_sends_the_valid_rows_of_every_chunk(hub, client, tmp_path):
    rows = [(FIRST + i, "Closed" if i in (1, 5) else "CLOSED", "x") for i in range(7)]
    path = _csv(tmp_path, rows)
    result = push_file(
        EditsFile(path),
        client,
        id_column="Ticket ID",
        chunk_rows=3,
        progress=False,
        on_invalid="skip",
    )
    statuses = result.report["status"].tolist()
    assert statuses == ["updated", "failed", "updated", "updated", "updated", "failed", "updated"]
    assert result.problems["row"].tolist() == [str(FIRST + 1), str(FIRST + 5)]
    assert result.failed_rows().index.tolist() == [str(FIRST + 1), str(FIRST + 5)]
    assert {w["objectId"] for w in hub.writes} == {FIRST + i for i in (0, 2, 3, 4, 6)}


def test_a_dry_run_in_chunks_writes_nothing_and_reports_every_row(hub, client, tmp_path):
    path = _csv(tmp_path, [(FIRST + i, "CLOSED", "x") for i in range(5)])
    result = push_file(EditsFile(path), client, id_column="Ticket ID", chunk_rows=2, dry_run=True)
    assert result.report["status"].tolist() == ["dry_run"] * 5
    assert _posts(hub) == [] and hub.writes == []


def test_duplicate_ids_across_chunks_are_refused_by_default(hub, client, tmp_path):
    rows = [(FIRST, "OPEN", "a"), (FIRST + 1, "OPEN", "b"), (FIRST + 2, "OPEN", "c")]
    rows += [(FIRST, "CLOSED", "d"), (FIRST + 3, "OPEN", "e")]
    path = _csv(tmp_path, rows)
    with pytest.raises(PayloadError) as refused:
        push_file(EditsFile(path), client, id_column="Ticket ID", chunk_rows=2, progress=False)
    found = refused.value.problems
    assert found[["row", "code"]].values.tolist() == [
        [str(FIRST), "DUPLICATE_ID"],
        [str(FIRST), "DUPLICATE_ID"],
    ]
    assert _posts(hub) == []


@pytest.mark.parametrize(("keep", "landed"), [("first", "a"), ("last", "d")])
@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_keep_sends_one_row_per_ticket_and_reports_the_others_skipped(
    hub, client, tmp_path, keep, landed, chunk_rows
):
    rows = [(FIRST, "OPEN", "a"), (FIRST + 1, "OPEN", "b"), (FIRST + 1, "OPEN", "b2")]
    rows += [(FIRST, "CLOSED", "d"), (FIRST + 3, "OPEN", "e")]
    path = _csv(tmp_path, rows)
    result = push_file(
        EditsFile(path),
        client,
        id_column="Ticket ID",
        chunk_rows=chunk_rows,
        keep=keep,
        progress=False,
    )
    skipped = [2, 3] if keep == "first" else [0, 1]
    statuses = result.report["status"].tolist()
    assert [i for i, s in enumerate(statuses) if s == "skipped"] == skipped
    assert [s for s in statuses if s != "skipped"] == ["updated"] * 3
    assert result.report.index.tolist() == [str(r[0]) for r in rows]
    assert result.report["message"].iloc[skipped[0]] == (
        f"another row of this ticket is sent instead (--keep {keep})"
    )
    assert hub.ticket(FIRST)["properties"]["subject"]["value"] == landed
    assert sum(w["objectId"] == FIRST for w in hub.writes if w["name"] == "subject") == 1
    assert result.ok


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_a_stop_mid_file_reports_every_row_and_the_journal_resumes(tmp_path, monkeypatch, api):
    with FakeHubSpot(daily_limit=4) as hub:  # the definitions, then three batches (of 100)
        ids = hub.seed_tickets(450, start_id=FIRST)
        path = _csv(tmp_path, [(i, "CLOSED", "x") for i in ids])
        journal = tmp_path / "push.jsonl"
        with TicketsClient(hub.token, base_url=hub.base_url, max_workers=1, api=api) as client:

            def push():
                return push_file(
                    EditsFile(path),
                    client,
                    id_column="Ticket ID",
                    chunk_rows=200,
                    journal=journal,
                    progress=False,
                )

            with pytest.raises(UpdateStopped) as stopped:
                push()
            report = stopped.value.result.report
            assert len(report) == 450 and report.index.is_unique  # every row, once
            counts = report["status"].value_counts()
            assert counts["updated"] == 300  # three batches of 100 landed
            assert counts["failed"] == 100  # the fourth got the daily limit's 429
            assert set(report["status"].iloc[400:]) == {"not_sent"}  # the chunk never read
            hub._limiter.daily = None  # a new day
            resumed = push()
        counts = resumed.report["status"].value_counts()
        assert counts["already_updated"] == 300 and counts["updated"] == 150
        assert all(hub.ticket(i)["properties"]["status"]["value"] == "CLOSED" for i in ids)


def test_chunks_share_one_progress_bar(hub, tmp_path, capsys):
    path = _csv(tmp_path, [(FIRST + i, "CLOSED", "x") for i in range(9)])
    argv = ["push", str(path), "--chunk-size", "2", "--progress", "--base-url", hub.base_url]
    assert main(argv) == 0
    err = capsys.readouterr().err
    bars = [line for line in err.split("\n") if "hubtickets update" in line]
    assert len(bars) == 1  # one bar, redrawn in place
    assert "9/9" in bars[0]


def test_update_advances_a_bar_it_is_given_and_leaves_it_open(hub, client):
    edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "subject": ["a", "b"]})
    bar = progress_bar(4, desc="shared", unit="row", enabled=True)
    update(edits, client, progress=bar)
    update(edits.assign(subject=["c", "d"]), client, progress=bar)
    assert bar._bar is not None and bar._bar.n == 4 and not bar._bar.disable
    bar.close()


def test_bad_keep_and_chunk_size_are_refused(client, tmp_path):
    path = _csv(tmp_path, [(FIRST, "OPEN", "a")])
    with pytest.raises(ConfigurationError, match="keep must be"):
        push_file(EditsFile(path), client, id_column="Ticket ID", keep="any")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="chunk_rows must be a positive"):
        push_file(EditsFile(path), client, id_column="Ticket ID", chunk_rows=0)


# -- the command line, every kind of file ---------------------------------------------------


def test_push_reads_xlsx_and_sends_its_date_cells_as_midnight_utc(hub, tmp_path, capsys):
    pytest.importorskip("python_calamine")
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.append(["Ticket ID", "status", "due_date"])
    book.active.append([FIRST, "CLOSED", dt.date(2026, 1, 2)])
    book.active.append([FIRST + 1, "OPEN", None])
    path = tmp_path / "edits.xlsx"
    book.save(path)
    assert main(["push", str(path), "--base-url", hub.base_url]) == 0
    assert "2 rows: 2 updated" in capsys.readouterr().out
    assert hub.ticket(FIRST)["properties"]["due_date"]["value"] == "1767312000000"


def test_push_reads_cp1252_with_encoding_and_refuses_it_without(hub, tmp_path, capsys):
    path = tmp_path / "edits.csv"
    path.write_bytes(f"Ticket ID;subject\n{FIRST};Caf\u00e9\n".encode("cp1252"))
    assert main(["push", str(path), "--base-url", hub.base_url]) == 2
    err = capsys.readouterr().err
    assert "is not UTF-8 text; try --encoding cp1252" in err
    assert _posts(hub) == []
    assert main(["push", str(path), "--encoding", "cp1252", "--base-url", hub.base_url]) == 0
    assert hub.ticket(FIRST)["properties"]["subject"]["value"] == "Café"


@pytest.mark.parametrize("keep", ["first", "last"])
def test_push_keep_exits_0_and_the_report_lists_the_skipped_row(hub, tmp_path, keep):
    path = _csv(tmp_path, [(FIRST, "OPEN", "a"), (FIRST, "CLOSED", "b")])
    report = tmp_path / "report.csv"
    argv = ["push", str(path), "--keep", keep, "--report", str(report)]
    assert main([*argv, "--base-url", hub.base_url]) == 0
    statuses = pd.read_csv(report)["status"].tolist()
    assert statuses == (["updated", "skipped"] if keep == "first" else ["skipped", "updated"])
    assert hub.ticket(FIRST)["properties"]["subject"]["value"] == ("a" if keep == "first" else "b")


def test_push_duplicate_rows_exit_2_and_name_the_keep_flag(hub, tmp_path, capsys):
    path = _csv(tmp_path, [(FIRST, "OPEN", "a"), (FIRST, "CLOSED", "b")])
    assert main(["push", str(path), "--base-url", hub.base_url]) == 2
    assert "keep one row per ticket, or use --keep first|last" in capsys.readouterr().err


def test_push_refuses_an_unsupported_file_in_one_line(hub, tmp_path, capsys):
    path = tmp_path / "edits.xls"
    path.write_bytes(b"\xd0\xcf")
    assert main(["push", str(path), "--base-url", hub.base_url]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"hubtickets push: cannot read {path}: .xls files are not supported")


@pytest.mark.parametrize("name", ["edits.parquet", "edits.jsonl"])
def test_push_reads_parquet_and_json_lines(hub, tmp_path, name, capsys):
    path = tmp_path / name
    frame = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "subject": ["p", "q"]})
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    assert main(["push", str(path), "--id-column", "objectId", "--base-url", hub.base_url]) == 0
    assert hub.ticket(FIRST + 1)["properties"]["subject"]["value"] == "q"


def test_push_only_changed_in_chunks_writes_an_undo_folder_that_undo_restores(hub, tmp_path):
    before = {FIRST + i: hub.ticket(FIRST + i)["properties"]["subject"]["value"] for i in range(7)}
    status = {i: hub.ticket(i)["properties"]["status"]["value"] for i in before}
    rows = [(i, status[i], f"new {i}" if i % 2 else before[i]) for i in before]  # 3 changed
    path = _csv(tmp_path, rows)
    undo = tmp_path / "undo.parquet"
    argv = ["push", str(path), "--chunk-size", "3", "--only-changed", "--undo", str(undo)]
    assert main([*argv, "--base-url", hub.base_url]) == 0
    assert sorted(p.name for p in undo.iterdir()) == [f"chunk-{n:05d}.parquet" for n in range(3)]
    assert sorted(w["objectId"] for w in hub.writes) == [i for i in before if i % 2]
    assert main(["undo", str(undo), "--base-url", hub.base_url]) == 0
    after = {i: hub.ticket(i)["properties"]["subject"]["value"] for i in before}
    assert after == before


def test_push_xlsx_date_and_time_cells_need_a_time_zone(hub, tmp_path, capsys):
    pytest.importorskip("python_calamine")
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.append(["Ticket ID", "closed_date"])
    book.active.append([FIRST, dt.datetime(2024, 3, 5, 14, 30)])  # Excel keeps no time zone
    path = tmp_path / "edits.xlsx"
    book.save(path)
    argv = ["push", str(path), "--base-url", hub.base_url, "--coerce"]
    assert main(argv) == 2  # not sent as 14:30 UTC without a word
    assert "--tz" in capsys.readouterr().err and hub.writes == []
    assert main([*argv, "--tz", "Europe/Paris"]) == 0
    paris = pd.Timestamp("2024-03-05 14:30", tz="Europe/Paris")
    assert [w["value"] for w in hub.writes] == [str(paris.value // 10**6)]  # 13:30 UTC


def test_xlsx_date_and_time_cells_are_read_as_naive_text(tmp_path):
    pytest.importorskip("python_calamine")
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.append(["Ticket ID", "at", "day"])
    book.active.append([FIRST, dt.datetime(2024, 3, 5, 14, 30), dt.date(2024, 3, 5)])
    path = tmp_path / "edits.xlsx"
    book.save(path)
    edits, _ = EditsFile(path).prepare(next(EditsFile(path).frames()), "Ticket ID")
    assert edits["at"].tolist() == ["2024-03-05T14:30:00"]
    assert edits["day"].tolist() == [pd.Timestamp("2024-03-05", tz="UTC")]  # a date: midnight UTC
