"""Pushing 20,000 rows through the rate limiter against the emulator (300 ms latency).

HubSpot's limit of 100 requests per rolling 10 s sustains 10 requests (1,000
rows) a second, so 200 requests take about 20 s at best: the ceiling. The
push must reach at least 90% of that rate (at most 22 s), with no more than a
handful of 429s and every row ``updated``; then again with 5% injected
transient faults, losing no row and reporting none twice. A retried request
counts against HubSpot's limit like any other, so with faults the ceiling is
the number of requests actually sent at 10 a second.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _common import Figure

import pandas_hubtickets as ht
from pandas_hubtickets.testing import FakeHubSpot, Faults

ROWS = 20_000
FIRST_ID = 1_000_000
LIMIT = 100  # requests per rolling 10 s (Free/Starter)
RATE = LIMIT / 10  # requests a second the limit sustains


def _edits() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "objectId": np.arange(FIRST_ID, FIRST_ID + ROWS),
            "status": rng.choice(["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"], ROWS),
            "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "HIGH"], ROWS),
        }
    )


def _push(name: str, faults: Faults | None) -> list[Figure]:
    df = _edits()
    with FakeHubSpot(requests_per_10s=LIMIT, latency=0.3, faults=faults, seed=2) as hub:
        hub.seed_tickets(ROWS, start_id=FIRST_ID)
        client = ht.TicketsClient(
            hub.token, base_url=hub.base_url, requests_per_10s=LIMIT, max_workers=4
        )
        start = time.perf_counter()
        result = df.hubtickets.update(client, progress=False)
        elapsed = time.perf_counter() - start
        records = hub.requests
    report = result.report
    if len(report) != ROWS or not report.index.equals(df.index):
        raise AssertionError("the report must hold exactly one row per input row")
    refused = sum(1 for r in records if r.status == 429 and r.fault is None)
    injected = sum(1 for r in records if r.fault is not None)
    updated = int((report["status"] == "updated").sum())
    # The ceiling: the requests actually sent (200, plus one per retry) at the sustained rate.
    ceiling = len(records) / RATE
    return [
        Figure(name, "push time vs ceiling", elapsed, "s", ceiling, 20.0 / 22.0),
        Figure(name, "rows updated", updated, "rows", ROWS, 1.0, higher_is_better=True),
        Figure(name, "429s from the limit", refused, "", None),
        Figure(name, "injected faults", injected, "", None),
        Figure(name, "requests sent", len(records), "", None),
    ]


def run() -> list[Figure]:
    transient = Faults(rate_429=0.01, rate_500=0.01, rate_502=0.01, rate_503=0.01, drop=0.01)
    return [
        *_push(f"update {ROWS:,} rows", None),
        *_push(f"update {ROWS:,} rows, 5% faults", transient),
    ]
