"""Regenerate pandas_hubtickets/data/demo_edits.csv, the demo's spreadsheet of ticket edits.

One row per ticket 176000..176999 (the ids `hubtickets demo` seeds), as a HubSpot export fixed up
in a spreadsheet would look, plus a few deliberately bad rows that HubSpot rejects.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "pandas_hubtickets" / "data" / "demo_edits.csv"
FIRST_ID, N = 176_000, 1000


def main() -> None:
    rng = random.Random(2026)
    rows = []
    for oid in range(FIRST_ID, FIRST_ID + N):
        rows.append(
            {
                "Ticket ID": oid,
                "status": rng.choice(["OPEN", "IN_PROGRESS", "WAITING", "CLOSED"]),
                "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "HIGH", "URGENT", ""]) or None,
                "due_date": rng.choice(
                    [None, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]
                ),
                "is_escalated": rng.choice(["true", "false"]),
                "hubspot_owner_id": rng.choice([None, str(rng.randint(1000, 9999))]),
            }
        )
    bad = {
        17: {"status": "DONE"},  # not an option of the status property
        256: {"due_date": "2026-03-01 13:01"},  # a date property must be midnight UTC
        512: {"hubspot_owner_id": "unassigned"},  # a number property
        777: {"hs_ticket_priority": "urgent"},  # options are case-sensitive internal values
    }
    for i, change in bad.items():
        rows[i].update(change)
    rows.append({**rows[0], "Ticket ID": 999_999})  # no such ticket
    pd.DataFrame(rows).to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
