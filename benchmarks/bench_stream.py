"""Peak memory of ``hubtickets push`` of a large CSV: a chunk at a time vs the file loaded whole.

A CSV of edits (id, two enumerations, a free-text subject) is pushed by
:func:`pandas_hubtickets._stream.push_file` (what ``hubtickets push`` runs)
once a chunk at a time and once as one chunk (the whole file in memory,
which is what ``push`` did before it streamed):

- a dry run of ``DRY_ROWS`` rows (``HUBTICKETS_BENCH_STREAM_ROWS``, default
  500,000; 2,000,000 for the README's figure) in chunks of 100,000: every
  check of a real run (ids, duplicates across the file, the property
  definitions read from the emulator, each value), nothing sent, so the
  emulator needs no million tickets. A whole-file dry run also builds the
  payload it would send, so this ratio flatters streaming;
- a real push of ``PUSH_ROWS`` (50,000) tickets to an emulator in a process
  of its own (no rate limit) in chunks of 5,000: that sending keeps memory
  bounded too (informational: at this size fixed costs weigh).

Each measurement runs in a fresh process: its peak resident memory (Linux
``VmHWM``, reset just before the run; ``ru_maxrss`` elsewhere) minus its
resident memory before the run. The report of every row (one per input row)
is part of both. Times are left out: on a shared machine they vary more
than streaming changes them. Target: the streamed dry run needs at most half
the memory of the whole file.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import resource
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure

DRY_ROWS = int(os.environ.get("HUBTICKETS_BENCH_STREAM_ROWS", "500000"))
PUSH_ROWS = 50_000
PUSH_CHUNK = 5_000
PUSH_FIRST_ID = 3_000_000
MiB = 2**20


def _write_csv(path: Path, rows: int, first_id: int) -> None:
    rng = np.random.default_rng(7)
    pd.DataFrame(
        {
            "Ticket ID": np.arange(first_id, first_id + rows),
            "status": rng.choice(["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"], rows),
            "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "HIGH"], rows),
            "subject": rng.choice(["Printer on fire", "Login loop", "Refund, please"], rows),
        }
    ).to_csv(path, index=False)


def _serve(conn: Connection) -> None:
    """The emulator with ``PUSH_ROWS`` tickets, in its own process, until told to stop."""
    from pandas_hubtickets.testing import FakeHubSpot

    with FakeHubSpot() as hub:
        hub.seed_tickets(PUSH_ROWS, start_id=PUSH_FIRST_ID)
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


def _measure(
    base_url: str, token: str, path: str, chunk_rows: int, dry_run: bool, conn: Connection
) -> None:
    """In a fresh process: the peak growth of one push of the file, and the rows it did."""
    import pandas_hubtickets as ht
    from pandas_hubtickets._files import EditsFile
    from pandas_hubtickets._stream import push_file

    client = ht.TicketsClient(token, base_url=base_url, requests_per_10s=100_000)
    gc.collect()
    before = _status("VmRSS") if _reset_peak() else None
    if before is None:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = push_file(
        EditsFile(path),
        client,
        id_column="Ticket ID",
        chunk_rows=chunk_rows,
        dry_run=dry_run,
        progress=False,
    )
    peak = _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    done = int(result.report["status"].isin(["dry_run", "updated"]).sum())
    conn.send((peak - before, done))


def _run_in_child(ctx: Any, *args: Any) -> Any:
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_measure, args=(*args, theirs))
    child.start()
    try:
        return ours.recv()
    finally:
        child.join(timeout=300)


def _compare(
    ctx: Any,
    name: str,
    url: str,
    token: str,
    path: Path,
    rows: int,
    chunk: int,
    dry_run: bool,
    target: float | None,
) -> list[Figure]:
    whole, _ = _run_in_child(ctx, url, token, str(path), rows + 1, dry_run)
    streamed, done = _run_in_child(ctx, url, token, str(path), chunk, dry_run)
    name = f"{name} {rows:,}-row CSV ({path.stat().st_size / MiB:,.0f} MiB)"
    what = "rows checked" if dry_run else "rows updated"
    return [
        Figure(
            name,
            f"peak memory, chunks of {chunk:,} vs whole",
            streamed / MiB,
            "MiB",
            whole / MiB,
            target,
        ),
        Figure(name, "peak memory per row, streamed", streamed / rows, "B"),
        Figure(name, what, done, "rows", rows, 1.0, higher_is_better=True),
    ]


def run() -> list[Figure]:
    from pandas_hubtickets._stream import CHUNK_ROWS
    from pandas_hubtickets.testing import FakeHubSpot

    ctx = mp.get_context("spawn")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edits.csv"
        with FakeHubSpot() as hub:
            _write_csv(path, DRY_ROWS, 10_000_000)
            figures += _compare(
                ctx,
                "push --dry-run",
                hub.base_url,
                hub.token,
                path,
                DRY_ROWS,
                CHUNK_ROWS,
                dry_run=True,
                target=2.0,
            )
        ours, theirs = ctx.Pipe()
        server = ctx.Process(target=_serve, args=(theirs,), daemon=True)
        server.start()
        try:
            url, token = ours.recv()
            _write_csv(path, PUSH_ROWS, PUSH_FIRST_ID)
            figures += _compare(
                ctx, "push", url, token, path, PUSH_ROWS, PUSH_CHUNK, dry_run=False, target=None
            )
        finally:
            ours.send("stop")
            server.join(timeout=30)
    return figures
