"""Ticket histories written by hand, as HubSpot's v1 API returns them (for the history tests)."""

from __future__ import annotations

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
