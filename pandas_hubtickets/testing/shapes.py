"""Response builders: every JSON (or HTML) body the emulator sends.

Each builder returns fresh objects (never references into the store), so a
body built under the lock can be encoded after it is released.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from .catalogue import Owner, Pipeline
from .schema import PROPERTIES, PropertyDef
from .store import CREATED, LAST_MODIFIED, TIMESTAMP, VALUE, StoredTicket, Version

__all__ = [
    "BAD_GATEWAY_HTML",
    "error_body",
    "iso_ms",
    "owners_page",
    "pipelines_v1",
    "pipelines_versioned",
    "properties_versioned",
    "rate_limit_body",
    "simple_public_object",
    "v1_object",
    "v3_value",
]

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)
"""What a load balancer in front of HubSpot answers instead of JSON."""

_RATE_LIMIT_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "DAILY": "You have reached your daily limit.",
    "SECONDLY": "You have reached your secondly limit.",
}


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    """A v1-style error: ``status``, ``message``, ``correlationId``, extras, ``requestId``."""
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        **extra,
        "requestId": uuid.uuid4().hex,
    }


def rate_limit_body(policy: str, portal_id: int) -> dict[str, Any]:
    """HubSpot's 429 body for ``policy`` (``TEN_SECONDLY_ROLLING`` or ``DAILY``)."""
    return {
        "status": "error",
        "message": _RATE_LIMIT_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": f"publicapi:private-app:{portal_id}",
    }


def _v1_versions(name: str, versions: Iterable[Version]) -> list[dict[str, Any]]:
    """Items of a v1 property's ``versions``, in the order given: ``sourceId`` only when set.

    One comprehension for all of them: a call per version (and per property)
    cost 5% of the instructions of answering a v1 batch update of 100 tickets.
    """
    return [
        {"name": name, "value": value, "timestamp": timestamp, "source": source, "sourceVid": []}
        if source_id is None
        else {
            "name": name,
            "value": value,
            "timestamp": timestamp,
            "source": source,
            "sourceId": source_id,
            "sourceVid": [],
        }
        for value, timestamp, source, source_id in versions
    ]


def v1_object(
    ticket: StoredTicket, portal_id: int, selection: Mapping[str, bool] | bool
) -> dict[str, Any]:
    """A v1 ticket object (the seed's shape), versions newest first.

    Parameters
    ----------
    ticket : StoredTicket
    portal_id : int
    selection : Mapping[str, bool] or bool
        Property name -> whether to give its whole history (else only the
        current version); properties the ticket never had are left out. A
        bool selects every property the ticket has, with or without history.
    """
    history = ticket.history
    if isinstance(selection, bool):
        selection = dict.fromkeys(history, selection)
    properties: dict[str, Any] = {}
    for name, with_history in selection.items():
        versions = history.get(name)
        if not versions:
            continue
        newest = versions[-1]
        value, timestamp, source, source_id = newest
        properties[name] = {
            "versions": _v1_versions(name, reversed(versions) if with_history else (newest,)),
            "value": value,
            "timestamp": timestamp,
            "source": source,
            "sourceId": source_id,
        }
    return {
        "objectType": "TICKET",
        "portalId": portal_id,
        "objectId": ticket.object_id,
        "properties": properties,
        "isDeleted": ticket.deleted,
    }


_DAY_MS = 86_400_000


@functools.lru_cache(maxsize=4096)
def _date_prefix(day: int) -> str:
    """``YYYY-MM-DDT`` of the ``day``-th day from 1970-01-01 (raises outside years 1-9999)."""
    return datetime.fromtimestamp(day * 86_400, tz=timezone.utc).strftime("%Y-%m-%dT")


@functools.lru_cache(maxsize=8192)
def iso_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as ISO 8601 in UTC, e.g. ``2024-01-31T12:00:00.000Z``.

    Kept for the moments last asked (a versioned ticket shows its creation and
    last modification twice each: as times and as values); the date is
    formatted once a day, the time of day by arithmetic (UTC days have no
    leap seconds).

    Examples
    --------
    >>> iso_ms(1_706_702_400_000), iso_ms(-1)
    ('2024-01-31T12:00:00.000Z', '1969-12-31T23:59:59.999Z')
    """
    day, into_day = divmod(epoch_ms, _DAY_MS)
    seconds, millis = divmod(into_day, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{_date_prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


_MOMENTS = {d.name: d.type for d in PROPERTIES.values() if d.type in ("date", "datetime")}
"""The ``date`` and ``datetime`` properties, by name: the values the versioned API rewrites."""


def v3_value(name: str, value: str) -> str:
    """Date-versioned API values: ``datetime`` as ISO 8601, ``date`` as ``YYYY-MM-DD``."""
    kind = _MOMENTS.get(name)
    if value == "" or kind is None:
        return value
    stamp = iso_ms(int(value))
    return stamp[:10] if kind == "date" else stamp


def _created_and_modified(ticket: StoredTicket) -> tuple[int, int]:
    created = ticket.current(CREATED)
    modified = ticket.current(LAST_MODIFIED)
    assert created is not None and modified is not None, "every ticket is created by the store"
    return created[TIMESTAMP], modified[TIMESTAMP]


def simple_public_object(
    ticket: StoredTicket, names: list[str], trace_id: str | None
) -> dict[str, Any]:
    """A date-versioned API ``SimplePublicObject`` with the current values of ``names``.

    ``hs_object_id``, ``createdate`` and ``hs_lastmodifieddate`` are always
    included, as HubSpot does.
    """
    created, modified = _created_and_modified(ticket)
    properties: dict[str, str] = {"hs_object_id": str(ticket.object_id)}
    history = ticket.history
    for name in [*names, CREATED, LAST_MODIFIED]:
        if versions := history.get(name):
            properties[name] = v3_value(name, versions[-1][VALUE])
    body: dict[str, Any] = {
        "id": str(ticket.object_id),
        "properties": properties,
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(modified),
        "archived": ticket.deleted,
    }
    if trace_id is not None:
        body["objectWriteTraceId"] = trace_id
    return body


# --- pipelines and owners ---

_CATALOGUE_CREATED_MS = 1_640_995_200_000  # 2022-01-01: when the portal was set up


def pipelines_v1(pipelines: tuple[Pipeline, ...]) -> dict[str, Any]:
    """``GET /crm-pipelines/v1/pipelines/tickets``: ``{"results": [pipeline, ...]}``."""
    return {
        "results": [
            {
                "pipelineId": p.pipeline_id,
                "objectType": "TICKET",
                "objectTypeId": "0-5",
                "label": p.label,
                "displayOrder": order,
                "active": True,
                "default": order == 0,
                "createdAt": _CATALOGUE_CREATED_MS,
                "updatedAt": _CATALOGUE_CREATED_MS,
                "stages": [
                    {
                        "stageId": s.stage_id,
                        "label": s.label,
                        "displayOrder": i,
                        "active": True,
                        "metadata": {"ticketState": "CLOSED" if s.closed else "OPEN"},
                        "createdAt": _CATALOGUE_CREATED_MS,
                        "updatedAt": _CATALOGUE_CREATED_MS,
                    }
                    for i, s in enumerate(p.stages)
                ],
            }
            for order, p in enumerate(pipelines)
        ]
    }


def _owner_v3(owner: Owner) -> dict[str, Any]:
    return {
        "id": owner.owner_id,
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": None if owner.archived else owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": iso_ms(_CATALOGUE_CREATED_MS),
        "updatedAt": iso_ms(_CATALOGUE_CREATED_MS),
        "archived": owner.archived,
        "teams": [],
    }


def owners_page(owners: list[Owner], start: int, limit: int) -> dict[str, Any]:
    """``GET /crm/v3/owners``: ``owners[start:start+limit]``, ``paging.next.after`` if more."""
    page: dict[str, Any] = {"results": [_owner_v3(o) for o in owners[start : start + limit]]}
    if start + limit < len(owners):
        after = str(start + limit)
        page["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return page


# --- the catalogue in the shapes of v3 and the date-versioned API ---


def _definition_versioned(d: PropertyDef, display_order: int) -> dict[str, Any]:
    """One definition as ``GET /crm/properties/2026-03/tickets`` gives it (``Property``)."""
    stamp = iso_ms(_CATALOGUE_CREATED_MS)
    return {
        "name": d.name,
        "label": d.label,
        "description": "",
        "groupName": d.group,
        "type": d.type,
        "fieldType": d.field_type,
        "options": [
            {"label": label, "value": value, "description": "", "displayOrder": i, "hidden": False}
            for i, (value, label) in enumerate(d.options)
        ],
        "displayOrder": display_order,
        "calculated": d.calculated,
        "externalOptions": d.external_options,
        "hasUniqueValue": d.unique,
        "hidden": False,
        "hubspotDefined": True,
        "formField": not d.read_only,
        "dataSensitivity": "non_sensitive",
        "modificationMetadata": {
            "archivable": False,
            "readOnlyDefinition": True,
            "readOnlyValue": d.read_only,
        },
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def properties_versioned() -> dict[str, Any]:
    """``GET /crm/properties/2026-03/tickets`` (and v3's): ``{"results": [Property, ...]}``.

    The same definitions as ``GET /properties/v2/tickets/properties``; read-only
    is ``modificationMetadata.readOnlyValue`` (v2: ``readOnlyValue``).
    """
    return {"results": [_definition_versioned(d, i) for i, d in enumerate(PROPERTIES.values())]}


def pipelines_versioned(pipelines: tuple[Pipeline, ...]) -> dict[str, Any]:
    """``GET /crm/pipelines/2026-03/tickets`` (and v3's): v1's with ``id``, ISO 8601 times."""
    stamp = iso_ms(_CATALOGUE_CREATED_MS)
    return {
        "results": [
            {
                "id": p.pipeline_id,
                "label": p.label,
                "displayOrder": order,
                "stages": [
                    {
                        "id": s.stage_id,
                        "label": s.label,
                        "displayOrder": i,
                        "metadata": {"ticketState": "CLOSED" if s.closed else "OPEN"},
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                        "createdAt": stamp,
                        "updatedAt": stamp,
                        "archived": False,
                    }
                    for i, s in enumerate(p.stages)
                ],
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
            }
            for order, p in enumerate(pipelines)
        ]
    }
