"""Peak memory of ``hubtickets push`` of a large CSV: a chunk at a time vs the file loaded whole.

A CSV of ``ROWS`` edits (id, two enumerations, a free-text subject) is
pushed as a dry run (every check of a real run: ids, duplicates across the
file, the property definitions read from the emulator, each value checked;
nothing sent, so the emulator needs no million tickets) by
:func:`pandas_hubtickets._stream.push_file`, once with the default chunk of
100,000 rows and once as one chunk (the whole file in memory, which is what
``push`` did before it streamed). Each measurement runs in a fresh process:
its peak resident memory (Linux ``VmHWM``, reset just before the run;
``ru_maxrss`` elsewhere) minus its resident memory before the run. The
report of every row (one per input row, kept in both) is part of both.

Target: streaming needs at most a third of the memory of the whole file.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure

ROWS = 2_000_000
FIRST_ID = 10_000_000
MiB = 2**20


def _write_csv(path: Path) -> None:
    rng = np.random.default_rng(7)
    pd.DataFrame(
        {
            "Ticket ID": np.arange(FIRST_ID, FIRST_ID + ROWS),
            "status": rng.choice(["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"], ROWS),
            "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "HIGH"], ROWS),
            "subject": rng.choice(["Printer on fire", "Login loop", "Refund, please"], ROWS),
        }
    ).to_csv(path, index=False)


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


def _measure(base_url: str, token: str, path: str, chunk_rows: int, conn: Connection) -> None:
    """In a fresh process: the peak growth and the time of one dry-run push of the file."""
    import pandas_hubtickets as ht
    from pandas_hubtickets._files import EditsFile
    from pandas_hubtickets._stream import push_file

    client = ht.TicketsClient(token, base_url=base_url)
    gc.collect()
    before = _status("VmRSS") if _reset_peak() else None
    if before is None:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    result = push_file(
        EditsFile(path),
        client,
        id_column="Ticket ID",
        chunk_rows=chunk_rows,
        dry_run=True,
        progress=False,
    )
    elapsed = time.perf_counter() - started
    peak = _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    checked = int((result.report["status"] == "dry_run").sum())
    conn.send((peak - before, elapsed, checked))


def _run_in_child(ctx: Any, *args: Any) -> Any:
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_measure, args=(*args, theirs))
    child.start()
    try:
        return ours.recv()
    finally:
        child.join(timeout=300)


def run() -> list[Figure]:
    from pandas_hubtickets._stream import CHUNK_ROWS
    from pandas_hubtickets.testing import FakeHubSpot

    ctx = mp.get_context("spawn")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    with tempfile.TemporaryDirectory() as folder, FakeHubSpot() as hub:
        path = Path(folder) / "edits.csv"
        _write_csv(path)
        size = path.stat().st_size
        whole, whole_s, _ = _run_in_child(ctx, hub.base_url, hub.token, str(path), ROWS + 1)
        streamed, streamed_s, checked = _run_in_child(
            ctx, hub.base_url, hub.token, str(path), CHUNK_ROWS
        )
    name = f"push --dry-run {ROWS:,}-row CSV ({size / MiB:,.0f} MiB)"
    return [
        Figure(
            name,
            f"peak memory, chunks of {CHUNK_ROWS:,} vs whole",
            streamed / MiB,
            "MiB",
            whole / MiB,
            3.0,
        ),
        Figure(name, "peak memory per row, streamed", streamed / ROWS, "B"),
        Figure(name, "seconds, streamed vs whole", streamed_s, "s", whole_s),
        Figure(name, "rows checked", checked, "rows", ROWS, 1.0, higher_is_better=True),
    ]
