"""Peak memory of a history pull: streamed to a Parquet dataset, against loading it whole.

The emulator runs in a process of its own (its store is not the client's
memory) with no rate limit, seeded with N tickets (13 properties each, about
11.6 version rows a ticket). Each measurement runs in a fresh process: its
peak resident memory (Linux ``VmHWM``, reset just before the pull) minus its
resident memory before it.

- ``dataset``: ``ht.pull_dataset(client, folder, history=True)``, one file
  per 50 pages (5,000 tickets): memory holds one chunk, whatever N is. The
  resident memory is also noted after each file: the last minus the first
  shows whether it creeps up with the files (it should not).
- ``whole`` (the baseline): ``ht.pull(client, history=True)``, the tidy frame
  of every ticket in memory.

Measured at two sizes (``HUBTICKETS_BENCH_PULL_SIZES``, default
``10000,50000``; ``100000,1000000`` for the million, which takes about half
an hour on two cores, most of it the emulator's): the dataset pull's peak must
stay under a fixed ceiling (:data:`CEILING`) at the larger size, and its
growth between the sizes (the slope per 100,000 tickets) is printed beside
that of the whole load.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import Figure
from bench_memory import _reset_peak, _run_in_child, _status

SIZES_ENV = "HUBTICKETS_BENCH_PULL_SIZES"
FIRST_ID = 5_000_000
CEILING = 256 * 2**20
"""The dataset pull's peak growth must stay under this, whatever the portal's size."""
MiB = 2**20
PER = 100_000


def _serve(n: int, conn: Connection) -> None:
    """The emulator with ``n`` tickets, in its own process, until told to stop."""
    from pandas_hubtickets.testing import FakeHubSpot

    with FakeHubSpot() as hub:
        hub.seed_tickets(n, start_id=FIRST_ID)
        conn.send((hub.base_url, hub.token))
        conn.recv()


def _measure(base_url: str, token: str, mode: str, conn: Connection) -> None:
    """In a fresh process: peak growth, seconds, rows and tickets of one history pull."""
    import pandas_hubtickets as ht
    from pandas_hubtickets import _pull

    client = ht.TicketsClient(token, base_url=base_url, requests_per_10s=1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        gc.collect()
        before = _status("VmRSS") if _reset_peak() else None
        if before is None:  # no /proc: the lifetime peak
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.perf_counter()
        after_file: list[int] = []
        if mode == "dataset":
            write = _pull._write  # also notes the resident memory after each file

            def noted(table: Any, path: Path) -> None:
                write(table, path)
                after_file.append(_status("VmRSS") or 0)

            _pull._write = noted
            done = ht.pull_dataset(client, Path(folder) / "tickets", history=True, progress=False)
            rows, tickets = done.rows, done.tickets
        else:
            tidy = ht.pull(client, history=True, progress=False)
            rows, tickets = len(tidy), int(tidy["objectId"].nunique())
        elapsed = time.perf_counter() - started
        peak = _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    drift = after_file[-1] - after_file[0] if len(after_file) > 1 else 0
    conn.send((peak - before, elapsed, rows, tickets, drift))


def _sizes() -> tuple[int, int]:
    small, large = (int(n) for n in os.environ.get(SIZES_ENV, "10000,50000").split(","))
    return small, large


def run() -> list[Figure]:
    ctx = mp.get_context("spawn")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sizes = _sizes()
    peaks: dict[tuple[str, int], float] = {}
    drifts: dict[int, float] = {}
    figures: list[Figure] = []
    for n in sizes:
        ours, theirs = ctx.Pipe()
        server = ctx.Process(target=_serve, args=(n, theirs), daemon=True)
        server.start()
        try:
            base_url, token = ours.recv()
            for mode in ("dataset", "whole"):
                grew, elapsed, rows, tickets, drift = _run_in_child(
                    ctx, _measure, base_url, token, mode
                )
                assert tickets == n, (mode, tickets, n)
                peaks[mode, n] = grew
                drifts[n] = drifts.get(n, drift)
                print(
                    f"  pull {n:,} tickets ({rows:,} version rows), {mode}: "
                    f"peak +{grew / MiB:,.0f} MiB in {elapsed:,.0f} s",
                    file=sys.stderr,
                )
        finally:
            ours.send("stop")
            server.join(timeout=60)
        name = f"history pull, {n:,} tickets"
        figures.append(
            Figure(
                name,
                "dataset peak vs whole",
                peaks["dataset", n] / MiB,
                "MiB",
                peaks["whole", n] / MiB,
            )
        )
    small, large = sizes
    figures.append(
        Figure(
            f"history pull, {large:,} tickets",
            "dataset peak vs fixed ceiling",
            peaks["dataset", large] / MiB,
            "MiB",
            CEILING / MiB,
            1.0,
        )
    )
    figures.append(
        Figure(
            f"history pull, {large:,} tickets",
            "dataset: memory after last file - after first",
            drifts[large] / MiB,
            "MiB",
        )
    )
    for mode in ("dataset", "whole"):
        slope = (peaks[mode, large] - peaks[mode, small]) / (large - small) * PER
        figures.append(
            Figure("history pull", f"{mode}: peak growth per 100k tickets", slope / MiB, "MiB")
        )
    return figures
