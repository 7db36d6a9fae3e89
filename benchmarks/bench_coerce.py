"""Coercion: ``coerce_frame`` on a 2,000,000-row messy sheet against a per-cell ``Series.map``.

The sheet holds what an export fixed by hand holds: option labels, Yes/No, dates as ISO text,
day-first text and Excel serials, owner ids with thousands separators, datetimes with an offset.
The baseline applies the same conversions one cell at a time with ``Series.map`` (how one writes
it without the library) and records nothing; ``coerce_frame`` also checks every value and records
each of the 10,000,000 changes (row, column, old, new, rule). Target: at least 1.5x faster
(measured 1.8x to 2.8x on two cores; the datetimes are nearly all distinct, so that column gains
little from working on distinct values, and recording ten million changes has a fixed cost).
A second figure times an already-correct frame of the same size (nothing to change: the price of
``update(coerce=True)`` on a clean frame).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from _common import Figure, best_of

from pandas_hubtickets._coerce import CoerceOptions, coerce_frame
from pandas_hubtickets.testing.schema import v2_definitions

ROWS = 2_000_000
OPTIONS = CoerceOptions(dayfirst=True, thousands=",")
PRIORITY = {"High": "HIGH", "Low": "LOW", "Medium": "MEDIUM", "Urgent": "URGENT"}
BOOLEAN = {"Yes": "true", "No": "false", "yes": "true", "no": "false"}
EPOCH = dt.date(1970, 1, 1)
EXCEL = dt.date(1899, 12, 30)


def make_sheet(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    days = pd.date_range("2023-01-01", periods=700)
    day = days[rng.integers(0, len(days), rows)]
    form = rng.integers(0, 3, rows)
    serial = (day - pd.Timestamp(EXCEL)).days.astype(str)
    due = np.where(
        form == 0,
        day.strftime("%Y-%m-%d"),
        np.where(form == 1, day.strftime("%d/%m/%Y"), serial),
    )
    owners = rng.integers(1_000, 99_999_999, 50_000)[rng.integers(0, 50_000, rows)]
    closed = day + pd.to_timedelta(rng.integers(0, 86_400, rows) // 60 * 60, unit="s")
    return pd.DataFrame(
        {
            "objectId": np.arange(1, rows + 1),
            "hs_ticket_priority": rng.choice(list(PRIORITY), rows),
            "is_escalated": rng.choice(list(BOOLEAN), rows),
            "due_date": due,
            "hubspot_owner_id": [f"{o:,}" for o in owners],
            "closed_date": closed.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        }
    ).astype({c: "str" for c in ("hs_ticket_priority", "is_escalated", "hubspot_owner_id")})


def _due(text: str) -> str:
    if "/" in text:
        day = dt.datetime.strptime(text, "%d/%m/%Y").date()
    elif "-" in text:
        day = dt.date.fromisoformat(text)
    else:
        day = EXCEL + dt.timedelta(days=int(text))
    return str((day - EPOCH).days * 86_400_000)


def _closed(text: str) -> str:
    return str(int(dt.datetime.fromisoformat(text).timestamp() * 1000))


def baseline(sheet: pd.DataFrame) -> pd.DataFrame:
    """The same conversions, one cell at a time."""
    return sheet.assign(
        hs_ticket_priority=sheet["hs_ticket_priority"].map(PRIORITY.__getitem__),
        is_escalated=sheet["is_escalated"].map(BOOLEAN.__getitem__),
        due_date=sheet["due_date"].map(_due),
        hubspot_owner_id=sheet["hubspot_owner_id"].map(lambda t: t.replace(",", "")),
        closed_date=sheet["closed_date"].map(_closed),
    )


def run() -> list[Figure]:
    sheet = make_sheet()
    definitions = v2_definitions()
    small = sheet.head(5_000)
    ours_small = coerce_frame(small, definitions, OPTIONS)
    if not ours_small.problems.empty:
        raise AssertionError("the benchmark's sheet should coerce without problems")
    expected = baseline(small)
    for column in expected.columns[1:]:  # same answer, or no race
        if expected[column].tolist() != ours_small.frame[column].tolist():
            raise AssertionError(f"baseline and coerce_frame disagree on {column}")
    base_time, _ = best_of(lambda: baseline(sheet), repeat=1)
    ours_time, coerced = best_of(lambda: coerce_frame(sheet, definitions, OPTIONS))
    correct_time, _ = best_of(lambda: coerce_frame(coerced.frame, definitions, OPTIONS))
    name = f"coerce {ROWS:,} rows x {sheet.shape[1] - 1} columns"
    return [
        Figure(name, "coerce messy", ours_time, "s", base_time, 1.5),
        Figure(name, "coerce correct", correct_time, "s"),
    ]
