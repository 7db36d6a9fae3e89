"""Pulls that scale, over real sockets against the emulator: since a moment, append, datasets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from helpers import client_for

import pandas_hubtickets as ht
from pandas_hubtickets._cli import main
from pandas_hubtickets._client import CHANGE_LOG, CHANGE_LOG_LIMIT, LAST_MODIFIED
from pandas_hubtickets._pull import DATASET_SCHEMA, PART_GLOB
from pandas_hubtickets.errors import ConfigurationError, RateLimitError
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 500_000
V1 = "/crm-objects/v1/objects/tickets"


@pytest.fixture
def hub():
    """250 tickets created (and last modified) in the past, 2023-11 to 2024-11."""
    with FakeHubSpot(seed=3) as hub:
        hub.seed_tickets(250, start_id=FIRST)
        yield hub


@pytest.fixture
def client(hub):
    with client_for(hub) as client:
        yield client


def _edit(client, ids, status="CLOSED"):
    """Write ``status`` to ``ids`` (100 a request); the timestamp of the first write."""
    stamps = []
    for start in range(0, len(ids), 100):
        answer = client.batch_update(
            [
                {"objectId": i, "properties": [{"name": "status", "value": status}]}
                for i in ids[start : start + 100]
            ]
        )
        stamps.append(min(t["properties"]["status"]["timestamp"] for t in answer))
    return min(stamps)


def _modified(hub):
    """Each ticket's hs_lastmodifieddate in the emulator's own record (epoch ms)."""
    return {
        oid: int(t["properties"][LAST_MODIFIED]["value"])
        for oid, t in hub.tickets.items()
        if not t["isDeleted"]
    }


def _paths(hub):
    return [(r.method, r.path) for r in hub.requests]


def _key(tidy):
    """A tidy frame as comparable rows (order and dtypes aside)."""
    columns = ["objectId", "property", "version", "value", "timestamp", "source"]
    frame = tidy[columns].astype({"property": str, "source": str, "value": str})
    return frame.sort_values(columns[:3], ignore_index=True)


# -- since a moment -------------------------------------------------------------------------


def test_since_within_a_day_reads_the_change_log_once_and_only_the_changed_tickets(hub, client):
    edited = [FIRST + 3, FIRST + 100, FIRST + 201]
    since = _edit(client, edited)
    new = hub.create_ticket({"subject": "new one", "hs_pipeline_stage": "1"})
    hub.clear_log()
    changes = client.changed_since(since)
    assert changes.method == "change-log" and changes.scanned == 0
    assert sorted(changes.ids) == sorted([*edited, new])
    assert _paths(hub) == [("GET", CHANGE_LOG)]  # one request, no paging through the portal
    tickets = list(client.iter_tickets(["status"], since=since))
    assert sorted(t["objectId"] for t in tickets) == sorted([*edited, new])
    assert {t["properties"]["status"]["value"] for t in tickets if t["objectId"] != new} == {
        "CLOSED"
    }


def test_a_change_at_the_moment_itself_counts_and_one_after_it_does_not(hub, client):
    stamp = _edit(client, [FIRST + 7])
    assert client.changed_since(stamp).ids == [FIRST + 7]
    assert client.changed_since(stamp + 1).ids == []
    moment = datetime.fromtimestamp(stamp / 1000, timezone.utc)
    assert client.changed_since(moment.replace(tzinfo=None)).ids == [FIRST + 7]  # naive is UTC
    assert client.changed_since(moment.isoformat()).ids == [FIRST + 7]


def test_since_beyond_a_day_scans_hs_lastmodifieddate_and_finds_every_change(hub, client):
    modified = _modified(hub)
    since = sorted(modified.values())[len(modified) // 2]  # a moment in 2024: half changed since
    _edit(client, [FIRST, FIRST + 1])  # changed today, created long before `since`
    expected = {oid for oid, ms in _modified(hub).items() if ms >= since}
    assert {FIRST, FIRST + 1} <= expected and 100 < len(expected) < 200
    hub.clear_log()
    scanned = []
    changes = client.changed_since(since, progress=scanned.append)
    assert changes.method == LAST_MODIFIED and "keeps 24 h" in changes.reason
    assert set(changes.ids) == expected and len(changes.ids) == len(expected)
    assert changes.scanned == sum(scanned) == 250
    pages = [r for r in hub.requests if r.path == f"{V1}/paged"]
    assert len(pages) == 3 and all(r.query.startswith(f"properties={LAST_MODIFIED}") for r in pages)
    assert CHANGE_LOG not in [r.path for r in hub.requests]  # it could not have answered


def test_more_changes_than_the_change_log_holds_fall_back_and_miss_none(client):
    with FakeHubSpot(seed=4) as hub, client_for(hub) as client:
        ids = hub.seed_tickets(CHANGE_LOG_LIMIT + 50, start_id=FIRST)
        since = _edit(client, ids)
        hub.clear_log()
        changes = client.changed_since(since)
        assert changes.method == LAST_MODIFIED and "its most" in changes.reason
        assert sorted(changes.ids) == ids  # the change log alone would have left 50 out
        assert _paths(hub)[0] == ("GET", CHANGE_LOG)


def test_the_emulated_change_log_keeps_a_day_caps_an_answer_and_continues_after_a_change():
    with FakeHubSpot(seed=5) as hub, client_for(hub) as client:
        ids = hub.seed_tickets(CHANGE_LOG_LIMIT + 20, start_id=FIRST)  # created long ago
        assert client.send("GET", CHANGE_LOG, params={"timestamp": 0}).data == []
        since = _edit(client, ids)
        first = client.send("GET", CHANGE_LOG, params={"timestamp": since - 1}).data
        assert len(first) == CHANGE_LOG_LIMIT
        assert [c["timestamp"] for c in first] == sorted(c["timestamp"] for c in first)
        assert {c["changeType"] for c in first} == {"CHANGED"}
        assert set(first[0]["changes"]["changedProperties"]) == {"status", LAST_MODIFIED}
        last = first[-1]
        cursor = {k: last[k] for k in ("timestamp", "changeType", "objectId")}
        rest = client.send("GET", CHANGE_LOG, params=cursor).data
        assert sorted(c["objectId"] for c in first + rest) == ids


# -- tidy frames, appended ----------------------------------------------------------------


def test_pull_since_appended_to_a_full_pull_equals_a_fresh_full_pull(hub, client):
    before = ht.pull(client, history=True, progress=False)
    since = _edit(client, [FIRST + 5, FIRST + 6])
    changed = ht.pull(client, history=True, since=since, progress=False)
    assert sorted(changed["objectId"].unique()) == [FIRST + 5, FIRST + 6]
    both = ht.append_tidy(before, changed)
    assert not both.duplicated(["objectId", "property", "version"]).any()
    pd.testing.assert_frame_equal(_key(both), _key(ht.pull(client, history=True, progress=False)))


def test_append_tidy_drops_every_replaced_ticket_even_one_no_longer_returned(hub, client):
    old = ht.pull(client, ["subject"], ids=[FIRST, FIRST + 1], progress=False)
    client.send("DELETE", f"{V1}/{FIRST + 1}")
    new = ht.pull(client, ["subject"], ids=[FIRST, FIRST + 1], progress=False)
    assert ht.append_tidy(old, new)["objectId"].tolist() == [FIRST + 1, FIRST]  # default: new's
    assert ht.append_tidy(old, new, [FIRST, FIRST + 1])["objectId"].tolist() == [FIRST]


def test_pull_shows_a_bar_of_the_tickets_read_and_a_scan_bar_only_for_the_fallback(
    hub, client, capsys
):
    since = _edit(client, [FIRST + 1, FIRST + 2])
    ht.pull(client, ["status"], since=since, progress=True)
    err = capsys.readouterr().err
    assert "hubtickets pull" in err and "2/2" in err and "reading" not in err
    ht.pull(client, ["status"], since="2000-01-01", progress=True)
    err = capsys.readouterr().err
    assert f"reading {LAST_MODIFIED}" in err and "250/250" in err
    ht.pull(client, ["status"], progress=True)  # every ticket: the total is not known
    assert "250ticket" in capsys.readouterr().err.replace(" ", "")


# -- datasets -------------------------------------------------------------------------------


def _files(folder):
    return sorted(Path(folder).glob(PART_GLOB))


def test_a_dataset_has_one_file_per_chunk_each_holding_whole_tickets_in_order(
    hub, client, tmp_path
):
    folder = tmp_path / "tickets"
    done = ht.pull_dataset(client, folder, history=True, pages_per_file=1, progress=False)
    files = _files(folder)
    assert done.files == files and len(files) == 3  # 250 tickets: pages of 100, 100, 50
    assert done.tickets == 250 and done.removed == 0
    seen: set[int] = set()
    for file in files:
        meta = pq.ParquetFile(file).metadata
        assert meta.num_row_groups == 1
        ids = pq.read_table(file, columns=["objectId"])["objectId"].to_pylist()
        assert ids == sorted(ids) and not seen & set(ids)  # no ticket spans two files
        seen |= set(ids)
        assert pq.read_schema(file).remove_metadata() == DATASET_SCHEMA
    full = ht.pull(client, history=True, progress=False)
    assert done.rows == len(full)
    pd.testing.assert_frame_equal(_key(ht.read_tidy(folder)), _key(full))
    pd.testing.assert_frame_equal(_key(pd.read_parquet(folder)), _key(full))
    table = ds.dataset(folder, format="parquet").to_table()
    assert table.num_rows == len(full) and table.schema.remove_metadata() == DATASET_SCHEMA


def test_dask_reads_a_dataset_one_partition_per_file_for_per_ticket_work(hub, client, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    folder = tmp_path / "tickets"
    ht.pull_dataset(client, folder, history=True, pages_per_file=1, progress=False)
    frame = dd.read_parquet(folder)
    assert frame.npartitions == 3
    per_ticket = frame.map_partitions(lambda part: part.groupby("objectId").size()).compute()
    expected = ht.pull(client, history=True, progress=False).groupby("objectId").size()
    assert per_ticket.sort_index().tolist() == expected.sort_index().tolist()


def test_duckdb_and_polars_read_a_dataset(hub, client, tmp_path):
    folder = tmp_path / "tickets"
    done = ht.pull_dataset(client, folder, ["status"], pages_per_file=2, progress=False)
    pattern = str(folder / "*.parquet")
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.sql(f"SELECT count(*) FROM '{pattern}'").fetchall() == [(done.rows,)]
    polars = pytest.importorskip("polars")
    assert polars.scan_parquet(pattern).select(polars.len()).collect().item() == done.rows


def test_since_appended_to_a_dataset_replaces_only_the_changed_tickets(hub, client, tmp_path):
    folder = tmp_path / "tickets"
    ht.pull_dataset(client, folder, history=True, pages_per_file=1, progress=False)
    untouched = {f.name: f.stat().st_ino for f in _files(folder)}
    earlier = pd.read_parquet(folder)["objectId"].isin([FIRST + 1, FIRST + 2]).sum()
    since = _edit(client, [FIRST + 1, FIRST + 2])
    done = ht.pull_dataset(client, folder, history=True, since=since, append=True, progress=False)
    assert done.changes is not None and done.changes.method == "change-log"
    assert done.tickets == 2 and done.removed == earlier > 0
    after = _files(folder)
    assert len(after) == 4 and done.files == [after[-1]]
    rewritten = min(untouched)  # the first file held tickets FIRST .. FIRST + 99
    kept = {f.name: f.stat().st_ino for f in after if f.name in untouched}
    assert kept.pop(rewritten) != untouched.pop(rewritten) and kept == untouched
    pd.testing.assert_frame_equal(
        _key(pd.read_parquet(folder)), _key(ht.pull(client, history=True, progress=False))
    )


def test_a_dataset_pull_without_append_replaces_the_dataset(hub, client, tmp_path):
    folder = tmp_path / "tickets"
    ht.pull_dataset(client, folder, ["status"], progress=False)
    done = ht.pull_dataset(client, folder, ["subject"], ids=[FIRST], progress=False)
    assert _files(folder) == done.files and done.removed == 250
    assert pd.read_parquet(folder)["property"].astype(str).unique().tolist() == ["subject"]


def test_a_folder_holding_other_files_is_refused_before_anything_is_read(hub, client, tmp_path):
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    hub.clear_log()
    with pytest.raises(ConfigurationError, match=r"notes\.txt"):
        ht.pull_dataset(client, folder, ["status"], progress=False)
    assert hub.requests == [] and (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_an_interrupted_dataset_pull_leaves_the_dataset_as_it_was(tmp_path):
    folder = tmp_path / "tickets"
    with FakeHubSpot(seed=6, daily_limit=3) as hub, client_for(hub) as client:
        hub.seed_tickets(250, start_id=FIRST)
        first = ht.pull_dataset(client, folder, ["status"], pages_per_file=1, progress=False)
        assert len(first.files) == 3  # three pages: the daily limit is spent
        before = {f.name: f.read_bytes() for f in _files(folder)}
        with pytest.raises(RateLimitError):
            ht.pull_dataset(client, folder, ["subject"], pages_per_file=1, progress=False)
    assert {f.name: f.read_bytes() for f in _files(folder)} == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)  # no staging left


def test_pull_dataset_refuses_a_file_and_a_bad_chunk_size(client, tmp_path):
    file = tmp_path / "history.parquet"
    file.write_bytes(b"")
    with pytest.raises(ConfigurationError, match="is a file"):
        ht.pull_dataset(client, file, progress=False)
    with pytest.raises(ConfigurationError, match="pages_per_file"):
        ht.pull_dataset(client, tmp_path / "d", pages_per_file=0, progress=False)
    with pytest.raises(ht.ArgumentTypeError, match="TicketsClient"):
        ht.pull("not a client")  # type: ignore[arg-type]


def test_a_since_moment_must_be_a_moment(client):
    with pytest.raises(ValueError, match="since must be a datetime"):
        client.changed_since("last tuesday")
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    assert client.changed_since(an_hour_ago).ids == []


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(hub, monkeypatch):
    """``hubtickets pull ...`` against ``hub``: the exit status."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)

    def run(*args):
        return main(["pull", *map(str, args), "--base-url", hub.base_url])

    return run


def _ms(text):
    return int(pd.Timestamp(text, tz="UTC").timestamp() * 1000)


def test_cli_refreshes_a_dataset_since_a_span_back_and_appends_without_duplicates(
    hub, client, cli, tmp_path, capsys
):
    folder = f"{tmp_path / 'tickets'}/"
    assert cli(folder, "--history", "--pages-per-file", "2", "--no-progress") == 0
    out = capsys.readouterr().out
    full = ht.pull(client, history=True, progress=False)
    assert f"{len(full):,} rows (every version) of 250 tickets -> 2 files in {folder[:-1]}" in out
    _edit(client, [FIRST + 9])
    earlier = (full["objectId"] == FIRST + 9).sum()
    assert cli(folder, "--history", "--since", "2h", "--append", "--no-progress") == 0
    out = capsys.readouterr().out
    assert ": 1 changed ticket (HubSpot's change log listed 1 change)" in out
    assert out.startswith("--since ") and "of 1 tickets -> 1 file in" in out
    assert f"--append: {earlier} earlier rows of these tickets replaced" in out
    fresh = ht.pull(client, history=True, progress=False)
    pd.testing.assert_frame_equal(_key(pd.read_parquet(folder)), _key(fresh))


def test_cli_appends_to_a_parquet_file_and_names_the_method_of_an_old_since(
    hub, client, cli, tmp_path, capsys
):
    out = tmp_path / "history.parquet"
    assert cli(out, "--history") == 0
    earlier = (ht.read_tidy(out)["objectId"] == FIRST + 4).sum()
    stamp = _edit(client, [FIRST + 4])
    moment = datetime.fromtimestamp(stamp / 1000, timezone.utc).isoformat()
    assert cli(out, "--history", "--since", moment, "--append") == 0
    printed = capsys.readouterr().out
    assert "1 changed ticket (HubSpot's change log" in printed
    fresh = ht.pull(client, history=True, progress=False)
    replaced = f"--append: {earlier} earlier rows of these tickets replaced; {len(fresh):,} rows"
    assert replaced in printed
    pd.testing.assert_frame_equal(_key(ht.read_tidy(out)), _key(fresh))
    expected = {oid for oid, ms in _modified(hub).items() if ms >= _ms("2024-06-01")}
    assert cli(tmp_path / "recent.parquet", "--since", "2024-06-01", "--properties", "status") == 0
    printed = capsys.readouterr().out
    assert f"--since 2024-06-01 00:00:00 UTC: {len(expected)} changed tickets (read " in printed
    assert f"{LAST_MODIFIED} of 250 tickets, as HubSpot's change log keeps 24 h" in printed
    assert set(pd.read_parquet(tmp_path / "recent.parquet")["objectId"]) == expected


def test_cli_dataset_flag_writes_a_folder_without_a_trailing_slash(hub, cli, tmp_path, capsys):
    folder = tmp_path / "tickets"
    assert cli(folder, "--dataset", "--properties", "status", "--pages-per-file", "1") == 0
    assert len(_files(folder)) == 3
    assert f"-> 3 files in {folder}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["h.csv", "--append"],
            "--append adds to a *.parquet file or a dataset folder, not to CSV",
        ),
        (["busy/"], "holds files that are not part of a dataset (notes.txt)"),
    ],
)
def test_cli_refuses_before_any_request_naming_the_flag_and_file(
    hub, cli, tmp_path, monkeypatch, capsys, args, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    hub.clear_log()
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert message in err and args[0].rstrip("/") in err
    assert hub.requests == []


def test_cli_refuses_a_since_that_is_no_moment(cli, capsys):
    with pytest.raises(SystemExit) as done:
        cli("h.parquet", "--since", "last tuesday")
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "--since" in err and "'last tuesday' is neither ISO 8601" in err and "36h" in err


def test_cli_pull_shows_progress_bars(hub, cli, tmp_path, capsys):
    assert cli(f"{tmp_path / 'all'}/", "--properties", "status", "--progress") == 0
    err = capsys.readouterr().err
    assert "hubtickets pull" in err and "250" in err and "reading" not in err
    assert cli(tmp_path / "old.parquet", "--since", "2024-06-01", "--progress") == 0
    err = capsys.readouterr().err
    assert f"reading{LAST_MODIFIED}:250ticket" in err.replace(" ", "")  # total unknown
    assert hub.token not in err


def test_a_full_pull_appended_to_a_dataset_replaces_every_earlier_row(hub, client, tmp_path):
    folder = tmp_path / "tickets"
    first = ht.pull_dataset(client, folder, history=True, pages_per_file=2, progress=False)
    _edit(client, [FIRST + 42])
    again = ht.pull_dataset(client, folder, history=True, append=True, progress=False)
    assert again.removed == first.rows and _files(folder) == again.files
    pd.testing.assert_frame_equal(
        _key(pd.read_parquet(folder)), _key(ht.pull(client, history=True, progress=False))
    )


def test_since_with_ids_reads_only_the_listed_tickets_that_changed(hub, client):
    since = _edit(client, [FIRST + 1, FIRST + 2])
    hub.clear_log()
    tidy = ht.pull(client, ["status"], since=since, ids=[FIRST + 2, FIRST + 3], progress=False)
    assert tidy["objectId"].tolist() == [FIRST + 2]
    reads = [r for r in hub.requests if r.path.endswith("/batch-read")]
    assert [r.objects for r in reads] == [1]  # the unchanged listed ticket is not read


def test_a_dataset_pulled_through_2026_03_keeps_its_extra_columns_and_takes_v1_appends(tmp_path):
    """The date-versioned answers' sourceLabel/updatedByUserId fit the dataset's fixed schema."""
    folder = tmp_path / "tickets"
    with FakeHubSpot(seed=5) as hub:
        ids = hub.generate_history(12)
        with client_for(hub, api="2026-03") as versioned:
            ht.pull_dataset(versioned, folder, history=True, progress=False)
        with client_for(hub) as v1:
            full_v1 = ht.pull(v1, history=True, progress=False)
            _edit(v1, ids[:2])
            since = full_v1["timestamp"].max()
            ht.pull_dataset(v1, folder, history=True, since=since, append=True, progress=False)
    for file in _files(folder):
        assert pq.read_schema(file).remove_metadata() == DATASET_SCHEMA
    read = pd.read_parquet(folder)
    assert read["updatedByUserId"].notna().any()  # UI changes name their user, kept
    reread = read[read["objectId"].isin(ids[:2])]
    assert reread["updatedByUserId"].isna().all()  # re-read through v1: no such field
    assert set(ht.read_tidy(folder)["objectId"]) == set(full_v1["objectId"])
