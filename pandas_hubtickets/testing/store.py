"""The emulated portal's state: tickets, their version histories, the write log, owners.

Not thread-safe on its own: :class:`~pandas_hubtickets.testing.FakeHubSpot`
holds one lock around every use.

Every write through :meth:`TicketStore.create` or :meth:`TicketStore.update`
takes one timestamp from :meth:`TicketStore.tick`: epoch milliseconds,
strictly greater than any timestamp handed out before, so the versions of a
property are never ambiguous. The properties of one object written by one
request share that timestamp (as in HubSpot's own example).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Final

from .catalogue import OWNERS, PIPELINES, Owner, Pipeline

if TYPE_CHECKING:
    from .versioned import ValidationRule

__all__ = [
    "FIRST_ID",
    "LAST_MODIFIED",
    "TIMESTAMP",
    "VALUE",
    "StoredTicket",
    "TicketStore",
    "Version",
]

FIRST_ID = 100_001
"""The id given to the first ticket when none is asked for."""
LAST_MODIFIED = "hs_lastmodifieddate"
WRITE_FIELDS: Final = ("objectId", "name", "value", "timestamp", "source", "sourceId", "request")
"""What each of :attr:`TicketStore.writes` holds, in order (``FakeHubSpot.writes`` names them)."""
Write = tuple[int, str, str, int, str, "str | None", int]
SEARCH_CAP = 10_000
"""Most results one search query pages through (HubSpot's); ``FakeHubSpot(search_cap=)``."""
CREATED = "createdate"


Version = tuple[str, int, str, str | None]
"""One value a property held: ``(value, timestamp, source, source_id)``, timestamp in epoch ms.

A plain tuple of strings and ints, which the garbage collector stops tracking
once it has seen it: a store of 100,000 tickets holds over a million
versions, and a v1 batch update of 100 tickets adds 300 (as named tuples,
which it tracks, they made each of its full passes about twice as long).
"""
VALUE: Final = 0
"""Where a :data:`Version` holds its value."""
TIMESTAMP: Final = 1
"""Where a :data:`Version` holds its timestamp."""
_BY_TIME = itemgetter(TIMESTAMP)


@dataclass
class StoredTicket:
    """One ticket; ``history`` lists each property's versions oldest first."""

    object_id: int
    history: dict[str, list[Version]] = field(default_factory=dict)
    deleted: bool = False

    def add(self, name: str, version: Version) -> None:
        """Make ``version`` the property's current value."""
        self.history.setdefault(name, []).append(version)

    def current(self, name: str) -> Version | None:
        """The property's newest version, if it was ever set."""
        versions = self.history.get(name)
        return versions[-1] if versions else None


class TicketStore:
    """All tickets of one portal, and every write made to them over HTTP.

    Parameters
    ----------
    portal_id : int
        The portal (hub) id written into every ticket object.
    missing_object_status : {400, 404}
        How a v1 batch update naming an unknown id is refused (see the emulator).

    The log of writes made by HTTP requests (``request`` given) names
    :attr:`writer`, the app the token belongs to, as their ``sourceId``. The
    versions themselves carry none: HubSpot's v1 answers give API writes
    ``"sourceId": null`` (the seed's example).
    """

    def __init__(self, portal_id: int, missing_object_status: int = 400) -> None:
        self.portal_id = portal_id
        self.missing_object_status = missing_object_status
        self.search_cap = SEARCH_CAP
        self.tickets: dict[int, StoredTicket] = {}
        #: Writes made over HTTP, as :data:`WRITE_FIELDS` tuples: a dict each made a v1 batch
        #: update of 100 tickets cost 4% more instructions, and took 272 bytes a write, not 96.
        self.writes: list[Write] = []
        self.writer: str | None = None  # who makes the writes over HTTP (the token's app)
        self.pipelines: tuple[Pipeline, ...] = PIPELINES
        self.owners: list[Owner] = list(OWNERS)
        #: Admin-configured validation rules, enforced on date-versioned writes.
        self.validation_rules: list[ValidationRule] = []
        self._last_ms = 0
        self._next_id = FIRST_ID

    def tick(self) -> int:
        """A fresh write timestamp: now in epoch ms, or 1 ms after the last one."""
        self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
        return self._last_ms

    def next_id(self) -> int:
        """The id the next ticket gets when none is asked for."""
        return self._next_id

    def live(self, object_id: int) -> StoredTicket | None:
        """The ticket with that id, unless it does not exist or was deleted."""
        ticket = self.tickets.get(object_id)
        return None if ticket is None or ticket.deleted else ticket

    def create(
        self,
        properties: Mapping[str, str],
        *,
        object_id: int | None = None,
        timestamp: int | None = None,
        source: str = "API",
        request: int | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> StoredTicket:
        """Add a ticket whose properties all get one creation version.

        ``createdate`` and ``hs_lastmodifieddate`` are set to the creation
        time, and ``defaults`` fill properties not given (neither goes to
        :attr:`writes`). ``request`` is the sequence number of the HTTP
        request that made it; only such writes are logged.
        """
        oid = self._next_id if object_id is None else object_id
        if oid in self.tickets:
            raise ValueError(f"ticket {oid} already exists")
        ts = self.tick() if timestamp is None else timestamp
        ticket = StoredTicket(oid)
        self.tickets[oid] = ticket
        self._next_id = max(self._next_id, oid + 1)
        self._write(ticket, properties.items(), ts, source, request)
        filled = {CREATED: str(ts), **(defaults or {})}
        for name, value in filled.items():
            if name not in properties:
                ticket.add(name, (value, ts, source, None))
        ticket.add(LAST_MODIFIED, (str(ts), ts, "CALCULATED", None))
        return ticket

    def update(
        self, ticket: StoredTicket, pairs: Iterable[tuple[str, str]], request: int | None
    ) -> None:
        """Write ``(name, value)`` pairs as new versions (source ``API``) at one timestamp."""
        pairs = list(pairs)
        if not pairs:
            return
        ts = self.tick()
        self._write(ticket, pairs, ts, "API", request)
        ticket.add(LAST_MODIFIED, (str(ts), ts, "CALCULATED", None))

    def add_history(
        self, object_id: int, versions: Iterable[tuple[str, Version]], *, deleted: bool = False
    ) -> StoredTicket:
        """Add ``(name, version)`` pairs with their own timestamps (not logged as writes).

        The ticket is created if needed (``createdate`` its first timestamp);
        each property's versions are kept in time order, ``hs_lastmodifieddate``
        gets a version at every new timestamp, and later writes are newer than
        all of them.
        """
        ticket = self.tickets.get(object_id)
        if ticket is None:
            ticket = self.tickets[object_id] = StoredTicket(object_id)
            self._next_id = max(self._next_id, object_id + 1)
        added = list(versions)
        if not added:
            return ticket
        for name, version in added:
            ticket.add(name, version)
        first = min(v[TIMESTAMP] for _, v in added)
        if CREATED not in ticket.history:
            ticket.add(CREATED, (str(first), first, "CALCULATED", None))
        stamps = {v[TIMESTAMP] for name, v in added if name not in (CREATED, LAST_MODIFIED)}
        for ts in stamps:
            ticket.add(LAST_MODIFIED, (str(ts), ts, "CALCULATED", None))
        for name in {name for name, _ in added} | {LAST_MODIFIED}:
            ticket.history[name].sort(key=_BY_TIME)  # stable: same ms keeps order
        ticket.deleted = ticket.deleted or deleted
        self._last_ms = max(self._last_ms, *(v[TIMESTAMP] for _, v in added))
        return ticket

    def _write(
        self,
        ticket: StoredTicket,
        pairs: Iterable[tuple[str, str]],
        ts: int,
        source: str,
        request: int | None,
    ) -> None:
        history = ticket.history
        for name, value in pairs:
            history.setdefault(name, []).append((value, ts, source, None))
            if request is not None:
                self.writes.append(
                    (ticket.object_id, name, value, ts, source, self.writer, request)
                )
