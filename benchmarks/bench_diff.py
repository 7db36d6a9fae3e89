"""Only what changed: ``diff`` of 100,000 tickets x 10 properties against per-cell loops.

CPU time (``time.process_time``, medians of 3 runs), HTTP left out: the
emulator's latency and the requests are not measured. 1% of the cells differ.

- ``diff, answers parsed``: everything ``diff`` does once the client has
  HubSpot's batch-read answers (parsed JSON, one dict of 100 tickets a
  request): encoding the frame, turning the answers into current values (one
  pyarrow conversion a request, done in the reading threads while others wait
  on the network), comparing, and the frame of changed cells. Baseline: the
  same encoding, then one dict lookup and one comparison per cell in Python and
  ``pd.DataFrame(rows)``. Reading Python dicts costs both about the same per
  cell, so the target is only not to be slower.
- ``compare``: the comparison and the frame of changes, the values in hand
  (as Arrow for the library, as Python lists for the loop). Target: 10x.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure

from pandas_hubtickets._diff import answer_array, compare, current_from
from pandas_hubtickets._payload import EncodedFrame, encode_frame

TICKETS = 100_000
PROPERTIES = 10
FIRST = 10_000_000
CHANGED = 0.01
REPEAT = 3


def make_data() -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The frame of edits and HubSpot's answers (chunks of 100 tickets), 1% of cells differing."""
    ids = np.arange(FIRST, FIRST + TICKETS)
    names = [f"prop_{j}" for j in range(PROPERTIES)]
    columns: dict[str, Any] = {"objectId": ids}
    for j, name in enumerate(names):
        if j % 3 == 0:  # numbers, sent as "123"
            columns[name] = (ids % 1000 + j).astype(np.float64)
        elif j % 3 == 1:  # dates, sent as midnight milliseconds
            columns[name] = pd.to_datetime("2024-01-01") + pd.to_timedelta(ids % 365, "D")
        else:
            columns[name] = [f"text {i % 977} {j}" for i in ids]
    frame = pd.DataFrame(columns)
    stored = encode_frame(frame).values
    rng = np.random.default_rng(0)
    changed = rng.random((TICKETS, PROPERTIES)) < CHANGED
    texts = [arr.to_pylist() for arr in stored]
    answers: list[dict[str, Any]] = []
    for start in range(0, TICKETS, 100):
        chunk = {}
        for i in range(start, min(start + 100, TICKETS)):
            props = {
                name: {"value": "old" if changed[i, j] else texts[j][i], "timestamp": 0}
                for j, name in enumerate(names)
            }
            chunk[str(ids[i])] = {"objectId": int(ids[i]), "properties": props}
        answers.append(chunk)
    return frame, answers


def library(frame: pd.DataFrame, answers: list[dict[str, Any]]) -> pd.DataFrame:
    encoded = encode_frame(frame)
    names = list(encoded.names)
    current = current_from([answer_array(list(a.values()), names) for a in answers], names)
    return compare(encoded, current).frame()


def baseline(frame: pd.DataFrame, answers: list[dict[str, Any]]) -> pd.DataFrame:
    encoded: EncodedFrame = encode_frame(frame)
    tickets = {k: v for a in answers for k, v in a.items()}
    columns = [arr.to_pylist() for arr in encoded.values]
    rows = []
    for i, oid in enumerate(encoded.object_ids.tolist()):
        ticket = tickets.get(str(oid))
        props = ticket["properties"] if ticket else {}
        for name, column in zip(encoded.names, columns, strict=True):
            new = column[i]
            old = props.get(name, {}).get("value")
            if new is not None and (old or "") != new:
                rows.append({"objectId": oid, "property": name, "old": old, "new": new})
    return pd.DataFrame(rows)


def baseline_compare(encoded: EncodedFrame, olds: list[list[Any]]) -> pd.DataFrame:
    """The per-cell comparison, the old values already in lists aligned with the rows."""
    news = [arr.to_pylist() for arr in encoded.values]
    ids = encoded.object_ids.tolist()
    rows = []
    for j, name in enumerate(encoded.names):
        for i, (new, old) in enumerate(zip(news[j], olds[j], strict=True)):
            if new is not None and (old or "") != new:
                rows.append({"objectId": ids[i], "property": name, "old": old, "new": new})
    return pd.DataFrame(rows)


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median CPU seconds of ``REPEAT`` runs, and the last result."""
    times, result = [], None
    for _ in range(REPEAT):
        gc.collect()
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def run() -> list[Figure]:
    frame, answers = make_data()
    ours, got = cpu(lambda: library(frame, answers))
    base, expected = cpu(lambda: baseline(frame, answers))
    assert len(got) == len(expected), (len(got), len(expected))
    assert got["new"].tolist() == expected["new"].tolist()
    size = f"{TICKETS:,} x {PROPERTIES}, 1% changed, CPU"
    encoded = encode_frame(frame)
    names = list(encoded.names)
    current = current_from([answer_array(list(a.values()), names) for a in answers], names)
    changes = compare(encoded, current)
    olds = [arr.to_pylist() for arr in changes.old]
    ours_compare, _ = cpu(lambda: compare(encoded, current).frame())
    base_compare, _ = cpu(lambda: baseline_compare(encoded, olds))
    return [
        Figure("diff, answers parsed", size, ours, "s", baseline=base, target=1.0),
        Figure("diff: compare", size, ours_compare, "s", baseline=base_compare, target=10.0),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
