"""What every benchmark module shares: a timer and the row type of the printed table."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass
class Figure:
    """One line of the `make bench` table.

    ``ratio`` is how many times better than the baseline (higher is better),
    ``target`` the least acceptable ratio; ``ok`` compares the two.
    """

    benchmark: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    target: float | None = None
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.value == 0:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value

    @property
    def ok(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Run ``fn`` ``repeat`` times; return the fastest wall time in seconds and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


class Runs(NamedTuple):
    """The wall and CPU times (seconds) of one function's runs in :func:`interleaved`."""

    walls: list[float]
    cpus: list[float]


def interleaved(fns: Sequence[Callable[[], Any]], repeat: int) -> list[Runs]:
    """Each function run ``repeat`` times, in turns: round by round, each once.

    Each run follows a full collection; the objects alive before the first
    round (a prebuilt input among them) are frozen out of those collections.
    Each result is freed after its clock stops, before the next run starts.
    Taking turns, a slow spell of the host weighs on every side of a ratio alike.
    """
    runs = [Runs([], []) for _ in fns]
    gc.collect()
    gc.freeze()
    try:
        for _ in range(repeat):
            for fn, times in zip(fns, runs, strict=True):
                gc.collect()
                start, cpu = time.perf_counter(), time.process_time()
                result = fn()
                times.walls.append(time.perf_counter() - start)
                times.cpus.append(time.process_time() - cpu)
                del result
    finally:
        gc.unfreeze()
    return runs
