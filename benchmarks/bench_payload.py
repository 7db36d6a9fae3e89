"""Payload building: to_json and to_payload against a plain per-cell Python loop.

Targets (issue 2): on 200,000 rows x 9 properties of mixed dtypes, ``to_json``
at least 5x faster than ``to_dict("records")`` + a Python encoder per value +
``json.dumps``; ``to_payload`` at least 1.5x faster than the same loop without
``json.dumps``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure, best_of

import pandas_hubtickets  # noqa: F401  (registers the accessor)

ROWS = 200_000


def make_frame(n: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """Nine properties: strings, categoricals, whole floats with NaN, floats, bools, dates, ints."""
    rng = np.random.default_rng(seed)
    words = np.array([f"ticket subject {i}" for i in range(1000)], dtype=object)
    return pd.DataFrame(
        {
            "objectId": np.arange(1, n + 1, dtype=np.int64) + 10_000_000,
            "subject": words[rng.integers(0, 1000, n)],
            "content": np.where(rng.random(n) < 0.1, None, words[rng.integers(0, 1000, n)]),
            "hs_ticket_priority": pd.Categorical(rng.choice(["LOW", "MEDIUM", "HIGH"], n)),
            "status": pd.Categorical(rng.choice(["OPEN", "IN_PROGRESS", "CLOSED"], n)),
            "num_notes": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 50, n)),
            "score": rng.random(n) * 100,
            "is_escalated": rng.random(n) < 0.3,
            "closed_date": pd.Timestamp("2024-01-01", tz="Europe/Paris")
            + pd.to_timedelta(rng.integers(0, 10**8, n), "s"),
            "hubspot_owner_id": rng.integers(1, 10**6, n),
        }
    )


def encode_value(v: Any) -> str | None:
    """A straightforward per-value encoder, the way one writes it without this library."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, pd.Timestamp):
        return str(int(v.timestamp() * 1000))
    raise TypeError(type(v))


def baseline_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        object_id = rec.pop("objectId")
        props = [
            {"name": k, "value": e} for k, v in rec.items() if (e := encode_value(v)) is not None
        ]
        if props:
            out.append({"objectId": int(object_id), "properties": props})
    return out


def baseline_json(df: pd.DataFrame) -> str:
    return json.dumps(baseline_records(df), separators=(",", ":"))


def run() -> list[Figure]:
    df = make_frame()
    small = df.head(2000)
    if baseline_records(small) != small.hubtickets.to_payload():  # same answer, or no race
        raise AssertionError("baseline and to_payload disagree")
    base_json, _ = best_of(lambda: baseline_json(df))
    ours_json, _ = best_of(lambda: df.hubtickets.to_json())
    base_records, _ = best_of(lambda: baseline_records(df))
    ours_records, _ = best_of(lambda: df.hubtickets.to_payload())
    name = f"payload {ROWS:,}x9"
    return [
        Figure(name, "to_json", ours_json, "s", base_json, 5.0),
        Figure(name, "to_payload", ours_records, "s", base_records, 1.5),
    ]
