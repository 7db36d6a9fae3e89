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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .api import ApiError, Call, Reply, _bad_request, _json, _now_iso, _query_int
from .shapes import iso_ms, simple_public_object, v3_value
from .store import StoredTicket, TicketStore, Version

__all__ = [
    "MAX_READ",
    "MAX_READ_WITH_HISTORY",
    "ROUTES",
    "TICKETS",
    "batch_read",
    "find",
    "get_one",
    "list_page",
    "read_object",
]

TICKETS = "(?:/crm/objects/2026-03/tickets|/crm/v3/objects/tickets)"
"""Both prefixes of the versioned ticket endpoints, as a regular expression."""
MAX_READ = 100
MAX_READ_WITH_HISTORY = 50
DEFAULT_LIMIT = 10
ID_PROPERTY_OF_ID = "hs_object_id"

Handler = Callable[[TicketStore, Call], Reply]


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
    item: dict[str, Any] = {
        "value": v3_value(name, version.value),
        "timestamp": iso_ms(version.timestamp),
        "sourceType": version.source,
    }
    if version.source_id is not None:
        item["sourceId"] = version.source_id
        user = re.fullmatch(r"userId:(\d+)", version.source_id)
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
                if (v := t.current(id_property)) is not None and v.value == key
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
    twice = sorted({k for k in keys if keys.count(k) > 1})
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
    error = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": "Could not get some TICKET objects, they may be deleted or not exist.",
        "context": {"ids": missing},
        "errors": [],
        "links": {},
    }
    return Reply(207, {**answer, "errors": [error], "numErrors": 1}, codes=("OBJECT_NOT_FOUND",))


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


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", f"{TICKETS}/batch/read", batch_read),
    ("GET", rf"{TICKETS}/?", list_page),
    ("GET", rf"{TICKETS}/([^/]+)", get_one),
)
"""``(method, path pattern, handler)`` of every versioned ticket endpoint here."""
