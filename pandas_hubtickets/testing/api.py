"""The emulated endpoints: a routing table and one handler per endpoint.

Handlers are plain functions ``(store, call) -> Reply`` run under the
emulator's lock; they raise :class:`ApiError` for any 4xx answer. Writes are
atomic per request: every problem of every object is collected first, and
nothing is written unless there are none.

Choices where HubSpot's behaviour is not documented (stricter where unsure,
so that client mistakes show up against the emulator):

- An empty batch is a 400, so is a batch of more than 100 objects, and one
  naming the same object twice.
- ``objectId`` must be a JSON integer and every ``value`` a JSON string
  (HubSpot may coerce numbers); JSON ``NaN`` / ``Infinity`` is invalid JSON.
  The same property twice in one object is a 400.
- An unknown or deleted ``objectId`` in a v1 batch update fails the batch
  like a bad value: a ``validationResults`` entry with error
  ``OBJECT_NOT_FOUND`` and name ``objectId``. No entry names the object it
  is about, so a client must split the batch to find the culprit. With
  ``missing_object_status=404`` the batch is a 404 ``OBJECT_NOT_FOUND``
  instead (HubSpot does not document which it does).
- Create requires non-empty ``subject`` and ``hs_pipeline_stage``
  (``MISSING_REQUIRED_PROPERTY``); ``hs_pipeline`` defaults to ``"0"``.
- Reads ignore unknown property names. Without ``properties`` /
  ``propertiesWithHistory`` every property is returned with its current
  version only.
- ``GET /paged``: ``offset`` is the last object id returned; ``limit``
  defaults to and is capped at 100.
- The date-versioned and v3 endpoints are in :mod:`.versioned`.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

from .schema import Problem, check_write, v2_definitions
from .shapes import (
    error_body,
    owners_page,
    pipelines_v1,
    pipelines_versioned,
    properties_versioned,
    v1_object,
)
from .store import CREATED, LAST_MODIFIED, TIMESTAMP, StoredTicket, TicketStore

__all__ = ["MAX_BATCH", "ApiError", "Call", "Reply", "dispatch", "resolve"]

MAX_BATCH = 100
JSON_TYPE = "application/json;charset=utf-8"
V1 = "/crm-objects/v1/objects/tickets"
REQUIRED_ON_CREATE = ("subject", "hs_pipeline_stage")
DEFAULTS = {"hs_pipeline": "0"}

Pair = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One parsed request, as handlers see it."""

    method: str
    path: str
    params: tuple[str, ...]
    query: dict[str, list[str]]
    body: Any
    body_error: str | None
    seq: int


@dataclass
class Reply:
    """One answer: ``body`` is JSON-able, a text body (``str``) or None (no body)."""

    status: int
    body: Any = None
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    codes: tuple[str, ...] = ()


class ApiError(Exception):
    """A 4xx answer with a v1-style error body (``extra`` goes into the body)."""

    def __init__(
        self, status: int, message: str, codes: tuple[str, ...] = (), **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.codes = codes
        self.extra = extra

    def reply(self) -> Reply:
        """The error as an answer."""
        return Reply(self.status, error_body(self.message, **self.extra), codes=self.codes)


def _bad_request(message: str) -> NoReturn:
    raise ApiError(400, message, ("VALIDATION_ERROR",), category="VALIDATION_ERROR")


def _not_found(object_id: int) -> NoReturn:
    raise ApiError(
        404,
        f"Object not found. objectId {object_id} does not exist or was deleted.",
        ("OBJECT_NOT_FOUND",),
        category="OBJECT_NOT_FOUND",
    )


def _invalid(problems: list[Problem]) -> NoReturn:
    raise ApiError(
        400,
        "Property values were not valid",
        tuple(p.code for p in problems),
        validationResults=[p.to_json() for p in problems],
    )


# --- request parsing: each raises a 400 naming what is wrong ---


def _json(call: Call) -> Any:
    if call.body_error is not None:
        _bad_request(f"Invalid input JSON: {call.body_error}")
    return call.body


def _batch(raw: Any, what: str) -> list[Any]:
    if not isinstance(raw, list):
        _bad_request(f"{what} must be a JSON array")
    if not raw:
        _bad_request(f"{what} must not be empty")
    if len(raw) > MAX_BATCH:
        _bad_request(f"Batch size limit exceeded: {len(raw)} {what}, at most {MAX_BATCH}")
    return raw


def _repeated(items: Iterable[T]) -> list[T]:
    """The items given more than once, in order of first appearance."""
    given = list(items)
    if len(set(given)) == len(given):  # the usual case, without counting
        return []
    return [item for item, n in Counter(given).items() if n > 1]


def _no_duplicates(ids: list[int]) -> None:
    dupes = _repeated(ids)
    if dupes:
        _bad_request(f"Duplicate IDs found in batch input: {dupes}")


def _int_id(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        _bad_request(f"{where} must be an integer, not {json.dumps(raw)}")
    return raw


def _pairs(raw: Any, where: str) -> list[Pair]:
    """A ``[{"name", "value"}]`` list as ``(name, value)`` pairs."""
    if not isinstance(raw, list):
        _bad_request(f"{where} must be a JSON array of {{name, value}} objects")
    pairs: list[Pair] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(name := item.get("name"), str):
            _bad_request(f"{where}[{i}] must be an object with a string name")
        if not isinstance(value := item.get("value"), str):
            _bad_request(f"{where}[{i}].value must be a string (values travel as strings)")
        pairs.append((name, value))
    if len({name for name, _ in pairs}) < len(pairs):  # counted only when one repeats
        _bad_request(f"{where} sets {', '.join(_repeated(n for n, _ in pairs))} more than once")
    return pairs


def _ids(call: Call) -> list[int]:
    body = _json(call)
    if not isinstance(body, dict):
        _bad_request('the body must be an object {"ids": [...]}')
    raw = _batch(body.get("ids"), "ids")
    return [_int_id(x, f"ids[{i}]") for i, x in enumerate(raw)]


def _query_int(call: Call, name: str, default: int) -> int:
    raw = call.query.get(name, [str(default)])[-1]
    try:
        return int(raw)
    except ValueError:
        _bad_request(f"{name} must be an integer, not {raw!r}")


def _selection(call: Call) -> dict[str, bool] | bool:
    """Which properties a read returns (see :func:`~.shapes.v1_object`)."""
    chosen = dict.fromkeys(call.query.get("properties", []), False)
    chosen.update(dict.fromkeys(call.query.get("propertiesWithHistory", []), True))
    return chosen or False


def _live(store: TicketStore, call: Call) -> StoredTicket:
    oid = int(call.params[0])
    ticket = store.live(oid)
    if ticket is None:
        _not_found(oid)
    return ticket


# --- validation shared by every write ---


Verdicts = dict[Pair, Problem | None]
"""One request's checks so far: :func:`~.schema.check_write`'s answer for each pair."""


def _problems(pairs: Iterable[Pair], verdicts: Verdicts) -> list[Problem]:
    """The problems of writing ``pairs``, in order.

    A verdict depends on the name and the value only, so each distinct pair
    of a request is checked once: ``verdicts`` (one per request) keeps them.
    """
    found = []
    for pair in pairs:
        if pair not in verdicts:
            verdicts[pair] = check_write(*pair)
        verdict = verdicts[pair]
        if verdict is not None:
            found.append(verdict)
    return found


def _missing_required(pairs: list[Pair]) -> list[Problem]:
    given = {name for name, value in pairs if value != ""}
    return [
        Problem(name, "MISSING_REQUIRED_PROPERTY", f"{name} is required when creating a ticket")
        for name in REQUIRED_ON_CREATE
        if name not in given
    ]


def _updated(store: TicketStore, ticket: StoredTicket, pairs: list[Pair]) -> dict[str, Any]:
    """A v1 update's answer: the written properties with history, and the modification date."""
    selection = dict.fromkeys((name for name, _ in pairs), True)
    selection[LAST_MODIFIED] = False
    return v1_object(ticket, store.portal_id, selection)


def _create_all(store: TicketStore, batches: list[list[Pair]], seq: int) -> list[dict[str, Any]]:
    verdicts: Verdicts = {}
    problems = [
        p for pairs in batches for p in _problems(pairs, verdicts) + _missing_required(pairs)
    ]
    if problems:
        _invalid(problems)
    created = [store.create(dict(pairs), request=seq, defaults=DEFAULTS) for pairs in batches]
    return [v1_object(t, store.portal_id, True) for t in created]


# --- v1 handlers ---


def batch_update(store: TicketStore, call: Call) -> Reply:
    """``POST /batch-update``: all objects are written, or none."""
    updates: list[tuple[int, list[Pair]]] = []
    for i, item in enumerate(_batch(_json(call), "objects")):
        if not isinstance(item, dict):
            _bad_request(f"objects[{i}] must be an object with objectId and properties")
        oid = _int_id(item.get("objectId"), f"objects[{i}].objectId")
        updates.append((oid, _pairs(item.get("properties"), f"objects[{i}].properties")))
    _no_duplicates([oid for oid, _ in updates])
    problems: list[Problem] = []
    verdicts: Verdicts = {}
    for oid, pairs in updates:
        if store.live(oid) is None:
            if store.missing_object_status == 404:
                _not_found(oid)
            problems.append(
                Problem("objectId", "OBJECT_NOT_FOUND", "Object not found; check the ids")
            )
        problems += _problems(pairs, verdicts)
    if problems:
        _invalid(problems)
    answer = []
    for oid, pairs in updates:
        ticket = store.tickets[oid]
        store.update(ticket, pairs, call.seq)
        answer.append(_updated(store, ticket, pairs))
    return Reply(200, answer)


def update_one(store: TicketStore, call: Call) -> Reply:
    """``PUT /{id}`` with ``[{"name", "value"}]``."""
    ticket = _live(store, call)
    pairs = _pairs(_json(call), "properties")
    problems = _problems(pairs, {})
    if problems:
        _invalid(problems)
    store.update(ticket, pairs, call.seq)
    return Reply(200, _updated(store, ticket, pairs))


def batch_read(store: TicketStore, call: Call) -> Reply:
    """``POST /batch-read``: a map keyed by id (as a string); unknown ids are left out."""
    selection = _selection(call)
    found = {}
    for oid in _ids(call):
        ticket = store.live(oid)
        if ticket is not None:
            found[str(oid)] = v1_object(ticket, store.portal_id, selection)
    return Reply(200, found)


def get_one(store: TicketStore, call: Call) -> Reply:
    """``GET /{id}``; deleted tickets only with ``includeDeletes=true``."""
    oid = int(call.params[0])
    ticket = store.tickets.get(oid)
    with_deleted = call.query.get("includeDeletes", ["false"])[-1].lower() == "true"
    if ticket is None or (ticket.deleted and not with_deleted):
        _not_found(oid)
    return Reply(200, v1_object(ticket, store.portal_id, _selection(call)))


def paged(store: TicketStore, call: Call) -> Reply:
    """``GET /paged``: live tickets by ascending id after ``offset`` (the last id seen)."""
    offset = _query_int(call, "offset", 0)
    limit = _query_int(call, "limit", MAX_BATCH)
    if limit < 1:
        _bad_request(f"limit must be at least 1, not {limit}")
    ids = sorted(oid for oid, t in store.tickets.items() if oid > offset and not t.deleted)
    page = ids[: min(limit, MAX_BATCH)]
    selection = _selection(call)
    return Reply(
        200,
        {
            "objects": [v1_object(store.tickets[i], store.portal_id, selection) for i in page],
            "hasMore": len(ids) > len(page),
            "offset": page[-1] if page else offset,
        },
    )


def create_one(store: TicketStore, call: Call) -> Reply:
    """``POST /`` with ``[{"name", "value"}]``: the new ticket object."""
    return Reply(200, _create_all(store, [_pairs(_json(call), "properties")], call.seq)[0])


def batch_create(store: TicketStore, call: Call) -> Reply:
    """``POST /batch-create`` with a list of ``[{"name", "value"}]`` lists."""
    batches = [
        _pairs(item, f"objects[{i}]") for i, item in enumerate(_batch(_json(call), "objects"))
    ]
    return Reply(200, _create_all(store, batches, call.seq))


def delete_one(store: TicketStore, call: Call) -> Reply:
    """``DELETE /{id}``: 204, or 404 for an unknown or already deleted ticket."""
    _live(store, call).deleted = True
    return Reply(204)


def batch_delete(store: TicketStore, call: Call) -> Reply:
    """``POST /batch-delete`` with ``{"ids": [...]}``: 204; unknown ids are ignored."""
    for oid in _ids(call):
        ticket = store.live(oid)
        if ticket is not None:
            ticket.deleted = True
    return Reply(204)


def property_definitions(store: TicketStore, call: Call) -> Reply:
    """``GET /properties/v2/tickets/properties``: a bare list of definitions."""
    return Reply(200, v2_definitions())


# --- pipelines and owners ---

OWNERS_MAX_LIMIT = 500


def ticket_pipelines(store: TicketStore, call: Call) -> Reply:
    """``GET /crm-pipelines/v1/pipelines/tickets``: every pipeline with its stages."""
    return Reply(200, pipelines_v1(store.pipelines))


def owners(store: TicketStore, call: Call) -> Reply:
    """``GET /crm/v3/owners`` or ``/crm/owners/2026-03``: active or archived, by ``after``."""
    limit = _query_int(call, "limit", 100)
    if not 1 <= limit <= OWNERS_MAX_LIMIT:
        _bad_request(f"limit must be between 1 and {OWNERS_MAX_LIMIT}, not {limit}")
    after = call.query.get("after", ["0"])[-1]
    if not after.isdigit():
        _bad_request(f"after must be a paging cursor from paging.next.after, not {after!r}")
    archived = call.query.get("archived", ["false"])[-1].lower() == "true"
    chosen = [o for o in store.owners if o.archived == archived]
    return Reply(200, owners_page(chosen, int(after), limit))


def versioned_properties(store: TicketStore, call: Call) -> Reply:
    """``GET /crm/properties/2026-03/tickets`` (and v3's): ``{"results": [definition, ...]}``."""
    return Reply(200, properties_versioned())


def versioned_pipelines(store: TicketStore, call: Call) -> Reply:
    """``GET /crm/pipelines/2026-03/tickets`` (and v3's): every pipeline with its stages."""
    return Reply(200, pipelines_versioned(store.pipelines))


# --- change log ---

CHANGE_LOG = "/crm-objects/v1/change-log/tickets"
CHANGE_LOG_WINDOW_MS = 24 * 3_600_000
"""How far back the change log reaches: HubSpot's "last 24 hours"."""
CHANGE_LOG_LIMIT = 1000
"""Most changes one change-log answer holds (HubSpot's "1000 (or fewer)")."""


def _changes_after(ticket: StoredTicket, after: int) -> dict[int, list[str]]:
    """The ticket's write timestamps later than ``after``, each with the properties written."""
    written: dict[int, list[str]] = {}
    for name, versions in ticket.history.items():
        for _, timestamp, _, _ in reversed(versions):  # newest first: stop at one too old
            if timestamp <= after:
                break
            written.setdefault(timestamp, []).append(name)
    return written


def change_log(store: TicketStore, call: Call) -> Reply:
    """``GET /change-log/tickets``: the oldest 1,000 changes of the last 24 h after a point.

    The point is ``timestamp`` (changes strictly later), or the last change
    of an earlier answer: ``timestamp``, ``changeType`` and ``objectId``
    (changes after it in the log's order, by time then ticket). A change is
    one write: every property the ticket got at one timestamp. Its type is
    ``CREATED`` for the write that created the ticket, else ``CHANGED``;
    deletions are not logged (the store does not time them).
    """
    now = time.time_ns() // 1_000_000
    since = _query_int(call, "timestamp", 0)
    last_id = _query_int(call, "objectId", 0) if "objectId" in call.query else math.inf
    floor = max(since, now - CHANGE_LOG_WINDOW_MS) - 1
    log = []
    for oid, ticket in store.tickets.items():
        creation = ticket.history.get(CREATED)
        created = creation[0][TIMESTAMP] if creation else None
        for ts, names in _changes_after(ticket, floor).items():
            if (ts, oid) > (since, last_id):
                kind = "CREATED" if ts == created else "CHANGED"
                log.append((ts, oid, kind, names))
    log.sort(key=lambda change: change[:2])
    return Reply(
        200,
        [
            {
                "timestamp": ts,
                "changeType": kind,
                "objectId": oid,
                "changes": {
                    "changedProperties": sorted(names),
                    "newAssociations": [],
                    "removedAssociations": [],
                    "newListMemberships": [],
                    "removedListMemberships": [],
                },
            }
            for ts, oid, kind, names in log[:CHANGE_LOG_LIMIT]
        ],
    )


# --- routing ---


Handler = Callable[[TicketStore, Call], Reply]


@dataclass(frozen=True)
class Route:
    """A method and a full-match path pattern; the pattern's groups become ``Call.params``."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(method: str, path: str, handler: Handler) -> Route:
    return Route(method, re.compile(path), handler)


def _versioned_routes() -> tuple[Route, ...]:
    """The routes of ``versioned.py`` (imported here: it builds on this module's types)."""
    from . import versioned

    return tuple(_route(method, path, handler) for method, path, handler in versioned.ROUTES)


ROUTES = (
    _route("POST", f"{V1}/batch-update", batch_update),
    _route("POST", f"{V1}/batch-read", batch_read),
    _route("POST", f"{V1}/batch-create", batch_create),
    _route("POST", f"{V1}/batch-delete", batch_delete),
    _route("GET", f"{V1}/paged", paged),
    _route("POST", f"{V1}/?", create_one),
    _route("GET", rf"{V1}/(\d+)", get_one),
    _route("PUT", rf"{V1}/(\d+)", update_one),
    _route("DELETE", rf"{V1}/(\d+)", delete_one),
    _route("GET", "/properties/v2/tickets/properties", property_definitions),
    _route("GET", "/crm-pipelines/v1/pipelines/tickets", ticket_pipelines),
    _route("GET", "/crm/v3/owners/?", owners),
    _route("GET", CHANGE_LOG, change_log),
    # the catalogue of v3 and the date-versioned API
    _route("GET", "/crm/(?:v3/properties|properties/2026-03)/tickets/?", versioned_properties),
    _route("GET", "/crm/(?:v3/pipelines|pipelines/2026-03)/tickets/?", versioned_pipelines),
    _route("GET", "/crm/owners/2026-03/?", owners),
    *_versioned_routes(),
)


def resolve(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    """The handler for a request and its path parameters; a 404 or 405 :class:`ApiError` if none."""
    allowed = []
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if route.method == method:
            return route.handler, match.groups()
        allowed.append(route.method)
    if allowed:
        raise ApiError(405, f"Method {method} not allowed; use {', '.join(allowed)}")
    raise ApiError(404, f"No endpoint at {path}", ("NOT_FOUND",), category="NOT_FOUND")


def dispatch(handler: Handler, store: TicketStore, call: Call) -> Reply:
    """Run a handler, turning an :class:`ApiError` into its answer."""
    try:
        return handler(store, call)
    except ApiError as error:
        return error.reply()
