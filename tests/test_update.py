"""df.hubtickets.update over real sockets against the emulator: one outcome per row, always."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import PayloadError, UpdateInterrupted, UpdateStopped
from pandas_hubtickets.testing import FakeHubSpot, Faults

FIRST = 500_000


def make_client(hub: FakeHubSpot, **kw) -> ht.TicketsClient:
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("requests_per_10s", 1000)
    return ht.TicketsClient(hub.token, base_url=hub.base_url, **kw)


def edits(n: int, statuses=("CLOSED", "OPEN", "WAITING")) -> pd.DataFrame:
    ids = np.arange(FIRST, FIRST + n)
    return pd.DataFrame(
        {
            "objectId": ids,
            "status": [statuses[i % len(statuses)] for i in range(n)],
            "subject": [f"subject {i}" for i in range(n)],
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="row"),
    )


@pytest.fixture
def hub():
    with FakeHubSpot(seed=3) as hub:
        hub.seed_tickets(300, start_id=FIRST)
        yield hub


def batch_updates(hub: FakeHubSpot) -> list:
    return [r for r in hub.requests if r.path.endswith("/batch-update")]


def test_every_row_updated_and_landed(hub):
    df = edits(250)
    result = df.hubtickets.update(make_client(hub), progress=False)
    report = result.report
    assert list(report.columns) == [
        "objectId",
        "status",
        "http_status",
        "error",
        "message",
        "attempts",
        "batch",
    ]
    assert report.index.equals(df.index)
    assert report["objectId"].tolist() == df["objectId"].tolist()
    assert (report["status"] == "updated").all()
    assert (report["http_status"] == 200).all()
    assert sorted(report["batch"].unique().tolist()) == [0, 1, 2]
    assert result.ok and result.counts["updated"] == 250
    for oid, status in zip(df["objectId"], df["status"], strict=True):
        assert hub.ticket(int(oid))["properties"]["status"]["value"] == status
    assert sorted(r.objects for r in batch_updates(hub)) == [50, 100, 100]
    # the tidy frame holds what HubSpot answered, newest version first
    tickets = result.tickets
    current = tickets[(tickets["property"] == "status") & (tickets["version"] == 0)]
    assert dict(zip(current["objectId"], current["value"], strict=True)) == dict(
        zip(df["objectId"], df["status"], strict=True)
    )
    assert "250 updated" in repr(result) and "250 updated" in result._repr_html_()


def test_bad_rows_are_isolated_by_splitting(hub):
    df = edits(100)
    df.loc["r10", "status"] = "DONE"
    df.loc["r70", "objectId"] = 999_999  # no such ticket
    result = df.hubtickets.update(make_client(hub), check_properties=False, progress=False)
    report = result.report
    failed = report[report["status"] == "failed"]
    assert failed.index.tolist() == ["r10", "r70"]
    assert failed["error"].tolist() == ["INVALID_OPTION", "OBJECT_NOT_FOUND"]
    assert "DONE" in failed.loc["r10", "message"]
    assert (failed["http_status"] == 400).all()
    assert (report.drop(["r10", "r70"])["status"] == "updated").all()
    # every valid row landed; the bad ones did not
    assert hub.ticket(FIRST + 11)["properties"]["status"]["value"] == df.loc["r11", "status"]
    assert hub.ticket(FIRST + 10)["properties"]["status"]["value"] != "DONE"
    # about (bad rows) x log2(batch size) extra requests, not one per row
    assert len(batch_updates(hub)) <= 1 + 2 * 2 * 7
    assert result.failed_rows().index.tolist() == ["r10", "r70"]
    assert result.failed_rows().columns.tolist() == df.columns.tolist()
    assert not result.ok


def test_unknown_ids_are_isolated_also_when_the_batch_is_a_404():
    with FakeHubSpot(seed=3, missing_object_status=404) as strict:
        strict.seed_tickets(40, start_id=FIRST)
        df = edits(40)
        df.loc["r25", "objectId"] = 999_999
        result = df.hubtickets.update(make_client(strict), progress=False)
        failed = result.report[result.report["status"] == "failed"]
        assert failed.index.tolist() == ["r25"]
        assert failed["http_status"].tolist() == [404]
        assert failed["error"].tolist() == ["OBJECT_NOT_FOUND"]
        assert result.counts["updated"] == 39


def test_rows_with_nothing_to_send_are_skipped(hub):
    df = edits(3)
    df.loc["r1", ["status", "subject"]] = None
    result = df.hubtickets.update(make_client(hub), progress=False)
    assert result.report["status"].tolist() == ["updated", "skipped", "updated"]
    assert batch_updates(hub)[0].objects == 2


def test_bad_input_raises_before_anything_is_sent(hub):
    df = edits(5)
    df.loc["r3", "objectId"] = FIRST  # a duplicate id
    with pytest.raises(PayloadError):
        df.hubtickets.update(make_client(hub), progress=False)
    assert hub.requests == []


def test_dry_run_sends_nothing(hub):
    df = edits(120)
    df.loc["r5", ["status", "subject"]] = None
    result = df.hubtickets.update(make_client(hub), dry_run=True, progress=False)
    assert hub.requests == []
    assert result.counts["dry_run"] == 119 and result.counts["skipped"] == 1
    assert result.payload == df.hubtickets.to_payload()


def test_transient_faults_lose_nothing_and_report_nothing_twice(hub):
    faults = Faults(rate_429=0.1, rate_500=0.1, rate_502=0.1, rate_503=0.1, drop=0.05)
    with FakeHubSpot(seed=11, faults=faults) as flaky:
        flaky.seed_tickets(300, start_id=FIRST)
        df = edits(300)
        result = df.hubtickets.update(
            make_client(flaky, max_retries=10), batch_size=20, progress=False
        )
        assert (result.report["status"] == "updated").all()
        assert result.report["attempts"].max() > 1
        faulted = [r for r in flaky.requests if r.fault is not None]
        assert faulted, "the seeded faults should have hit some requests"
        written = pd.Series([w["objectId"] for w in flaky.writes if w["name"] == "status"])
        assert set(written) == set(df["objectId"])


def test_daily_limit_stops_at_once_with_partial_result(hub):
    with FakeHubSpot(seed=3, daily_limit=3) as limited:  # 1 property check + 2 batches
        limited.seed_tickets(50, start_id=FIRST)
        df = edits(50)
        with pytest.raises(UpdateStopped) as info:
            df.hubtickets.update(make_client(limited, max_workers=1), batch_size=10, progress=False)
        report = info.value.result.report
        assert report["status"].tolist() == ["updated"] * 20 + ["failed"] * 10 + ["not_sent"] * 20
        assert report["error"].iloc[20] == "RATE_LIMIT"
        assert len(batch_updates(limited)) == 3  # no retry of the DAILY 429
        assert "DAILY" in str(info.value) or "daily" in str(info.value)
        assert info.value.result.failed_rows().index.equals(df.index[20:])


def test_unknown_and_read_only_columns_are_refused_before_sending(hub):
    df = edits(5).assign(stauts="OPEN", createdate=0)
    with pytest.raises(PayloadError) as info:
        df.hubtickets.update(make_client(hub), progress=False)
    assert info.value.problems[["column", "code", "problem"]].values.tolist() == [
        ["stauts", "PROPERTY_DOESNT_EXIST", "HubSpot has no ticket property named 'stauts'"],
        ["createdate", "READ_ONLY_VALUE", "property 'createdate' is read-only in HubSpot"],
    ]
    assert batch_updates(hub) == []
    with pytest.raises(PayloadError):  # a bad column refuses the frame, also when skipping
        df.hubtickets.update(make_client(hub), on_invalid="skip", progress=False)


def test_values_hubspot_would_refuse_are_found_before_sending(hub):
    df = edits(6).assign(
        hs_ticket_priority=["LOW", "High", "URGENT", "LOW", " LOW", "HIGH"],
        due_date=pd.to_datetime(
            ["2026-01-02", "2026-01-02 13:01", None, None, None, None], format="ISO8601"
        ),
        is_escalated=["true", "true", "yes", "false", "true", "true"],
    )
    with pytest.raises(PayloadError) as info:
        df.hubtickets.update(make_client(hub), progress=False)
    assert info.value.problems[["row", "column"]].values.tolist() == [
        ["r1", "hs_ticket_priority"],
        ["r1", "due_date"],
        ["r2", "is_escalated"],
        ["r4", "hs_ticket_priority"],
    ]
    problems = info.value.problems
    assert problems["code"].tolist() == [
        "INVALID_OPTION",
        "INVALID_DATE",
        "INVALID_BOOLEAN",
        "LEADING_TRAILING_WHITESPACE",
    ]
    assert [problems["value"].iloc[i] for i in (0, 2, 3)] == ["High", "yes", " LOW"]
    assert problems["problem"].iloc[0] == (
        "'High' is not an option of 'hs_ticket_priority': use the option value 'HIGH'"
    )
    assert batch_updates(hub) == []

    result = df.hubtickets.update(make_client(hub), on_invalid="skip", progress=False)
    report = result.report
    assert report["status"].tolist() == [
        "updated",
        "failed",
        "failed",
        "updated",
        "failed",
        "updated",
    ]
    assert report.loc["r1", "error"] == "INVALID_OPTION"  # the first of its two problems
    assert (
        "not an option" in report.loc["r1", "message"] and "midnight" in report.loc["r1", "message"]
    )
    assert sum(r.objects for r in batch_updates(hub)) == 3


def test_without_the_property_check_hubspot_refuses_each_row(hub):
    df = edits(4).assign(stauts="OPEN")
    result = df.hubtickets.update(make_client(hub), check_properties=False, progress=False)
    assert result.report["error"].tolist() == ["PROPERTY_DOESNT_EXIST"] * 4
    assert [r for r in hub.requests if "properties" in r.path] == []


def test_unauthorized_stops_the_run(hub):
    df = edits(30)
    client = ht.TicketsClient("pat-na1-wrong-token-1234", base_url=hub.base_url, max_workers=1)
    with pytest.raises(UpdateStopped) as info:
        df.hubtickets.update(client, batch_size=10, progress=False)
    assert info.value.result.report["status"].tolist() == ["failed"] * 10 + ["not_sent"] * 20
    assert "wrong-token" not in str(info.value)


def test_journal_resume_after_interrupt_sends_only_the_rest(tmp_path):
    journal = tmp_path / "push.jsonl"
    with FakeHubSpot(seed=5, latency=0.05) as slow:
        slow.seed_tickets(300, start_id=FIRST)
        df = edits(300)
        client = make_client(slow, max_workers=1)

        def ctrl_c_after_three_batches() -> None:
            while len(slow.requests) < 3:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered to the main thread

        threading.Thread(target=ctrl_c_after_three_batches, daemon=True).start()
        with pytest.raises(UpdateInterrupted) as info:
            df.hubtickets.update(client, batch_size=10, journal=journal, progress=False)
        first = info.value.result.report
        assert isinstance(info.value, KeyboardInterrupt)
        assert set(first["status"]) <= {"updated", "not_sent"}
        done = int((first["status"] == "updated").sum())
        assert 0 < done < 300
        entries = [json.loads(line) for line in journal.read_text().splitlines()]
        assert len(entries) == done and {e["status"] for e in entries} == {"updated"}

        slow.clear_log()
        second = df.hubtickets.update(client, batch_size=10, journal=journal, progress=False)
        assert (second.report["status"] == "updated").all()
        assert sum(r.objects for r in batch_updates(slow)) == 300 - done
        resumed = second.report["message"] == "already updated by an earlier run (journal)"
        assert int(resumed.sum()) == done

        # a row whose values changed since is sent again
        slow.clear_log()
        df.loc["r0", "subject"] = "changed"
        third = df.hubtickets.update(client, journal=journal, progress=False)
        assert [r.objects for r in batch_updates(slow)] == [1]
        assert third.report.loc["r0", "message"] is pd.NA


def test_journal_survives_a_line_cut_short(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    df = edits(10)
    df.hubtickets.update(make_client(hub), journal=journal, progress=False)
    with journal.open("a") as fh:
        fh.write('{"objectId": 5000')  # a crash mid-write
    hub.clear_log()
    with pytest.warns(UserWarning, match="line 11 is not a journal entry"):
        again = df.hubtickets.update(make_client(hub), journal=journal, progress=False)
    assert (again.report["status"] == "updated").all() and batch_updates(hub) == []
    df.loc["r0", "subject"] = "after the crash"
    with pytest.warns(UserWarning):
        df.hubtickets.update(make_client(hub), journal=journal, progress=False)
    lines = journal.read_text().splitlines()
    assert lines[10] == '{"objectId": 5000' and json.loads(lines[11])["objectId"] == FIRST


def test_journal_counts_only_the_newest_entry_of_a_ticket(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    closed = edits(3).assign(status="CLOSED")
    opened = closed.assign(status="OPEN")
    for df in (closed, opened):
        df.hubtickets.update(make_client(hub), journal=journal, progress=False)
    hub.clear_log()
    back = closed.hubtickets.update(make_client(hub), journal=journal, progress=False)
    assert sum(r.objects for r in batch_updates(hub)) == 3
    assert back.report["message"].isna().all()
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"


def test_dry_run_leaves_out_rows_the_journal_says_are_done(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    df = edits(6)
    df.iloc[:4].hubtickets.update(make_client(hub), journal=journal, progress=False)
    hub.clear_log()
    preview = df.hubtickets.update(make_client(hub), journal=journal, dry_run=True)
    assert preview.report["status"].tolist() == ["updated"] * 4 + ["dry_run"] * 2
    assert [o["objectId"] for o in preview.payload] == [FIRST + 4, FIRST + 5]
    assert hub.requests == []


def test_token_never_leaks(tmp_path, hub, caplog, capsys):
    df = edits(40)
    df.loc["r3", "status"] = "DONE"
    journal = tmp_path / "j.jsonl"
    caplog.set_level(logging.DEBUG)
    client = make_client(hub)
    result = df.hubtickets.update(
        client, batch_size=10, journal=journal, progress=True, check_properties=False
    )
    texts = [
        caplog.text,
        repr(client),
        str(client),
        repr(result),
        result._repr_html_(),
        result.report.to_csv(),
        journal.read_text(),
        capsys.readouterr().err,  # the progress bar
    ]
    assert result.counts["failed"] == 1
    for text in texts:
        assert hub.token not in text
    bad = ht.TicketsClient("pat-na1-leaky-secret", base_url=hub.base_url)
    with pytest.raises(UpdateStopped) as info:
        df.hubtickets.update(bad, progress=False)
    assert "leaky-secret" not in str(info.value) + repr(info.value.result) + caplog.text


def test_batch_size_is_checked(hub):
    with pytest.raises(ValueError, match="batch size"):
        edits(3).hubtickets.update(make_client(hub), batch_size=101)


def test_a_second_ctrl_c_stops_waiting_for_batches_in_flight():
    with FakeHubSpot(seed=5, faults=Faults(stall=1.0, stall_seconds=5.0)) as stalled:
        stalled.seed_tickets(30, start_id=FIRST)
        df = edits(30)
        client = make_client(stalled, max_workers=2, timeout=(2.0, 10.0))

        def ctrl_c_twice() -> None:
            time.sleep(0.5)  # both workers are now waiting on stalled answers
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=ctrl_c_twice, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(UpdateInterrupted) as info:
            df.hubtickets.update(client, batch_size=10, check_properties=False, progress=False)
        assert time.monotonic() - started < 3.0  # not the 5 s stall, nor its retries
        report = info.value.result.report
        assert (report["status"] == "not_sent").all()
        in_flight = report["message"] == "in flight when interrupted: may or may not have landed"
        assert int(in_flight.sum()) == 20  # two workers, two batches of 10
