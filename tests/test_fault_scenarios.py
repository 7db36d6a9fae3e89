"""Pushes under injected faults: every report is held against the emulator's own record of writes.

``updated`` must mean the emulator holds the row's value; ``failed`` must mean
the value never landed; a row whose fate cannot be known (an attempt may have
been applied) must say so (``unknown``) instead of claiming either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets.testing import FakeHubSpot, Faults

FIRST = 800_000

SCENARIOS = {
    "5% 503s": (Faults(rate_503=0.05), {}),
    "10% rolling 429s": (Faults(rate_429=0.1), {}),
    "5% dropped connections": (Faults(drop=0.05), {}),
    "5% stalls past the read timeout": (Faults(stall=0.05, stall_seconds=0.6), {}),
    "all of them at once": (
        Faults(
            rate_429=0.05,
            rate_500=0.03,
            rate_502=0.03,
            rate_503=0.03,
            drop=0.03,
            stall=0.03,
            stall_seconds=0.6,
        ),
        {},
    ),
    "retries run out": (
        Faults(rate_503=0.3, drop=0.2, stall=0.2, stall_seconds=0.6),
        {"max_retries": 1},
    ),
}


@pytest.mark.reliability
@pytest.mark.parametrize("api", ["v1", "2026-03"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_report_never_claims_more_than_the_server_did(name, api, figures, reliability_scale):
    faults, options = SCENARIOS[name]
    rows = 200 * reliability_scale
    ids = np.arange(FIRST, FIRST + rows)
    values = [f"{name}: {oid}" for oid in ids]
    edits = pd.DataFrame({"objectId": ids, "subject": values})
    with FakeHubSpot(seed=len(name), faults=faults, requests_per_10s=10_000) as hub:
        hub.seed_tickets(rows, start_id=FIRST)
        client = ht.TicketsClient(
            hub.token,
            base_url=hub.base_url,
            requests_per_10s=10_000,
            timeout=(1.0, 0.3),
            backoff_factor=0.01,
            api=api,
            **options,
        )
        with client:
            try:
                report = edits.hubtickets.update(
                    client, batch_size=10, check_properties=False, progress=False
                ).report
            except ht.UpdateStopped as stopped:
                report = stopped.result.report
        landed = {(w["objectId"], w["value"]) for w in hub.writes if w["name"] == "subject"}
    wrote = np.array([(int(oid), v) in landed for oid, v in zip(ids, values, strict=True)])
    status = report["status"].astype(str).to_numpy()
    claimed_but_absent = (status == "updated") & ~wrote
    denied_but_landed = np.isin(status, ["failed", "not_sent"]) & wrote
    assert len(report) == rows and not pd.isna(report["status"]).any()
    assert not claimed_but_absent.any(), report[claimed_but_absent].head()
    assert not denied_but_landed.any(), report[denied_but_landed].head()

    figures.add("faults", "scenarios", 1)
    figures.add("faults", "rows pushed under faults", rows)
    figures.add(
        "faults", "rows updated (each checked on the server)", int((status == "updated").sum())
    )
    figures.add(
        "faults", "rows reported unknown (may have landed)", int((status == "unknown").sum())
    )
    figures.add(
        "faults",
        "reports contradicted by the server's writes",
        int(claimed_but_absent.sum() + denied_but_landed.sum()),
    )
