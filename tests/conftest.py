"""What the tests share: the reliability figures they establish, and the contract check.

Tests marked ``reliability`` record what they tried and held (inputs fuzzed,
rows pushed under faults, kill points resumed, ...) through the ``figures``
fixture, and size their loops by ``reliability_scale`` (1 in ``make test``;
``make reliability`` runs them larger). When ``HUBTICKETS_FIGURES`` names a
file, the figures are written there as JSON at the end of the run;
``tools/reliability.py`` turns them into RELIABILITY.md.

Every test is also held to HubSpot's OpenAPI documents (``contract``): each
request any emulator answers to a versioned endpoint those documents cover,
and each answer, is validated after the test (tests/specs.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import specs

from pandas_hubtickets.testing import RequestRecord, record_bodies

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


# --- contract: versioned requests and answers against HubSpot's OpenAPI documents -----------
OFF_CONTRACT = "off_contract"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{OFF_CONTRACT}(reason): the test sends versioned requests outside HubSpot's "
        "published contract on purpose (their answers are still checked)",
    )


def _fail_on(problems: list[str]) -> None:
    if problems:
        pytest.fail(
            f"{len(problems)} departures from HubSpot's OpenAPI contract:\n" + "\n".join(problems),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def _versioned_exchanges() -> Iterator[list[RequestRecord]]:
    """Every request any emulator answers to a documented versioned endpoint, with bodies."""
    with record_bodies(specs.covered) as seen:
        yield seen
    _fail_on(specs.check_exchanges(seen))  # after the last test: its fixtures' teardown


@pytest.fixture(autouse=True)
def contract(
    request: pytest.FixtureRequest, _versioned_exchanges: list[RequestRecord]
) -> Iterator[None]:
    """Fail a test whose emulators saw a versioned request or answer off HubSpot's contract.

    Each request to an endpoint that a document in tests/data/specs covers
    (:data:`specs.COVERED`) is checked after the test, with its answer, by
    :func:`specs.check_exchange`: request bodies and queries against the
    closed contract, answers against the schema of their status. A test
    marked ``off_contract`` has its requests spared, not its answers.
    """
    yield
    count = len(_versioned_exchanges)  # emulator threads may still append: take what is there
    seen = _versioned_exchanges[:count]
    del _versioned_exchanges[:count]
    spared = request.node.get_closest_marker(OFF_CONTRACT) is not None
    _fail_on(specs.check_exchanges(seen, requests=not spared))
