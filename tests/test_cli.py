"""The hubtickets command against the emulator: the README's commands, exit codes, messages."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata

import pandas as pd
import pytest
from helpers import serve_output

import pandas_hubtickets as ht
from pandas_hubtickets import TicketsClient, read_tidy
from pandas_hubtickets._cli import _parser, main
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 176_000


@pytest.fixture
def hub(monkeypatch):
    with FakeHubSpot(seed=1) as hub:
        hub.seed_tickets(5, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        yield hub


@pytest.fixture
def edits(tmp_path):
    """The README's edits.csv: a clean file of three edits."""
    csv = tmp_path / "edits.csv"
    csv.write_text(
        "Ticket ID,status,due_date\n"
        f"{FIRST},CLOSED,2026-01-02\n"
        f"{FIRST + 1},OPEN,\n"
        f"{FIRST + 2},WAITING,2026-03-04T00:00+00:00\n"
    )
    return csv


def _sent(hub):
    return [r for r in hub.requests if r.method == "POST"]


# -- help, version ------------------------------------------------------------------------


def _commands():
    parser = _parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, sub.choices


def test_every_option_of_every_command_has_a_help_line_with_its_default():
    _, commands = _commands()
    assert set(commands) == {"demo", "serve", "push", "pull", "undo"}
    for name, command in commands.items():
        formatter = command._get_formatter()
        for action in command._actions:
            if not action.option_strings or action.dest == "help":
                continue
            text = formatter._get_help_string(action) % {"default": action.default}
            assert "default" in text, (name, action.option_strings, text)


def test_help_lists_the_exit_codes_and_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f"\n  {code}" in out
    assert "a conflict (undo)" in out and "cells refused" in out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"hubtickets {metadata.version('pandas-hubtickets')}"
    with pytest.raises(SystemExit):
        main(["push", "--help"])
    assert "--no-check-properties" in capsys.readouterr().out


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as done:
        main(["push"])
    assert done.value.code == 2


# -- the README's commands ----------------------------------------------------------------


@pytest.mark.parametrize("api", ["v1", "2026-03"])
def test_demo_runs_offline_and_writes_a_history_plain_pandas_opens(tmp_path, capsys, api):
    assert main(["demo", "--out", str(tmp_path), "--api", api]) == 0
    out = capsys.readouterr().out
    assert f"through the {api} API" in out
    assert ("207 answer named" in out) == (api != "v1")
    assert "INVALID_DATE" in out and "INVALID_OPTION" in out and "OBJECT_NOT_FOUND" in out
    history = pd.read_parquet(tmp_path / "history.parquet")
    if api == "v1":  # v1 answers an update with each property's versions and sources
        assert set(history["source"].astype(str)) >= {"API", "CALCULATED"}
    else:  # the newer APIs with the current values only
        assert history["timestamp"].isna().all() and history["value"].notna().all()
    assert history["objectId"].nunique() == 996  # 1,001 rows, 5 refused
    assert (
        read_tidy(tmp_path / "history.parquet")["objectId"].tolist() == history["objectId"].tolist()
    )
    journal = (tmp_path / "push-journal.jsonl").read_text().splitlines()
    assert len(journal) == 1 + 1001 - 4  # the header; the 4 rows refused are not journaled


def test_readme_push_with_journal_and_report(hub, edits, tmp_path, capsys):
    journal, report = tmp_path / "push.jsonl", tmp_path / "report.csv"
    args = ["push", str(edits), "--date-columns", "due_date", "--journal", str(journal)]
    args += ["--report", str(report), "--base-url", hub.base_url]
    assert main(args) == 0
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"
    assert hub.ticket(FIRST)["properties"]["due_date"]["value"] == "1767312000000"
    assert hub.ticket(FIRST + 2)["properties"]["due_date"]["value"] == "1772582400000"
    assert pd.read_csv(report, index_col="row")["status"].tolist() == ["updated"] * 3
    assert "3 rows: 3 updated" in capsys.readouterr().out
    posts = len(_sent(hub))
    assert main(args) == 0  # again: the journal had every row
    assert len(_sent(hub)) == posts
    assert "3 already_updated" in capsys.readouterr().out
    statuses = pd.read_csv(report, index_col="row")["status"].tolist()
    assert statuses == ["already_updated"] * 3


def test_readme_push_skip_invalid_sends_the_valid_rows_and_exits_1(hub, tmp_path, capsys):
    csv = tmp_path / "edits.csv"
    csv.write_text(
        "Ticket ID,status,due_date\n"
        f"{FIRST},CLOSED,2026-01-02\n"
        f"{FIRST + 1},NOPE,\n"
        f"{FIRST + 2},NA,\n"  # the text "NA" is a value, not a missing cell
        f"{FIRST + 3},OPEN,05/03/2024\n"
    )
    report, journal = tmp_path / "report.csv", tmp_path / "push.jsonl"
    args = ["push", str(csv), "--date-columns", "due_date", "--journal", str(journal)]
    args += ["--report", str(report), "--skip-invalid", "--base-url", hub.base_url]
    assert main(args) == 1
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"
    assert hub.ticket(FIRST + 3)["properties"]["status"]["value"] != "OPEN"  # its date is bad
    report_rows = pd.read_csv(report, index_col="row")
    assert report_rows["status"].tolist() == ["updated", "failed", "failed", "failed"]
    out = capsys.readouterr().out
    assert "1 updated, 3 failed" in out
    assert "status: 2 x INVALID_OPTION" in out
    assert "due_date: 1 x NOT_ISO_8601: '05/03/2024' is not an ISO 8601 date" in out
    assert "all 3 problems: --problems FILE" in out


def test_readme_dry_run_checks_everything_and_sends_nothing(hub, edits, tmp_path, capsys):
    base = ["--base-url", hub.base_url]
    assert main(["push", str(edits), "--dry-run", *base]) == 2  # due_date is a date property
    assert "or read the column as dates with --date-columns due_date" in (capsys.readouterr().err)
    assert main(["push", str(edits), "--dry-run", "--date-columns", "due_date", *base]) == 0
    assert "3 dry_run" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Ticket ID,is_escalated\n{FIRST},yes\n{FIRST + 1},true\n")
    assert main(["push", str(bad), "--dry-run", *base]) == 2
    assert "is_escalated: 1 x INVALID_BOOLEAN" in capsys.readouterr().err
    assert main(["push", str(bad), "--dry-run", "--skip-invalid", *base]) == 1  # as a real run
    assert "1 failed, 1 dry_run" in capsys.readouterr().out
    assert hub.writes == []
    assert [r.method for r in hub.requests] == ["GET"] * 4  # the definitions, once a run


def test_readme_pull_with_properties_writes_parquet_plain_pandas_opens(hub, tmp_path, capsys):
    out = tmp_path / "history.parquet"
    args = ["pull", str(out), "--properties", "status", "subject", "--base-url", hub.base_url]
    assert main(args) == 0
    tidy = pd.read_parquet(out)
    assert sorted(tidy["objectId"].unique().tolist()) == list(range(FIRST, FIRST + 5))
    assert set(tidy["property"].astype(str)) == {"status", "subject"}
    printed = capsys.readouterr()
    assert f"{len(tidy):,} rows (current values) of 5 tickets -> {out}" in printed.out
    assert hub.token not in printed.out + printed.err


def _close(hub, ticket):
    """A second version of the ticket's status."""
    with TicketsClient(hub.token, base_url=hub.base_url) as client:
        client.batch_update(
            [{"objectId": ticket, "properties": [{"name": "status", "value": "CLOSED"}]}]
        )


def test_pull_history_of_listed_ids_to_csv(hub, tmp_path, capsys):
    _close(hub, FIRST + 1)
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{FIRST + 1}\n{FIRST + 3}\n")
    out = tmp_path / "history.csv"
    args = ["pull", str(out), "--history", "--ids", str(ids), "--properties", "status"]
    assert main([*args, "--no-progress", "--base-url", hub.base_url]) == 0
    assert out.read_text().startswith("objectId,")  # CSV text, not Parquet under a .csv name
    tidy = pd.read_csv(out)
    assert sorted(tidy["objectId"].unique().tolist()) == [FIRST + 1, FIRST + 3]
    assert tidy.groupby("objectId").size().to_dict() == {FIRST + 1: 2, FIRST + 3: 1}
    assert tidy.loc[tidy["version"] == 0].set_index("objectId").loc[FIRST + 1, "value"] == "CLOSED"
    assert f"{len(tidy)} rows (every version) of 2 tickets -> {out}" in capsys.readouterr().out


def test_pull_history_without_properties_reads_every_version_of_every_property(hub, tmp_path):
    _close(hub, FIRST + 1)
    out = tmp_path / "history.parquet"
    assert main(["pull", str(out), "--history", "--base-url", hub.base_url]) == 0
    tidy = pd.read_parquet(out)
    everything = {name for t in hub.tickets.values() for name in t["properties"]}
    assert set(tidy["property"]) == everything
    status = tidy[(tidy["objectId"] == FIRST + 1) & (tidy["property"] == "status")]
    assert status["value"].tolist()[0] == "CLOSED" and len(status) == 2


def test_pull_exits_1_when_listed_ids_are_not_tickets(hub, tmp_path, capsys):
    ids = tmp_path / "ids.csv"
    ids.write_text(f"Ticket ID,subject\n{FIRST},a\n999999,b\n")
    out = tmp_path / "h.parquet"
    assert main(["pull", str(out), "--ids", str(ids), "--base-url", hub.base_url]) == 1
    assert f"1 of the 2 ids in {ids} are not tickets" in capsys.readouterr().out
    assert pd.read_parquet(out)["objectId"].unique().tolist() == [FIRST]


# -- one pass over every problem ----------------------------------------------------------


def test_every_problem_of_a_messy_file_comes_in_one_refusal(hub, tmp_path, capsys):
    rows = [f"{FIRST},yes,05/03/2024,x", f"{FIRST},true,2024-01-01,y"]  # a duplicate id
    rows += [f"{FIRST + i},yes,,z" for i in range(1, 4)] + [f"{FIRST + 4},no,soon,"]
    csv = tmp_path / "edits.csv"
    csv.write_text("Ticket ID,is_escalated,due_date,colour\n" + "\n".join(rows) + "\n")
    problems = tmp_path / "problems.csv"
    args = ["push", str(csv), "--date-columns", "due_date", "--problems", str(problems)]
    assert main([*args, "--base-url", hub.base_url]) == 2
    assert _sent(hub) == []
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "hubtickets push: 10 problems found before sending; nothing was sent:"
    assert err[1].startswith("  colour: 1 x PROPERTY_DOESNT_EXIST")  # refuses every row: first
    assert err[2] == (
        "  is_escalated: 5 x INVALID_BOOLEAN: 'yes' is not a boolean: send true or false "
        "(values: 'yes', 'no')"
    )
    ties = sorted(err[3:5])  # two groups of two
    assert ties[0].startswith("  Ticket ID: 2 x DUPLICATE_ID")
    assert ties[1].startswith("  due_date: 2 x NOT_ISO_8601: '05/03/2024' is not an ISO 8601")
    assert ties[1].endswith("(values: '05/03/2024', 'soon')")
    assert err[-1] == f"all 10 problems -> {problems}"
    written = pd.read_csv(problems, dtype=str)
    assert list(written.columns) == ["row", "objectId", "column", "code", "value", "problem"]
    assert written["code"].value_counts().to_dict() == {
        "INVALID_BOOLEAN": 5,
        "DUPLICATE_ID": 2,
        "NOT_ISO_8601": 2,
        "PROPERTY_DOESNT_EXIST": 1,
    }


def test_problems_file_with_skip_invalid_lists_the_refused_rows(hub, tmp_path):
    csv = tmp_path / "edits.csv"
    csv.write_text(f"Ticket ID,status,is_escalated\n{FIRST},NOPE,maybe\n{FIRST + 1},OPEN,true\n")
    problems = tmp_path / "problems.csv"
    args = ["push", str(csv), "--skip-invalid", "--problems", str(problems)]
    assert main([*args, "--base-url", hub.base_url]) == 1
    written = pd.read_csv(problems, dtype=str)
    assert written[["objectId", "column", "code", "value"]].values.tolist() == [
        [str(FIRST), "status", "INVALID_OPTION", "NOPE"],
        [str(FIRST), "is_escalated", "INVALID_BOOLEAN", "maybe"],
    ]


def test_a_wrong_id_column_is_named_with_the_flag_to_fix_it(hub, tmp_path, capsys):
    csv = tmp_path / "edits.csv"
    csv.write_text(f"ticket_id,status\n{FIRST},OPEN\n")
    assert main(["push", str(csv), "--base-url", hub.base_url]) == 2
    err = capsys.readouterr().err
    assert (
        "no ticket id column: none of 'objectId', 'hs_object_id', 'Ticket ID', 'id' is a column "
        "(the file has 'ticket_id', 'status'); "
        "did you mean 'ticket_id'?; use --id-column"
    ) in err
    assert "id_column=" not in err and ".problems" not in err


# -- bad input: exit 2, nothing sent -------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--date-columns", "due"], "--date-columns names 'due', not a column of {csv}"),
        (["--report", "{tmp}/no/such/report.csv"], "cannot write --report {tmp}/no/such"),
        (["--na", "error"], "missing value (--na error): fill it, or use --na skip"),
    ],
)
def test_bad_input_exits_2_naming_the_file_and_flag(hub, edits, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(["push", str(edits), *argv, "--base-url", hub.base_url]) == 2
    assert message.format(csv=edits, tmp=tmp_path) in capsys.readouterr().err
    assert _sent(hub) == []


def test_pull_refuses_an_unknown_extension_before_reading(hub, tmp_path, capsys):
    out = tmp_path / "history.xlsx"
    assert main(["pull", str(out), "--base-url", hub.base_url]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "accepted extensions: .parquet, .csv" in err
    assert hub.requests == []


# -- stopped: exit 3, with how to resume --------------------------------------------------


def test_a_wrong_token_stops_with_3_and_says_how_to_resume(hub, edits, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-wrong")
    assert main(["push", str(edits), "--base-url", hub.base_url]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert "401" in err[0] and "HUBSPOT_ACCESS_TOKEN" in err[0]
    assert "pat-na1-wrong" not in "\n".join(err)
    assert "Add --journal FILE" in err[-1] and "--report FILE lists what landed" in err[-1]
    out = [str(edits).replace("edits.csv", "h.parquet")]
    assert main(["pull", *out, "--base-url", hub.base_url]) == 3


def test_the_daily_limit_stops_with_3_and_the_same_command_resumes(tmp_path, monkeypatch, capsys):
    with FakeHubSpot(daily_limit=3) as hub:  # the definitions, then two batches of 100
        ids = hub.seed_tickets(250, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        csv = tmp_path / "edits.csv"
        csv.write_text("Ticket ID,status\n" + "".join(f"{i},CLOSED\n" for i in ids))
        journal, report = tmp_path / "push.jsonl", tmp_path / "report.csv"
        args = ["push", str(csv), "--journal", str(journal), "--report", str(report)]
        args += ["--base-url", hub.base_url]
        assert main(args) == 3
        captured = capsys.readouterr()
        assert "429 RATE_LIMIT: You have reached your daily limit" in captured.err
        assert captured.err.strip().splitlines()[-1] == (
            "to resume, run the same command again: the journal sends only what is left"
        )
        landed = int((pd.read_csv(report)["status"] == "updated").sum())
        assert landed in (150, 200)  # two of the three batches (100, 100, 50), sent at once
        hub._limiter.daily = None  # a new day
        assert main(args) == 0
        out = capsys.readouterr().out
        assert f"250 rows: {250 - landed} updated, {landed} already_updated" in out
        assert all(hub.ticket(i)["properties"]["status"]["value"] == "CLOSED" for i in ids)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


def test_an_unreachable_base_url_stops_at_once_with_3(edits, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-test")
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["push", str(edits), "--base-url", url]) == 3
    err = capsys.readouterr().err
    assert url in err and "Add --journal FILE" in err.strip().splitlines()[-1]
    assert "Check --base-url and the network" in err and "base_url" not in err
    assert main(["pull", str(tmp_path / "h.parquet"), "--base-url", url]) == 3
    assert main(["push", str(edits), "--dry-run", "--base-url", url]) == 3
    err = capsys.readouterr().err
    assert "base_url" not in err and "to resume" not in err  # a dry run has nothing to resume


# -- serve --history ----------------------------------------------------------------------


def test_serve_history_seeds_generated_histories_a_pull_reads(tmp_path, monkeypatch):
    token = "pat-na1-serve-history"
    cmd = [sys.executable, "-m", "pandas_hubtickets._cli", "serve", "--port", "0"]
    cmd += ["--tickets", "3", "--history", "20", "--token", token]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        printed = serve_output(proc)
        url = printed[0].split(" at ")[1].strip()
        assert printed[1].startswith(f"  and 20 generated ticket histories, ids {FIRST + 3} to ")
        assert f"to {FIRST + 22} (" in printed[1]
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", token)
        out = tmp_path / "history.parquet"
        assert main(["pull", str(out), "--history", "--base-url", url, "--no-progress"]) == 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    pulled = read_tidy(out)
    # The same portal built in this process: what `serve --history` holds, version for version.
    with FakeHubSpot(seed=0) as hub, TicketsClient(hub.token, base_url=hub.base_url) as client:
        hub.seed_tickets(3, start_id=FIRST)
        generated = hub.generate_history(20, start_id=FIRST + 3)
        expected = ht.flatten(client.iter_tickets(history=True))
    assert generated == list(range(FIRST + 3, FIRST + 23))
    columns = ["objectId", "property", "value", "timestamp", "source", "sourceId"]
    key = ["objectId", "property", "timestamp", "value"]
    assert (
        pulled[columns]
        .sort_values(key, ignore_index=True)
        .equals(expected[columns].sort_values(key, ignore_index=True))
    )
    live = set(pulled["objectId"])
    assert len(live & set(generated)) == 19 and set(range(FIRST, FIRST + 3)) <= live  # 1 deleted
    histories = pulled[pulled["objectId"].isin(generated)]
    assert {"WORKFLOWS", "IMPORT", "INTEGRATION", "CRM_UI"} <= set(histories["source"])
    moves = histories.hubtickets.transitions()
    assert moves["objectId"].nunique() > 10  # tickets moved through their pipeline


def test_serve_refuses_negative_counts_with_2(capsys):
    for flag in ("--tickets", "--history"):
        with pytest.raises(SystemExit) as done:
            main(["serve", "--port", "0", flag, "-1"])
        assert done.value.code == 2
        assert f"argument {flag}: must be a whole number, 0 or more, not '-1'" in (
            capsys.readouterr().err
        )


# -- Ctrl-C: exit 130 ---------------------------------------------------------------------


def test_ctrl_c_exits_130_with_the_resume_hint(tmp_path):
    with FakeHubSpot(latency=0.3) as hub:  # 30 batches, 4 at a time: about 2.5 s to send
        ids = hub.seed_tickets(3000, start_id=FIRST)
        csv = tmp_path / "edits.csv"
        csv.write_text("Ticket ID,status\n" + "".join(f"{i},CLOSED\n" for i in ids))
        journal = tmp_path / "push.jsonl"
        env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": hub.token}
        cmd = [sys.executable, "-m", "pandas_hubtickets._cli", "push", str(csv)]
        cmd += ["--journal", str(journal), "--base-url", hub.base_url]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(r.method == "POST" for r in hub.requests):  # sending has begun
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "not_sent" in out.decode()
    assert err.decode().strip().splitlines()[-1] == (
        "to resume, run the same command again: the journal sends only what is left"
    )


def test_push_exits_1_and_lists_rows_hubspot_did_not_confirm(tmp_path, monkeypatch, capsys):
    from hostile import Hostile

    csv = tmp_path / "edits.csv"
    csv.write_text("Ticket ID,subject\n700,a\n701,b\n")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-hostile-0000")
    report = tmp_path / "report.csv"
    with Hostile("empty_list") as server:  # a 200 that lists no ticket
        args = ["push", str(csv), "--base-url", server.base_url, "--no-check-properties"]
        assert main([*args, "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "unknown (may have been applied" in out
    assert pd.read_csv(report)["status"].tolist() == ["unknown", "unknown"]


# -- the --report file speaks the command line ---------------------------------------------


def test_report_file_has_one_column_per_name_and_messages_in_cli_words(hub, tmp_path):
    csv = tmp_path / "edits.csv"
    csv.write_text(
        "objectId,status,due_date\n"
        f"{FIRST},CLOSED,soon\n"  # refused: a text date needs --dayfirst/--monthfirst words
        f"{FIRST + 1},Nope,2026-01-02\n"  # --skip-invalid-cells: status refused, due_date sent
    )
    report = tmp_path / "report.csv"
    args = ["push", str(csv), "--coerce", "--report", str(report), "--base-url", hub.base_url]
    assert main([*args, "--skip-invalid"]) == 1
    header = report.read_text().splitlines()[0].split(",")
    assert header == [
        *("row", "objectId", "status", "http_status", "error", "message", "attempts", "batch")
    ]
    messages = " ".join(pd.read_csv(report, dtype=str)["message"].dropna())
    assert "NOT_A_DATE" in pd.read_csv(report)["error"].tolist()
    assert "--dayfirst or --monthfirst" in messages
    assert "dayfirst=" not in messages and "(found before sending)" in messages
    assert main([*args, "--skip-invalid-cells"]) == 1
    rows = pd.read_csv(report, dtype=str).set_index("row")
    assert rows.loc[str(FIRST + 1), "status"] == "partly_updated"
    message = rows.loc[str(FIRST + 1), "message"]
    assert message.endswith("see --problems FILE"), message
    assert "=" not in " ".join(rows["message"].dropna())


def test_skip_invalid_and_skip_invalid_cells_together_are_refused(hub, edits, capsys):
    argv = ["push", str(edits), "--skip-invalid", "--skip-invalid-cells", "--date-columns"]
    assert main([*argv, "due_date", "--base-url", hub.base_url]) == 2
    err = capsys.readouterr().err
    assert "--skip-invalid and --skip-invalid-cells" in err and "one of them" in err
    assert hub.requests == []
