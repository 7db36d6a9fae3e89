"""What the tests share: the reliability figures they establish.

Tests marked ``reliability`` record what they tried and held (inputs fuzzed,
rows pushed under faults, kill points resumed, ...) through the ``figures``
fixture, and size their loops by ``reliability_scale`` (1 in ``make test``;
``make reliability`` runs them larger). When ``HUBTICKETS_FIGURES`` names a
file, the figures are written there as JSON at the end of the run;
``tools/reliability.py`` turns them into RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

FIGURES_ENV = "HUBTICKETS_FIGURES"
SCALE_ENV = "HUBTICKETS_RELIABILITY_SCALE"


class Figures:
    """Figures recorded by the tests, summed per (area, measure)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], float] = {}
        self.units: dict[tuple[str, str], str] = {}

    def add(self, area: str, measure: str, value: float, unit: str = "") -> None:
        """Add ``value`` to the figure (counts add up across tests and parameters)."""
        key = (area, measure)
        self.values[key] = self.values.get(key, 0) + value
        self.units[key] = unit

    def peak(self, area: str, measure: str, value: float, unit: str = "") -> None:
        """Keep the largest ``value`` seen for the figure."""
        key = (area, measure)
        self.values[key] = max(self.values.get(key, value), value)
        self.units[key] = unit

    def as_records(self) -> list[dict[str, Any]]:
        return [
            {"area": area, "measure": measure, "value": value, "unit": self.units[area, measure]}
            for (area, measure), value in self.values.items()
        ]


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return _FIGURES


@pytest.fixture(scope="session")
def reliability_scale() -> int:
    """How many times larger than CI-sized the reliability tests run (at least 1)."""
    return max(1, int(os.environ.get(SCALE_ENV, "1")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get(FIGURES_ENV)
    if target:
        records = _FIGURES.as_records()
        Path(target).write_text(json.dumps({"exitstatus": int(exitstatus), "figures": records}))


# --- JSON parsers ---------------------------------------------------------------------------
PARSERS = ("orjson", "json", "streamed", "batched")


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each way JSON text is parsed, giving the same results.

    ``orjson``: as installed (skipped without it); ``json``: orjson hidden, the
    standard library only; ``streamed``: every text read a ticket at a time,
    in blocks of a few bytes and chunks of two versions, orjson hidden; ``batched``: streamed
    so, with orjson parsing each array element on its own (a batch of one element).
    """
    from pandas_hubtickets import _flatten, _json

    if request.param in ("orjson", "batched"):
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(_json, "orjson", None)
    if request.param in ("streamed", "batched"):
        monkeypatch.setattr(_flatten, "_STREAM_MIN", 0)
        monkeypatch.setattr(_flatten, "_STREAM_BLOCK", 5)
        monkeypatch.setattr(_flatten, "_CHUNK_ROWS", 2)
        monkeypatch.setattr(_json, "_BATCH_BYTES", 1)
    return str(request.param)
