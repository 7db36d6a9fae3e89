"""Every example of the README runs verbatim, against the local emulator.

The Python examples and the ``hubtickets`` commands are taken from README.md as
they are written; only the environment is set up around them:
``HUBSPOT_ACCESS_TOKEN`` and ``HUBSPOT_BASE_URL`` point at an emulator, and the
working folder holds the files an example reads (``fixed.csv``: a HubSpot
export fixed by hand; ``edits.csv``; ``ids.txt``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pandas_hubtickets import TicketsClient, pull
from pandas_hubtickets._cli import main, since_moment
from pandas_hubtickets.testing import FakeHubSpot

README = Path(__file__).resolve().parents[1] / "README.md"
FIRST = 176_000


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
    if "refresh" in namespace:  # the big-portal example
        check_dataset_example(namespace)


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


def check_dataset_example(ns: dict[str, object]) -> None:
    refresh = ns["refresh"]
    assert refresh.changes.method == "change-log"  # type: ignore[attr-defined]
    assert refresh.tickets == 0  # type: ignore[attr-defined]  # nothing changed meanwhile
    versions = ns["versions"]
    assert isinstance(versions, pd.Series)
    assert versions.sort_index().to_dict() == {FIRST + i: 1 for i in range(4)}
    assert pd.read_parquet("tickets")["objectId"].nunique() == 4


# -- the command line ----------------------------------------------------------------------


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
