"""Flattening: ``flatten`` against one Python dict per version and ``pd.DataFrame(rows)``.

Targets, on 50,000 tickets x 10 properties x 3 versions (1.5 M rows), medians
of repeated runs measured in the same run:

- input already parsed: ``flatten`` at least 5x faster than the baseline, and
  its frame at most 64 bytes per row of deep memory;
- from the bytes of the answer (what a user pays: parse + flatten):
  ``flatten(raw)`` at most 0.35x the time of ``json.loads(raw)`` alone, the
  collector on as users run it, the two timed in turns (:func:`interleaved`);
  its peak memory (resident growth in a fresh process, the bytes already read)
  at most 2x the tidy frame's.
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd
from _common import Figure, interleaved

from pandas_hubtickets import flatten

TICKETS = 50_000
VERSIONS = 3
MAX_BYTES_PER_ROW = 64
SOURCES = ["API", "CRM_UI", "WORKFLOWS", "IMPORT", "INTEGRATION"]
# Property name -> the value of ticket i at step k: short codes, ids, epoch ms and text,
# about 9 characters on average.
PROPERTIES: dict[str, Any] = {
    "subject": lambda i, k: f"Ticket #{i + k}",
    "content": lambda i, k: f"Customer reports issue {i * 3 + k}",
    "hs_pipeline": lambda i, k: "0",
    "hs_pipeline_stage": lambda i, k: str(1 + (i + k) % 4),
    "hs_ticket_priority": lambda i, k: ("LOW", "MEDIUM", "HIGH")[(i + k) % 3],
    "status": lambda i, k: ("NEW", "OPEN", "IN_PROGRESS", "CLOSED")[(i + k) % 4],
    "createdate": lambda i, k: str(1_600_000_000_000 + i * 1000),
    "hs_lastmodifieddate": lambda i, k: str(1_700_000_000_000 + i * 1000 - k),
    "hubspot_owner_id": lambda i, k: str(10_000_000 + (i + k) % 50),
    "source_type": lambda i, k: ("EMAIL", "CHAT", "PHONE", "FORM")[(i + k) % 4],
}


def make_response(tickets: int = TICKETS) -> list[dict[str, Any]]:
    """A v1 batch-update-shaped response, deterministic, versions newest first."""
    out = []
    for i in range(tickets):
        props = {}
        for j, (name, value_of) in enumerate(PROPERTIES.items()):
            versions = [
                {
                    "name": name,
                    "value": value_of(i, k),
                    "timestamp": 1_700_000_000_000 + i * 1000 + j * 10 - k,
                    "source": SOURCES[(i + j + k) % len(SOURCES)],
                    "sourceVid": [],
                }
                for k in range(VERSIONS)
            ]
            newest = versions[0]
            props[name] = {
                "versions": versions,
                "value": newest["value"],
                "timestamp": newest["timestamp"],
                "source": newest["source"],
                "sourceId": None,
            }
        out.append(
            {
                "objectType": "TICKET",
                "portalId": 62515,
                "objectId": 10_000_000 + i,
                "properties": props,
                "isDeleted": False,
            }
        )
    return out


def baseline(response: list[dict[str, Any]]) -> pd.DataFrame:
    """One dict per version, then ``pd.DataFrame(rows)``: how one writes it without the library."""
    rows = []
    for ticket in response:
        for name, prop in ticket["properties"].items():
            for k, v in enumerate(prop["versions"]):
                rows.append(
                    {
                        "objectId": ticket["objectId"],
                        "objectType": ticket["objectType"],
                        "portalId": ticket["portalId"],
                        "isDeleted": ticket["isDeleted"],
                        "property": name,
                        "value": v["value"],
                        "timestamp": v["timestamp"],
                        "source": v["source"],
                        "sourceId": v.get("sourceId", prop["sourceId"]),
                        "sourceVid": v["sourceVid"],
                        "version": k,
                    }
                )
    return pd.DataFrame(rows)


def median_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """Run ``fn`` ``repeat`` times; the median wall and CPU times in seconds, the last result."""
    walls, cpus = [], []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _peak(path: str, conn: Connection) -> None:
    """In a fresh process: the resident growth of ``flatten`` of the bytes in ``path``."""
    raw = Path(path).read_bytes()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux)
    status = Path("/proc/self/status").read_text
    rss = {"VmRSS": 0, "VmHWM": 0}

    def read() -> None:
        for line in status().splitlines():
            key = line.split(":")[0]
            if key in rss:
                rss[key] = int(line.split()[1]) * 1024

    read()
    before = rss["VmRSS"]
    tidy = flatten(raw)
    read()
    conn.send((rss["VmHWM"] - before, int(tidy.memory_usage(deep=True).sum())))


def _peak_in_child(raw: bytes) -> tuple[int, int]:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "answer.json")
        Path(path).write_bytes(raw)
        ours, theirs = ctx.Pipe()
        child = ctx.Process(target=_peak, args=(path, theirs))
        child.start()
        try:
            grew, tidy = ours.recv()
        finally:
            child.join(timeout=300)
    return grew, tidy


def bytes_per_row(df: pd.DataFrame) -> float:
    return float(df.memory_usage(deep=True).sum() / len(df))


def run() -> list[Figure]:
    response = make_response()
    small = response[:200]
    expected = baseline(small).astype({"timestamp": "datetime64[ms, UTC]"})
    got = flatten(small)
    for column in ["objectId", "property", "value", "timestamp", "source", "version"]:
        if got[column].tolist() != expected[column].tolist():  # same answer, or no race
            raise AssertionError(f"baseline and flatten disagree on {column}")
    held = {"response": response}  # dropped before json.loads is timed: its heap adds GC work
    del response
    base_time, _, base_df = median_of(lambda: baseline(held["response"]))
    ours_time, _, ours_df = median_of(lambda: flatten(held["response"]))
    base_bytes = bytes_per_row(base_df)
    ours_bytes = bytes_per_row(ours_df)
    rows = len(ours_df)
    del base_df, ours_df
    raw = json.dumps(held.pop("response")).encode()
    # in turns; each result freed before the next run (a collection would walk a parsed one)
    (loads_time, loads_cpu), (bytes_time, bytes_cpu) = (
        (statistics.median(runs.walls), statistics.median(runs.cpus))
        for runs in interleaved([partial(json.loads, raw), partial(flatten, raw)], repeat=3)
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    grew, tidy_bytes = _peak_in_child(raw)
    name = f"flatten {TICKETS:,}x{len(PROPERTIES)}x{VERSIONS}"
    return [
        Figure(name, "rows", rows, ""),
        Figure(name, "flatten (parsed)", ours_time, "s", base_time, 5.0),
        Figure(name, "flatten (parsed) per row", ours_time / rows * 1e6, "us"),
        # ratio = baseline / value >= baseline / 64  <=>  value <= 64 bytes per row.
        Figure(
            name,
            "bytes/row",
            ours_bytes,
            "B",
            base_bytes,
            base_bytes / MAX_BYTES_PER_ROW,
        ),
        Figure(name, f"answer bytes ({len(raw) / 2**20:,.0f} MiB): json.loads", loads_time, "s"),
        # ratio = json.loads / flatten(raw) >= 1 / 0.35
        Figure(name, "flatten(raw) vs json.loads", bytes_time, "s", loads_time, 1 / 0.35),
        Figure(name, "flatten(raw) per row", bytes_time / rows * 1e6, "us"),
        # The same runs in CPU time (no target): on a shared machine wall time also counts
        # waiting for a core, which the two sides, timed one after the other, may not share alike.
        Figure(name, "json.loads, CPU", loads_cpu, "s"),
        Figure(name, "flatten(raw), CPU", bytes_cpu, "s"),
        Figure(name, "flatten(raw) / json.loads, CPU", bytes_cpu / loads_cpu, "x"),
        # ratio = 2 x tidy / peak >= 1  <=>  peak <= 2x the tidy frame
        Figure(name, "flatten(raw) peak memory", grew / 2**20, "MiB", 2 * tidy_bytes / 2**20, 1.0),
    ]
