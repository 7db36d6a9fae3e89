"""tools/reliability.py renders the figures the tests record, and only those."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "reliability", Path(__file__).resolve().parents[1] / "tools" / "reliability.py"
)
assert _spec is not None and _spec.loader is not None
reliability = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reliability)


def test_render_lists_every_figure_sorted_with_units():
    records = [
        {"area": "secrets", "measure": "places checked", "value": 12, "unit": ""},
        {"area": "encoding", "measure": "cells fuzzed", "value": 48213.0, "unit": "cells"},
        {"area": "encoding", "measure": "peak per row", "value": 1.5, "unit": "KiB"},
    ]
    text = reliability.render(records, scale=10, when="2026-11-28 21:00 UTC")
    assert "scale 10" in text and "2026-11-28 21:00 UTC" in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert table[1:] == [
        "| encoding | cells fuzzed | 48,213 cells |",
        "| encoding | peak per row | 1.50 KiB |",
        "| secrets | places checked | 12 |",
    ]


def test_figures_add_up_and_peaks_keep_the_largest():
    from conftest import Figures

    f = Figures()
    f.add("a", "runs", 2)
    f.add("a", "runs", 3)
    f.peak("a", "memory", 5, "MiB")
    f.peak("a", "memory", 4, "MiB")
    assert sorted((r["measure"], r["value"]) for r in f.as_records()) == [
        ("memory", 5),
        ("runs", 5),
    ]
