"""Every example of the README runs verbatim, against the local emulator.

The Python examples and the ``hubtickets`` commands are taken from README.md as
they are written; only the environment is set up around them:
``HUBSPOT_ACCESS_TOKEN`` and ``HUBSPOT_BASE_URL`` point at an emulator, and the
working folder holds the files an example reads (``fixed.csv``: a HubSpot
export fixed by hand; ``edits.csv``; ``ids.txt``).

The README's ``serve`` commands use fixed ports (8765, 8766): two suites run at
once on one machine (CI runs ``make test`` and ``make test-min`` side by side)
take turns at this module through a lock file.
"""

from __future__ import annotations

import fcntl
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from helpers import serve_output

import pandas_hubtickets as ht
from pandas_hubtickets import TicketsClient, pull
from pandas_hubtickets._cli import main, since_moment
from pandas_hubtickets._flatten import TIDY_COLUMNS
from pandas_hubtickets.testing import FakeHubSpot
from pandas_hubtickets.testing.catalogue import PIPELINES

README = Path(__file__).resolve().parents[1] / "README.md"
FIRST = 176_000
STAGES = [s.label for p in PIPELINES for s in p.stages]


@pytest.fixture(scope="module", autouse=True)
def readme_ports() -> Iterator[None]:
    """Hold the machine's lock on the README's fixed ports while this module runs."""
    with open(Path(tempfile.gettempdir()) / "pandas-hubtickets-readme-ports.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another suite runs this module
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def python_examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "the README has no Python example"
    return blocks


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with FakeHubSpot(seed=11) as hub:
        hub.seed_tickets(4, start_id=FIRST)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "fixed.csv").write_text(
            "Ticket ID,status,hs_ticket_priority,subject\n"
            f"{FIRST},CLOSED,HIGH,Printer on fire\n"
            f"{FIRST + 1},OPEN,LOW,\n"
            f"{FIRST + 2},WAITING,,Login loop\n"
        )
        yield hub


@pytest.mark.parametrize("number", range(len(python_examples())))
def test_readme_example_runs_verbatim(hub, number):
    namespace: dict[str, object] = {}
    exec(compile(python_examples()[number], f"README.md example {number}", "exec"), namespace)
    if "history" in namespace:  # the main example: what each of its comments promises
        check_main_example(namespace, hub)
    if "preview" in namespace:  # the dry-run example
        check_dry_run_example(namespace, hub)
    if "board" in namespace:  # the labels example
        check_labels_example(namespace)
    if "trail" in namespace:  # the ticket-history example
        check_history_example(namespace)
    if "undone" in namespace:  # only what changed, preview and undo
        check_only_changed_example(namespace, hub)
    if "fixed" in namespace:  # the coercion example
        check_coerce_example(namespace, hub)
    if "refresh" in namespace:  # the big-portal example
        check_dataset_example(namespace)
    if "by_ref" in namespace:  # the date-versioned API, by your own key
        check_id_property_example(namespace, hub)
    if "versioned" in namespace:  # flatten of a date-versioned answer
        check_versioned_example(namespace)
    if "same" in namespace:  # which API: the same calls through v1 and 2026-03
        check_which_api_example(namespace, hub)


def check_which_api_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    assert ns["landed"].ok  # type: ignore[attr-defined]
    writes = [r.path for r in hub.requests if r.method == "POST" and "/batch" in r.path]
    assert writes and all(p.startswith("/crm/objects/2026-03/tickets/") for p in writes)
    old = ns["old"]
    from_v1 = ht.flatten(old.batch_read([FIRST, FIRST + 1], ["hs_ticket_priority"]))  # type: ignore[attr-defined]
    same = ns["same"]
    assert same["hs_ticket_priority"].tolist() == ["HIGH", "LOW"]  # type: ignore[index]
    pd.testing.assert_frame_equal(
        same[["objectId", "hs_ticket_priority"]],  # type: ignore[index]
        from_v1.hubtickets.current()[["objectId", "hs_ticket_priority"]],
    )


def check_id_property_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    report = ns["by_ref"].report  # type: ignore[attr-defined]
    assert report[["objectId", "status"]].values.tolist() == [
        ["EXT-8", "updated"],
        ["EXT-7", "updated"],
    ]
    assert hub.ticket(FIRST + 1)["properties"]["status"]["value"] == "CLOSED"  # EXT-8
    changes = ns["by_ref_changes"]  # the fixed cell, found by its key
    assert isinstance(changes, pd.DataFrame)
    assert changes[["objectId", "hs_object_id", "old", "new"]].values.tolist() == [
        ["EXT-7", FIRST, "OPEN", "WAITING"]
    ]
    assert ns["again"].report["status"].tolist() == ["unchanged", "updated"]  # type: ignore[attr-defined]
    restored = ns["restored"].report  # type: ignore[attr-defined]
    assert restored[["objectId", "hs_object_id", "status"]].values.tolist() == [
        ["EXT-7", FIRST, "restored"]
    ]
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "OPEN"  # EXT-7, restored
    assert {r.path for r in hub.requests if r.method == "POST"} >= {
        "/crm/objects/2026-03/tickets/batch/update"
    }


def check_main_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    result = ns["result"]
    assert result.report["status"].tolist() == ["updated"] * 3  # type: ignore[attr-defined]
    assert result.failed_rows().empty  # type: ignore[attr-defined]
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "CLOSED"
    history = ns["history"]
    assert isinstance(history, pd.DataFrame)
    versions = history.groupby(["objectId", "property"], observed=True).size()
    # "one row per version": every edited property has its seeded value and the edit
    assert versions.loc[(FIRST, "status")] == 2
    assert versions.loc[(FIRST + 1, "hs_ticket_priority")] == 2
    assert (versions >= 1).all() and len(versions) > 3 * 3  # every property, not the edited only
    wide = history.hubtickets.current()  # "wide again: the current values"
    assert wide.set_index("objectId").loc[FIRST, "status"] == "CLOSED"
    assert Path("push.jsonl").exists()
    sent = {r.path for r in hub.requests if r.method == "POST"}  # the date-versioned API only
    assert sent and all(path.startswith("/crm/objects/2026-03/tickets/") for path in sent)


def check_dry_run_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    problems = ns["problems"]
    assert isinstance(problems, pd.DataFrame)
    assert problems[["row", "code"]].values.tolist() == [
        [0, "INVALID_OPTION"],
        [2, "DUPLICATE_ID"],
        [3, "DUPLICATE_ID"],
    ]
    preview = ns["preview"]
    statuses = preview.report["status"].tolist()  # type: ignore[attr-defined]
    assert statuses == ["failed", "dry_run", "failed", "failed"]  # as the comment says
    assert len(preview.problems) == 3  # type: ignore[attr-defined]
    assert hub.writes == []


def check_labels_example(ns: dict[str, object]) -> None:
    from pandas_hubtickets.testing.catalogue import OWNERS, PIPELINES

    stages, owners, moves, board = (ns[k] for k in ("stages", "owners", "moves", "board"))
    assert isinstance(stages, pd.DataFrame) and isinstance(owners, pd.DataFrame)
    assert stages["stage"].tolist() == [s.label for p in PIPELINES for s in p.stages]
    assert set(owners["name"]) == {f"{o.first_name} {o.last_name}" for o in OWNERS}
    per_stage = ns["per_stage"]
    assert isinstance(per_stage, pd.Series)  # "New, Waiting on contact, ... Rejected"
    assert per_stage.index.tolist() == stages["stage"].tolist()
    assert isinstance(moves, pd.DataFrame) and moves["pipeline"].notna().all()
    assert isinstance(board, pd.DataFrame)
    per_owner = ns["per_owner"]
    assert isinstance(per_owner, pd.Series)
    assert set(per_owner[per_owner > 0].index) <= set(owners["name"])  # "by name"
    assert ns["catalogue"].__class__.__name__ == "Catalogue"


def check_history_example(ns: dict[str, object]) -> None:
    ids = ns["ids"]
    wide = ns["wide"]
    assert isinstance(wide, pd.DataFrame) and isinstance(wide["status"].dtype, pd.CategoricalDtype)
    assert wide["status"].tolist() == ["CLOSED"] * 3
    assert wide["createdate"].dtype == pd.DatetimeTZDtype("ms", "UTC")
    then = ns["then"]
    assert isinstance(then, pd.DataFrame) and "CLOSED" not in then["status"].tolist()
    moves = ns["moves"]
    assert isinstance(moves, pd.DataFrame)
    assert moves.groupby("objectId").size().tolist() == [2, 2, 2]  # the re-sent value is no move
    assert (moves["from"] != moves["to"]).all()
    assert ns["flow"].sum() == len(moves)  # type: ignore[attr-defined]
    spells = ns["spells"]
    assert isinstance(spells, pd.DataFrame) and len(spells) == 3 * 3
    assert spells["end"].isna().sum() == 3  # each ticket's current status is still open
    assert ns["closed_by"]["objectId"].tolist() == ids  # type: ignore[index]
    assert len(ns["ax"].patches) == len(spells)  # type: ignore[attr-defined]
    by_stage = ns["by_stage"]  # "stage names, in pipeline order"
    assert isinstance(by_stage, pd.DataFrame)
    assert by_stage["value"].cat.categories.tolist() == STAGES
    assert by_stage["pipeline"].notna().all() and set(by_stage["value"]) <= set(STAGES)


def check_only_changed_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    changes = ns["changes"]
    assert isinstance(changes, pd.DataFrame) and len(changes) == 3  # as the comment says
    statuses = {
        name: ns[name].report["status"].tolist()  # type: ignore[attr-defined]
        for name in ("plan", "pushed", "again", "undone")
    }
    assert statuses == {  # as the comments say
        "plan": ["dry_run", "dry_run", "unchanged"],
        "pushed": ["updated", "updated", "unchanged"],
        "again": ["unchanged"] * 3,
        "undone": ["restored", "conflict", "restored"],
    }
    plan = ns["plan"]
    assert plan.changes["new"].tolist() == ["CLOSED", "CLOSED"]  # type: ignore[attr-defined]
    assert plan.problems["value"].tolist() == ["High"]  # type: ignore[attr-defined]
    pushed_writes = [w for w in hub.writes if w["source"] == "API"]
    assert sorted((w["objectId"], w["name"]) for w in pushed_writes[:3]) == [
        (FIRST, "status"),
        (FIRST + 1, "hs_ticket_priority"),
        (FIRST + 1, "status"),
    ]
    assert hub.ticket(FIRST)["properties"]["status"]["value"] == "WAITING"  # restored
    assert hub.ticket(FIRST + 1)["properties"]["status"]["value"] == "OPEN"  # the later edit
    assert hub.ticket(FIRST + 1)["properties"]["hs_ticket_priority"]["value"] == "URGENT"
    assert Path("undo.parquet").exists()


def check_coerce_example(ns: dict[str, object], hub: FakeHubSpot) -> None:
    export = ns["export"]
    refused, left = ns["refused"], ns["left"]
    assert isinstance(export, pd.DataFrame)
    assert isinstance(refused, pd.DataFrame) and isinstance(left, pd.DataFrame)
    headers = set(export.columns) - {"Ticket ID"}
    assert set(refused["column"]) == headers  # "every header is refused"
    assert set(left["value"]) == {"05/03/2024", "Hgh"}  # "left for you"
    fixed = ns["fixed"]
    frame = fixed.frame  # type: ignore[attr-defined]
    assert list(frame.columns) == ["Ticket ID", "hs_ticket_priority", "is_escalated", "due_date"]
    assert fixed.problems["value"].tolist() == ["Hgh"]  # type: ignore[attr-defined]
    assert "did you mean 'HIGH'" in fixed.problems["problem"][0]  # type: ignore[attr-defined]
    assert fixed.changes["rule"].nunique() > 3  # type: ignore[attr-defined]
    statuses = ns["result"].report["status"].tolist()  # type: ignore[attr-defined]
    assert statuses == ["updated", "updated", "failed"]  # as the comment says
    assert hub.ticket(FIRST + 1)["properties"]["due_date"]["value"] == "1709596800000"


def check_dataset_example(ns: dict[str, object]) -> None:
    refresh = ns["refresh"]
    assert refresh.changes.method == "change-log"  # type: ignore[attr-defined]
    assert refresh.tickets == 0  # type: ignore[attr-defined]  # nothing changed meanwhile
    versions = ns["versions"]
    assert isinstance(versions, pd.Series)
    assert versions.sort_index().to_dict() == {FIRST + i: 1 for i in range(4)}
    assert pd.read_parquet("tickets")["objectId"].nunique() == 4


# -- the command line ----------------------------------------------------------------------


def only_changed_commands() -> list[str]:
    """The commands of "Only what changed, preview and undo", to run one after the other."""
    text = README.read_text(encoding="utf-8").split("## Only what changed")[1]
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block, "the section documents no hubtickets command"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()]


def test_readme_only_changed_commands_run_verbatim_in_order(hub, capsys):
    Path("edits.csv").write_text(
        "Ticket ID,status,due_date\n"
        f"{FIRST},CLOSED,2026-01-02\n"
        f"{FIRST + 1},OPEN,\n"
        f"{FIRST + 2},WAITING,2026-03-04T00:00+00:00\n"
    )
    for command in only_changed_commands():
        args = shlex.split(command)
        assert args[0] == "hubtickets"
        before = len(hub.writes)
        assert main(args[1:]) == 0, (command, capsys.readouterr())
        if "--dry-run" in args or args[-1] == "--only-changed":  # the preview, and the re-run
            assert len(hub.writes) == before
    assert pd.read_csv("preview.csv")["new"].notna().all()
    assert pd.read_csv("undone.csv")["status"].eq("restored").all()
    assert hub.ticket(FIRST)["properties"]["status"]["value"] != "CLOSED"  # undone


def cli_examples() -> list[str]:
    """The documented commands, one a line, comments cut; ``[--flag]`` gives two commands."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(hubtickets demo.*?)```", text, re.DOTALL)
    assert block, "the README documents no hubtickets command"
    commands = []
    for line in block.group(1).splitlines():
        command = line.split("  #")[0].strip()
        optional = re.search(r" \[(--[\w-]+)\]", command)
        if optional:
            commands.append(command.replace(optional.group(0), ""))
            command = command.replace(optional.group(0), " " + optional.group(1))
        commands.append(command)
    return commands


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``hubtickets serve --port 8765``, as the README runs it; yields its token."""
    command = next(c for c in cli_examples() if c.startswith("hubtickets serve"))
    executable = Path(sys.executable).with_name("hubtickets")
    process = subprocess.Popen(
        [str(executable), *shlex.split(command)[1:]],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path_factory.mktemp("serve"),
    )
    try:
        assert process.stdout is not None
        token = None
        for line in process.stdout:  # ends at "Ctrl-C to stop."
            if "HUBSPOT_ACCESS_TOKEN=" in line:
                token = line.split("=", 1)[1].strip()
            if line.startswith("Ctrl-C"):
                break
        assert token, "serve printed no token"
        yield token
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_readme_serve_history_runs_verbatim(tmp_path, monkeypatch):
    """The README's `serve ... --history N`: a pull reads N ticket histories (one deleted)."""
    (command,) = [
        c for c in cli_examples() if c.startswith("hubtickets serve") and "--history" in c
    ]
    args = shlex.split(command)
    histories = int(args[args.index("--history") + 1])
    executable = Path(sys.executable).with_name("hubtickets")
    process = subprocess.Popen([str(executable), *args[1:]], stdout=subprocess.PIPE, text=True)
    try:
        printed = serve_output(process)
        url = printed[0].split(" at ")[1].strip()
        token = next(line for line in printed if "HUBSPOT_ACCESS_TOKEN=" in line).split("=")[1]
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", token.strip())
        assert main(["pull", "history.parquet", "--history", "--base-url", url]) == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    tidy = ht.read_tidy("history.parquet")
    assert tidy["objectId"].nunique() == histories - 1  # --tickets 0; one history deleted
    spells = tidy.hubtickets.durations()
    assert spells.groupby("objectId").size().mean() > 2  # tickets moved through stages
    assert {"CRM_UI", "WORKFLOWS", "IMPORT", "INTEGRATION"} <= set(tidy["source"])


@pytest.mark.parametrize("command", [c for c in cli_examples() if "serve" not in c])
def test_readme_command_runs_verbatim(command, served, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", served)
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:8765")  # the README's `serve`
    Path("edits.csv").write_text(
        "Ticket ID,status,due_date\n"
        f"{FIRST},CLOSED,2026-01-02\n"
        f"{FIRST + 1},OPEN,\n"
        f"{FIRST + 2},WAITING,2026-03-04T00:00+00:00\n"
    )
    Path("ids.txt").write_text(f"{FIRST}\n{FIRST + 5}\n")
    args = shlex.split(command)
    assert args[0] == "hubtickets"
    try:
        code = main(args[1:])
    except SystemExit as done:  # --help
        code = int(done.code or 0)
    out = capsys.readouterr()
    assert code == 0, out.err
    if "pull" in args:  # what was written opens with plain pandas (or plain CSV)
        (path,) = [Path(a) for a in args if a.endswith((".parquet", ".csv", "/"))]
        frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
        properties = frame.groupby("objectId")["property"].nunique()
        if "--ids" in args:
            assert set(frame["objectId"]) == {FIRST, FIRST + 5}
        elif "--since" in args:  # exactly the tickets modified since then
            assert set(frame["objectId"]) == modified_since(args[args.index("--since") + 1])
        else:
            assert len(properties) == 1000  # every ticket `serve` holds
        if "--properties" in args:
            assert set(frame["property"]) <= {"status", "subject"}
            assert len(frame) == 0 or set(frame["property"]) == {"status", "subject"}
        if "--history" in args:  # every property, not only the ones asked for
            assert properties.min() >= 8
    if "--problems" in args:
        assert Path("problems.csv").exists()
    if "--journal" in args:
        assert len(Path("push.jsonl").read_text().splitlines()) == 1 + 3  # header, 3 rows


def modified_since(when: str) -> set[int]:
    """The tickets of `serve` whose hs_lastmodifieddate is WHEN (as --since reads it) or later."""
    since = since_moment(when)
    with TicketsClient() as client:  # the README's `serve`, from the environment
        dates = pull(client, "hs_lastmodifieddate", ids=range(FIRST, FIRST + 1000), progress=False)
    return set(dates.loc[dates["timestamp"] >= since, "objectId"])


def check_versioned_example(ns: dict[str, object]) -> None:
    tidy = ns["versioned"]
    assert isinstance(tidy, pd.DataFrame)
    assert list(tidy.columns) == [*TIDY_COLUMNS, "sourceLabel", "updatedByUserId"]
    assert tidy["version"].tolist() == [0, 1]
    moves = tidy.hubtickets.transitions("status")
    assert moves[["from", "to", "source", "sourceId"]].astype(object).values.tolist() == [
        ["OPEN", "IN_PROGRESS", "CRM_UI", "userId:7"]
    ]
    assert moves["at"].tolist() == [pd.Timestamp("2018-04-04T21:19:39.774Z")]
