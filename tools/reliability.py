"""`make reliability`: the reliability tests, larger; their figures printed and in RELIABILITY.md.

The tests (see tests/conftest.py) record what they tried and held; in
``make test`` they run CI-sized (scale 1), here ``--scale`` times larger
(default 10). Peak memory per row comes from the memory benchmark
(benchmarks/bench_memory.py, 200,000 rows), run here too. The figures come from
that run only: nothing in RELIABILITY.md is typed by hand. A failing run writes
nothing and exits non-zero.

Usage: ``python tools/reliability.py [--scale N] [--out RELIABILITY.md] [pytest args...]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

HEADER = """# Reliability figures

What the tests marked `reliability` tried, and held, in one run of `make reliability`
({when}; scale {scale}: {scale}x the sizes `make test` runs on every change; Python {python},
{machine}). Each figure is recorded by the test that establishes it (see `tests/conftest.py`);
regenerate this file with `make reliability`, never by hand.

| area | measure | value |
|---|---|---|
"""


def render(records: Sequence[dict[str, Any]], scale: int, when: str) -> str:
    """RELIABILITY.md's text for ``records`` (figures as tests/conftest.py writes them)."""
    lines = [
        HEADER.format(
            when=when, scale=scale, python=platform.python_version(), machine=platform.machine()
        )
    ]
    for r in sorted(records, key=lambda r: (r["area"], r["measure"])):
        value = r["value"]
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        unit = f" {r['unit']}" if r["unit"] else ""
        lines.append(f"| {r['area']} | {r['measure']} | {text}{unit} |\n")
    return "".join(lines)


def memory_records() -> list[dict[str, Any]]:
    """The memory benchmark's per-row peaks, as figures (area ``memory``)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_memory

    return [
        {
            "area": "memory",
            "measure": f"{f.benchmark}: {f.measure}",
            "value": f.value,
            "unit": f.unit,
        }
        for f in bench_memory.run()
        if f.measure in ("peak memory per row", "input frame")
    ]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    args, pytest_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        env = {
            **os.environ,
            "HUBTICKETS_FIGURES": str(figures),
            "HUBTICKETS_RELIABILITY_SCALE": str(args.scale),
        }
        command = [sys.executable, "-m", "pytest", "tests", "-m", "reliability", "-q"]
        done = subprocess.run([*command, *pytest_args], cwd=ROOT, env=env, check=False)
        if done.returncode != 0 or not figures.exists():
            print("reliability: the run failed; RELIABILITY.md left as it was", file=sys.stderr)
            return done.returncode or 1
        records = json.loads(figures.read_text())["figures"]
    records += memory_records()
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = render(records, args.scale, when)
    args.out.write_text(text)
    print(text)
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
