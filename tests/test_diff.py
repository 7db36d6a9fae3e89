"""Only what changed: diff, update(only_changed=True), on_invalid="skip_cells", the preview.

Over real sockets against the emulator; what was written is checked against
the emulator's record of writes and the tickets' histories.
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import UpdateStopped
from pandas_hubtickets._diff import Current, answer_array, compare, current_from
from pandas_hubtickets._payload import encode_frame
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 700_000
JAN_2 = "1767312000000"  # 2026-01-02T00:00:00Z in epoch milliseconds


#: only_changed reads, then writes, through the client's API.
READING = ["v1", "2026-03"]


def make_client(hub: FakeHubSpot, **kw) -> ht.TicketsClient:
    kw.setdefault("backoff_factor", 0.01)
    kw.setdefault("requests_per_10s", 10_000)
    return ht.TicketsClient(hub.token, base_url=hub.base_url, **kw)


@pytest.fixture
def hub():
    with FakeHubSpot(seed=5) as hub:
        for i in range(4):
            hub.create_ticket(
                {
                    "subject": f"s{i}",
                    "status": "OPEN",
                    "hubspot_owner_id": "3",
                    "due_date": JAN_2,
                },
                object_id=FIRST + i,
            )
        yield hub


def reads(hub: FakeHubSpot) -> list:
    return [r for r in hub.requests if r.path.endswith("/batch-read")]


def versions(hub: FakeHubSpot, oid: int) -> int:
    return sum(len(p["versions"]) for p in hub.ticket(oid)["properties"].values())


def test_diff_compares_what_would_be_sent_with_what_hubspot_holds(hub):
    edits = pd.DataFrame(
        {
            "objectId": [FIRST, FIRST + 1, FIRST + 2, FIRST + 3],
            "hubspot_owner_id": [3.0, 3, "4", None],  # 3.0 is sent as "3": equal
            "due_date": [dt.date(2026, 1, 2)] * 3 + [dt.date(2026, 1, 3)],
            "subject": ["s0", "s1", "", "s3"],
        },
        index=pd.Index(["a", "b", "c", "d"], name="row"),
    )
    changes = edits.hubtickets.diff(make_client(hub))
    assert list(changes.columns) == ["objectId", "property", "old", "new", "problem"]
    assert changes.index.tolist() == ["c", "c", "d"]
    got = changes[["objectId", "property", "old", "new"]].astype(object).values.tolist()
    assert got == [
        [FIRST + 2, "hubspot_owner_id", "3", "4"],
        [FIRST + 2, "subject", "s2", ""],
        [FIRST + 3, "due_date", JAN_2, "1767398400000"],
    ]
    assert changes["problem"].isna().all()
    assert hub.writes == []


def test_diff_reports_missing_and_deleted_tickets_per_row(hub):
    client = make_client(hub)
    client.send("DELETE", f"/crm-objects/v1/objects/tickets/{FIRST + 1}")
    edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1, 42], "subject": ["x", "y", "z"]})
    changes = edits.hubtickets.diff(client)
    assert changes["objectId"].tolist() == [FIRST, FIRST + 1, 42]
    assert changes["property"].astype(object).tolist()[0] == "subject"
    assert changes["property"].isna().tolist() == [False, True, True]
    problems = changes["problem"].tolist()
    assert problems[0] is pd.NA
    assert "does not exist or was deleted" in problems[1] and str(FIRST + 1) in problems[1]
    assert "42" in problems[2]


def test_a_deleted_ticket_in_an_answer_is_not_current():
    tickets = [
        {"objectId": 1, "isDeleted": True, "properties": {"a": {"value": "x"}}},
        {"objectId": 2, "properties": {"a": {"value": 5}}},  # not text: read as text
    ]
    got = current_from([answer_array(tickets, ["a"])], ["a"])
    assert got.object_ids.tolist() == [2]
    assert got.values[0].to_pylist() == ["5"]


def test_empty_string_and_no_value_are_the_same():
    frame = pd.DataFrame({"objectId": [1, 2], "a": ["", ""]})
    current = Current(
        np.array([1, 2]), (pd.array([None, "v"], dtype="string[pyarrow]").__arrow_array__(),)
    )
    changes = compare(encode_frame(frame), current)
    assert changes.any_changed.tolist() == [False, True]


def test_reads_cost_one_request_per_100_tickets_and_go_through_the_limiter():
    n = 1_000
    with FakeHubSpot(seed=1) as hub:
        ids = hub.seed_tickets(n, start_id=FIRST)
        edits = pd.DataFrame({"objectId": ids, "status": ["CLOSED"] * n})
        client = make_client(hub, requests_per_10s=1_000)
        edits.hubtickets.diff(client)
        assert [r.objects for r in reads(hub)] == [100] * 10
        assert client.limiter is not None
        assert all("properties=status" in r.query for r in reads(hub))


def test_only_changed_sends_only_the_changed_cells_of_a_10000_ticket_frame():
    n, properties = 10_000, ["subject", "content", "status", "hs_ticket_priority"]
    with FakeHubSpot(seed=2) as hub:
        ids = hub.seed_tickets(n, start_id=FIRST)
        client = make_client(hub)
        now = ht.flatten(client.batch_read(ids, properties, history=False))
        wide = now.hubtickets.current().set_index("objectId").loc[ids, properties]
        edits = wide.copy()
        rng = np.random.default_rng(0)
        cells = rng.choice(n * len(properties), size=n * len(properties) // 100, replace=False)
        rows, cols = np.divmod(cells, len(properties))
        options = {"status": ["OPEN", "CLOSED"], "hs_ticket_priority": ["LOW", "HIGH"]}
        expected = set()
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            name = properties[c]
            old = edits.iat[r, c]
            new = next((o for o in options.get(name, []) if o != old), f"edited {r}")
            edits.iat[r, c] = new
            expected.add((ids[r], name, new))
        hub.clear_log()
        result = (
            edits.rename_axis("objectId")
            .reset_index()
            .hubtickets.update(client, only_changed=True, progress=False, tickets=False)
        )
        written = {(w["objectId"], w["name"], w["value"]) for w in hub.writes}
        assert written == expected
        assert len(hub.writes) == len(expected)
        assert len(reads(hub)) <= n // 100
        changed_rows = len({oid for oid, _, _ in expected})
        assert result.counts["updated"] == changed_rows
        assert result.counts["unchanged"] == n - changed_rows
        assert result.ok
        assert len(result.changes) == len(expected)


@pytest.mark.parametrize("api", READING)
def test_rerunning_an_update_that_landed_sends_nothing_and_adds_no_version(hub, api):
    client = make_client(hub, api=api)
    edits = pd.DataFrame(
        {"objectId": [FIRST, FIRST + 1], "status": ["CLOSED", "OPEN"], "subject": ["n", None]}
    )
    first = edits.hubtickets.update(client, only_changed=True, progress=False)
    assert first.report["status"].tolist() == ["updated", "unchanged"]
    assert [(w["objectId"], w["name"]) for w in hub.writes] == [
        (FIRST, "status"),
        (FIRST, "subject"),
    ]
    before = [versions(hub, FIRST + i) for i in range(2)]
    hub.clear_log()
    again = edits.hubtickets.update(client, only_changed=True, progress=False)
    assert again.report["status"].tolist() == ["unchanged", "unchanged"]
    assert again.ok and again.changes is not None and again.changes.empty
    assert hub.writes == []
    assert not [r for r in hub.requests if r.path.endswith(("/batch-update", "/batch/update"))]
    assert [versions(hub, FIRST + i) for i in range(2)] == before


@pytest.mark.parametrize("api", READING)
def test_only_changed_never_sends_to_a_missing_ticket(hub, api):
    edits = pd.DataFrame({"objectId": [FIRST, 42], "status": ["CLOSED", "CLOSED"]})
    result = edits.hubtickets.update(make_client(hub, api=api), only_changed=True, progress=False)
    assert result.report["status"].tolist() == ["updated", "failed"]
    assert result.report["error"].tolist()[1] == "OBJECT_NOT_FOUND"
    assert result.report["attempts"].tolist() == [1, 0]
    assert {w["objectId"] for w in hub.writes} == {FIRST}
    assert result.failed_rows()["objectId"].tolist() == [42]


@pytest.mark.parametrize("api", READING)
def test_only_changed_with_a_journal_resumes(hub, tmp_path, api):
    client = make_client(hub, api=api)
    edits = pd.DataFrame(
        {
            "objectId": [FIRST, FIRST + 1, FIRST + 2],
            "status": ["CLOSED", "OPEN", "CLOSED"],
            "subject": [None, None, "s2"],  # row 2 sends only its status, not all it holds
        }
    )
    journal = tmp_path / "j.jsonl"
    first = edits.hubtickets.update(client, only_changed=True, journal=journal, progress=False)
    assert first.report["status"].tolist() == ["updated", "unchanged", "updated"]
    hub.clear_log()
    again = edits.hubtickets.update(client, only_changed=True, journal=journal, progress=False)
    # the journal knows row 0's text; row 2's whole text was never sent: read, unchanged
    assert again.report["status"].tolist() == ["already_updated", "unchanged", "unchanged"]
    assert again.ok
    assert hub.writes == []


def test_dry_run_previews_the_changes_and_writes_nothing(hub, tmp_path):
    edits = pd.DataFrame(
        {
            "objectId": [FIRST, FIRST + 1, FIRST + 2, 42],
            "status": ["CLOSED", "OPEN", "High", "OPEN"],
        }
    )
    preview = edits.hubtickets.update(
        make_client(hub), only_changed=True, dry_run=True, on_invalid="skip", progress=False
    )
    assert preview.report["status"].tolist() == ["dry_run", "unchanged", "failed", "failed"]
    assert preview.payload == [
        {"objectId": FIRST, "properties": [{"name": "status", "value": "CLOSED"}]}
    ]
    assert preview.changes is not None
    assert preview.changes["old"].tolist()[0] == "OPEN"
    assert preview.changes["new"].tolist()[0] == "CLOSED"
    text = repr(preview)
    assert "1 row would change (1 cell), 1 unchanged, 2 refused" in text
    assert f"{FIRST} status: 'OPEN' -> 'CLOSED'" in text
    page = preview._repr_html_()
    assert "1 row would change (1 cell), 1 unchanged, 2 refused" in page
    assert "<td>CLOSED</td>" in page and "INVALID_OPTION" in page
    assert "#c62828" in page  # failed rows in red
    assert hub.writes == []


@pytest.mark.parametrize("api", ["v1", "2026-03", "v3"])
def test_skip_cells_sends_the_valid_cells_of_a_row_and_reports_the_others(hub, api):
    edits = pd.DataFrame(
        {
            "objectId": [FIRST, FIRST + 1, FIRST + 2, "x"],
            "status": ["High", "CLOSED", "Nope", "OPEN"],
            "subject": ["kept", None, None, "y"],
        }
    )
    client = make_client(hub, api=api)
    result = edits.hubtickets.update(client, on_invalid="skip_cells", progress=False, tickets=False)
    report = result.report
    assert report["status"].tolist() == ["partly_updated", "updated", "failed", "failed"]
    assert report["error"].tolist()[0] == "INVALID_OPTION"
    assert "status: INVALID_OPTION" in report["message"].tolist()[0]
    assert report["error"].tolist()[3] == "INVALID_ID"
    assert sorted((w["objectId"], w["name"]) for w in hub.writes) == [
        (FIRST, "subject"),
        (FIRST + 1, "status"),
    ]
    assert result.problems["code"].tolist() == ["INVALID_OPTION", "INVALID_OPTION", "INVALID_ID"]
    assert not result.ok
    assert result.failed_rows().index.tolist() == [0, 2, 3]
    assert "partly_updated" in repr(result)


@pytest.mark.parametrize("api", READING)
def test_skip_cells_with_only_changed_counts_a_row_with_only_refused_changes_as_failed(hub, api):
    edits = pd.DataFrame({"objectId": [FIRST], "status": ["High"], "subject": ["s0"]})
    result = edits.hubtickets.update(
        make_client(hub, api=api), on_invalid="skip_cells", only_changed=True, progress=False
    )
    assert result.report["status"].tolist() == ["failed"]
    assert hub.writes == []


def test_a_read_that_fails_stops_the_run_before_anything_is_sent():
    with FakeHubSpot(seed=1) as hub:
        hub.seed_tickets(3, start_id=FIRST)
        client = make_client(hub, max_retries=0)
        edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "status": ["CLOSED"] * 2})
        hub.stop()
        with pytest.raises(UpdateStopped) as stopped:
            edits.hubtickets.update(
                client, only_changed=True, check_properties=False, progress=False
            )
        assert stopped.value.result.report["status"].tolist() == ["not_sent", "not_sent"]
        assert "before sending anything" in str(stopped.value)


def test_arguments_are_checked(hub, tmp_path):
    client = make_client(hub)
    edits = pd.DataFrame({"objectId": [FIRST], "status": ["CLOSED"]})
    with pytest.raises(ht.ConfigurationError, match="undo= needs only_changed=True"):
        edits.hubtickets.update(client, undo=tmp_path / "u.parquet")
    with pytest.raises(ht.ArgumentTypeError, match="only_changed"):
        edits.hubtickets.update(client, only_changed="yes")  # type: ignore[arg-type]
    with pytest.raises(ht.ConfigurationError, match="skip_cells"):
        edits.hubtickets.update(client, on_invalid="cells")  # type: ignore[arg-type]
    with pytest.raises(ht.ArgumentTypeError, match="TicketsClient"):
        edits.hubtickets.diff("http://127.0.0.1")  # type: ignore[arg-type]
    assert hub.writes == [] and hub.requests == []


def test_the_notebook_view_escapes_values_and_the_text_view_is_short(hub):
    edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "subject": ["<b>bold</b>", "s1"]})
    preview = edits.hubtickets.update(
        make_client(hub), only_changed=True, dry_run=True, progress=False
    )
    page = preview._repr_html_()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "#1565c0" in page and "#607d8b" in page  # dry_run blue, unchanged grey
    text = repr(preview)
    assert text.startswith("UpdateResult(2 rows: 1 dry_run, 1 unchanged in ")
    assert text.splitlines()[1:] == [
        "1 row would change (1 cell), 1 unchanged, 0 refused:",
        f"  {FIRST} subject: 's0' -> '<b>bold</b>'",
    ]


class _CtrlCAfterFirstRead:
    """A progress bar of the reads that presses a real Ctrl-C once the first batch is read."""

    def __init__(self, total, **kwargs):
        self.reads = 0

    def update(self, n):
        self.reads += 1
        if self.reads == 1:
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def test_ctrl_c_while_reading_sends_nothing_and_stops_the_reads(monkeypatch):
    import pandas_hubtickets._diff as diff_module

    monkeypatch.setattr(diff_module, "progress_bar", _CtrlCAfterFirstRead)
    with FakeHubSpot(seed=1) as hub:
        ids = hub.seed_tickets(1_000, start_id=FIRST)
        client = make_client(hub, max_workers=1)
        edits = pd.DataFrame({"objectId": ids, "status": ["CLOSED"] * len(ids)})
        with pytest.raises(ht.UpdateInterrupted) as stopped:
            edits.hubtickets.update(client, only_changed=True, check_properties=False)
        assert isinstance(stopped.value, KeyboardInterrupt)
        assert (stopped.value.result.report["status"] == "not_sent").all()
        assert hub.writes == []
        assert len(reads(hub)) <= 2  # the one read, and at most one in flight


def test_the_preview_shows_no_placeholder_for_missing_values_and_counts_in_english(hub):
    edits = pd.DataFrame({"objectId": [FIRST, FIRST + 1], "status": ["CLOSED", "High"]})
    preview = edits.hubtickets.update(
        make_client(hub), only_changed=True, dry_run=True, on_invalid="skip", progress=False
    )
    text = repr(preview)
    assert "\n1 problem found before sending: see .problems\n" in text
    page = preview._repr_html_()
    assert "<td>CLOSED</td>" in page
    assert "NA&gt;" not in page and "NaN" not in page  # a change without a problem: blank
    assert "1 problem found before sending, by column and code" in page
    assert hub.writes == []
