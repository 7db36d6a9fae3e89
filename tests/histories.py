"""Ticket histories written by hand, as HubSpot's v1 API returns them (for the history tests).

:func:`as_api` gives the same ticket as the date-versioned API returns it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

DAY = 86_400_000
"""One day in epoch milliseconds."""

Version = tuple[str | None, int, str, str | None]
"""One version: value, timestamp (epoch ms), source, sourceId (None: HubSpot gave none)."""


def ticket(object_id: int, **properties: list[Version]) -> dict[str, Any]:
    """A v1 ticket object; each property's versions given oldest first, as they happened."""
    props = {}
    for name, history in properties.items():
        versions = [
            {"value": v, "timestamp": t, "source": s, "sourceVid": []}
            | ({} if sid is None else {"sourceId": sid})
            for v, t, s, sid in reversed(history)
        ]
        props[name] = {**versions[0], "versions": versions}
    return {"objectType": "TICKET", "portalId": 62515, "objectId": object_id, "properties": props}


APIS = ("v1", "2026-03")
"""The shapes a history is read in: v1's ticket objects and the date-versioned API's (v3's too)."""
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def iso(epoch_ms: int) -> str:
    """Epoch milliseconds as the date-versioned API writes them: ``2024-01-31T12:00:00.000Z``."""
    moment = _EPOCH + dt.timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_api(obj: dict[str, Any], api: str) -> dict[str, Any]:
    """A v1 ticket object (of :func:`ticket`) as ``api`` returns it; v1: the object itself.

    The date-versioned twin: ``id`` as text, each property's current text in
    ``properties`` and its versions (newest first) in ``propertiesWithHistory``
    with ISO 8601 timestamps, ``sourceType`` and each version's own ``sourceId``
    (the newest one's: v1 may give it on the property instead). Values stay text.
    """
    if api == "v1":
        return obj
    history = {}
    for name, prop in obj["properties"].items():
        history[name] = [
            {"value": v["value"], "timestamp": iso(v["timestamp"]), "sourceType": v["source"]}
            for v in prop["versions"]
        ]
        for k, v in enumerate(prop["versions"]):
            source_id = v.get("sourceId") or (prop.get("sourceId") if k == 0 else None)
            if source_id is not None:
                history[name][k]["sourceId"] = source_id
    return {
        "id": str(obj["objectId"]),
        "properties": {name: versions[0]["value"] for name, versions in history.items()},
        "propertiesWithHistory": history,
        "archived": bool(obj.get("isDeleted", False)),
    }
