"""Realistic ticket histories for the emulator: weeks of a support team's work.

:func:`generate` is pure: the same ``seed`` and ids give the same versions,
whatever the day. Each ticket is created (in the support or the billing
pipeline, by a user, an integration or an import), assigned (by the
round-robin workflow or its creator), moves through its pipeline's stages
(forwards, back and forth between the waiting stages, closed by its owner or
by the auto-close workflow), sometimes changes priority (an urgent one is
escalated by a workflow), and sometimes has a value re-sent unchanged by an
integration. Closing sets ``status``, ``closed_date`` and ``time_to_close``.
One ticket of the lot is deleted afterwards.

Every change is a record ``{"objectId", "name", "value", "timestamp",
"source", "sourceId"}`` (``sourceId`` None for ``CALCULATED``), the format of
:meth:`~pandas_hubtickets.testing.FakeHubSpot.seed_history`.
"""

from __future__ import annotations

import random
from typing import Any

from .catalogue import IMPORTS, INTEGRATIONS, OWNERS, PIPELINES, Owner, Pipeline, Stage
from .schema import PROPERTIES

__all__ = ["HISTORY_END_MS", "generate"]

HISTORY_END_MS = 1_793_577_600_000
"""Generated histories end before this moment (2026-11-02T00:00Z) unless told otherwise."""

_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_TOPICS = {
    "0": ("Cannot log in", "Export to CSV times out", "API returns 500 on upload", "Dark mode?"),
    "31284719": ("Charged twice", "Invoice shows the wrong amount", "Refund request"),
}
_AUTO_CLOSE = "workflow:1042"
_ROUND_ROBIN = "workflow:1041"
_ESCALATE = "workflow:1043"


def _status(stage: Stage, pipeline: Pipeline) -> str:
    """The ``status`` a stage implies (HubSpot keeps the two in step)."""
    if stage.closed:
        return "CLOSED"
    if stage == pipeline.first:
        return "OPEN"
    return "WAITING" if stage.label == "Waiting on contact" else "IN_PROGRESS"


class _Ticket:
    """One ticket's history as it is being made: records, the clock and its owner."""

    def __init__(self, object_id: int, rng: random.Random, created: int) -> None:
        self.object_id = object_id
        self.rng = rng
        self.now = created
        self.owner: Owner | None = None
        self.records: list[dict[str, Any]] = []

    def later(self, mean_ms: float, least_ms: int = _MINUTE) -> int:
        """Move the clock on by a random wait (exponential, at least ``least_ms``)."""
        self.now += least_ms + int(self.rng.expovariate(1 / mean_ms))
        return self.now

    def set(self, values: dict[str, str], source: str, source_id: str | None) -> None:
        """Record a change of ``values`` now, made by ``source`` / ``source_id``."""
        for name, value in values.items():
            self.records.append(
                {
                    "objectId": self.object_id,
                    "name": name,
                    "value": value,
                    "timestamp": self.now,
                    "source": source,
                    "sourceId": source_id,
                }
            )


def _options(name: str) -> list[str]:
    return [value for value, _ in PROPERTIES[name].options]


def _create(ticket: _Ticket, pipeline: Pipeline, owners: list[Owner]) -> None:
    rng = ticket.rng
    values = {
        "subject": f"#{ticket.object_id} {rng.choice(_TOPICS[pipeline.pipeline_id])}",
        "content": "Customer wrote in; see the thread.",
        "hs_pipeline": pipeline.pipeline_id,
        "hs_pipeline_stage": pipeline.first.stage_id,
        "status": "OPEN",
        "hs_ticket_priority": rng.choice(["LOW", "MEDIUM", "MEDIUM", "HIGH"]),
        "source_type": rng.choice(_options("source_type")),
    }
    kind = rng.random()
    if kind < 0.5:  # typed in by an agent, who takes it
        ticket.owner = rng.choice(owners)
        values["hubspot_owner_id"] = ticket.owner.owner_id
        ticket.set(values, "CRM_UI", ticket.owner.source_id)
        return
    if kind < 0.8:
        ticket.set(values, "INTEGRATION", rng.choice(sorted(INTEGRATIONS)))
    else:
        ticket.set(values, "IMPORT", rng.choice(sorted(IMPORTS)))
    ticket.later(10 * _MINUTE)
    ticket.owner = rng.choice(owners)
    ticket.set({"hubspot_owner_id": ticket.owner.owner_id}, "WORKFLOWS", _ROUND_ROBIN)


def _next_stage(ticket: _Ticket, pipeline: Pipeline, index: int) -> tuple[int, str, str]:
    """The next stage's index and who moves the ticket there (source, sourceId)."""
    rng = ticket.rng
    by_owner = ("CRM_UI", ticket.owner.source_id if ticket.owner else "userId:0")
    last = len(pipeline.stages) - 1
    if pipeline.pipeline_id != "0":  # billing: investigated, then refunded or rejected
        return (1 if index == 0 else rng.choice([2, 3])), *by_owner
    if index == 0:  # new -> waiting on us, or straight to waiting on contact
        return (2 if rng.random() < 0.7 else 1), *by_owner
    if index == 1:  # waiting on contact: the customer answers, or the workflow closes it
        if rng.random() < 0.35:
            ticket.later(_DAY, 7 * _DAY)
            return last, "WORKFLOWS", _AUTO_CLOSE
        return 2, *by_owner
    return (1 if rng.random() < 0.5 else last), *by_owner  # waiting on us


def _work(ticket: _Ticket, pipeline: Pipeline, owners: list[Owner], end: int) -> None:
    rng = ticket.rng
    index = 0
    pace = rng.choice([1.0, 3.0, 8.0]) * _DAY  # quick questions, the usual, the hard cases
    while True:
        ticket.later(pace)
        index, source, source_id = _next_stage(ticket, pipeline, index)
        if ticket.now >= end:
            return
        stage = pipeline.stages[index]
        values = {"hs_pipeline_stage": stage.stage_id, "status": _status(stage, pipeline)}
        ticket.set(values, source, source_id)
        if stage.closed:
            ticket.set(
                {
                    "closed_date": str(ticket.now),
                    "time_to_close": str(ticket.now - _created(ticket)),
                },
                "CALCULATED",
                None,
            )
            return
        if rng.random() < 0.2:  # the helpdesk sync sends the same stage again
            ticket.later(_HOUR)
            ticket.set({"hs_pipeline_stage": stage.stage_id}, "INTEGRATION", "app:204817")
        if rng.random() < 0.15:  # handed over to a colleague
            ticket.later(_HOUR)
            ticket.owner = rng.choice([o for o in owners if o != ticket.owner])
            ticket.set({"hubspot_owner_id": ticket.owner.owner_id}, *_agent(rng, owners))
        if rng.random() < 0.15:
            ticket.later(_HOUR)
            ticket.set({"hs_ticket_priority": "URGENT"}, *_agent(rng, owners))
            ticket.later(_MINUTE)
            ticket.set({"is_escalated": "true"}, "WORKFLOWS", _ESCALATE)


def _agent(rng: random.Random, owners: list[Owner]) -> tuple[str, str]:
    return "CRM_UI", rng.choice(owners).source_id


def _created(ticket: _Ticket) -> int:
    return int(ticket.records[0]["timestamp"])


def generate(
    seed: int, ids: list[int], *, weeks: int = 12, end_ms: int = HISTORY_END_MS
) -> tuple[list[dict[str, Any]], list[int]]:
    """The change records of tickets ``ids`` over ``weeks`` before ``end_ms``, and the deleted ids.

    Parameters
    ----------
    seed : int
        Each ticket's history depends only on ``seed`` and its id.
    ids : list of int
        The tickets to make.
    weeks : int
        How far back the first ticket may be created.
    end_ms : int
        Epoch milliseconds no change reaches.

    Returns
    -------
    (list of dict, list of int)
        The records, ticket by ticket in time order, and the one deleted id
        (none when fewer than two tickets are made).

    Examples
    --------
    >>> records, deleted = generate(1, [7, 8, 9])
    >>> records == generate(1, [7, 8, 9])[0], len(deleted)
    (True, 1)
    >>> sorted({r["source"] for r in records}) >= ["CALCULATED"]
    True
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    span = weeks * 7 * _DAY
    records: list[dict[str, Any]] = []
    for object_id in ids:
        rng = random.Random(f"history:{seed}:{object_id}")
        created = end_ms - span + rng.randrange(span - _DAY)
        # someone who has left owns only tickets from the first half
        owners = [o for o in OWNERS if not o.archived or created < end_ms - span // 2]
        active = [o for o in OWNERS if not o.archived]
        pipeline = PIPELINES[0] if rng.random() < 0.75 else PIPELINES[1]
        ticket = _Ticket(object_id, rng, created)
        _create(ticket, pipeline, owners)
        _work(ticket, pipeline, active, end_ms)
        records += ticket.records
    deleted = [random.Random(f"deleted:{seed}").choice(ids)] if len(ids) > 1 else []
    return records, deleted
