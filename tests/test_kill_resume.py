"""SIGKILL at random moments, then resume with the same journal: nothing lost, nothing wrong.

A push runs in a child process against the emulator (served by this process,
so its record of writes survives the kills) and is killed at a random moment,
several times over; the journal is the only memory between runs. A last run
through the command line must then finish the job, and HubSpot must hold
exactly the edited values, every row accounted for.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pandas_hubtickets._cli import main
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 700_000
ROWS = 1000

CHILD = """
import sys
import pandas as pd
import pandas_hubtickets as ht

edits = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
client = ht.TicketsClient(
    sys.argv[3], base_url=sys.argv[4], requests_per_10s=10_000, api=sys.argv[5]
)
print("started", flush=True)
edits.hubtickets.update(client, id_column="Ticket ID", batch_size=10, journal=sys.argv[2],
                        progress=False)
print("finished", flush=True)
"""


@pytest.mark.reliability
@pytest.mark.off_contract("the client is killed mid-request, so some bodies arrive cut off")
@pytest.mark.parametrize(
    "api",
    ["v1", "2026-03"],
)
def test_random_kills_then_resume_land_every_row_exactly_once(
    tmp_path, monkeypatch, capsys, figures, reliability_scale, api
):
    kills = 4 * reliability_scale
    rng = random.Random(20261128)
    edits_csv, journal = tmp_path / "edits.csv", tmp_path / "push.jsonl"
    ids = list(range(FIRST, FIRST + ROWS))
    wanted = {oid: f"kill-resume {oid}" for oid in ids}
    pd.DataFrame({"Ticket ID": ids, "subject": [wanted[i] for i in ids]}).to_csv(
        edits_csv, index=False
    )
    with FakeHubSpot(seed=9, latency=0.02, requests_per_10s=10_000) as hub:
        hub.seed_tickets(ROWS, start_id=FIRST)
        killed_after_start = 0
        for _ in range(kills):
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, edits_csv, journal, hub.token, hub.base_url, api],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "started"  # imports done: sending now
            time.sleep(rng.uniform(0.0, 0.3))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            killed_after_start += child.returncode == -signal.SIGKILL

        journaled = _updated_in(journal)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        args = ["push", str(edits_csv), "--journal", str(journal), "--no-progress"]
        args += [] if api == "v1" else ["--api", api]
        report = tmp_path / "report.csv"
        assert main([*args, "--base-url", hub.base_url, "--report", str(report)]) == 0
        statuses = pd.read_csv(report)["status"]
        assert set(statuses) <= {"updated", "already_updated"}
        assert int((statuses == "already_updated").sum()) == len(journaled)

        held = {oid: hub.ticket(oid)["properties"]["subject"]["value"] for oid in ids}
        wrong = sum(held[oid] != value for oid, value in wanted.items())
        assert held == wanted  # every row landed, with its own value
        written = {(w["objectId"], w["value"]) for w in hub.writes if w["name"] == "subject"}
        assert written == set(wanted.items())  # and nothing else was ever written

    figures.add("kill and resume", "SIGKILLs at random moments", killed_after_start)
    figures.add("kill and resume", "rows pushed through the kills", ROWS)
    figures.add("kill and resume", "rows wrong or lost after resuming", wrong)
    capsys.readouterr()


def _updated_in(journal: Path) -> set[int]:
    """Ticket ids the journal records as updated (a line cut short by a kill is skipped)."""
    done = set()
    for line in journal.read_text().splitlines() if journal.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("status") == "updated":
            done.add(entry["objectId"])
    return done
