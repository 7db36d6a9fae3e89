"""`make bench`: run every benchmarks/bench_*.py module and print one table.

Each module defines ``run() -> list[Figure]``. Pass module names to run a few:
``python benchmarks/run.py payload flatten``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Figure  # noqa: E402


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    return f"{x:,.3f}{unit}" if abs(x) < 100 else f"{x:,.0f}{unit}"


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    figures: list[Figure] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        figures.extend(importlib.import_module(f"bench_{name}").run())
    header = ("benchmark", "measure", "value", "baseline", "ratio", "target", "ok")
    rows = [
        (
            f.benchmark,
            f.measure,
            _fmt(f.value, f" {f.unit}"),
            _fmt(f.baseline, f" {f.unit}"),
            _fmt(f.ratio, "x"),
            _fmt(f.target, "x"),
            {None: "", True: "yes", False: "NO"}[f.ok],
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
