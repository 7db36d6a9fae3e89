"""The emulated date-versioned (2026-03) and v3 ticket endpoints: one set of handlers, two prefixes.

The date-versioned API and v3 have the same shapes under
``/crm/objects/2026-03/tickets`` and ``/crm/v3/objects/tickets``; every route
here answers under both (:data:`TICKETS`). The handlers read the same
:class:`~.store.TicketStore` as the v1 ones, so a ticket written through v1
reads back here with its whole history, and the reverse. Values are shown as
the versioned API shows them (:func:`~.shapes.v3_value`: ``datetime`` as ISO
8601, ``date`` as ``YYYY-MM-DD``), history items newest first.

Choices where HubSpot's behaviour is not documented (stricter where unsure):

- Batch read: at most 100 inputs, 50 when ``propertiesWithHistory`` names
  any property (HubSpot's limit), the same id twice is a 400; ids not found
  give a 207 whose one ``OBJECT_NOT_FOUND`` error lists them in
  ``context.ids``, the others are answered.
- ``idProperty`` (batch read, get one): the input is that property's current
  value; ``hs_object_id`` is the ticket's id.
- List: ``after`` is the id of the first ticket of the next page; ``limit``
  defaults to 10 (HubSpot's default), at most 100, 50 with history.
- ``archived=true`` reads only deleted tickets, otherwise only live ones.
- Query lists (``properties``, ``propertiesWithHistory``) may be repeated
  or comma-separated.

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
- Search (``POST .../search``): see :func:`search`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .api import (
    ApiError,
    Call,
    Pair,
    Reply,
    Verdicts,
    _bad_request,
    _batch,
    _json,
    _problems,
    _query_int,
    _repeated,
)
from .schema import PROPERTIES, Problem
from .shapes import iso_ms, simple_public_object, v3_value
from .store import SEARCH_CAP, VALUE, StoredTicket, TicketStore, Version

__all__ = [
    "MAX_READ",
    "MAX_READ_WITH_HISTORY",
    "MAX_SEARCH_PAGE",
    "ROUTES",
    "SEARCH_CAP",
    "SECONDLY_LIMITED",
    "TICKETS",
    "ValidationRule",
    "batch_read",
    "batch_update",
    "find",
    "get_one",
    "list_page",
    "read_object",
    "search",
]

TICKETS = "(?:/crm/objects/2026-03/tickets|/crm/v3/objects/tickets)"
"""Both prefixes of the versioned ticket endpoints, as a regular expression."""
MAX_READ = 100
MAX_READ_WITH_HISTORY = 50
DEFAULT_LIMIT = 10
ID_PROPERTY_OF_ID = "hs_object_id"
_USER_SOURCE = re.compile(r"userId:(\d+)")
_TICKET_ID = re.compile(r"\d+")

Handler = Callable[[TicketStore, Call], Reply]


def _now_iso() -> str:
    return iso_ms(time.time_ns() // 1_000_000)


def _with_not_found(answer: dict[str, Any], missing: list[str]) -> Reply:
    """A 207 (``...WithErrors``) that names ``missing`` in one error's ``context.ids``."""
    error = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": "Could not get some TICKET objects, they may be deleted or not exist.",
        "context": {"ids": missing},
        "errors": [],
        "links": {},
    }
    return Reply(207, {**answer, "errors": [error], "numErrors": 1}, codes=("OBJECT_NOT_FOUND",))


# --- reads ---


def _not_found(what: str) -> ApiError:
    return ApiError(
        404,
        f"Object not found. {what} does not exist or was deleted.",
        ("OBJECT_NOT_FOUND",),
        category="OBJECT_NOT_FOUND",
    )


def _body_names(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        _bad_request(f"{where} must be an array of property names")
    return raw


def _query_names(call: Call, key: str) -> list[str]:
    """A query list, repeated (``?p=a&p=b``) or comma-separated (``?p=a,b``)."""
    return [name for raw in call.query.get(key, []) for name in raw.split(",") if name]


def _archived(call: Call) -> bool:
    return call.query.get("archived", ["false"])[-1].lower() == "true"


def value_with_timestamp(name: str, version: Version) -> dict[str, Any]:
    """One history item (``ValueWithTimestamp``), the value shown as the versioned API shows it.

    A ``sourceId`` of ``userId:N`` (a change in HubSpot's UI) also gives ``updatedByUserId`` N.
    """
    value, timestamp, source, source_id = version
    item: dict[str, Any] = {
        "value": v3_value(name, value),
        "timestamp": iso_ms(timestamp),
        "sourceType": source,
    }
    if source_id is not None:
        item["sourceId"] = source_id
        user = _USER_SOURCE.fullmatch(source_id)
        if user is not None:  # a change made in HubSpot's UI names its user
            item["updatedByUserId"] = int(user[1])
    return item


def read_object(ticket: StoredTicket, properties: list[str], history: list[str]) -> dict[str, Any]:
    """A ``SimplePublicObject``: current values of ``properties``, every version of ``history``.

    Properties the ticket never had are left out of ``propertiesWithHistory``;
    with ``history`` the key is present even when empty, as HubSpot sends it.
    """
    body = simple_public_object(ticket, properties, None)
    if history:
        body["propertiesWithHistory"] = {
            name: [value_with_timestamp(name, v) for v in reversed(ticket.history[name])]
            for name in dict.fromkeys(history)
            if ticket.history.get(name)
        }
    return body


def find(
    store: TicketStore, key: str, id_property: str | None, *, archived: bool = False
) -> StoredTicket | None:
    """The ticket ``key`` names (its id, or ``id_property``'s current value), live or archived."""
    if id_property in (None, ID_PROPERTY_OF_ID):
        ticket = store.tickets.get(int(key)) if key.isascii() and key.isdigit() else None
    else:
        ticket = next(
            (
                t
                for t in store.tickets.values()
                if (v := t.current(id_property)) is not None and v[VALUE] == key
            ),
            None,
        )
    if ticket is None or ticket.deleted != archived:
        return None
    return ticket


def batch_read(store: TicketStore, call: Call) -> Reply:
    """``POST .../batch/read``: 200 ``BatchResponseSimplePublicObject``, 207 with unknown ids."""
    started = _now_iso()
    body = _json(call)
    if not isinstance(body, dict):
        _bad_request('the body must be an object {"inputs": [...], "properties": [...]}')
    properties = _body_names(body.get("properties"), "properties")
    history = _body_names(body.get("propertiesWithHistory"), "propertiesWithHistory")
    id_property = body.get("idProperty")
    if id_property is not None and not isinstance(id_property, str):
        _bad_request("idProperty must be a property name")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        _bad_request("inputs must be a non-empty array of {id} objects")
    most = MAX_READ_WITH_HISTORY if history else MAX_READ
    if len(inputs) > most:
        _bad_request(
            f"Batch size limit exceeded: {len(inputs)} inputs, at most {most}"
            + (" with propertiesWithHistory" if history else "")
        )
    keys: list[str] = []
    for i, item in enumerate(inputs):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            _bad_request(f"inputs[{i}] must be an object with a string id")
        keys.append(item["id"])
    twice = sorted(_repeated(keys))
    if twice:
        _bad_request(f"Duplicate IDs found in batch input: {twice}")
    archived = _archived(call)
    results, missing = [], []
    for key in keys:
        ticket = find(store, key, id_property, archived=archived)
        if ticket is None:
            missing.append(key)
        else:
            results.append(read_object(ticket, properties, history))
    answer = {"status": "COMPLETE", "results": results, "startedAt": started}
    answer["completedAt"] = _now_iso()
    if not missing:
        return Reply(200, answer)
    return _with_not_found(answer, missing)


def get_one(store: TicketStore, call: Call) -> Reply:
    """``GET .../{ticketId}``: one ``SimplePublicObjectWithAssociations``; 404 if not found."""
    key = call.params[0]
    id_property = call.query.get("idProperty", [None])[-1]
    ticket = find(store, key, id_property, archived=_archived(call))
    if ticket is None:
        raise _not_found(f"ticket {key}")
    properties = _query_names(call, "properties")
    return Reply(200, read_object(ticket, properties, _query_names(call, "propertiesWithHistory")))


def list_page(store: TicketStore, call: Call) -> Reply:
    """``GET ...``: tickets by ascending id from ``after``, ``paging.next.after`` if more."""
    history = _query_names(call, "propertiesWithHistory")
    most = MAX_READ_WITH_HISTORY if history else MAX_READ
    limit = _query_int(call, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= most:
        _bad_request(f"limit must be between 1 and {most}, not {limit}")
    after = call.query.get("after", ["0"])[-1]
    if not (after.isascii() and after.isdigit()):
        _bad_request(f"after must be a paging cursor from paging.next.after, not {after!r}")
    archived = _archived(call)
    ids = sorted(
        oid for oid, t in store.tickets.items() if oid >= int(after) and t.deleted == archived
    )
    properties = _query_names(call, "properties")
    page: dict[str, Any] = {
        "results": [read_object(store.tickets[i], properties, history) for i in ids[:limit]]
    }
    if len(ids) > limit:
        cursor = str(ids[limit])
        page["paging"] = {"next": {"after": cursor, "link": f"?after={cursor}"}}
    return Reply(200, page)


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


def _by_id(store: TicketStore, key: str) -> StoredTicket | None:
    """The live ticket whose id, written as HubSpot writes ids, is ``key`` ("007" names none)."""
    try:
        object_id = int(key)
    except ValueError:
        return None
    return store.live(object_id) if str(object_id) == key else None


def _by_key(store: TicketStore, id_property: str | None) -> dict[str, StoredTicket]:
    """Live tickets by the text that identifies them: their id, or ``id_property``'s value."""
    found: dict[str, StoredTicket] = {}
    for oid, ticket in store.tickets.items():
        if ticket.deleted:
            continue
        if id_property is None or id_property == "hs_object_id":
            found[str(oid)] = ticket
        elif (version := ticket.current(id_property)) is not None and version[VALUE] != "":
            found[version[VALUE]] = ticket
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
        if id_property is None and not _TICKET_ID.fullmatch(item["id"]):
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
    verdicts: Verdicts = {}
    problems = [p for _, _, pairs, _ in inputs for p in _problems(pairs, verdicts)]
    problems += [
        p
        for _, _, pairs, _ in inputs
        for name, value in pairs
        for rule in store.validation_rules
        if (p := rule.check(name, value)) is not None
    ]
    by_value = {
        prop: _by_key(store, prop)
        for prop in {prop for _, prop, _, _ in inputs} - {None, ID_PROPERTY_OF_ID}
    }
    found = [
        (by_value[prop].get(key) if prop in by_value else _by_id(store, key), key, pairs, trace)
        for key, prop, pairs, trace in inputs
    ]
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
    answer = {"status": "COMPLETE", "results": results, "startedAt": started}
    answer["completedAt"] = _now_iso()
    return _with_not_found(answer, missing) if missing else Reply(200, answer)


# --- search ---

MAX_SEARCH_PAGE = 200
MAX_FILTER_GROUPS = 5
MAX_FILTERS = 6
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: a == b,
    "NEQ": lambda a, b: a != b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
}


def _numeric(name: str) -> bool:
    kind = PROPERTIES[name].type if name in PROPERTIES else "string"
    return name == ID_PROPERTY_OF_ID or kind in ("number", "date", "datetime")


def _search_key(name: str, text: str, where: str) -> Any:
    """A value to compare: a number for numeric and date properties (epoch ms or ISO 8601)."""
    if not _numeric(name):
        return text
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _bad_request(f"{where}: {text!r} is not a number, epoch milliseconds or ISO 8601")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return float(round(moment.timestamp() * 1000))


def _stored_key(ticket: StoredTicket, name: str) -> Any:
    """The ticket's current value of ``name`` to compare, or None when it has none."""
    if name == ID_PROPERTY_OF_ID:
        return float(ticket.object_id)
    version = ticket.current(name)
    if version is None or version[VALUE] == "":
        return None
    return float(version[VALUE]) if _numeric(name) else version[VALUE]


def _matcher(raw: Any, where: str) -> Callable[[StoredTicket], bool]:
    """One ``Filter``: a test of a ticket's current value."""
    if not isinstance(raw, dict) or not isinstance(raw.get("propertyName"), str):
        _bad_request(f"{where} must be an object with a propertyName and an operator")
    name, operator = raw["propertyName"], raw.get("operator")
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        present = operator == "HAS_PROPERTY"
        return lambda t: (_stored_key(t, name) is not None) == present
    if operator in ("IN", "NOT_IN"):
        values = raw.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            _bad_request(f"{where}.values must be an array of strings for {operator}")
        keys = {_search_key(name, v, where) for v in values}
        inside = operator == "IN"
        return lambda t: (_stored_key(t, name) in keys) == inside
    if operator == "BETWEEN":
        low = _search_key(name, str(raw.get("value")), where)
        high = _search_key(name, str(raw.get("highValue")), where)
        return lambda t: (v := _stored_key(t, name)) is not None and low <= v <= high
    if operator not in _COMPARE:
        _bad_request(f"{where}.operator {operator!r} is not supported by the emulator")
    if not isinstance(raw.get("value"), str):
        _bad_request(f"{where}.value must be a string")
    key, compare = _search_key(name, raw["value"], where), _COMPARE[operator]
    return lambda t: (v := _stored_key(t, name)) is not None and compare(v, key)


def _sort(raw: Any) -> tuple[str, bool]:
    """The one sort: a name (``-name`` descending) or ``{propertyName, direction}``."""
    if isinstance(raw, str) and raw.lstrip("-"):
        return raw.lstrip("-"), raw.startswith("-")
    if isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
        direction = raw.get("direction", "ASCENDING")
        if direction not in ("ASCENDING", "DESCENDING"):
            _bad_request(f"sorts[0].direction must be ASCENDING or DESCENDING, not {direction!r}")
        return raw["propertyName"], direction == "DESCENDING"
    _bad_request('sorts[0] must be a property name or {"propertyName", "direction"}')


def search(store: TicketStore, call: Call) -> Reply:
    """``POST .../search``: 200 ``CollectionResponseWithTotalSimplePublicObject``.

    Live tickets matching any of the ``filterGroups`` (every filter of one
    group; at most 5 groups of 6 filters), sorted by the one sort allowed
    (absent values last; ties in *descending* id order: HubSpot does not say
    how it breaks them, so a client must not rely on any), ``limit`` at most
    200 (default 10) from the offset ``after``. One query pages through the
    store's ``search_cap`` results (10,000, HubSpot's) at most: ``after`` at or
    beyond it is a 400, as with HubSpot; ``total`` counts every match.
    Numbers, dates and datetimes compare as numbers (filter values in epoch
    milliseconds or ISO 8601), other values as text. A free-text ``query`` is
    not emulated (400). The emulator answers at most 5 searches a second, and
    they do not count in the 10-second limit (:data:`SECONDLY_LIMITED`).
    """
    body = _json(call)
    if not isinstance(body, dict):
        _bad_request("the body must be a PublicObjectSearchRequest object")
    if body.get("query"):
        _bad_request("a free-text query is not supported by the emulator")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
        _bad_request(f"filterGroups must be an array of at most {MAX_FILTER_GROUPS} groups")
    tests: list[list[Callable[[StoredTicket], bool]]] = []
    for g, group in enumerate(groups):
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
            _bad_request(f"filterGroups[{g}].filters must be an array of at most {MAX_FILTERS}")
        tests.append(
            [_matcher(f, f"filterGroups[{g}].filters[{i}]") for i, f in enumerate(filters)]
        )
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list) or len(sorts) > 1:
        _bad_request("sorts must be an array of one sort at most")
    limit = body.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_PAGE:
        _bad_request(f"limit must be between 1 and {MAX_SEARCH_PAGE}, not {limit!r}")
    after = str(body.get("after") or "0")
    cap = store.search_cap
    if not (after.isascii() and after.isdigit()) or int(after) >= cap:
        _bad_request(
            f"after must be a paging cursor below {cap:,}, not {after!r}: a search query "
            f"pages through {cap:,} results at most"
        )
    properties = _body_names(body.get("properties"), "properties")
    matches = [
        t
        for t in store.tickets.values()
        if not t.deleted and (not tests or any(all(f(t) for f in group) for group in tests))
    ]
    matches.sort(key=lambda t: -t.object_id)  # ties: descending id
    if sorts:
        name, descending = _sort(sorts[0])
        present = [t for t in matches if _stored_key(t, name) is not None]
        present.sort(key=lambda t: _stored_key(t, name), reverse=descending)
        matches = present + [t for t in matches if _stored_key(t, name) is None]
    else:
        matches.sort(key=lambda t: t.object_id)
    start = int(after)
    end = min(start + limit, cap)
    page: dict[str, Any] = {
        "total": len(matches),
        "results": [read_object(t, properties, []) for t in matches[start:end]],
    }
    if end < len(matches):
        page["paging"] = {"next": {"after": str(end), "link": f"?after={end}"}}
    return Reply(200, page)


SECONDLY_LIMITED: frozenset[Handler] = frozenset({search})
"""Handlers under HubSpot's search limit (5 a second) rather than the 10-second one."""


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", f"{TICKETS}/search", search),
    ("POST", f"{TICKETS}/batch/read", batch_read),
    ("POST", f"{TICKETS}/batch/update", batch_update),
    ("GET", rf"{TICKETS}/?", list_page),
    ("GET", rf"{TICKETS}/([^/]+)", get_one),
)
"""``(method, path pattern, handler)`` of every versioned ticket endpoint here."""
