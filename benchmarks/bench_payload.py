"""Payload building: to_json and to_payload against pure serialisation, 10,000 to 1,000,000 rows.

Targets (issue 11), on a 10-property mixed frame (strings, categoricals, floats, bools,
tz-aware datetimes, ``datetime.date`` objects, ints) and on an all-text frame:

- ``to_json`` at most 1.5x the time of ``orjson.dumps`` of the same body prebuilt as
  Python objects (pure serialisation; ratio target 0.667 = 1 / 1.5), and linear in rows:
  its cost per row at 1,000,000 rows at most 1.2x the cost at 10,000 (target 0.833);
- ``to_payload`` (Python objects) at most 5 s per 1,000,000 rows;
- ``orjson.dumps``' own cost per row at 1,000,000 rows against 10,000, printed beside
  ``to_json``'s (informational): how much of a growth per row is the memory's (10,000 rows'
  text fits in the processor's caches, 1,000,000 rows' does not), not the algorithm's;
- the cost of ``to_json``'s result being a ``str`` (``orjson.dumps`` returns bytes): decoding
  the same text's UTF-8 into a ``str``, printed against ``orjson.dumps`` (informational);
- ``update``'s batch bodies (per-batch fragments, as its workers build them) and
  ``to_batches`` printed against ``to_json`` and ``to_payload`` (informational).

The prebuilt objects are the body parsed back from ``to_json``'s text (row by row, each
string its own object, as any program that builds dicts would make them), after a check
that ``orjson.dumps`` of ``to_payload``'s result gives exactly that text: the two sides
serialise the same content. (``to_payload``'s own result is not the reference: it shares
one ``str`` among the cells of a repeated value, and orjson serialises such objects up to
twice as slowly, which flattered ``to_json``.)
``to_json``, ``orjson.dumps`` and the decoding are timed in turns (:func:`interleaved`), so that
a slow spell of the host weighs on each alike.
(These replace issue 2's figures against a naive per-cell loop, which this code now beats
many times over: they measured the loop more than the library.)
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from _common import Figure, interleaved

import pandas_hubtickets  # noqa: F401  (registers the accessor)
from pandas_hubtickets._payload import encode_frame
from pandas_hubtickets._update import _Texts

try:
    import orjson
except ImportError as exc:  # pragma: no cover
    raise SystemExit("bench_payload needs orjson: pip install -e '.[bench]'") from exc

SIZES = (10_000, 100_000, 1_000_000)
#: Runs per size (the median is kept): fewer for the large sizes, which vary less.
REPEAT = {10_000: 7, 100_000: 5, 1_000_000: 3}
ORJSON_TARGET = 1 / 1.5
LINEAR_TARGET = 1 / 1.2
PAYLOAD_BUDGET = 5.0  # seconds per 1,000,000 rows
BATCH_ROWS = 100_000  # the size at which update's batch bodies and to_batches are timed


def mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Ten properties of every common kind (about 457 bytes of JSON a row)."""
    rng = np.random.default_rng(seed)
    words = np.array([f"ticket subject {i}" for i in range(1000)], dtype=object)
    days = np.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(730)])
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
            "due_date": pd.Series(days[rng.integers(0, 730, n)], dtype=object),
            "hubspot_owner_id": rng.integers(1, 10**6, n),
        }
    )


def text_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Ten free-text properties: non-ASCII everywhere, quotes and line breaks in 1 in 50."""
    rng = np.random.default_rng(seed)
    words = np.array(
        [
            f'customer {i} wrote: "the export fails"\nsee ticket {i * 7}'
            if i % 50 == 0
            else f"note {i} about the customer's request, café n°{i % 97}"
            for i in range(5000)
        ],
        dtype=object,
    )
    columns = {f"text_{j}": words[rng.integers(0, 5000, n)] for j in range(10)}
    return pd.DataFrame({"objectId": np.arange(1, n + 1, dtype=np.int64) + 10_000_000, **columns})


def unique_text_frame(n: int) -> pd.DataFrame:
    """The all-text frame with every value made distinct: free text as people write it.

    The all-text frame draws its values from 5,000 texts per column, so its columns
    repeat, and ``to_payload`` decodes each repeated text once. Here nothing repeats:
    the cost of decoding every cell, printed without a target.
    """
    df = text_frame(n)
    tags = " #" + pd.Series(np.random.default_rng(1).permutation(n)).astype(str)
    return df.assign(**{name: df[name] + tags for name in df.columns[1:]})


def median_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs, each after a full collection, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def prebuilt_body(payload: Any, text: str, kind: str) -> Any:
    """The body ``text`` as prebuilt Python objects, once ``payload`` serialises to it."""
    if orjson.dumps(payload) != text.encode():  # the same content, serialised
        raise AssertionError(f"to_json and orjson.dumps(to_payload()) differ ({kind})")
    return orjson.loads(text)


def batch_bodies(df: pd.DataFrame) -> None:
    """The bodies update sends: per batch of 100, its rows' texts as its workers take them.

    The workers build the texts of a few batches in one call (:class:`_Texts`).
    """
    encoded = encode_frame(df)
    batches = list(encoded.batches(100))
    texts = _Texts(encoded, batches)
    for batch in range(len(batches)):
        encoded.wrap_fragments(texts.take(batch))


def run() -> list[Figure]:
    figures: list[Figure] = []
    for kind, make in (("mixed", mixed_frame), ("text", text_frame)):
        per_row: dict[int, float] = {}
        orjson_per_row: dict[int, float] = {}
        for n in SIZES:
            df = make(n)
            repeat = REPEAT[n]
            text = df.hubtickets.to_json()
            t_payload, payload = median_of(lambda: df.hubtickets.to_payload(), repeat)  # noqa: B023
            prebuilt = prebuilt_body(payload, text, kind)
            utf8 = text.encode("utf-8")
            del text, payload
            t_json, t_orjson, t_decode = (
                statistics.median(runs.walls)
                for runs in interleaved(
                    [df.hubtickets.to_json, partial(orjson.dumps, prebuilt), partial(utf8.decode)],
                    repeat,
                )
            )
            del prebuilt, utf8
            per_row[n] = t_json / n
            orjson_per_row[n] = t_orjson / n
            name = f"payload {kind} {n:,} rows"
            us = f"{t_json / n * 1e6:.2f} us/row"
            figures += [
                Figure(
                    name, f"to_json ({us}) vs orjson.dumps", t_json, "s", t_orjson, ORJSON_TARGET
                ),
                Figure(
                    name,
                    "of which the str alone: decoding its UTF-8, vs orjson.dumps",
                    t_decode,
                    "s",
                    t_orjson,
                ),
                Figure(
                    name,
                    f"to_payload ({t_payload / n * 1e6:.2f} us/row) vs 5 s per 1M rows",
                    t_payload,
                    "s",
                    PAYLOAD_BUDGET * n / 1_000_000,
                    1.0 if n == SIZES[-1] else None,
                ),
            ]
            if n == BATCH_ROWS and kind == "mixed":
                t_batches, _ = median_of(lambda: batch_bodies(df), 3)  # noqa: B023
                t_dicts, _ = median_of(lambda: list(df.hubtickets.to_batches()), 3)  # noqa: B023
                figures += [
                    Figure(
                        name,
                        f"update's batch bodies ({t_batches / n * 100 * 1e3:.3f} ms per "
                        "100-row body) vs to_json",
                        t_batches,
                        "s",
                        t_json,
                    ),
                    Figure(name, "to_batches vs to_payload", t_dicts, "s", t_payload),
                ]
            print(f"  {name}: to_json {t_json:.3f} s", file=sys.stderr, flush=True)
        first, last = SIZES[0], SIZES[-1]
        figures.append(
            Figure(
                f"payload {kind}",
                f"to_json per row, {last:,} vs {first:,} rows",
                per_row[last] * 1e6,
                "us",
                per_row[first] * 1e6,
                LINEAR_TARGET,
            )
        )
        figures.append(
            Figure(
                f"payload {kind}",
                f"orjson.dumps per row, {last:,} vs {first:,} rows (for reference)",
                orjson_per_row[last] * 1e6,
                "us",
                orjson_per_row[first] * 1e6,
            )
        )
    figures += unique_text(SIZES[-1])
    return figures


def unique_text(n: int) -> list[Figure]:
    """``to_json`` and ``to_payload`` on :func:`unique_text_frame`, once each (no target)."""
    df = unique_text_frame(n)
    t_json, text = median_of(lambda: df.hubtickets.to_json(), 1)
    t_payload, payload = median_of(lambda: df.hubtickets.to_payload(), 1)
    prebuilt = prebuilt_body(payload, text, "unique text")
    del text, payload
    t_orjson, _ = median_of(partial(orjson.dumps, prebuilt), 1)
    name = f"payload unique text {n:,} rows"
    print(f"  {name}: to_json {t_json:.3f} s", file=sys.stderr, flush=True)
    return [
        Figure(name, "to_json vs orjson.dumps (no value repeats)", t_json, "s", t_orjson),
        Figure(
            name,
            "to_payload vs 5 s per 1M rows (no value repeats)",
            t_payload,
            "s",
            PAYLOAD_BUDGET * n / 1_000_000,
        ),
    ]
