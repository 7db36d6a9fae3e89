"""Flattening the date-versioned API's answers: as fast as v1's of the same tickets.

The tickets of ``bench_flatten`` (50,000 x 10 properties x 3 versions), as the
2026-03 batch read with history answers them (ISO 8601 timestamps, ``sourceType``,
``id`` as text). Targets, CPU time of the process (the machine may be shared),
best of repeated runs in the same run, the two sides of each timed in turns
(:func:`interleaved`):

- input already parsed: ``flatten`` of the versioned answer within 1.25x of
  ``flatten`` of the v1 answer (the ISO timestamps are read in one pyarrow cast);
- from the bytes: ``flatten(raw)`` of the versioned answer (streamed one object
  at a time) no slower than ``json.loads(raw)`` alone.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import Any

from _common import Figure, interleaved
from bench_flatten import PROPERTIES, TICKETS, VERSIONS, make_response

from pandas_hubtickets import flatten

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _iso(epoch_ms: int) -> str:
    moment = _EPOCH + dt.timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def versioned(tickets: list[dict[str, Any]]) -> dict[str, Any]:
    """v1 ticket objects as the date-versioned batch read with history answers them."""
    results = [
        {
            "id": str(t["objectId"]),
            "properties": {name: prop["value"] for name, prop in t["properties"].items()},
            "propertiesWithHistory": {
                name: [
                    {
                        "value": v["value"],
                        "timestamp": _iso(v["timestamp"]),
                        "sourceType": v["source"],
                    }
                    for v in prop["versions"]
                ]
                for name, prop in t["properties"].items()
            },
            "createdAt": _iso(1_600_000_000_000),
            "updatedAt": _iso(1_700_000_000_000),
            "archived": False,
        }
        for t in tickets
    ]
    return {"status": "COMPLETE", "results": results, "startedAt": _iso(0), "completedAt": _iso(1)}


def run() -> list[Figure]:
    v1 = make_response()
    answer = versioned(v1)
    ours, theirs = flatten(answer), flatten(v1)
    same = ["objectId", "property", "value", "timestamp", "source", "version"]
    if not ours[same].equals(theirs[same]):
        raise AssertionError("the versioned answer does not flatten to the v1 answer's frame")
    rows = len(ours)
    del ours, theirs
    v1_time, versioned_time = (
        min(runs.cpus) for runs in interleaved([partial(flatten, v1), partial(flatten, answer)], 3)
    )
    del v1
    raw = json.dumps(answer).encode()
    del answer
    loads_time, raw_time = (
        min(runs.cpus) for runs in interleaved([partial(json.loads, raw), partial(flatten, raw)], 2)
    )
    name = f"flatten 2026-03 {TICKETS:,}x{len(PROPERTIES)}x{VERSIONS}"
    return [
        Figure(name, "rows", rows, ""),
        # ratio = v1 / versioned >= 1 / 1.25
        Figure(name, "flatten (parsed) vs v1's, CPU", versioned_time, "s", v1_time, 0.8),
        Figure(
            name, f"answer bytes ({len(raw) / 2**20:,.0f} MiB): json.loads, CPU", loads_time, "s"
        ),
        Figure(name, "flatten(raw) vs json.loads, CPU", raw_time, "s", loads_time, 1.0),
    ]
