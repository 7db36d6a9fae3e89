"""The journal: one writer at a time, checked before the first request, no crash on a bad line."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from test_update import FIRST, batch_updates, edits, make_client

import pandas_hubtickets as ht
from pandas_hubtickets._cli import main
from pandas_hubtickets.testing import FakeHubSpot

HEADER = '{"journal":"pandas-hubtickets","version":1}'


@pytest.fixture
def hub():
    with FakeHubSpot(seed=11) as hub:
        hub.seed_tickets(50, start_id=FIRST)
        yield hub


def push(hub: FakeHubSpot, journal: Path, df: pd.DataFrame | None = None, **kw) -> ht.UpdateResult:
    frame = edits(10) if df is None else df
    return frame.hubtickets.update(make_client(hub), journal=journal, progress=False, **kw)


# -- one writer at a time -------------------------------------------------------------------

HOLDER = """
import sys
from pandas_hubtickets._journal import Journal
book = Journal(sys.argv[1])
book.lock()
print("locked", flush=True)
sys.stdin.read()  # hold the journal until the parent closes our stdin
book.close()
"""


def test_a_journal_held_by_another_process_is_refused_before_any_request(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(journal)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(ht.JournalError, match="is in use by another update run") as info:
            push(hub, journal)
        assert str(journal) in str(info.value) and info.value.path == str(journal)
        assert isinstance(info.value, ValueError)
        assert hub.requests == []  # not even the property definitions were read
        assert journal.read_text() == HEADER + "\n"  # nothing appended by the refused run
    finally:
        holder.communicate(input="", timeout=60)
    assert holder.returncode == 0
    assert push(hub, journal).report["status"].eq("updated").all()  # free again


class _SecondRunOnFirstBatch:
    """A progress bar that starts a second run on the same journal once the first batch is in."""

    second: BaseException | None = None

    def __init__(self, total, **kwargs):
        self.journal = kwargs.get("journal")

    def update(self, n):
        if _SecondRunOnFirstBatch.second is None:
            try:
                edits(10, statuses=("OPEN",)).hubtickets.update(
                    _SecondRunOnFirstBatch.client, journal=_SecondRunOnFirstBatch.journal
                )
            except BaseException as exc:  # recorded, so that the first run goes on
                _SecondRunOnFirstBatch.second = exc

    def close(self):
        pass


def test_a_second_run_in_the_same_process_is_refused_while_the_first_runs(
    tmp_path, hub, monkeypatch
):
    import pandas_hubtickets._update as update_module

    journal = tmp_path / "push.jsonl"
    client = make_client(hub, max_workers=1)
    monkeypatch.setattr(_SecondRunOnFirstBatch, "client", client, raising=False)
    monkeypatch.setattr(_SecondRunOnFirstBatch, "journal", journal, raising=False)
    monkeypatch.setattr(_SecondRunOnFirstBatch, "second", None)
    monkeypatch.setattr(update_module, "progress_bar", _SecondRunOnFirstBatch)
    first = edits(10).hubtickets.update(client, batch_size=5, journal=journal)
    second = _SecondRunOnFirstBatch.second
    assert isinstance(second, ht.JournalError), repr(second)
    assert f"the journal {str(journal)!r} is in use by another update run" in str(second)
    assert first.report["status"].eq("updated").all()
    assert [r.objects for r in batch_updates(hub)] == [5, 5]  # the second run sent nothing
    assert {hub.ticket(FIRST + i)["properties"]["status"]["value"] for i in (1, 2)} == {
        "OPEN",
        "WAITING",
    }  # the first run's values, not the second's ("OPEN" everywhere)
    monkeypatch.undo()
    again = edits(10).hubtickets.update(client, journal=journal, progress=False)
    assert again.report["status"].eq("already_updated").all()  # the lock was released


def test_a_write_since_the_journal_was_read_is_refused(tmp_path, hub, monkeypatch):
    """Another run that wrote between this run's reading and its locking: what was read is stale."""
    import pandas_hubtickets._update as update_module

    journal = tmp_path / "push.jsonl"
    real = update_module._findings

    def another_run_meanwhile(client, run):
        monkeypatch.setattr(update_module, "_findings", real)  # only once
        push(hub, journal, edits(3, statuses=("OPEN",)))
        return real(client, run)

    monkeypatch.setattr(update_module, "_findings", another_run_meanwhile)
    with pytest.raises(ht.JournalError, match="written by another update run since this one"):
        push(hub, journal)
    assert sum(r.objects for r in batch_updates(hub)) == 3  # only the other run's rows


def test_journal_error_survives_pickling(tmp_path):
    error = ht.JournalError("the journal 'x' is in use", path="x")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is ht.JournalError and str(back) == str(error) and back.path == "x"


# -- checked before the first request -------------------------------------------------------


@pytest.fixture
def unwritable_folder(tmp_path):
    """A folder this process cannot create files in (root ignores permissions: /sys then)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            tempfile.TemporaryFile(dir=candidate).close()
        except OSError:
            yield candidate
            break
    else:
        pytest.skip("no folder here is read-only to this user")
    folder.chmod(0o755)


def test_a_read_only_folder_is_refused_before_any_request(unwritable_folder, hub):
    journal = unwritable_folder / "push.jsonl"
    with pytest.raises(ht.JournalError, match="cannot be written") as info:
        push(hub, journal)
    assert str(journal) in str(info.value)
    assert hub.requests == []
    assert not journal.exists()
    preview = push(hub, journal, dry_run=True)  # a dry run writes nothing: it may read from there
    assert preview.report["status"].eq("dry_run").all()


NOT_JOURNALS = {
    "csv": b"objectId,subject\n500000,hello\n",
    "other json lines": b'{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n',
    "binary": b"PAR1\x15\x04\x15\x10\x00\xff\xfe",
    "blank lines": b"\n\n",
    "another tool's header": b'{"journal": "other-tool", "version": 1}\n',
}


@pytest.mark.parametrize("content", NOT_JOURNALS.values(), ids=NOT_JOURNALS.keys())
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_file_that_is_not_a_journal_is_refused_untouched(tmp_path, hub, content, dry_run):
    users_file = tmp_path / "edits.csv"
    users_file.write_bytes(content)
    with pytest.raises(ht.JournalError, match="is not a pandas-hubtickets journal") as info:
        push(hub, users_file, dry_run=dry_run)
    assert str(users_file) in str(info.value)
    assert users_file.read_bytes() == content
    assert hub.requests == []


def test_a_journal_of_a_newer_format_is_refused(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    journal.write_text('{"journal":"pandas-hubtickets","version":2}\n')
    with pytest.raises(ht.JournalError, match="format version 2"):
        push(hub, journal)
    assert journal.read_text() == '{"journal":"pandas-hubtickets","version":2}\n'


def test_a_new_or_empty_journal_starts_with_its_header(tmp_path, hub):
    for journal in (tmp_path / "new.jsonl", tmp_path / "empty.jsonl"):
        if journal.name == "empty.jsonl":
            journal.touch()
        push(hub, journal)
        lines = journal.read_text().splitlines()
        assert lines[0] == HEADER and len(lines) == 1 + 10
        ids = [json.loads(line)["objectId"] for line in lines[1:]]
        assert ids == list(range(FIRST, FIRST + 10))


def test_a_journal_from_before_the_header_is_still_used(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    push(hub, journal)
    header, *entries = journal.read_text().splitlines()
    assert header == HEADER
    journal.write_text("\n".join(entries) + "\n")  # as written before the header existed
    hub.clear_log()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = push(hub, journal, edits(12))
    assert again.report["status"].tolist() == ["already_updated"] * 10 + ["updated"] * 2
    assert sum(r.objects for r in batch_updates(hub)) == 2
    assert journal.read_text().splitlines()[:10] == entries  # appended to, never rewritten


def test_malformed_lines_are_skipped_with_one_warning(tmp_path, hub):
    journal = tmp_path / "push.jsonl"
    push(hub, journal)
    good = json.loads(journal.read_text().splitlines()[1])  # the entry of FIRST
    bad = [
        {**good, "objectId": [FIRST + 1]},  # a list where an id should be
        {**good, "objectId": FIRST + 2.5},  # text is an id_property value; a float is nothing
        {**good, "objectId": True},
        {**good, "fingerprint": 7},
        {**good, "status": None},
        [FIRST + 3, "updated"],
    ]
    with journal.open("a") as fh:
        fh.writelines(json.dumps(b) + "\n" for b in bad)
        fh.write('{"objectId": 5000')  # a partial last line: a crash mid-write
    hub.clear_log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = push(hub, journal)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{journal}: lines 12, 13, 14, 15, 16, 17, 18 are not journal")
    assert again.report["status"].eq("already_updated").all() and batch_updates(hub) == []


# -- the command line -----------------------------------------------------------------------


def test_push_with_a_csv_as_journal_exits_2_naming_the_file(tmp_path, hub, capsys, monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
    edits_csv = tmp_path / "edits.csv"
    edits(3).to_csv(edits_csv, index=False)
    before = edits_csv.read_bytes()
    args = ["push", str(edits_csv), "--journal", str(edits_csv), "--base-url", hub.base_url]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"'{edits_csv}' is not a pandas-hubtickets journal" in err
    assert edits_csv.read_bytes() == before and batch_updates(hub) == []
