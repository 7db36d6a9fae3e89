"""df.hubtickets.update over real sockets against the emulator: one outcome per row, always."""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import PayloadError, UpdateInterrupted, UpdateStopped, _update
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


def sent_objects(body) -> list:
    """The objects of a batch-update body of any API."""
    return body if isinstance(body, list) else body["inputs"]


def ticket_id(obj) -> int:
    """The ticket id of a v1 object or a versioned input."""
    return obj["objectId"] if "objectId" in obj else int(obj["id"])


def untraced(obj) -> dict:
    """A body object without its ``objectWriteTraceId``."""
    return {k: v for k, v in obj.items() if k != "objectWriteTraceId"}


def batch_updates(hub: FakeHubSpot) -> list:
    return [r for r in hub.requests if r.path.endswith(("/batch-update", "/batch/update"))]


#: Every update test that is about sending runs against each API (v3: where it is cheap).
APIS = ["v1", "2026-03", "v3"]
BOTH = ["v1", "2026-03"]


@pytest.mark.parametrize("api", BOTH)
def test_every_row_updated_and_landed(hub, api):
    df = edits(250)
    result = df.hubtickets.update(make_client(hub, api=api), progress=False)
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
    assert "250 updated" in repr(result) and "250 updated" in result._repr_html_()


@pytest.mark.parametrize("api", BOTH)
def test_the_tidy_frame_holds_what_hubspot_answered(hub, api):
    df = edits(150)
    result = df.hubtickets.update(make_client(hub, api=api), progress=False)
    # the tidy frame holds what HubSpot answered, newest version first
    tickets = result.tickets
    current = tickets[(tickets["property"] == "status") & (tickets["version"] == 0)]
    assert dict(zip(current["objectId"], current["value"], strict=True)) == dict(
        zip(df["objectId"], df["status"], strict=True)
    )


@pytest.mark.parametrize("api", APIS)
def test_bad_rows_are_isolated_by_splitting(hub, api):
    df = edits(100)
    df.loc["r10", "status"] = "DONE"
    df.loc["r70", "objectId"] = 999_999  # no such ticket
    result = df.hubtickets.update(make_client(hub, api=api), check_properties=False, progress=False)
    report = result.report
    failed = report[report["status"] == "failed"]
    assert failed.index.tolist() == ["r10", "r70"]
    assert failed["error"].tolist() == ["INVALID_OPTION", "OBJECT_NOT_FOUND"]
    assert "DONE" in failed.loc["r10", "message"]
    # v1 refuses the batch for an unknown id too; the versioned APIs name it in a 207
    assert failed["http_status"].tolist() == ([400, 400] if api == "v1" else [400, 207])
    assert (report.drop(["r10", "r70"])["status"] == "updated").all()
    # every valid row landed; the bad ones did not
    assert hub.ticket(FIRST + 11)["properties"]["status"]["value"] == df.loc["r11", "status"]
    assert hub.ticket(FIRST + 10)["properties"]["status"]["value"] != "DONE"
    # about (rows to isolate) x log2(batch size) extra requests, not one per row
    isolated = 2 if api == "v1" else 1  # a 207 names its culprit: no split for it
    assert len(batch_updates(hub)) <= 1 + 2 * isolated * 7
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


@pytest.mark.parametrize("api", APIS)
def test_rows_with_nothing_to_send_are_skipped(hub, api):
    df = edits(3)
    df.loc["r1", ["status", "subject"]] = None
    result = df.hubtickets.update(make_client(hub, api=api), progress=False)
    assert result.report["status"].tolist() == ["updated", "skipped", "updated"]
    assert batch_updates(hub)[0].objects == 2


def test_bad_input_raises_before_anything_is_sent(hub):
    df = edits(5)
    df.loc["r3", "objectId"] = FIRST  # a duplicate id
    with pytest.raises(PayloadError):
        df.hubtickets.update(make_client(hub), progress=False)
    assert batch_updates(hub) == [] and hub.writes == []  # only the definitions were read


def test_dry_run_sends_nothing(hub):
    df = edits(120)
    df.loc["r5", ["status", "subject"]] = None
    result = df.hubtickets.update(make_client(hub), dry_run=True, progress=False)
    assert [r.path for r in hub.requests] == ["/properties/v2/tickets/properties"]
    assert hub.writes == []
    assert result.counts["dry_run"] == 119 and result.counts["skipped"] == 1
    assert result.payload == df.hubtickets.to_payload()


@pytest.mark.parametrize("api", APIS)
def test_transient_faults_lose_nothing_and_report_nothing_twice(hub, api):
    faults = Faults(rate_429=0.1, rate_500=0.1, rate_502=0.1, rate_503=0.1, drop=0.05)
    with FakeHubSpot(seed=11, faults=faults) as flaky:
        flaky.seed_tickets(300, start_id=FIRST)
        df = edits(300)
        result = df.hubtickets.update(
            make_client(flaky, api=api, max_retries=10), batch_size=20, progress=False
        )
        assert (result.report["status"] == "updated").all()
        assert result.report["attempts"].max() > 1
        faulted = [r for r in flaky.requests if r.fault is not None]
        assert faulted, "the seeded faults should have hit some requests"
        written = pd.Series([w["objectId"] for w in flaky.writes if w["name"] == "status"])
        assert set(written) == set(df["objectId"])


@pytest.mark.parametrize("api", APIS)
def test_daily_limit_stops_at_once_with_partial_result(hub, api):
    with FakeHubSpot(seed=3, daily_limit=3) as limited:  # 1 property check + 2 batches
        limited.seed_tickets(50, start_id=FIRST)
        df = edits(50)
        with pytest.raises(UpdateStopped) as info:
            df.hubtickets.update(
                make_client(limited, api=api, max_workers=1), batch_size=10, progress=False
            )
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
        [
            "stauts",
            "PROPERTY_DOESNT_EXIST",
            "HubSpot has no ticket property named 'stauts'; did you mean 'status'?",
        ],
        ["createdate", "READ_ONLY_VALUE", "property 'createdate' is read-only in HubSpot"],
    ]
    assert batch_updates(hub) == []
    with pytest.raises(PayloadError):  # a bad column refuses the frame, also when skipping
        df.hubtickets.update(make_client(hub), on_invalid="skip", progress=False)


@pytest.mark.parametrize("api", APIS)
def test_values_hubspot_would_refuse_are_found_before_sending(hub, api):
    df = edits(6).assign(
        hs_ticket_priority=["LOW", "High", "URGENT", "LOW", " LOW", "HIGH"],
        due_date=pd.to_datetime(
            ["2026-01-02", "2026-01-02 13:01", None, None, None, None], format="ISO8601"
        ),
        is_escalated=["true", "true", "yes", "false", "true", "true"],
    )
    with pytest.raises(PayloadError) as info:
        df.hubtickets.update(make_client(hub, api=api), progress=False)
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

    result = df.hubtickets.update(make_client(hub, api=api), on_invalid="skip", progress=False)
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


@pytest.mark.parametrize("api", APIS)
def test_without_the_property_check_hubspot_refuses_each_row(hub, api):
    df = edits(4).assign(stauts="OPEN")
    result = df.hubtickets.update(make_client(hub, api=api), check_properties=False, progress=False)
    assert result.report["error"].tolist() == ["PROPERTY_DOESNT_EXIST"] * 4
    assert [r for r in hub.requests if "properties" in r.path] == []


@pytest.mark.parametrize("api", BOTH)
def test_unauthorized_stops_the_run(hub, api):
    df = edits(30)
    client = ht.TicketsClient(
        "pat-na1-wrong-token-1234", base_url=hub.base_url, max_workers=1, api=api
    )
    with pytest.raises(UpdateStopped) as info:
        df.hubtickets.update(client, batch_size=10, check_properties=False, progress=False)
    assert info.value.result.report["status"].tolist() == ["failed"] * 10 + ["not_sent"] * 20
    assert "wrong-token" not in str(info.value)


class _CtrlCAfterThreeBatches:
    """A progress bar that presses a real Ctrl-C once three batches are recorded."""

    def __init__(self, total, **kwargs):
        self.batches = 0

    def update(self, n):
        self.batches += 1
        if self.batches == 3:
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread

    def close(self):
        pass


@pytest.mark.parametrize("api", BOTH)
def test_journal_resume_after_interrupt_sends_only_the_rest(tmp_path, monkeypatch, api):
    import pandas_hubtickets._update as update_module

    journal = tmp_path / "push.jsonl"
    with FakeHubSpot(seed=5, latency=0.05) as slow:
        slow.seed_tickets(300, start_id=FIRST)
        df = edits(300)
        client = make_client(slow, api=api, max_workers=1)
        with monkeypatch.context() as patch, pytest.raises(UpdateInterrupted) as info:
            patch.setattr(update_module, "progress_bar", _CtrlCAfterThreeBatches)
            df.hubtickets.update(client, batch_size=10, journal=journal)
        first = info.value.result.report
        assert isinstance(info.value, KeyboardInterrupt)
        assert set(first["status"]) <= {"updated", "not_sent"}
        done = int((first["status"] == "updated").sum())
        assert 0 < done < 300
        header, *entries = map(json.loads, journal.read_text().splitlines())
        assert header == {"journal": "pandas-hubtickets", "version": 1}
        assert len(entries) == done and {e["status"] for e in entries} == {"updated"}

        slow.clear_log()
        second = df.hubtickets.update(client, batch_size=10, journal=journal, progress=False)
        assert second.report["status"].isin(["updated", "already_updated"]).all()
        assert second.ok
        assert sum(r.objects for r in batch_updates(slow)) == 300 - done
        resumed = second.report["message"] == "already updated by an earlier run (journal)"
        assert int(resumed.sum()) == done
        already = second.report["status"] == "already_updated"
        assert (
            second.report.loc[already, "message"] == "already updated by an earlier run (journal)"
        ).all()
        assert second.counts["already_updated"] == done
        assert second.counts["updated"] == 300 - done

        # a row whose values changed since is sent again
        slow.clear_log()
        df.loc["r0", "subject"] = "changed"
        third = df.hubtickets.update(client, journal=journal, progress=False)
        assert [r.objects for r in batch_updates(slow)] == [1]
        assert third.report.loc["r0", "message"] is pd.NA


class _CtrlCOnFirstBatch:
    """A progress bar that presses Ctrl-C when the first batch is recorded, before its journal."""

    def __init__(self, total, **kwargs):
        self.pressed = False

    def update(self, n):
        if not self.pressed:
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered to the main thread

    def close(self):
        pass


@pytest.mark.parametrize("api", BOTH)
def test_ctrl_c_while_a_batch_is_recorded_keeps_report_and_journal_alike(
    tmp_path, hub, monkeypatch, api
):
    import pandas_hubtickets._update as update_module

    monkeypatch.setattr(update_module, "progress_bar", _CtrlCOnFirstBatch)
    journal = tmp_path / "push.jsonl"
    with pytest.raises(UpdateInterrupted) as info:
        edits(40).hubtickets.update(
            make_client(hub, api=api, max_workers=1), batch_size=10, journal=journal
        )
    report = info.value.result.report
    updated = set(report.loc[report["status"] == "updated", "objectId"])
    entries = [json.loads(line) for line in journal.read_text().splitlines()[1:]]  # header
    assert updated and {e["objectId"] for e in entries} == updated


@pytest.mark.parametrize("api", APIS)
def test_journal_survives_a_line_cut_short(tmp_path, hub, api):
    journal = tmp_path / "push.jsonl"
    df = edits(10)
    df.hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    with journal.open("a") as fh:
        fh.write('{"objectId": 5000')  # a crash mid-write
    hub.clear_log()
    with pytest.warns(UserWarning, match="line 12 is not a journal entry"):  # header, 10 rows
        again = df.hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    assert (again.report["status"] == "already_updated").all() and batch_updates(hub) == []
    df.loc["r0", "subject"] = "after the crash"
    with pytest.warns(UserWarning):
        df.hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    lines = journal.read_text().splitlines()
    assert lines[11] == '{"objectId": 5000' and json.loads(lines[12])["objectId"] == FIRST


@pytest.mark.parametrize("api", APIS)
def test_journal_counts_only_the_newest_entry_of_a_ticket(tmp_path, hub, api):
    journal = tmp_path / "push.jsonl"
    closed = edits(3).assign(status="CLOSED")
    opened = closed.assign(status="OPEN")
    for df in (closed, opened):
        df.hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    hub.clear_log()
    back = closed.hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    assert sum(r.objects for r in batch_updates(hub)) == 3
    assert back.report["message"].isna().all()
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"


@pytest.mark.parametrize("api", BOTH)
def test_each_batch_sends_the_body_to_batches_makes(api):
    """Texts built for several batches at once, split back: each body as to_batches makes it."""
    n = 2_100  # 1,800 rows sent in 30 batches of 60: groups of texts, the last one short
    df = edits(n)
    df.loc[[f"r{i}" for i in range(0, n, 7)], ["status", "subject"]] = None  # skipped rows
    with FakeHubSpot(seed=3, record_bodies=True) as hub:
        hub.seed_tickets(n, start_id=FIRST)
        result = df.hubtickets.update(make_client(hub, api=api), batch_size=60, progress=False)
        sent = [r.body for r in batch_updates(hub)]
    assert result.counts["updated"] == n - len(range(0, n, 7))
    expected = list(df.hubtickets.to_batches(batch_size=60, api=api))
    assert len(expected) == 30
    assert len(expected) // _update._TEXTS_AT > 1 and len(expected) % _update._TEXTS_AT
    # the bodies arrive in the order the workers sent them

    def key(body):
        return json.dumps(body, sort_keys=True)

    assert sorted(sent, key=key) == sorted(expected, key=key)


@pytest.mark.parametrize("api", BOTH)
def test_a_run_builds_a_few_batches_json_at_a_time(tmp_path, hub, monkeypatch, api):
    """Every row's JSON text is never alive at once: 200,000 rows made it 96 MiB (issue 7)."""
    from pandas_hubtickets import _update
    from pandas_hubtickets._journal import fingerprint
    from pandas_hubtickets._payload import EncodedFrame

    built: list[int] = []  # rows per call
    real = EncodedFrame.fragments

    def spy(self, positions=None):
        texts = real(self, positions)
        built.append(len(texts))
        return texts

    monkeypatch.setattr(EncodedFrame, "fragments", spy)
    monkeypatch.setattr(_update, "_TEXTS_AT", 4)
    journal = tmp_path / "push.jsonl"
    df = edits(250)
    df.loc["r10", "objectId"] = 999_999  # no such ticket: its batch is split in halves
    first = df.hubtickets.update(
        make_client(hub, api=api),
        batch_size=20,
        journal=journal,
        check_properties=False,
        progress=False,
    )
    assert (first.counts["updated"], first.counts["failed"]) == (249, 1)
    # each batch's text, built once (its halves reuse it), 4 batches a call, and nothing else
    assert sorted(built) == [10, 80, 80, 80]  # workers may reach a group out of order
    entries = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    sent = {e["objectId"]: e["fingerprint"] for e in entries}
    expected = {  # without the versioned APIs' objectWriteTraceId: the row's place may change
        ticket_id(row): fingerprint(json.dumps(untraced(row), separators=(",", ":")))
        for row in sent_objects(json.loads(df.hubtickets.to_json(api=api)))
    }
    assert sent == expected  # the fingerprint of exactly the text sent, taken in the worker

    built.clear()
    hub.clear_log()
    monkeypatch.setattr(_update, "_RESUME_CHUNK", 64)
    again = df.hubtickets.update(
        make_client(hub, api=api),
        batch_size=20,
        journal=journal,
        check_properties=False,
        progress=False,
    )
    assert again.counts["already_updated"] == 249
    assert batch_updates(hub)[0].objects == 1  # only the failed row is sent again
    # the resume fingerprints the rows of journaled tickets a chunk at a time
    assert built == [64, 64, 64, 57, 1]


@pytest.mark.parametrize("api", APIS)
def test_dry_run_leaves_out_rows_the_journal_says_are_done(tmp_path, hub, api):
    journal = tmp_path / "push.jsonl"
    df = edits(6)
    df.iloc[:4].hubtickets.update(make_client(hub, api=api), journal=journal, progress=False)
    hub.clear_log()
    preview = df.hubtickets.update(make_client(hub, api=api), journal=journal, dry_run=True)
    assert preview.report["status"].tolist() == ["already_updated"] * 4 + ["dry_run"] * 2
    assert [ticket_id(o) for o in sent_objects(preview.payload)] == [FIRST + 4, FIRST + 5]
    assert batch_updates(hub) == [] and hub.writes == []


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
    with pytest.raises(ValueError, match="batch_size"):
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
        with pytest.raises(UpdateInterrupted) as info:
            df.hubtickets.update(client, batch_size=10, check_properties=False, progress=False)
        report = info.value.result.report
        assert (report["status"] == "not_sent").all()
        in_flight = report["message"] == "in flight when interrupted: may or may not have landed"
        assert int(in_flight.sum()) == 20  # two workers, two batches of 10


PROPERTIES_PATH = "/properties/v2/tickets/properties"


def messy(n: int = 10) -> pd.DataFrame:
    """A frame with a problem of every kind a row can have, and one row with nothing to send."""
    df = edits(n).assign(hs_ticket_priority="LOW", is_escalated="true", hubspot_owner_id=1.0)
    df.loc["r1", "hs_ticket_priority"] = "High"  # a label, not the option value
    df.loc["r2", "objectId"] = FIRST + 3  # the same ticket as r3
    df.loc["r5", "hubspot_owner_id"] = np.inf  # cannot be encoded
    df.loc["r6", ["hs_ticket_priority", "is_escalated"]] = [" LOW", "yes"]  # two problems
    df.loc["r8", :] = df.loc["r8", :].where(df.columns == "objectId", None)  # nothing to send
    return df


MESSY_STATUSES = ["updated", "failed", "failed", "failed", "updated"]
MESSY_STATUSES += ["failed", "failed", "updated", "skipped", "updated"]
MESSY_PROBLEMS = [
    ["r1", "hs_ticket_priority", "INVALID_OPTION", "High"],
    ["r2", "objectId", "DUPLICATE_ID", FIRST + 3],
    ["r3", "objectId", "DUPLICATE_ID", FIRST + 3],
    ["r5", "hubspot_owner_id", "INFINITE_NUMBER", np.inf],
    ["r6", "hs_ticket_priority", "LEADING_TRAILING_WHITESPACE", " LOW"],
    ["r6", "is_escalated", "INVALID_BOOLEAN", "yes"],
]


def test_a_dry_run_gives_the_verdicts_of_a_real_run_and_writes_nothing(hub):
    df = messy()
    dry = df.hubtickets.update(make_client(hub), dry_run=True, on_invalid="skip", progress=False)
    assert [r.path for r in hub.requests] == [PROPERTIES_PATH]  # one GET, nothing written
    assert hub.writes == []
    real = df.hubtickets.update(make_client(hub), on_invalid="skip", progress=False)

    assert real.report["status"].tolist() == MESSY_STATUSES
    dry_verdicts = dry.report["status"].astype(str).replace({"dry_run": "updated"})
    assert dry_verdicts.tolist() == MESSY_STATUSES
    assert dry.report["error"].equals(real.report["error"])
    assert dry.report["message"].equals(real.report["message"])
    pd.testing.assert_frame_equal(dry.problems, real.problems)
    assert not dry.ok and not real.ok  # the CLI exits alike
    # what the dry run would send is what the real run sent
    sent = {w["objectId"] for w in hub.writes}
    assert (
        {o["objectId"] for o in dry.payload}
        == sent
        == set(df.loc[["r0", "r4", "r7", "r9"], "objectId"])
    )


def test_a_dry_run_refuses_what_a_real_run_refuses(hub):
    df = messy()
    with pytest.raises(PayloadError) as dry:
        df.hubtickets.update(make_client(hub), dry_run=True, progress=False)
    with pytest.raises(PayloadError) as real:
        df.hubtickets.update(make_client(hub), progress=False)
    pd.testing.assert_frame_equal(dry.value.problems, real.value.problems)
    assert str(dry.value) == str(real.value)
    assert batch_updates(hub) == [] and hub.writes == []


def test_every_problem_comes_in_one_pass(hub):
    df = messy().assign(stauts="OPEN", createdate=0)
    for on_invalid in ("raise", "skip"):  # an unknown or read-only column refuses the frame
        with pytest.raises(PayloadError) as info:
            df.hubtickets.update(make_client(hub), on_invalid=on_invalid, progress=False)
        problems = info.value.problems
        assert problems[["row", "column", "code"]].values.tolist() == [
            [None, "stauts", "PROPERTY_DOESNT_EXIST"],
            [None, "createdate", "READ_ONLY_VALUE"],
            *([row, column, code] for row, column, code, _ in MESSY_PROBLEMS),
        ]
    assert batch_updates(hub) == []


def test_skipping_refuses_each_row_with_a_problem_and_keeps_all_its_problems(hub):
    result = messy().hubtickets.update(make_client(hub), on_invalid="skip", progress=False)
    problems = result.problems
    assert list(problems.columns) == ["row", "objectId", "column", "code", "value", "problem"]
    assert problems[["row", "column", "code", "value"]].values.tolist() == MESSY_PROBLEMS
    report = result.report
    assert (
        report.loc["r6", "error"] == "LEADING_TRAILING_WHITESPACE"
    )  # the first of its two problems
    assert "has spaces around it" in report.loc["r6", "message"]
    assert "true or false" in report.loc["r6", "message"]
    assert report.loc["r5", "error"] == "INFINITE_NUMBER"  # found while encoding
    assert report.loc["r2", "error"] == report.loc["r3", "error"] == "DUPLICATE_ID"
    assert {w["objectId"] for w in hub.writes}.isdisjoint({FIRST + 3, FIRST + 5, FIRST + 6})
    assert "6 problems found before sending" in repr(result)


def test_problems_found_by_the_caller_come_in_the_same_pass(hub):
    from pandas_hubtickets._payload import ProblemList
    from pandas_hubtickets._update import update

    def unparseable_dates(df: pd.DataFrame) -> ProblemList:
        found = ProblemList(df.index)
        message = "not a date: write it as 2026-01-31"
        found.add(np.array([1, 3]), "due_date", "INVALID_DATE", message, ["soon", "31/02"])
        return found

    df = edits(4)
    df.loc["r0", "status"] = "NOPE"
    with pytest.raises(PayloadError) as info:
        update(df, make_client(hub), problems=unparseable_dates(df), progress=False)
    assert info.value.problems[["row", "code", "value"]].values.tolist() == [
        ["r0", "INVALID_OPTION", "NOPE"],
        ["r1", "INVALID_DATE", "soon"],
        ["r3", "INVALID_DATE", "31/02"],
    ]
    assert batch_updates(hub) == []
    result = update(
        df, make_client(hub), problems=unparseable_dates(df), on_invalid="skip", progress=False
    )
    assert result.report["status"].tolist() == ["failed", "failed", "updated", "failed"]
    assert result.report.loc["r1", "error"] == "INVALID_DATE"
    assert result.problems["value"].tolist() == ["NOPE", "soon", "31/02"]
    with pytest.raises(ht.ConfigurationError, match=r"ProblemList\(df.index\)"):
        update(df, make_client(hub), problems=ProblemList(pd.RangeIndex(4)), progress=False)


def test_unreadable_definitions_are_an_error_unless_the_check_is_off():
    with FakeHubSpot(seed=3, faults=Faults(rate_500=1.0)) as broken:
        broken.seed_tickets(5, start_id=FIRST)
        client = make_client(broken, max_retries=0)
        for dry_run in (False, True):
            with pytest.raises(ht.DefinitionsUnavailable, match="check_properties=False") as info:
                edits(5).hubtickets.update(client, dry_run=dry_run, progress=False)
            assert isinstance(info.value.__cause__, ht.HubSpotError)
            assert "500" in str(info.value)
        assert batch_updates(broken) == []
        result = edits(5).hubtickets.update(client, check_properties=False, progress=False)
        assert [r.path for r in broken.requests].count(PROPERTIES_PATH) == 2
        assert len(batch_updates(broken)) >= 1  # sent, without the check
        assert (result.report["status"] == "failed").all()


def test_a_refused_token_stops_before_sending_when_reading_the_definitions(hub):
    client = ht.TicketsClient("pat-na1-wrong-token-1234", base_url=hub.base_url)
    with pytest.raises(UpdateStopped) as info:
        edits(5).hubtickets.update(client, dry_run=True, progress=False)
    assert (info.value.result.report["status"] == "not_sent").all()
    assert batch_updates(hub) == [] and "wrong-token" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("check_properties", [True, False])
def test_an_unreachable_hubspot_stops_the_run_with_nothing_sent(check_properties):
    client = ht.TicketsClient("pat-na1-x", base_url=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(UpdateStopped) as info:
        edits(30).hubtickets.update(
            client, batch_size=10, check_properties=check_properties, progress=False
        )
    assert isinstance(info.value.__cause__, ht.UnreachableError)
    assert (info.value.result.report["status"] == "not_sent").all()
    assert "nothing was sent for the 30 rows left not_sent" in str(info.value)


def test_wrong_argument_types_say_what_was_expected(hub):
    df = edits(2)
    with pytest.raises(ht.ArgumentTypeError) as info:
        df.hubtickets.update("http://127.0.0.1:1")
    assert str(info.value) == "client must be a TicketsClient (e.g. ht.TicketsClient(...)), got str"
    assert isinstance(info.value, TypeError) and isinstance(info.value, ht.HubTicketsError)
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is ht.ArgumentTypeError and str(again) == str(info.value)
    with pytest.raises(ht.ArgumentTypeError, match="dry_run must be True or False, got str"):
        df.hubtickets.update(make_client(hub), dry_run="yes")
    with pytest.raises(ht.ConfigurationError, match="on_invalid must be 'raise', 'skip' or"):
        df.hubtickets.update(make_client(hub), on_invalid="ignore")
    assert hub.requests == []


def test_a_bad_journal_argument_is_a_package_error(tmp_path, hub):
    with pytest.raises(ht.ArgumentTypeError, match="journal must be a path"):
        edits(2).hubtickets.update(make_client(hub), journal=3, progress=False)
    with pytest.raises(ht.ConfigurationError, match="not the folder"):
        edits(2).hubtickets.update(make_client(hub), journal=tmp_path, progress=False)
    assert hub.requests == []


def test_the_table_of_outcomes_shares_one_str_per_status():
    """One str object per row made 200,000 rows' statuses 13 MiB instead of 1.6 (issue 7)."""
    from pandas_hubtickets._payload import encode_frame
    from pandas_hubtickets._update import _Run

    df = edits(1000)
    df.loc["r1", ["status", "subject"]] = None  # nothing to send: skipped
    run = _Run(df, encode_frame(df))
    assert set(run.status) == {"not_sent", "skipped"}
    assert len({id(cell) for cell in run.status}) == 2
