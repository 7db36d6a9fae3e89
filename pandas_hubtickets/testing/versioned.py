"""The emulated date-versioned (2026-03) and v3 endpoints: the same store as v1.

Both prefixes (``/crm/objects/2026-03/tickets`` and ``/crm/v3/objects/tickets``)
have the same shapes and share these handlers. Values come back as the new
API shows them (``datetime`` as ISO 8601, ``date`` as ``YYYY-MM-DD``).

Writes (choices where HubSpot's behaviour is not documented, stricter where
unsure):

- ``idProperty`` must name a property with unique values
  (``hasUniqueValue``; ``hs_object_id`` too), else the whole call is a 400.
  Without it, ``id`` must be a ticket id (digits).
- Any bad value fails the whole call with a 400 ``VALIDATION_ERROR`` (seen
  in practice), and so does a value breaking one of the portal's admin
  validation rules (:meth:`FakeHubSpot.add_validation_rule
  <pandas_hubtickets.testing.FakeHubSpot.add_validation_rule>`; HubSpot
  enforces them from API version 2026-09), or a unique property given a
  value another ticket holds.
- Ids (or ``idProperty`` values) that match no live ticket give a 207 whose
  ``errors`` hold one ``OBJECT_NOT_FOUND`` entry listing them in
  ``context.ids``, as they were sent; the other inputs are written.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from .api import ApiError, Call, Pair, Reply, _batch, _json, _problems, _repeated
from .schema import PROPERTIES, Problem
from .shapes import iso_ms, simple_public_object
from .store import StoredTicket, TicketStore

__all__ = ["PREFIXES", "ValidationRule", "batch_update"]

#: The ticket endpoints' prefixes of the two APIs with the versioned shapes.
PREFIXES = ("/crm/objects/2026-03/tickets", "/crm/v3/objects/tickets")
#: A regular expression matching either prefix (for the routing table).
PREFIX_PATTERN = r"/crm/(?:objects/2026-03|v3/objects)/tickets"


def _now_iso() -> str:
    return iso_ms(time.time_ns() // 1_000_000)


def _bad_request(message: str) -> Any:
    raise ApiError(400, message, ("VALIDATION_ERROR",), category="VALIDATION_ERROR")


# --- writes ---


class ValidationRule:
    """An admin-configured validation rule: a property's values must match ``pattern``.

    Parameters
    ----------
    name : str
        The property the rule is about.
    pattern : str
        A regular expression each non-empty value must match in full.
    message : str
        What HubSpot answers when a value breaks the rule.
    """

    def __init__(self, name: str, pattern: str, message: str) -> None:
        self.name = name
        self.pattern = re.compile(pattern)
        self.message = message

    def check(self, name: str, value: str) -> Problem | None:
        """The problem of writing ``value`` to ``name``, if it breaks this rule."""
        if name != self.name or value == "" or self.pattern.fullmatch(value):
            return None
        return Problem(name, "VALIDATION_ERROR", self.message)


def _unique(name: str) -> bool:
    return name == "hs_object_id" or (name in PROPERTIES and PROPERTIES[name].unique)


def _refuse(problems: list[Problem]) -> None:
    """The whole call's 400 ``VALIDATION_ERROR`` naming every bad value."""
    raise ApiError(
        400,
        f"Property values were not valid: {json.dumps([p.to_json() for p in problems])}",
        tuple(p.code for p in problems),
        category="VALIDATION_ERROR",
        errors=[
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    )


def _by_key(store: TicketStore, id_property: str | None) -> dict[str, StoredTicket]:
    """Live tickets by the text that identifies them: their id, or ``id_property``'s value."""
    found: dict[str, StoredTicket] = {}
    for oid, ticket in store.tickets.items():
        if ticket.deleted:
            continue
        if id_property is None or id_property == "hs_object_id":
            found[str(oid)] = ticket
        elif (version := ticket.current(id_property)) is not None and version.value != "":
            found[version.value] = ticket
    return found


def _taken(store: TicketStore, writes: list[tuple[StoredTicket, list[Pair]]]) -> list[Problem]:
    """Unique properties given a value another ticket (or another input) holds."""
    problems: list[Problem] = []
    for name in {n for _, pairs in writes for n, _ in pairs if _unique(n)}:
        holders = {k: t.object_id for k, t in _by_key(store, name).items()}
        for ticket, pairs in writes:
            for prop, value in pairs:
                if prop != name or value == "":
                    continue
                if holders.setdefault(value, ticket.object_id) != ticket.object_id:
                    message = f'"{value}" is already the {name} of another ticket'
                    problems.append(Problem(name, "DUPLICATE_UNIQUE_VALUE", message))
    return problems


def batch_update(store: TicketStore, call: Call) -> Reply:
    """``POST .../batch/update`` (``BatchResponseSimplePublicObject``, or 207 ``...WithErrors``)."""
    started = _now_iso()
    body = _json(call)
    if not isinstance(body, dict):
        _bad_request('the body must be an object {"inputs": [...]}')
    inputs: list[tuple[str, str | None, list[Pair], str | None]] = []
    for i, item in enumerate(_batch(body.get("inputs"), "inputs")):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            _bad_request(f"inputs[{i}] must be an object with a string id")
        id_property = item.get("idProperty")
        if id_property is not None and not (isinstance(id_property, str) and _unique(id_property)):
            _bad_request(
                f"inputs[{i}].idProperty {json.dumps(id_property)} is not a property "
                "with unique values"
            )
        if id_property is None and not re.fullmatch(r"\d+", item["id"]):
            _bad_request(f"inputs[{i}].id must be a ticket id, not {json.dumps(item['id'])}")
        props = item.get("properties")
        if not isinstance(props, dict) or not all(isinstance(v, str) for v in props.values()):
            _bad_request(f"inputs[{i}].properties must map names to string values")
        trace = item.get("objectWriteTraceId")
        if trace is not None and not isinstance(trace, str):
            _bad_request(f"inputs[{i}].objectWriteTraceId must be a string")
        inputs.append((item["id"], id_property, list(props.items()), trace))
    twice = _repeated(key for key, _, _, _ in inputs)
    if twice:
        _bad_request(f"Duplicate IDs found in batch input: {twice}")
    problems = [p for _, _, pairs, _ in inputs for p in _problems(pairs)]
    problems += [
        p
        for _, _, pairs, _ in inputs
        for name, value in pairs
        for rule in store.validation_rules
        if (p := rule.check(name, value)) is not None
    ]
    known = {prop: _by_key(store, prop) for prop in {prop for _, prop, _, _ in inputs}}
    found = [(known[prop].get(key), key, pairs, trace) for key, prop, pairs, trace in inputs]
    problems += _taken(store, [(t, pairs) for t, _, pairs, _ in found if t is not None])
    if problems:
        _refuse(problems)
    results, missing = [], []
    for ticket, key, pairs, trace in found:
        if ticket is None:
            missing.append(key)
            continue
        store.update(ticket, pairs, call.seq)
        results.append(simple_public_object(ticket, [name for name, _ in pairs], trace))
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started}
    if not missing:
        return Reply(200, {**answer, "completedAt": _now_iso()})
    error = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": "Could not get some TICKET objects, they may be deleted or not exist.",
        "context": {"ids": missing},
        "errors": [],
        "links": {},
    }
    answer.update(completedAt=_now_iso(), errors=[error], numErrors=1)
    return Reply(207, answer, codes=("OBJECT_NOT_FOUND",))
