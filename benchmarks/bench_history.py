"""Tidy-frame analyses on 1,000,000 version rows against groupby/apply, and their peak memory.

The frame: 50,000 tickets x 5 properties x 4 versions, with the dtypes of
``flatten`` (built column by column, not parsed: parsing is bench_flatten's).
Each analysis (``current(as_of=...)``, ``durations``, ``transitions``,
``changes``) is timed as the median of 5 runs and compared with the
straightforward version an analyst writes: sort, ``groupby("objectId")``
(or per ticket and property) and ``apply`` a function per group. The
baselines would take minutes on the whole frame, so each runs on the first
tickets only (the measure's name says how many) and its time is scaled
linearly to the whole frame; apply's cost is per group, so that is fair. The
results of both are held equal on that subset first.

Targets: at least 10x faster than the baseline; peak memory of each analysis
(resident, measured in a fresh process: ``VmHWM`` reset just before the call,
minus the resident memory then) at most 3x the input frame's
``memory_usage(deep=True)``.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from _common import Figure
from bench_memory import _reset_peak, _status

from pandas_hubtickets import _history

TICKETS = 50_000
VERSIONS = 4
DAY = 86_400_000
START = 1_700_000_000_000
RUNS = 5
SPEEDUP = 10.0
MAX_MEMORY = 3.0  # times the input frame
MiB = 2**20
AS_OF = pd.Timestamp(START + 3 * DAY, unit="ms", tz="UTC")
# Property -> its values; version k (0 oldest) of ticket i holds values[(i + k') % len], where
# k' repeats the value of k = 1 at k = 2 (a re-sent update, which is not a change).
PROPERTIES: dict[str, list[str]] = {
    "hs_pipeline_stage": ["1", "2", "3", "4"],
    "status": ["NEW", "OPEN", "IN_PROGRESS", "CLOSED"],
    "hs_ticket_priority": ["LOW", "MEDIUM", "HIGH"],
    "hubspot_owner_id": [str(10_000_000 + k) for k in range(50)],
    "subject": [f"Customer reports issue {k}" for k in range(97)],
}
SOURCES = ["API", "CRM_UI", "WORKFLOWS", "IMPORT", "INTEGRATION"]


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype=pd.ArrowDtype(pa.string())))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def make_tidy(tickets: int = TICKETS) -> pd.DataFrame:
    """The tidy frame of ``tickets`` tickets, in flatten's order (versions newest first)."""
    props = len(PROPERTIES)
    rows = tickets * props * VERSIONS
    ticket = np.repeat(np.arange(tickets), props * VERSIONS)
    prop = np.tile(np.repeat(np.arange(props), VERSIONS), tickets)
    version = np.tile(np.arange(VERSIONS, dtype=np.int32), tickets * props)
    age = VERSIONS - 1 - version  # 0: the oldest
    step = age - (age >= 2)  # versions 1 and 2 (from the oldest) hold the same value
    text = np.empty(rows, dtype=object)
    for j, values in enumerate(PROPERTIES.values()):
        on = prop == j
        text[on] = np.asarray(values, dtype=object)[(ticket[on] + step[on]) % len(values)]
    stamp = START + ticket * 1_000 + prop * 10 + age * DAY * (1 + ticket % 3)
    source = (ticket + prop + age) % len(SOURCES)
    source_id = np.where(source == 1, "userId:" + (ticket % 40).astype(str), None)
    columns = {
        "objectId": 10_000_000 + ticket,
        "objectType": _categorical(np.zeros(rows, dtype=np.int8), ["TICKET"]),
        "portalId": np.full(rows, 62515),
        "isDeleted": np.zeros(rows, dtype=bool),
        "property": _categorical(prop.astype(np.int8), list(PROPERTIES)),
        "value": pd.array(text, dtype=pd.ArrowDtype(pa.string())),
        "timestamp": pd.array(stamp.astype("datetime64[ms]")).tz_localize("UTC"),
        "source": _categorical(source.astype(np.int8), SOURCES),
        "sourceId": pd.array(source_id, dtype=pd.ArrowDtype(pa.string())),
        "sourceVid": pd.array(
            pa.array([[]] * rows, type=pa.list_(pa.int64())),
            dtype=pd.ArrowDtype(pa.list_(pa.int64())),
        ),
        "version": version,
    }
    return pd.DataFrame(columns)


# --- the straightforward way: a function per group --------------------------------------------


def _oldest_first(group: pd.DataFrame) -> pd.DataFrame:
    return group.sort_values(["timestamp", "version"], ascending=[True, False])


def baseline_durations(tidy: pd.DataFrame, prop: str = "hs_pipeline_stage") -> pd.DataFrame:
    def spells(group: pd.DataFrame) -> pd.DataFrame:
        group = _oldest_first(group)
        started = group[group["value"].ne(group["value"].shift()).fillna(True)]
        return pd.DataFrame(
            {
                "value": started["value"].to_numpy(),
                "start": started["timestamp"].to_numpy(),
                "end": started["timestamp"].shift(-1).to_numpy(),
                "source": started["source"].to_numpy(),
            }
        )

    versions = tidy[tidy["property"] == prop]
    out = versions.groupby("objectId").apply(spells, include_groups=False)
    return out.reset_index(level=0).reset_index(drop=True)


def baseline_transitions(tidy: pd.DataFrame, prop: str = "hs_pipeline_stage") -> pd.DataFrame:
    def moves(group: pd.DataFrame) -> pd.DataFrame:
        group = _oldest_first(group)
        before = group["value"].shift()
        moved = group[group["value"].ne(before).fillna(False)]
        return pd.DataFrame(
            {
                "from": before[moved.index].to_numpy(),
                "to": moved["value"].to_numpy(),
                "at": moved["timestamp"].to_numpy(),
                "source": moved["source"].to_numpy(),
                "sourceId": moved["sourceId"].to_numpy(),
            }
        )

    versions = tidy[tidy["property"] == prop]
    out = versions.groupby("objectId").apply(moves, include_groups=False)
    return out.reset_index(level=0).reset_index(drop=True)


def baseline_changes(tidy: pd.DataFrame) -> pd.DataFrame:
    def changed(group: pd.DataFrame) -> pd.DataFrame:
        group = _oldest_first(group)
        before = group["value"].shift()
        kept = group[group["value"].ne(before).fillna(True)]
        return pd.DataFrame(
            {
                "old": before[kept.index].to_numpy(),
                "new": kept["value"].to_numpy(),
                "timestamp": kept["timestamp"].to_numpy(),
                "source": kept["source"].to_numpy(),
                "sourceId": kept["sourceId"].to_numpy(),
            }
        )

    grouped = tidy.groupby(["objectId", "property"], observed=True)
    out = grouped.apply(changed, include_groups=False).reset_index(level=[0, 1])
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def baseline_current(tidy: pd.DataFrame, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    def values_then(group: pd.DataFrame) -> pd.Series:
        known = _oldest_first(group[group["timestamp"] <= as_of])
        latest = known.drop_duplicates("property", keep="last")
        return pd.Series(latest["value"].to_numpy(), index=latest["property"].astype(str))

    wide = tidy.groupby("objectId").apply(values_then, include_groups=False)
    return wide if isinstance(wide, pd.DataFrame) else wide.unstack()


# --- ours ---------------------------------------------------------------------------------

OURS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "current(as_of)": lambda t: _history.current(t, as_of=AS_OF),
    "durations": lambda t: _history.durations(t, "hs_pipeline_stage"),
    "transitions": lambda t: _history.transitions(t, "hs_pipeline_stage"),
    "changes": lambda t: _history.changes(t),
}
BASELINES: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], int]] = {
    # the baseline, and the tickets it runs on
    "current(as_of)": (baseline_current, 100),
    "durations": (baseline_durations, 200),
    "transitions": (baseline_transitions, 200),
    "changes": (baseline_changes, 50),
}


def _same(name: str, ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Both ways give the same answer on the subset, or the comparison means nothing."""
    if name == "current(as_of)":
        ours = ours.set_index("objectId")[list(theirs.columns)]
        pairs = [(ours[c].tolist(), theirs[c].tolist()) for c in theirs.columns]
    else:
        columns = [c for c in theirs.columns if c in ours.columns and c not in ("end",)]
        pairs = [
            (ours[c].astype(object).tolist(), theirs[c].astype(object).tolist()) for c in columns
        ]
    for a, b in pairs:
        a = [None if pd.isna(v) else v for v in a]
        b = [None if pd.isna(v) else v for v in b]
        if a != b:
            raise AssertionError(f"{name}: the baseline and the library disagree")


def median_time(fn: Callable[[], Any], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak(name: str, conn: Connection) -> None:
    """In a fresh process: the input frame's bytes and the peak growth of one analysis."""
    tidy = make_tidy()
    frame_bytes = int(tidy.memory_usage(deep=True).sum())
    gc.collect()
    before = _status("VmRSS") if _reset_peak() else None
    OURS[name](tidy)
    peak = _status("VmHWM")
    conn.send((frame_bytes, None if before is None or peak is None else peak - before))


def run() -> list[Figure]:
    tidy = make_tidy()
    label = f"history {len(tidy):,} version rows"
    figures = []
    ctx = mp.get_context("spawn")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name, ours in OURS.items():
        baseline, tickets = BASELINES[name]
        subset = tidy.iloc[: tickets * len(PROPERTIES) * VERSIONS]
        expected = baseline(subset)
        _same(name, ours(subset), expected)
        base = median_time(lambda b=baseline, s=subset: b(s), runs=3) * TICKETS / tickets
        mine = median_time(lambda o=ours: o(tidy))
        measure = f"{name} (s; groupby/apply on {tickets:,} tickets x{TICKETS // tickets})"
        figures.append(Figure(label, measure, mine, "s", base, SPEEDUP))
        receive, send = ctx.Pipe()
        child = ctx.Process(target=_peak, args=(name, send))
        child.start()
        frame, grew = receive.recv()
        child.join(timeout=300)
        if grew is not None:  # ratio = frame / peak >= 1/3  <=>  peak <= 3x the frame
            measure = f"{name} peak memory (MiB; baseline: the input frame)"
            figures.append(Figure(label, measure, grew / MiB, "MiB", frame / MiB, 1 / MAX_MEMORY))
    return figures
