"""Regenerate tests/data/messy-export.csv: a HubSpot ticket export as people leave it.

2,000 rows (tickets 176000..177979, the last 20 rows repeat earlier ones) with every problem
issue 8 names: the export's own headers ("Ticket ID", "Priority", "Ticket status", ...),
option labels instead of values ("In Progress", "High"), Yes/No booleans, dates written as
"2024-03-05", "05/03/2024" and Excel serial numbers, "1,234" with a thousands separator,
stray spaces, blank cells, duplicated rows, a misspelt column ("Souce"), read-only columns
("Create date", "Number of notes"), and a few values nothing can fix ("Hgh", "maybe",
"soon", "n/a"). Deterministic: the same file every run (``python tools/make_messy_export.py``).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "messy-export.csv"
FIRST_ID, UNIQUE, REPEATED = 176_000, 1980, 20
EXCEL_1900 = dt.date(1899, 12, 30)  # serial 0 of Excel's 1900 system (from March 1900 on)

TOPICS = ("Cannot log in", "Invoice is wrong", "Export times out", "Add a team member")
STATUS = ("Open", "In Progress", "Waiting", "Closed", "in progress", "CLOSED", "Closed ")
PRIORITY = ("High", "Low", "Medium", "Urgent", "HIGH", "low", " Medium")
CATEGORY = ("Product issue", "Billing issue", "Feature request", "General inquiry")
ESCALATED = ("Yes", "No", "yes", "no", "Y", "N", "TRUE", "false", "1", "0")
SOURCE = ("Email", "Chat", "Phone", "Form")
# values nothing may fix: each is reported, never guessed
UNFIXABLE = {
    "Priority": "Hgh",
    "Is escalated": "maybe",
    "Due date": "soon",
    "Ticket owner": "n/a",
}


def _day(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))


def _due(rng: random.Random) -> str | None:
    if rng.random() < 0.4:
        return None
    day = _day(rng)
    form = rng.random()
    if form < 0.5:
        return day.isoformat()  # 2024-03-05
    if form < 0.75:
        return f"{day:%d/%m/%Y}"  # 05/03/2024: day-first, ambiguous when the day is <= 12
    if form < 0.95:
        return str((day - EXCEL_1900).days)  # an Excel serial number: 45356
    return f"{day:%Y-%m-%d} 00:00:00"  # a datetime at midnight


def _close(rng: random.Random) -> str | None:
    if rng.random() < 0.7:
        return None
    at = f"{_day(rng):%Y-%m-%d}T{rng.randrange(8, 18):02d}:{rng.choice(('00', '30'))}"
    return at + "+01:00" if rng.random() < 0.5 else at.replace("T", " ")  # naive: needs tz


def _row(rng: random.Random, object_id: int) -> dict[str, object]:
    owner = rng.randrange(1_000, 99_999_999) if rng.random() < 0.5 else None
    categories = rng.sample(CATEGORY, rng.randint(1, 2))
    name = f"#{object_id} {rng.choice(TOPICS)}"
    return {
        "Ticket ID": object_id,
        "Ticket name": f" {name} " if rng.random() < 0.05 else name,  # text: kept as typed
        "Ticket status": rng.choice(("1", "2", "3", "4", " 2", "3 ")),
        "Status": rng.choice(STATUS) if rng.random() > 0.01 else None,
        "Priority": rng.choice(PRIORITY) if rng.random() > 0.03 else None,
        "Category": rng.choice(("; ", ";")).join(categories) if rng.random() < 0.7 else None,
        "Souce": rng.choice(SOURCE),  # misspelt: "Source" is source_type's label
        "Is escalated": rng.choice(ESCALATED),
        "Due date": _due(rng),
        "Close date": _close(rng),
        "Ticket owner": f"{owner:,}" if owner is not None else None,  # 1,234
        "Create date": f"{_day(rng):%Y-%m-%d} 09:00",  # read-only in HubSpot
        "Number of notes": rng.randrange(0, 12),  # calculated
    }


def main() -> None:
    rng = random.Random(8)
    rows = [_row(rng, FIRST_ID + i) for i in range(UNIQUE)]
    for n, (column, value) in enumerate(UNFIXABLE.items()):
        for i in range(3):
            rows[100 + 400 * n + 37 * i][column] = value
    rows += [dict(rows[i]) for i in rng.sample(range(UNIQUE), REPEATED)]  # duplicated rows
    OUT.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
