"""HubSpot's ticket endpoints: :class:`TicketsClient`.

The endpoint methods (batch update, batch read, paging, get one, property
definitions) are written against :class:`~pandas_hubtickets._transport.Transport`,
which owns the token, the session, the rate limiter and the retries. Neither
module imports pandas: every method returns HubSpot's JSON as plain Python
objects (:meth:`TicketsClient.properties` returns a list of dicts), except
:meth:`TicketsClient.pipelines` and :meth:`TicketsClient.owners`, whose frames
``_labels.py`` builds (imported when they are first called).

History: HubSpot's v1 API returns the versions of a property only for the
names listed in ``propertiesWithHistory=``. With ``history=True`` and no
``properties``, the client asks for every ticket property, its names read
once from the property definitions (cached per client). The names go in the
query string, split over as many requests as :data:`MAX_QUERY_CHARS` needs;
the answers are merged per ticket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

import requests

from ._api import (
    DEFAULT_API,
    Endpoints,
    current_values,
    endpoints,
    next_after,
    object_id,
    page_objects,
)
from ._ids import ticket_id
from ._limiter import RateLimiter, search_limiter
from ._transport import _REDACTED, DEFAULT_BASE_URL, TOKEN_ENV_VAR, Reply, Secret, Transport
from .errors import ConfigurationError, HubSpotError, RateLimitError

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Self

__all__ = [
    "BASE_URL_ENV_VAR",
    "CHANGE_LOG_LIMIT",
    "CHANGE_LOG_REACH",
    "DEFAULT_BASE_URL",
    "MAX_QUERY_CHARS",
    "SEARCH_PAGE",
    "TOKEN_ENV_VAR",
    "V1_TICKETS",
    "Changes",
    "Reply",
    "Secret",
    "TicketsClient",
]

#: The environment variable that overrides the default base URL (a sandbox, a proxy, the emulator).
BASE_URL_ENV_VAR: Final = "HUBSPOT_BASE_URL"
V1_TICKETS: Final = "/crm-objects/v1/objects/tickets"
OWNERS_PAGE: Final = 100
MAX_BATCH: Final = 100
MAX_HISTORY_BATCH: Final = 50
"""Most ids one versioned read with ``propertiesWithHistory`` takes (HubSpot's limit)."""
MAX_QUERY_CHARS: Final = 4000
"""Most characters of property names one request puts in its query string.

HubSpot does not document a URL limit. Common front ends refuse request lines
from about 8 KB (Apache 8,190 bytes, nginx 8 KB header buffers); 4,000
characters of names, plus the path and an ``offset``, stays well under that.
"""


# ------------------------------------------------------- pulls since a time
CHANGE_LOG: Final = "/crm-objects/v1/change-log/tickets"
LAST_MODIFIED: Final = "hs_lastmodifieddate"
CHANGE_LOG_LIMIT: Final = 1000
"""Most changes one change-log answer holds; an answer this long may have left some out."""
CHANGE_LOG_REACH: Final = 23 * 3600.0
"""Seconds back that :meth:`TicketsClient.changed_since` trusts the change log for.

HubSpot keeps 24 hours of changes; the hour left is a margin for the clocks
of this machine and HubSpot's and for the time the call takes.
"""
SEARCH_PAGE: Final = 200
"""Most tickets one search answer holds (HubSpot's ``limit`` at most)."""
OBJECT_ID: Final = "hs_object_id"
_log = logging.getLogger(__name__)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Changes:
    """The tickets changed since a moment, and how they were found.

    Attributes
    ----------
    ids : list of int
        The changed tickets, each once, in the order found.
    since : datetime
        The moment (UTC), as given.
    method : {"change-log", "search", "hs_lastmodifieddate"}
        ``"change-log"``: from HubSpot's change log (one request);
        ``"search"``: HubSpot's CRM search for ``hs_lastmodifieddate`` at or
        after ``since`` (the versioned APIs);
        ``"hs_lastmodifieddate"``: every ticket's modification date was read
        page by page and compared with ``since``.
    reason : str
        Why that method, in words (e.g. why the change log or the search
        could not answer).
    scanned : int
        Tickets whose modification date was read (0 with the change log; with
        the search, the results read).
    """

    ids: list[int]
    since: datetime
    method: str
    reason: str
    scanned: int = 0


def epoch_ms(moment: datetime | date | str | int) -> int:
    """A moment as epoch milliseconds; naive datetimes and dates are taken as UTC.

    ``moment`` is a ``datetime`` (a ``pandas.Timestamp`` is one), a ``date``
    (its midnight UTC), ISO 8601 text (``2024-05-01``, ``2024-05-01T08:00Z``)
    or epoch milliseconds.

    Examples
    --------
    >>> epoch_ms("2024-05-01T00:00:01Z"), epoch_ms(date(1970, 1, 2)), epoch_ms(5)
    (1714521601000, 86400000, 5)
    >>> epoch_ms("yesterday")
    Traceback (most recent call last):
    ...
    ValueError: since must be a datetime, a date, ISO 8601 text or epoch ms, not 'yesterday'
    """
    if isinstance(moment, int) and not isinstance(moment, bool):
        return moment
    value: object = moment
    if isinstance(moment, str):
        text = moment.strip()
        if text.endswith(("Z", "z")):  # Python 3.10 reads only "+00:00"
            text = text[:-1] + "+00:00"
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(text)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ValueError(
            f"since must be a datetime, a date, ISO 8601 text or epoch ms, not {moment!r}"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _modified_ms(value: str | None) -> int | None:
    """A modification date as epoch ms: v1's digits or the versioned APIs' ISO 8601; else None.

    Examples
    --------
    >>> _modified_ms("1706702400000"), _modified_ms("2024-01-31T12:00:00.000Z"), _modified_ms("")
    (1706702400000, 1706702400000, None)
    """
    if value is None or not value.strip():
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        return epoch_ms(value)
    except ValueError:
        return None


class _SearchUnanswered(Exception):
    """HubSpot's search could not answer for :meth:`TicketsClient.changed_since`; says why."""


def _filter(name: str, operator: str, value: int | None) -> dict[str, str]:
    """A search filter on ``name`` (values travel as text: epoch ms for dates)."""
    return {"propertyName": name, "operator": operator, "value": str(value)}


# ------------------------------------------------------------ argument checks
def _ticket_id(value: object) -> int:
    """An object id as an int; refuses anything that is not one (the rule of ``_ids.py``)."""
    n = ticket_id(value)
    if isinstance(n, str):
        raise ValueError(f"a ticket id must be a positive integer, got {value!r}: {n}")
    return n


def _names(properties: str | Iterable[str] | None) -> list[str]:
    if properties is None:
        return []
    if isinstance(properties, str):
        return [properties]
    names = list(properties)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"property names must be non-empty strings, got {name!r}")
    return names


def _split_names(key: str, names: Sequence[str], limit: int) -> list[list[str]]:
    """``names`` in order, cut into runs whose ``key=name&...`` query stays within ``limit``.

    A single name longer than ``limit`` gets a request of its own.

    Examples
    --------
    >>> _split_names("properties", ["a", "bb", "ccc"], 30)
    [['a', 'bb'], ['ccc']]
    >>> _split_names("properties", [], 30)
    []
    """
    chunks: list[list[str]] = []
    size = 0
    for name in names:
        cost = len(urlencode({key: name})) + 1  # and its "&"
        if chunks and chunks[-1] and size + cost <= limit:
            chunks[-1].append(name)
            size += cost
        else:
            chunks.append([name])
            size = cost
    return chunks


def _merge(into: dict[str, Any], key: str, ticket: Any) -> None:
    """Add a ticket object to ``into``; a second answer for one ticket adds its properties.

    Either shape: v1's ``properties``, the versioned ``properties`` and
    ``propertiesWithHistory``.
    """
    known = into.get(key)
    if not isinstance(known, dict):
        into[key] = ticket
        return
    for part in ("properties", "propertiesWithHistory"):
        extra = ticket.get(part) if isinstance(ticket, Mapping) else None
        if isinstance(extra, Mapping):
            known.setdefault(part, {}).update(extra)


def _id_keys(ids: Iterable[int | str], id_property: str | None) -> list[str]:
    """The versioned inputs' ids, each once: ticket ids, or ``id_property`` values as text.

    Examples
    --------
    >>> _id_keys([176602, "176602", "7.0"], None)
    ['176602', '7']
    >>> _id_keys(["REF-1", " REF-2"], "ref")
    Traceback (most recent call last):
    ...
    ValueError: ref values must be non-empty text without surrounding spaces, got ' REF-2'
    """
    if id_property is None:
        return list(dict.fromkeys(str(_ticket_id(i)) for i in ids))
    keys = list(dict.fromkeys(ids))
    for key in keys:
        if not isinstance(key, str) or not key or key != key.strip():
            raise ValueError(
                f"{id_property} values must be non-empty text without surrounding spaces, "
                f"got {key!r}"
            )
    return [str(key) for key in keys]


def _other_api_objects(items: Sequence[Mapping[str, Any]], api: str) -> None:
    """Refuse batch-update objects written for the other generation of API, before sending.

    A script that switches ``api=`` may still build v1's objects (or the
    reverse); HubSpot would answer a 400 that names neither shape.

    Examples
    --------
    >>> _other_api_objects([{"id": "7", "properties": {"status": "OPEN"}}], "2026-03")
    >>> _other_api_objects([{"id": "7", "properties": {"status": "OPEN"}}], "v1")
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: batch_update: object 0 is in the versioned \
APIs' shape ({'id': '176602', 'properties': {'status': 'CLOSED'}}), but this client has \
api='v1', which takes {'objectId': 176602, 'properties': [{'name': 'status', 'value': \
'CLOSED'}]}; nothing was sent
    """
    shapes = {
        "v1": "{'objectId': 176602, 'properties': [{'name': 'status', 'value': 'CLOSED'}]}",
        "versioned": "{'id': '176602', 'properties': {'status': 'CLOSED'}}",
    }
    own, other = ("v1", "versioned") if api == "v1" else ("versioned", "v1")

    def shape(item: Mapping[str, Any]) -> str | None:
        listed = isinstance(item.get("properties"), list)
        if "objectId" in item or listed:
            return None if {"id", "idProperty"} & item.keys() else "v1"
        return "versioned" if "id" in item or "idProperty" in item else None

    wrong = [i for i, item in enumerate(items) if shape(item) == other]
    if wrong:
        which = "object" if len(wrong) == 1 else "objects"
        named = ", ".join(map(str, wrong[:10])) + (", ..." if len(wrong) > 10 else "")
        got = "v1's" if other == "v1" else "the versioned APIs'"
        raise ConfigurationError(
            f"batch_update: {which} {named} {'is' if len(wrong) == 1 else 'are'} in {got} "
            f"shape ({shapes[other]}), but this client has api={api!r}, which takes "
            f"{shapes[own]}; nothing was sent"
        )


def _listed(objects: Sequence[Mapping[str, Any]] | Mapping[str, Any], api: str) -> list[Any]:
    """The objects of a batch update: a list as given, or a versioned body's ``inputs``.

    ``to_payload(api=...)`` and ``to_batches(api=...)`` build v1's list, or the
    versioned APIs' whole body ``{"inputs": [...]}``: both are taken as they are.

    Examples
    --------
    >>> _listed({"inputs": [{"id": "7", "properties": {}}]}, "2026-03")
    [{'id': '7', 'properties': {}}]
    >>> _listed({"inputs": []}, "v1")
    Traceback (most recent call last):
    ...
    pandas_hubtickets.errors.ConfigurationError: batch_update: got a mapping (keys 'inputs'), \
but this client has api='v1', which takes a list of objects, as to_payload(api='v1') builds \
it; nothing was sent
    """
    if not isinstance(objects, Mapping):
        return list(objects)
    if api != "v1" and isinstance(objects.get("inputs"), list):
        return list(objects["inputs"])
    keys = ", ".join(repr(k) for k in list(objects)[:5])
    takes = "a list of objects" if api == "v1" else "its inputs, or the body {'inputs': [...]}"
    raise ConfigurationError(
        f"batch_update: got a mapping (keys {keys}), but this client has api={api!r}, which "
        f"takes {takes}, as to_payload(api={api!r}) builds it; nothing was sent"
    )


# --------------------------------------------------------------------- client
def _only_asked(objects: Iterable[Any], names: Iterable[str]) -> None:
    """Keep in each versioned object's ``properties`` only the ``names`` asked for (if any).

    HubSpot's newer APIs add ``hs_object_id``, ``createdate`` and
    ``hs_lastmodifieddate`` to every answer unasked; v1 gives what it is asked
    for. Without this, a read of a few properties would flatten to three more
    (with no timestamp) and ``current()`` to three more columns, one of them a
    second id column, than the same read through v1.
    """
    asked = frozenset(names)
    if not asked:
        return
    for obj in objects:
        props = obj.get("properties") if isinstance(obj, dict) else None
        if isinstance(props, dict) and not asked.issuperset(props):
            obj["properties"] = {k: v for k, v in props.items() if k in asked}


def _stalled(reply: Reply, message: str) -> HubSpotError:
    """The error for a paging cursor that did not move (HubSpot would be asked the same forever)."""
    return HubSpotError(
        reply.status, message, error="INVALID_RESPONSE", body=reply.data, attempts=reply.attempts
    )


class TicketsClient:
    """HubSpot tickets over HTTP: auth, rate limiting and retries.

    Thread-safe: one client may serve ``max_workers`` threads at once (its
    connection pool is sized for them and its rate limiter is shared).

    Parameters
    ----------
    token : str, optional
        A private-app / service-key / OAuth access token. Defaults to the
        ``HUBSPOT_ACCESS_TOKEN`` environment variable.
    base_url : str, optional
        Defaults to the ``HUBSPOT_BASE_URL`` environment variable, else
        ``"https://api.hubapi.com"``. Must be https; plain http is accepted
        only for loopback hosts (127.0.0.0/8, ::1, localhost), e.g. the local
        emulator.
    requests_per_10s : int, default 100
        Your account's burst limit (100 Free/Starter, 190 Professional and
        Enterprise, 250 with the limit increase pack). Ignored if ``limiter``
        is given.
    max_workers : int, optional
        Requests that callers may run at once; sizes the connection pool.
        Default: enough to reach the rate limit while HubSpot answers within
        0.6 s (``requests_per_10s / 10 * 0.6``, at least 4, at most 32: 6,
        12 and 15 workers for the 100, 190 and 250 tiers); the rate limiter
        holds every start, so more workers never send more.
    timeout : float or (float, float), default (5.0, 30.0)
        Connect and read timeouts in seconds. A read timeout is retried; a
        connection that cannot be opened is tried once more, then the call
        fails with :class:`~pandas_hubtickets.errors.UnreachableError`.
    max_retries : int, default 5
        Retries per call, across all kinds of transient failure; a call makes
        at most ``max_retries + 1`` attempts (at most 2 to open a connection).
    backoff_factor : float, default 0.5
        Exponential backoff base in seconds (``factor * 2**n``, plus up to
        ``factor`` of random jitter, at most 30 s).
    verify : bool or str, default True
        TLS verification: ``True`` or the path of a CA bundle. ``False`` is
        refused -- a client that sends a bearer token does not talk to a
        server it cannot authenticate. For a local emulator use
        ``http://127.0.0.1:PORT``.
    session : requests.Session, optional
        A session to use (proxies, custom adapters). The client mounts its
        retrying adapter on it for ``base_url`` and does not close it.
    limiter : RateLimiter, optional
        A limiter to share (e.g. between several clients of one account).
    deadline : float, optional
        Seconds an attempt may take in all (connect, send, and read the
        whole answer); default ``max(60, connect + read timeout)``. A server
        that trickles its answer cannot hold a call longer: the attempt is
        cut off and retried (a write cut off so may have been applied, and
        says so: ``exc.maybe_applied``).
    api : {"v1", "v3", "2026-03"}, default "v1"
        The HubSpot API every call of this client uses: CRM Objects v1, v3,
        or the date-versioned API of March 2026 (v1 and v3 are unsupported
        from September 2027). Results, reports and tidy frames look the same
        whichever it is.

    Attributes
    ----------
    api, base_url, max_workers, max_retries, backoff_factor, timeout, deadline, limiter

    Raises
    ------
    ConfigurationError
        No token, a non-https base URL, ``verify=False``, a bad argument.

    Examples
    --------
    >>> from pandas_hubtickets import TicketsClient
    >>> client = TicketsClient("pat-na1-example", requests_per_10s=190)
    >>> client.max_workers, "pat-na1" in repr(client), "token=<redacted>" in repr(client)
    (12, False, True)
    >>> client.close()

    Against the local emulator (no network):

    >>> from pandas_hubtickets.testing import FakeHubSpot
    >>> with FakeHubSpot() as hub, TicketsClient(hub.token, base_url=hub.base_url) as c:
    ...     ids = hub.seed_tickets(3)
    ...     c.get(ids[0], ["subject"])["objectId"] == ids[0]
    True
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        requests_per_10s: int = 100,
        max_workers: int | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        verify: bool | str = True,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        deadline: float | None = None,
        api: str = DEFAULT_API,
    ) -> None:
        self._endpoints: Endpoints = endpoints(api)
        if base_url is None:
            base_url = os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
        self._transport = Transport(
            token,
            base_url=base_url,
            requests_per_10s=requests_per_10s,
            max_workers=max_workers,
            timeout=timeout,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            verify=verify,
            session=session,
            limiter=limiter,
            deadline=deadline,
        )
        self._names_lock = threading.RLock()  # held while the definitions are read
        self._property_names: list[str] | None = None
        self._max_query_chars = MAX_QUERY_CHARS
        self._search_page = SEARCH_PAGE
        self._catalogue_lock = threading.Lock()  # held while pipelines or owners are read
        self._catalogue: dict[str, pd.DataFrame] = {}

    # The settings, as the transport checked them (read-only).
    @property
    def api(self) -> str:
        """The API this client speaks: ``"v1"``, ``"v3"`` or ``"2026-03"``."""
        return self._endpoints.api

    @property
    def base_url(self) -> str:
        """The base URL, without a trailing slash."""
        return self._transport.base_url

    @property
    def requests_per_10s(self) -> int:
        """Request starts allowed in any rolling 10 s (the limiter's, if one was given)."""
        return self._transport.requests_per_10s

    @property
    def max_workers(self) -> int:
        """Requests that callers may run at once."""
        return self._transport.max_workers

    @property
    def max_retries(self) -> int:
        """Retries per call; a call makes at most ``max_retries + 1`` attempts."""
        return self._transport.max_retries

    @property
    def backoff_factor(self) -> float:
        """Exponential backoff base in seconds."""
        return self._transport.backoff_factor

    @property
    def timeout(self) -> float | tuple[float, float]:
        """Connect and read timeouts in seconds."""
        return self._transport.timeout

    @property
    def deadline(self) -> float:
        """Seconds an attempt may take in all, its whole answer read."""
        return self._transport.deadline

    @property
    def verify(self) -> bool | str:
        """``True`` or the path of a CA bundle."""
        return self._transport.verify

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter every request of this client goes through."""
        return self._transport.limiter

    def __repr__(self) -> str:
        return (
            f"TicketsClient(api={self.api!r}, base_url={self.base_url!r}, "
            f"requests_per_10s={self.requests_per_10s}, "
            f"max_workers={self.max_workers}, token={_REDACTED})"
        )

    __str__ = __repr__

    def __getstate__(self) -> Any:
        raise TypeError("a TicketsClient cannot be pickled (it holds a token and a session)")

    # --------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Release the connections (and the session, if the client made it).

        Examples
        --------
        >>> client = TicketsClient("pat-na1-example")
        >>> client.close()
        >>> client.close()  # closing twice is fine
        """
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -------------------------------------------------------------- low level
    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        body: Any = None,
    ) -> Reply:
        """Send one request, with rate limiting and retries; every call goes through here.

        Parameters
        ----------
        method : str
            ``GET``, ``POST``, ...
        path : str
            Path relative to ``base_url``, e.g. ``/crm-objects/v1/objects/tickets/batch-update``.
        params : mapping or sequence of pairs, optional
            Query parameters; a list value repeats the parameter
            (``{"properties": ["a", "b"]}`` -> ``?properties=a&properties=b``).
        body : bytes, str or JSON-able object, optional
            ``bytes``/``str`` are sent as they are (already-encoded JSON);
            anything else is encoded as compact JSON (NaN refused). Sent with
            ``Content-Type: application/json``.

        Returns
        -------
        Reply
            Status, parsed JSON, headers and the number of attempts.

        Raises
        ------
        RateLimitError
            A 429 for the ``DAILY`` limit (at once, never retried), or a
            rolling-limit 429 that outlasted the retries. ``.policy`` names
            HubSpot's policy.
        HubSpotError
            Any other non-2xx answer (after retries for 5xx), or a 2xx whose
            body is not JSON. ``.error`` is HubSpot's code (e.g.
            ``INVALID_DATE``), ``.body`` the parsed body.
        UnreachableError
            No connection could be opened (refused, no such host, connect
            timeout) in two quick attempts: nothing was sent.
        TransportError
            No answer after the request went out (read timeouts, dropped
            connections, answers over the ``deadline``) after all retries.

        All three carry ``.attempts`` and ``.maybe_applied``: True when an
        attempt of a write was sent and then timed out, was cut off or
        outlasted its deadline, or got a 2xx that cannot be read -- it may
        have been applied although the call failed.

        Examples
        --------
        >>> reply = client.send("GET", "/crm-objects/v1/objects/tickets/176602")
        >>> reply.status, reply.attempts
        (200, 1)
        """
        return self._transport.send(method, path, params=params, body=body)

    # ------------------------------------------------------------ the calls
    def batch_update_reply(
        self, objects: Sequence[Mapping[str, Any]] | Mapping[str, Any] | bytes | str
    ) -> Reply:
        """POST a batch update and return the whole :class:`Reply` (with ``attempts``).

        v1: ``POST /crm-objects/v1/objects/tickets/batch-update``; the
        date-versioned API and v3: ``POST {tickets}/batch/update``.

        Parameters
        ----------
        objects : sequence of mappings, mapping, bytes or str
            Either the objects, at most 100, encoded as compact JSON (v1:
            ``[{"objectId": 1, "properties": [{"name": .., "value": ..}]}]``;
            versioned: the ``inputs``, ``[{"id": "1", "properties": {..}}]``,
            sent as ``{"inputs": [...]}``, or that whole body, as
            ``to_payload(api=...)`` builds it) or a body already encoded as
            JSON, sent byte for byte.

        Returns
        -------
        Reply
            ``data`` is HubSpot's answer: v1's list of updated ticket objects;
            versioned, a ``BatchResponseSimplePublicObject`` (``status``
            200: ``results``) or, with status 207, one with ``errors`` too.

        Raises
        ------
        ConfigurationError
            An empty list, more than 100 objects, objects that are not mappings,
            or objects (or a body) in the shape of the other API.
        HubSpotError, RateLimitError, TransportError
            See :meth:`send`.

        Examples
        --------
        >>> body = b'[{"objectId":176602,"properties":[{"name":"status","value":"CLOSED"}]}]'
        >>> reply = client.batch_update_reply(body)
        >>> reply.attempts
        1
        """
        if isinstance(objects, (bytes, str)):
            if not objects.strip():
                raise ConfigurationError("batch_update: the body is empty")
            body: Any = objects
        else:
            items = _listed(objects, self.api)
            if not items:
                raise ConfigurationError("batch_update: no objects to send")
            if len(items) > MAX_BATCH:
                raise ConfigurationError(
                    f"batch_update: {len(items)} objects, but HubSpot takes at most "
                    f"{MAX_BATCH} per call; split them into batches"
                )
            for i, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise ConfigurationError(
                        f"batch_update: object {i} is a {type(item).__name__}, not a mapping"
                    )
            _other_api_objects(items, self.api)
            body = {"inputs": items} if self._endpoints.versioned else items
        update = "/batch/update" if self._endpoints.versioned else "/batch-update"
        return self.send("POST", self._endpoints.tickets + update, body=body)

    def batch_update(
        self, objects: Sequence[Mapping[str, Any]] | Mapping[str, Any] | bytes | str
    ) -> list[dict[str, Any]]:
        """Update up to 100 tickets, return the updated tickets HubSpot lists.

        Parameters
        ----------
        objects : sequence of mappings, mapping, bytes or str
            The objects (v1) or inputs (versioned APIs), the body
            ``to_payload(api=...)`` builds, or an already-encoded JSON body
            (see :meth:`batch_update_reply`). No objects return ``[]``
            without a request.

        Returns
        -------
        list of dict
            The updated ticket objects as HubSpot returns them: v1 ticket
            objects, or the versioned APIs' ``results`` (``SimplePublicObject``);
            the ``errors`` of a 207 are in :meth:`batch_update_reply`'s answer.

        Examples
        --------
        >>> answer = client.batch_update([
        ...     {"objectId": 176602, "properties": [{"name": "status", "value": "CLOSED"}]},
        ... ])
        >>> answer[0]["objectId"], answer[0]["properties"]["status"]["value"]
        (176602, 'CLOSED')
        """
        if not isinstance(objects, (bytes, str)) and not _listed(objects, self.api):
            return []
        reply = self.batch_update_reply(objects)
        if reply.data is None:
            return []
        if self._endpoints.versioned:
            results = reply.data.get("results") if isinstance(reply.data, Mapping) else None
            if not isinstance(results, list):
                raise self._shape_error(reply, "an object with results")
            return results
        if not isinstance(reply.data, list):
            raise self._shape_error(reply, "a list of ticket objects")
        return reply.data

    def _shape_error(self, reply: Reply, expected: str) -> HubSpotError:
        return HubSpotError(
            reply.status,
            f"expected {expected}, got {type(reply.data).__name__}",
            error="INVALID_RESPONSE",
            body=reply.data,
            attempts=reply.attempts,
        )

    # ------------------------------------------------------------- reading
    def _all_property_names(self) -> list[str]:
        """Every ticket property's name, from the definitions (read once per client)."""
        with self._names_lock:  # one thread reads them, the others wait for its answer
            if self._property_names is None:
                self.properties()  # fills the cache
            return list(self._property_names or [])

    def _selections(
        self, properties: str | Sequence[str] | None, history: bool
    ) -> list[list[tuple[str, str]]]:
        """The name parameters of a read, one list per request (``[[]]``: no names).

        With ``history`` and no ``properties``, every ticket property: HubSpot
        gives versions only for the names in ``propertiesWithHistory``.
        """
        names = _names(properties)
        if not names and history:
            names = self._all_property_names()
        key = "propertiesWithHistory" if history else "properties"
        chunks = _split_names(key, names, self._max_query_chars)
        return [[(key, name) for name in chunk] for chunk in chunks] or [[]]

    def _read_batch(self, ids: list[int], params: list[tuple[str, str]]) -> Mapping[str, Any]:
        """One ``POST /batch-read`` of at most 100 ids: HubSpot's map keyed by id."""
        reply = self.send(
            "POST", V1_TICKETS + "/batch-read", params=params or None, body={"ids": ids}
        )
        if reply.data is None:
            return {}
        if not isinstance(reply.data, Mapping):
            raise self._shape_error(reply, "an object keyed by ticket id")
        return reply.data

    def batch_read(
        self,
        ids: Iterable[int | str],
        properties: str | Sequence[str] | None = None,
        history: bool = True,
        *,
        id_property: str | None = None,
    ) -> dict[str, Any]:
        """Read tickets by id, in chunks; HubSpot's answer in the shape of the client's API.

        v1: ``POST /batch-read``, 100 ids a request. Versioned APIs: ``POST
        .../batch/read`` with a JSON body (``inputs``, ``properties``,
        ``propertiesWithHistory``, ``idProperty``), 100 ids a request, 50 with
        history (HubSpot's limit); a 207 (some ids not found) is an answer.

        Parameters
        ----------
        ids : iterable of int or str
            Ticket ids (duplicates are read once); with ``id_property``, that
            property's values.
        properties : sequence of str, optional
            Properties to return. ``None``: with ``history``, every ticket
            property (names from :meth:`properties`, read once per client);
            without, what HubSpot returns by default.
        history : bool, default True
            Ask for ``propertiesWithHistory`` (every version of each value)
            rather than ``properties``.
        id_property : str, optional
            Versioned APIs only: find the tickets by this unique property's
            values instead of their ids. The values are text (non-empty, no
            surrounding spaces); the property is added to those read, so each
            object says which value found it (``current_values(obj)[id_property]``).

        Returns
        -------
        dict
            v1: ``{"176602": {ticket object}, ...}``; ids HubSpot does not
            know are absent. When the names need several requests (see
            :data:`MAX_QUERY_CHARS`), each ticket's ``properties`` hold the
            answers of all of them. Versioned: one
            ``BatchResponseSimplePublicObject`` for all chunks: ``status``,
            ``results`` (``SimplePublicObject``), ``startedAt``,
            ``completedAt``, and ``errors`` / ``numErrors`` when some ids were
            not found (each error's ``context.ids`` lists them). Read either
            with :func:`~pandas_hubtickets._api.page_objects`.

        Raises
        ------
        ConfigurationError
            ``id_property`` with the v1 API.
        ValueError
            A bad id (or ``id_property`` value).

        Examples
        --------
        >>> tickets = client.batch_read([176602, 178218], ["status"])
        >>> sorted(tickets)
        ['176602', '178218']

        Every version of every property:

        >>> _ = client.batch_update([
        ...     {"objectId": 176602, "properties": [{"name": "subject", "value": "edited"}]}
        ... ])
        >>> ticket = client.batch_read([176602])["176602"]
        >>> [v["value"] for v in ticket["properties"]["subject"]["versions"]]
        ['edited', 'ticket 176602']

        On a versioned API, HubSpot's batch answer (``errors`` lists the ids not found):

        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> with FakeHubSpot() as hub, TicketsClient(
        ...     hub.token, base_url=hub.base_url, api="2026-03"
        ... ) as versioned:
        ...     ids = hub.seed_tickets(2)
        ...     answer = versioned.batch_read([*ids, 5], ["status"])
        >>> [r["id"] for r in answer["results"]] == [str(i) for i in ids]
        True
        >>> answer["errors"][0]["context"], list(answer["results"][0]["propertiesWithHistory"])
        ({'ids': ['5']}, ['status'])
        """
        if self._endpoints.versioned:
            return self._batch_read_versioned(ids, properties, history, id_property)
        if id_property is not None:
            raise ConfigurationError(
                f"id_property needs a versioned API (api='2026-03' or 'v3'); "
                f"this client speaks {self.api!r}"
            )
        id_list = list(dict.fromkeys(_ticket_id(i) for i in ids))
        if not id_list:
            return {}
        selections = self._selections(properties, history)
        merged: dict[str, Any] = {}
        for start in range(0, len(id_list), MAX_BATCH):
            chunk = id_list[start : start + MAX_BATCH]
            for params in selections:
                for key, ticket in self._read_batch(chunk, params).items():
                    _merge(merged, str(key), ticket)
        return merged

    def _read_versioned(self, keys: list[str], selection: Mapping[str, Any]) -> dict[str, Any]:
        """One versioned ``POST .../batch/read``: its ``BatchResponseSimplePublicObject``."""
        body = {"inputs": [{"id": key} for key in keys], **selection}
        reply = self.send("POST", self._endpoints.tickets + "/batch/read", body=body)
        data = reply.data
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise self._shape_error(reply, "a batch answer {status, results, ...}")
        asked = [*selection["properties"], *selection["propertiesWithHistory"]]
        _only_asked(data["results"], asked)
        return data

    def _versioned_selection(
        self, properties: str | Sequence[str] | None, history: bool, extra: str | None = None
    ) -> dict[str, Any]:
        """The ``properties``/``propertiesWithHistory`` of a versioned read (with ``extra``)."""
        names = _names(properties)
        if not names and history:
            names = self._all_property_names()
        if extra is not None and extra not in names:
            names = [*names, extra]
        return {
            "properties": [] if history else names,
            "propertiesWithHistory": names if history else [],
        }

    def _batch_read_versioned(
        self,
        ids: Iterable[int | str],
        properties: str | Sequence[str] | None,
        history: bool,
        id_property: str | None,
    ) -> dict[str, Any]:
        """:meth:`batch_read` on a versioned API: the chunks' answers as one batch answer."""
        keys = _id_keys(ids, id_property)
        selection = self._versioned_selection(properties, history, id_property)
        if id_property is not None:
            selection["idProperty"] = id_property
        size = MAX_HISTORY_BATCH if history else MAX_BATCH
        merged: dict[str, Any] = {"status": "COMPLETE", "results": []}
        errors: list[Any] = []
        for start in range(0, len(keys), size):
            answer = self._read_versioned(keys[start : start + size], selection)
            merged.setdefault("startedAt", answer.get("startedAt"))
            merged["completedAt"] = answer.get("completedAt")
            merged["results"] += answer["results"]
            errors += answer.get("errors") or []
        if errors:
            merged.update(errors=errors, numErrors=len(errors))
        return merged

    def iter_pages(
        self, properties: str | Sequence[str] | None = None, *, history: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every ticket, page after page; yields the raw pages in the shape of the client's API.

        v1: ``GET /paged`` (``offset``). Versioned APIs: ``GET`` the tickets
        with ``limit`` 100 (50 with history, HubSpot's limit) and ``after``.

        Parameters
        ----------
        properties : sequence of str, optional
            Properties to return for each ticket. ``None``: with ``history``,
            every ticket property (as for :meth:`batch_read`); without, what
            HubSpot returns by default.
        history : bool, default False
            Ask for ``propertiesWithHistory`` instead of ``properties``.

        Yields
        ------
        dict
            v1: ``{"objects": [...], "hasMore": bool, "offset": int}``;
            versioned: ``{"results": [...], "paging": {"next": {"after"}}}``
            (no ``paging`` on the last page). When the names do not fit one
            query string, each page is fetched with the first share of them
            and completed by batch reads of its ids with the others (one
            pagination, never several that must line up). Read either with
            :func:`~pandas_hubtickets._api.page_objects`.

        Examples
        --------
        >>> pages = list(client.iter_pages(["subject"]))
        >>> pages[-1]["hasMore"]
        False
        """
        first, *rest = self._selections(properties, history)
        if self._endpoints.versioned:
            yield from self._list_pages(first, rest, history)
            return
        offset: Any = None
        while True:
            params: list[tuple[str, Any]] = list(first)
            if offset is not None:
                params.append(("offset", offset))
            reply = self.send("GET", V1_TICKETS + "/paged", params=params or None)
            page = reply.data
            if not isinstance(page, dict) or not isinstance(page.get("objects", []), list):
                raise self._shape_error(reply, "a page {objects, hasMore, offset}")
            if rest:
                self._complete(page.get("objects", []), rest, history)
            yield page
            if not page.get("hasMore"):
                return
            new_offset = page.get("offset")
            if new_offset is None or new_offset == offset:
                message = f"pagination did not advance (hasMore with offset {new_offset!r})"
                raise _stalled(reply, message)
            offset = new_offset

    def _list_pages(
        self,
        first: list[tuple[str, str]],
        rest: list[list[tuple[str, str]]],
        history: bool,
    ) -> Iterator[dict[str, Any]]:
        """The versioned list (``GET`` the tickets, ``limit`` and ``after``), page by page."""
        limit = MAX_HISTORY_BATCH if history else MAX_BATCH
        after: str | None = None
        while True:
            params: list[tuple[str, Any]] = [("limit", limit), *first]
            if after is not None:
                params.append(("after", after))
            reply = self.send("GET", self._endpoints.tickets, params=params)
            page = reply.data
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise self._shape_error(reply, "a page {results, paging}")
            if rest:
                self._complete(page["results"], rest, history)
            _only_asked(page["results"], [name for params in (first, *rest) for _, name in params])
            yield page
            new_after = next_after(page)
            if new_after is None:
                return
            if new_after == after:
                raise _stalled(reply, f"pagination did not advance (after {new_after!r} again)")
            after = new_after

    def _complete(
        self, objects: list[Any], selections: list[list[tuple[str, str]]], history: bool
    ) -> None:
        """Add the properties of ``selections`` to a page's ticket objects (batch reads).

        v1: one ``/batch-read`` per selection; versioned: one batch read with
        all their names in its body (at most a page of ids: within its limit).
        """
        by_id = {str(oid): o for o in objects if (oid := object_id(o)) is not None}
        ids = [int(key) for key in by_id]
        if not ids:
            return
        if self._endpoints.versioned:
            names = [name for params in selections for _, name in params]
            selection = self._versioned_selection(names, history)
            answer = self._read_versioned([str(i) for i in ids], selection)
            found = {str(object_id(t)): t for t in answer["results"]}
        else:
            found = {}
            for params in selections:
                for key, ticket in self._read_batch(ids, params).items():
                    _merge(found, str(key), ticket)
        for key, ticket in found.items():
            if key in by_id:  # a ticket deleted meanwhile keeps what the page had
                _merge(by_id, key, ticket)

    def iter_tickets(
        self,
        properties: str | Sequence[str] | None = None,
        *,
        history: bool = False,
        since: datetime | date | str | int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every ticket of the account (follows ``/paged``), or those changed since a moment.

        Parameters
        ----------
        properties : sequence of str, optional
            Properties to return for each ticket. ``None``: with ``history``,
            every ticket property (as for :meth:`batch_read`); without, what
            HubSpot returns by default.
        history : bool, default False
            Ask for ``propertiesWithHistory`` instead of ``properties``.
        since : datetime, date, str or int, optional
            Only the tickets changed at or after this moment (naive: UTC; ISO
            8601 text or epoch milliseconds too), found by
            :meth:`changed_since` and read 100 at a time.

        Yields
        ------
        dict
            Ticket objects (``objectId``, ``properties``, ...). For the raw
            pages use :meth:`iter_pages`.

        Examples
        --------
        >>> ids = [t["objectId"] for t in client.iter_tickets(["subject"])]

        Only the tickets changed since a moment (here: epoch milliseconds, the
        time of an edit):

        >>> answer = client.batch_update([
        ...     {"objectId": 178218, "properties": [{"name": "status", "value": "CLOSED"}]}
        ... ])
        >>> edited = answer[0]["properties"]["status"]["timestamp"]
        >>> [t["objectId"] for t in client.iter_tickets(["status"], since=edited)]
        [178218]
        """
        if since is None:
            for page in self.iter_pages(properties, history=history):
                yield from page_objects(page)
            return
        changed = self.changed_since(since).ids
        for batch in self.iter_batches(changed, properties, history=history):
            yield from batch

    # ------------------------------------------------- pulls since a moment
    def iter_batches(
        self,
        ids: Iterable[int | str],
        properties: str | Sequence[str] | None = None,
        *,
        history: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """:meth:`batch_read` 100 ids at a time (50 with history on a versioned API).

        Parameters
        ----------
        ids : iterable of int or str
            Ticket ids (duplicates are read once); unknown ones are left out.
        properties, history
            As for :meth:`batch_read` (``history`` defaults to False here, as
            for :meth:`iter_pages`).

        Yields
        ------
        list of dict
            The ticket objects of one batch (at most 100, possibly none), in
            the shape of the client's API.

        Examples
        --------
        >>> [len(batch) for batch in client.iter_batches(range(176602, 176902), ["status"])]
        [1, 0, 0]
        """
        id_list = list(dict.fromkeys(_ticket_id(i) for i in ids))
        size = self.batch_size(history)
        for start in range(0, len(id_list), size):
            chunk = id_list[start : start + size]
            yield page_objects(self.batch_read(chunk, properties, history=history))

    def batch_size(self, history: bool) -> int:
        """Most tickets one read of this client's API takes (:meth:`batch_read` splits more).

        Examples
        --------
        >>> client.batch_size(history=True), client.batch_size(history=False)
        (100, 100)
        """
        return MAX_HISTORY_BATCH if history and self._endpoints.versioned else MAX_BATCH

    def changed_since(
        self,
        since: datetime | date | str | int,
        *,
        progress: Callable[[int], object] | None = None,
    ) -> Changes:
        """The ids of the tickets changed at or after ``since`` (created ones included).

        HubSpot's change log (``GET /crm-objects/v1/change-log/tickets``)
        answers in one request, but it reaches back 24 hours only and lists at
        most :data:`CHANGE_LOG_LIMIT` changes an answer. It is used when
        ``since`` is less than :data:`CHANGE_LOG_REACH` ago and its answer is
        shorter than that limit. Otherwise every ticket's
        ``hs_lastmodifieddate`` is read (:meth:`iter_pages`, that property
        only: one request per 100 tickets) and compared with ``since``; a
        ticket without a readable modification date counts as changed. Either
        way no change is left out. Deleted tickets are not listed.

        The versioned APIs have no change log: there HubSpot's CRM search
        (``POST .../search``) finds the tickets whose ``hs_lastmodifieddate``
        is at or after ``since``, oldest change first, 200 an answer, at
        most 5 requests a second (HubSpot's own limit for search, paced by
        :func:`~pandas_hubtickets._limiter.search_limiter`, apart from the
        limiter of the other calls). HubSpot pages one query through 10,000
        results at most, and its ``after`` is an offset that shifts when a
        ticket's change moves it to the end; so each request is a new query
        from the last modification time seen (the tickets of that moment
        come again and are kept once), and an answer holding nothing but
        that one moment has its tickets listed by ``hs_object_id`` before the
        search goes past it, so ties never hide one. Where the search cannot
        answer (it refuses the query with a 4xx, or answers a ticket without
        a readable modification date, or out of order) every ticket's date
        is read instead, and ``reason`` says why.

        Parameters
        ----------
        since : datetime, date, str or int
            The moment (naive: UTC), ISO 8601 text or epoch milliseconds.
        progress : callable, optional
            Called with the number of tickets read after each page of the
            scan or the search (e.g. a progress bar's ``update``); not called
            for the log.

        Returns
        -------
        Changes
            ``ids``, ``method`` (``"change-log"``, ``"search"`` or
            ``"hs_lastmodifieddate"``), ``reason``, ``scanned``.

        Examples
        --------
        >>> answer = client.batch_update([
        ...     {"objectId": 176602, "properties": [{"name": "status", "value": "OPEN"}]}
        ... ])
        >>> changes = client.changed_since(answer[0]["properties"]["status"]["timestamp"])
        >>> changes.ids, changes.method
        ([176602], 'change-log')
        >>> client.changed_since("2000-01-01").method
        'hs_lastmodifieddate'

        On the versioned APIs HubSpot's search answers:

        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> with FakeHubSpot() as hub, TicketsClient(
        ...     hub.token, base_url=hub.base_url, api="2026-03"
        ... ) as versioned:
        ...     ids = hub.seed_tickets(3)
        ...     found = versioned.changed_since("2000-01-01")
        >>> sorted(found.ids) == ids, found.method, found.reason
        (True, 'search', "the 2026-03 API has no change log; HubSpot's search found 3 in 1 request")
        """
        since_ms = epoch_ms(since)
        moment = _EPOCH + timedelta(milliseconds=since_ms)
        age = time.time() - since_ms / 1000
        if self._endpoints.versioned:
            try:
                found, read, sent = self._searched_since(since_ms, progress)
            except _SearchUnanswered as why:
                reason = (
                    f"the {self.api} API has no change log and its search could not answer: {why}"
                )
            else:
                return Changes(
                    found,
                    moment,
                    "search",
                    f"the {self.api} API has no change log; HubSpot's search found "
                    f"{len(found):,} in {sent:,} {'request' if sent == 1 else 'requests'}",
                    read,
                )
        elif age > CHANGE_LOG_REACH:
            reason = (
                f"HubSpot's change log keeps 24 h and {moment:%Y-%m-%d %H:%M} UTC is "
                f"{age / 3600:,.0f} h ago"
            )
        else:
            log = self._change_log(since_ms)
            if len(log) < CHANGE_LOG_LIMIT:
                ids = [oid for ts, oid in log if ts >= since_ms]
                return Changes(
                    list(dict.fromkeys(ids)),
                    moment,
                    "change-log",
                    f"HubSpot's change log listed {len(log):,} "
                    + ("change" if len(log) == 1 else "changes"),
                )
            reason = (
                f"HubSpot's change log answered {len(log):,} changes, its most, so it may "
                "have left some out"
            )
        _log.info("changed_since: reading every ticket's %s, as %s", LAST_MODIFIED, reason)
        ids, scanned = self._modified_since(since_ms, progress)
        return Changes(ids, moment, LAST_MODIFIED, reason, scanned)

    def _change_log(self, since_ms: int) -> list[tuple[int, int]]:
        """``(timestamp, objectId)`` of the change log's answer from ``since_ms`` on.

        Asks for changes after ``since_ms - 1``: whether HubSpot's
        ``timestamp`` is inclusive is not documented, so a change at
        ``since_ms`` itself is in the answer either way.
        """
        reply = self.send("GET", CHANGE_LOG, params={"timestamp": since_ms - 1})
        entries = reply.data if reply.data is not None else []
        if not isinstance(entries, list) or not all(
            isinstance(e, Mapping) and isinstance(e.get("objectId"), int) for e in entries
        ):
            raise self._shape_error(reply, "a list of changes {timestamp, changeType, objectId}")
        return [(int(e.get("timestamp") or since_ms), int(e["objectId"])) for e in entries]

    # ----------------------------------------------- search (versioned APIs)
    def _searched_since(
        self, since_ms: int, progress: Callable[[int], object] | None
    ) -> tuple[list[int], int, int]:
        """Ids modified at or after ``since_ms``, found by search; results read; requests.

        Every request is a query of its own from the last moment seen (never
        ``after``: an offset shifts when a ticket's change moves it to the
        end, and a query pages through 10,000 results at most). A full answer
        of that one moment is listed by ``hs_object_id`` before going past it.
        """
        found: dict[int, None] = {}
        read = sent = 0
        operator, moment = "GTE", since_ms
        while True:
            page = self._search([_filter(LAST_MODIFIED, operator, moment)], LAST_MODIFIED)
            read, sent = read + self._found(page, found, progress), sent + 1
            if len(page) < self._search_page:
                return list(found), read, sent
            last = _modified_ms(current_values(page[-1]).get(LAST_MODIFIED))
            if last is None:
                raise _SearchUnanswered(
                    f"it answered ticket {object_id(page[-1])} without a readable {LAST_MODIFIED}"
                )
            if last < moment or (last == moment and operator == "GT"):
                raise _SearchUnanswered(f"it did not answer in the order of {LAST_MODIFIED}")
            if last > moment:
                operator, moment = "GTE", last
                continue
            tie = [_filter(LAST_MODIFIED, "EQ", moment)]
            after_id: list[dict[str, str]] = []
            while True:  # a whole answer of one moment: its tickets by id, then past it
                page = self._search(tie + after_id, OBJECT_ID)
                read, sent = read + self._found(page, found, progress), sent + 1
                if len(page) < self._search_page:
                    break
                if after_id and int(after_id[0]["value"]) >= (object_id(page[-1]) or 0):
                    raise _SearchUnanswered(f"it did not answer in the order of {OBJECT_ID}")
                after_id = [_filter(OBJECT_ID, "GT", object_id(page[-1]))]
            operator = "GT"

    def _search(self, filters: list[dict[str, str]], sort: str) -> list[Any]:
        """The first page of one query (ascending by ``sort``): its ticket objects."""
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [sort],
            "properties": [LAST_MODIFIED],
            "limit": self._search_page,
            "after": "0",
        }
        reply = self._search_reply(body)
        page = reply.data
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise self._shape_error(reply, "a search answer {total, results, paging}")
        results: list[Any] = page["results"]
        return results

    @staticmethod
    def _found(
        page: list[Any], found: dict[int, None], progress: Callable[[int], object] | None
    ) -> int:
        """Add a page's ids to ``found`` (in order, each once); the number of results."""
        for ticket in page:
            oid = object_id(ticket)
            if oid is None:
                raise _SearchUnanswered("it answered a ticket without an id")
            found.setdefault(oid, None)
        if progress is not None:
            progress(len(page))
        return len(page)

    def _search_reply(self, body: Mapping[str, Any]) -> Reply:
        """One ``POST .../search`` through the search limiter; a 4xx it refuses, as unanswered."""
        try:
            return self._transport.send(
                "POST",
                self._endpoints.tickets + "/search",
                body=body,
                limiter=search_limiter(self.limiter),
            )
        except RateLimitError:
            raise
        except HubSpotError as error:
            if 400 <= error.status < 500 and error.status != 401:
                raise _SearchUnanswered(
                    f"HTTP {error.status} {error.error}: {error.message}"
                ) from error
            raise

    def _modified_since(
        self, since_ms: int, progress: Callable[[int], object] | None
    ) -> tuple[list[int], int]:
        """Ids whose ``hs_lastmodifieddate`` is ``since_ms`` or later (or unreadable); and count."""
        ids: list[int] = []
        scanned = 0
        for page in self.iter_pages([LAST_MODIFIED]):
            objects = page_objects(page)
            for ticket in objects:
                oid = object_id(ticket)
                if oid is not None:
                    modified = _modified_ms(current_values(ticket).get(LAST_MODIFIED))
                    if modified is None or modified >= since_ms:
                        ids.append(oid)
            scanned += len(objects)
            if progress is not None:
                progress(len(objects))
        return ids, scanned

    def get(
        self,
        ticket_id: int | str,
        properties: str | Sequence[str] | None = None,
        *,
        history: bool = False,
    ) -> dict[str, Any]:
        """GET one ticket by id.

        Parameters
        ----------
        ticket_id : int or str
            The ticket's ``objectId``.
        properties : sequence of str, optional
            Properties to return. ``None``: with ``history``, every ticket
            property (as for :meth:`batch_read`); without, what HubSpot
            returns by default.
        history : bool, default False
            Ask for ``propertiesWithHistory`` instead of ``properties``.

        Returns
        -------
        dict
            The ticket object, in the shape of the client's API (v1: with
            ``objectId``; versioned: a ``SimplePublicObject`` with ``id``).

        Raises
        ------
        HubSpotError
            404 (``.status``) when there is no such ticket.

        Examples
        --------
        >>> client.get(176602, ["subject"])["objectId"]
        176602
        """
        path = f"{self._endpoints.tickets}/{_ticket_id(ticket_id)}"
        answer: dict[str, Any] = {}
        selections = self._selections(properties, history)
        for params in selections:
            reply = self.send("GET", path, params=params or None)
            if not isinstance(reply.data, dict):
                raise self._shape_error(reply, "a ticket object")
            _merge(answer, "ticket", reply.data)
        ticket: dict[str, Any] = answer["ticket"]
        if self._endpoints.versioned:
            _only_asked([ticket], [name for params in selections for _, name in params])
        return ticket

    def properties(self) -> list[dict[str, Any]]:
        """The ticket property definitions, read afresh each call.

        v1 reads ``GET /properties/v2/tickets/properties`` (a bare list); the
        date-versioned API ``GET /crm/properties/2026-03/tickets`` and v3
        ``GET /crm/v3/properties/tickets`` (``{"results": [...]}``). Either
        answer shape is accepted from either.

        Returns
        -------
        list of dict
            One record per property, HubSpot's fields as they come (``name``,
            ``label``, ``type``, ``fieldType``, ``options``, ``calculated``,
            ``externalOptions``; read-only is ``readOnlyValue`` in v2 and
            ``modificationMetadata.readOnlyValue`` in the newer APIs). The
            pre-check, coercion, typing and labels read both alike. For a
            frame: ``pd.DataFrame.from_records(client.properties())``.

        Examples
        --------
        >>> defs = client.properties()
        >>> next(d["type"] for d in defs if d["name"] == "hs_pipeline_stage")
        'enumeration'
        """
        reply = self.send("GET", self._endpoints.properties)
        data = reply.data
        if isinstance(data, Mapping) and isinstance(data.get("results"), list):
            data = data["results"]  # the newer API's shape
        if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
            raise self._shape_error(reply, "a list of property definitions")
        records = [dict(d) for d in data]
        names = [r["name"] for r in records if isinstance(r.get("name"), str) and r["name"]]
        with self._names_lock:
            self._property_names = names
        return records

    # ------------------------------------------------- pipelines and owners
    def _cached(self, key: str, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``read()`` once per client (one thread reads, the others wait); a copy each call."""
        with self._catalogue_lock:
            if key not in self._catalogue:
                self._catalogue[key] = read()
            copy: pd.DataFrame = self._catalogue[key].copy()
            return copy

    def pipelines(self) -> pd.DataFrame:
        """The ticket pipelines and their stages, one row per stage (read once per client).

        ``GET /crm-pipelines/v1/pipelines/tickets`` (v1), or
        ``/crm/pipelines/2026-03/tickets`` / ``/crm/v3/pipelines/tickets``,
        whose ``id`` fields give the same frame; through the same limiter and
        retries as every call. Stage ids are unique within a portal.

        Returns
        -------
        pandas.DataFrame
            In display order (pipelines, then their stages): ``pipelineId``,
            ``pipeline`` (its label), ``pipelineOrder``, ``stageId``,
            ``stage`` (its label), ``stageOrder``, ``ticketState``
            (``OPEN`` / ``CLOSED``, missing when HubSpot gives none),
            ``closed`` (bool). Text columns are pyarrow strings. Each call
            returns a copy of the frame read the first time.

        Raises
        ------
        HubSpotError
            ``INVALID_RESPONSE`` when the answer is not ``{"results":
            [pipeline, ...]}``; see :meth:`send` for the others.

        Examples
        --------
        >>> stages = client.pipelines()
        >>> stages.loc[stages["pipeline"] == "Support Pipeline", "stage"].tolist()
        ['New', 'Waiting on contact', 'Waiting on us', 'Closed']
        """
        from ._labels import pipelines_frame

        def read() -> pd.DataFrame:
            reply = self.send("GET", self._endpoints.pipelines)
            results = reply.data.get("results") if isinstance(reply.data, Mapping) else None
            try:
                return pipelines_frame(results)
            except (TypeError, ValueError) as error:
                raise self._shape_error(reply, f"pipelines {{results: [...]}} ({error})") from None

        return self._cached("pipelines", read)

    def _owner_records(self, archived: bool) -> list[Any]:
        """Every owner record (active, or archived) of the owners endpoint, page by page."""
        records: list[Any] = []
        after: str | None = None
        while True:
            params: list[tuple[str, Any]] = [
                ("limit", OWNERS_PAGE),
                ("archived", "true" if archived else "false"),
            ]
            if after is not None:
                params.append(("after", after))
            reply = self.send("GET", self._endpoints.owners, params=params)
            page = reply.data
            if not isinstance(page, Mapping) or not isinstance(page.get("results"), list):
                raise self._shape_error(reply, "owners {results, paging}")
            records += page["results"]
            paging = page.get("paging")
            following = paging.get("next") if isinstance(paging, Mapping) else None
            new_after = following.get("after") if isinstance(following, Mapping) else None
            if new_after is None:
                return records
            if str(new_after) == after:
                raise _stalled(reply, f"owners paging did not advance (after {new_after!r} again)")
            after = str(new_after)

    def owners(self) -> pd.DataFrame:
        """The portal's owners, active and archived, one row each (read once per client).

        ``GET /crm/v3/owners`` (v1 and v3) or ``/crm/owners/2026-03``, page
        after page (``after``), then the same with ``archived=true``: tickets
        keep the owner ids of people who left, and their names are wanted too.

        Returns
        -------
        pandas.DataFrame
            ``ownerId`` (what ``hubspot_owner_id`` holds), ``name`` ("First
            Last"; the e-mail, else the id, when HubSpot has no name),
            ``firstName``, ``lastName``, ``email`` (pyarrow strings),
            ``userId`` (Int64), ``archived`` (bool); active owners first.
            Each call returns a copy of the frame read the first time.

        Raises
        ------
        HubSpotError
            ``INVALID_RESPONSE`` when a page is not ``{"results": [...],
            "paging"?}`` or its cursor does not advance; see :meth:`send`.

        Examples
        --------
        >>> owners = client.owners()
        >>> owners.loc[owners["archived"], "name"].tolist()
        ['Rosalind Franklin']
        """
        from ._labels import owners_frame

        def read() -> pd.DataFrame:
            records = self._owner_records(False) + self._owner_records(True)
            try:
                return owners_frame(records)
            except (TypeError, ValueError) as error:
                raise HubSpotError(
                    200, f"unexpected owner records: {error}", error="INVALID_RESPONSE"
                ) from None

        return self._cached("owners", read)
