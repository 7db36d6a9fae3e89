"""Peak memory of pushing 200,000 rows, with and without collecting HubSpot's answers.

The emulator runs in a process of its own (its store of 200,000 tickets is
not the client's memory) with no rate limit, and each measurement runs in a
fresh process: its peak resident memory (Linux ``VmHWM``, reset just before
the run; ``ru_maxrss`` elsewhere) minus its resident memory before the run.

Targets, against the input frame's own memory (``memory_usage(deep=True)``)
measured in the same run:

- ``tickets=False``: at most 2x the frame plus a fixed allowance of 64 MiB
  (the interpreter's and pyarrow's arenas, the thread pool, the buffers of
  requests in flight).
- ``tickets=True``: the same, plus twice the tidy frame returned (its
  per-answer pieces and the concatenated frame exist together once, at the end).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import resource
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure

ROWS = 200_000
FIRST_ID = 3_000_000
ALLOWANCE = 64 * 2**20
MiB = 2**20


def _edits() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "objectId": np.arange(FIRST_ID, FIRST_ID + ROWS),
            "status": rng.choice(["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"], ROWS).astype(object),
            "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "HIGH"], ROWS).astype(object),
        }
    )


def _serve(conn: Connection) -> None:
    """The emulator, in its own process, until told to stop."""
    from pandas_hubtickets.testing import FakeHubSpot

    with FakeHubSpot() as hub:
        hub.seed_tickets(ROWS, start_id=FIRST_ID)
        conn.send((hub.base_url, hub.token))
        conn.recv()


def _status(field: str) -> int | None:
    """A ``/proc/self/status`` figure in bytes (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)
    except OSError:
        return False
    return True


def _measure(base_url: str, token: str, tickets: bool, conn: Connection) -> None:
    """In a fresh process: the frame's bytes and the peak growth of one update."""
    import pandas_hubtickets as ht

    df = _edits()
    frame_bytes = int(df.memory_usage(deep=True).sum())
    client = ht.TicketsClient(token, base_url=base_url, requests_per_10s=100_000, max_workers=4)
    gc.collect()
    before = _status("VmRSS") if _reset_peak() else None
    if before is None:  # no /proc: the lifetime peak, which the frame's building set
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = df.hubtickets.update(client, progress=False, tickets=tickets)
    peak = _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    updated = int((result.report["status"] == "updated").sum())
    tidy_bytes = int(result.tickets.memory_usage(deep=True).sum())
    conn.send((frame_bytes, peak - before, updated, tidy_bytes))


def _run_in_child(ctx: Any, target: Any, *args: Any) -> Any:
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=target, args=(*args, theirs))
    child.start()
    try:
        return ours.recv()
    finally:
        child.join(timeout=300)


def run() -> list[Figure]:
    ctx = mp.get_context("spawn")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    ours, theirs = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        base_url, token = ours.recv()
        figures: list[Figure] = []
        for tickets in (False, True):
            frame, grew, updated, tidy = _run_in_child(ctx, _measure, base_url, token, tickets)
            name = f"update {ROWS:,} rows, tickets={tickets}"
            budget = 2 * frame + ALLOWANCE + 2 * tidy
            figures += [
                Figure(name, "peak memory vs budget", grew / MiB, "MiB", budget / MiB, 1.0),
                Figure(name, "input frame", frame / MiB, "MiB"),
                Figure(name, "tidy frame returned", tidy / MiB, "MiB"),
                Figure(name, "peak memory per row", grew / ROWS, "B"),
                Figure(name, "rows updated", updated, "rows", ROWS, 1.0, higher_is_better=True),
            ]
        return figures
    finally:
        ours.send("stop")
        server.join(timeout=30)
