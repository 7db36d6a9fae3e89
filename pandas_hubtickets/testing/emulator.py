"""FakeHubSpot: HubSpot's ticket endpoints as a real HTTP server on 127.0.0.1.

Each request goes through the same steps:

1. **route** (:func:`~.api.resolve`): an unknown path is a 404, a wrong
   method a 405, a request target (path and query) longer than
   ``MAX_TARGET_LENGTH`` a 414, before any authentication;
2. **admission**, under the lock: authentication (401), one draw from the
   seeded fault generator, the rate limits (429, not counted), then an
   injected 429/500/502/503 if one was drawn;
3. **delay**, outside the lock: ``latency`` for every answer, plus
   ``stall_seconds`` for a stall;
4. **processing**, under the lock: the endpoint's handler;
5. **log**: a :class:`RequestRecord`; then the answer is written (or, for a
   drop, the connection is closed without one).

Bodies are not kept unless asked for, so big runs stay cheap: a hub made with
``record_bodies=True`` keeps each request's body and answer in its
:attr:`~FakeHubSpot.requests`, and inside :func:`record_bodies` every running
hub hands over the requests it selects, bodies included (the contract tests
validate them against HubSpot's OpenAPI documents).

Request bodies are read as :func:`json.loads` reads them and answers written as
``json.dumps(body, separators=(",", ":"))`` writes them; with orjson installed
both go through it wherever it gives the same result (``_parse_json``,
``_json_bytes``): reading a v1 batch update of 100 tickets and writing its
answer take about 0.2 ms of CPU with it, 2.3 ms without.

Authenticated answers carry the ``X-HubSpot-RateLimit-*`` headers described
in :meth:`.limits.RateLimiter.headers`; a 401, 404 or 405 carries none. ``Retry-After``
(whole seconds, rounded up) is sent on 429s only when ``retry_after`` is set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
import math
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import _json
from .api import ApiError, Call, Handler, Reply, dispatch, resolve
from .catalogue import Owner
from .history import generate
from .limits import Faults, RateLimiter
from .schema import check_write, sample_properties
from .shapes import (
    BAD_GATEWAY_HTML,
    error_body,
    owners_page,
    pipelines_v1,
    rate_limit_body,
    v1_object,
)
from .store import VALUE, WRITE_FIELDS, TicketStore, Version
from .versioned import SEARCH_CAP, SECONDLY_LIMITED, ValidationRule

SEARCH_PER_SECOND = 5
"""HubSpot's limit on search requests per second (apart from the 10-second one)."""

__all__ = ["FakeHubSpot", "RequestRecord", "record_bodies"]

_SEED_EPOCH_MS = 1_700_000_000_000
"""Seeded tickets are created within a year of this moment (2023-11-14), well in the past."""
_YEAR_MS = 365 * 86_400_000
MAX_TARGET_LENGTH = 8192
"""Longest request target (path and query) answered; longer ones get 414 ``URI_TOO_LONG``.

HubSpot does not document its limit; front ends commonly refuse request lines
from about 8 KB (Apache 8,190 bytes, nginx 8 KB header buffers)."""
_SERVER_ERRORS = {
    500: ("An internal error occurred.", "INTERNAL_ERROR"),
    503: ("Service temporarily unavailable; try again later.", "SERVICE_UNAVAILABLE"),
}


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator saw, in :attr:`FakeHubSpot.requests`.

    Attributes
    ----------
    seq : int
        Sequence number, from 1 in arrival order (``request`` in the write log).
    method, path, query : str
        The request line, ``query`` as sent (without ``?``).
    status : int or None
        The status answered; None when the connection was dropped.
    objects : int or None
        The number of objects (or ids, or inputs) in the body, if it had a list.
    fault : str or None
        The injected fault: ``"429"``, ``"500"``, ``"502"``, ``"503"``,
        ``"drop"`` or ``"stall"``.
    started : float
        :func:`time.monotonic` when the request was read.
    elapsed : float
        Seconds until the answer was ready (latency and stalls included).
    codes : tuple of str
        Error codes of the answer: validation codes, the rate-limit policy,
        ``INVALID_AUTHENTICATION``, ...
    body : object or None
        The request's JSON body, parsed (None when empty or not JSON); kept
        only when bodies are recorded (``record_bodies``), else None.
    answer : object or None
        The answer's body as sent, parsed back from its bytes (the text of a
        non-JSON answer; None without one, for a drop, or when bodies are not
        recorded).

    Examples
    --------
    >>> import urllib.error, urllib.request
    >>> from pandas_hubtickets.testing import FakeHubSpot, Faults
    >>> with FakeHubSpot(faults=Faults(rate_503=1.0)) as hub:
    ...     request = urllib.request.Request(
    ...         f"{hub.base_url}/properties/v2/tickets/properties",
    ...         headers={"Authorization": f"Bearer {hub.token}"},
    ...     )
    ...     try:
    ...         urllib.request.urlopen(request)
    ...     except urllib.error.HTTPError as error:
    ...         print(error.code)
    ...     record = hub.requests[0]
    503
    >>> record.method, record.path, record.status, record.fault
    ('GET', '/properties/v2/tickets/properties', 503, '503')
    """

    seq: int
    method: str
    path: str
    query: str
    status: int | None
    objects: int | None
    fault: str | None
    started: float
    elapsed: float
    codes: tuple[str, ...]
    body: Any = None
    answer: Any = None


@dataclass(frozen=True)
class _Wire:
    status: int
    headers: dict[str, str]
    payload: bytes


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(raw: bytes) -> tuple[Any, str | None]:
    """The body as :func:`json.loads` reads it (``NaN``, ``Infinity`` refused), or why it is not.

    orjson (when installed) parses what it reads as :func:`json.loads` does;
    anything else (its refusals included) goes to :func:`json.loads`, whose
    message is the one a client sees.
    """
    if not raw:
        return None, "the body is empty"
    parsed = _json._orjson_loads(raw)
    if parsed is not _json._UNDECIDED:
        return parsed, None
    try:
        return json.loads(raw, parse_constant=_reject_constant), None
    except (ValueError, UnicodeDecodeError) as error:
        return None, str(error)


def _sent_body(wire: _Wire | None) -> Any:
    """What an answer's bytes hold: parsed JSON, text, or None without a body."""
    if wire is None or not wire.payload:
        return None
    if wire.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(wire.payload)
    return wire.payload.decode()


@dataclass(frozen=True)
class _Recording:
    select: Callable[[str, str], bool]
    records: list[RequestRecord]


_RECORDINGS: tuple[_Recording, ...] = ()
"""The open :func:`record_bodies` blocks (a tuple, replaced whole: handler threads read it)."""


@contextlib.contextmanager
def record_bodies(
    select: Callable[[str, str], bool] = lambda method, path: True,
) -> Iterator[list[RequestRecord]]:
    """Collect, from every running :class:`FakeHubSpot`, the requests with their bodies.

    While inside the block, each request that ``select(method, path)``
    accepts is appended (from the emulator's threads, in the order answered)
    to the yielded list as a :class:`RequestRecord` with ``body`` and
    ``answer`` set; hubs started before the block count too. Outside any
    block, and for requests not selected, nothing extra is parsed or kept.

    Examples
    --------
    >>> import urllib.error, urllib.request
    >>> from pandas_hubtickets.testing import FakeHubSpot, record_bodies
    >>> with FakeHubSpot() as hub, record_bodies() as seen:
    ...     request = urllib.request.Request(
    ...         f"{hub.base_url}/crm-objects/v1/objects/tickets/batch-read",
    ...         data=b'{"ids": [404]}', headers={"Authorization": f"Bearer {hub.token}"},
    ...     )
    ...     urllib.request.urlopen(request).read()
    b'{}'
    >>> seen[0].body, seen[0].answer, hub.requests[0].body
    ({'ids': [404]}, {}, None)
    """
    global _RECORDINGS
    recording = _Recording(select, [])
    _RECORDINGS = (*_RECORDINGS, recording)
    try:
        yield recording.records
    finally:
        _RECORDINGS = tuple(r for r in _RECORDINGS if r is not recording)


def _count_objects(body: Any) -> int | None:
    if isinstance(body, dict):
        body = body.get("ids", body.get("inputs"))
    return len(body) if isinstance(body, list) else None


def _seeded_version(record: Mapping[str, Any]) -> tuple[int, str, Version]:
    """A :meth:`FakeHubSpot.seed_history` record as (objectId, name, Version); raises if bad."""
    oid, name, value, ts = (record[k] for k in ("objectId", "name", "value", "timestamp"))
    source, source_id = record.get("source", "CRM_UI"), record.get("sourceId")
    if not isinstance(oid, int) or isinstance(oid, bool) or oid < 1:
        raise ValueError(f"objectId must be a positive int, not {oid!r}")
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise ValueError(f"timestamp must be epoch milliseconds (an int >= 0), not {ts!r}")
    if not all(isinstance(x, str) for x in (name, value, source)):
        raise TypeError("name, value and source must be strings")
    if source_id is not None and not isinstance(source_id, str):
        raise TypeError(f"sourceId must be a string or None, not {source_id!r}")
    return oid, name, (value, ts, source, source_id)


def _unauthorized(message: str) -> Reply:
    return Reply(
        401,
        error_body(message, category="INVALID_AUTHENTICATION"),
        codes=("INVALID_AUTHENTICATION",),
    )


def _authenticate(
    authorization: str | None, query: dict[str, list[str]], token: str
) -> Reply | None:
    if "hapikey" in query:
        return _unauthorized(
            "API keys (hapikey) no longer work; send a private app access token "
            "as 'Authorization: Bearer <token>'."
        )
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return _unauthorized(
            "Authentication credentials not found. This API supports OAuth 2.0 and private app "
            "access tokens, sent as 'Authorization: Bearer <token>'."
        )
    if not hmac.compare_digest(credentials.strip().encode(), token.encode()):
        return _unauthorized("The access token provided is not valid for this portal.")
    return None


def _json_bytes(body: Any) -> bytes:
    """``json.dumps(body, separators=(",", ":"))`` encoded: orjson's bytes where they are the same.

    orjson writes the same text for str, int, bool, None, lists and dicts with
    str keys, except that it leaves non-ASCII characters and DEL unescaped
    (then, or when it refuses the body, :func:`json.dumps` writes it). Its
    floats differ (``0.00001`` for ``1e-05``, ``null`` for NaN): answers hold
    no floats, every number the emulator sends is an integer.
    """
    if _json.orjson is not None:  # looked up each time: tests hide it there
        try:
            fast: bytes = _json.orjson.dumps(body)
        except TypeError:  # orjson.JSONEncodeError: beyond 64 bits, a lone surrogate, ...
            pass
        else:
            if fast.isascii() and b"\x7f" not in fast:
                return fast
    return json.dumps(body, separators=(",", ":")).encode()


def _encode(reply: Reply, limit_headers: dict[str, str]) -> _Wire:
    headers = {**limit_headers, **reply.headers}
    if reply.body is None:
        payload = b""
    elif isinstance(reply.body, str):
        payload = reply.body.encode()
    else:
        payload = _json_bytes(reply.body)
    if reply.status != 204:
        headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(payload))
    return _Wire(reply.status, headers, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], hub: FakeHubSpot) -> None:
        self.hub = hub
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHubSpot"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: _Server

    def handle(self) -> None:
        hub = self.server.hub
        if not hub._track(self.connection, opened=True):
            return
        try:
            super().handle()
        finally:
            hub._track(self.connection, opened=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet: :attr:`FakeHubSpot.requests` is the log."""

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or "Transfer-Encoding" in self.headers:
            self.send_error(411, "A valid Content-Length is required")
            return
        raw = self.rfile.read(length)
        wire = self.server.hub._answer(self.command, self.path, self.headers, raw)
        if wire is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(wire.status)
            for name, value in wire.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(wire.payload)
        except OSError:  # the client gave up, e.g. timed out during a stall
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class FakeHubSpot:
    """A local HubSpot tickets API (v1, the date-versioned API and v3) for tests.

    A real HTTP/1.1 server (keep-alive, one thread per connection) on an
    ephemeral port of 127.0.0.1, with HubSpot's response shapes, validation,
    authentication, rate limits and headers, plus seeded fault injection. All
    state sits behind one lock; latency and stalls are slept outside it, so
    concurrent connections overlap.

    Parameters
    ----------
    token : str, optional
        The only accepted Bearer token; default a random ``pat-na1-...`` string.
    portal_id : int
        The portal id written into ticket objects.
    requests_per_10s : int, optional
        HubSpot's ``TEN_SECONDLY_ROLLING`` limit in a rolling 10 s window; None
        for no burst limit.
    daily_limit : int, optional
        Requests allowed in total before every answer is a ``DAILY`` 429;
        None for no daily limit.
    latency : float
        Seconds added to every answer.
    faults : Faults, optional
        Shares of requests answered with injected failures.
    seed : int
        Makes fault draws (for a given sequence of requests) and the data of
        :meth:`seed_tickets` reproducible.
    retry_after : float, optional
        When set, 429s carry ``Retry-After`` (HubSpot's do not).
    host, port : str, int
        Where to listen; port 0 picks a free one.
    missing_object_status : {400, 404}
        How a v1 batch update naming an unknown id is refused: 400 with a
        ``validationResults`` entry (default), or 404 ``OBJECT_NOT_FOUND``
        for the whole batch. HubSpot does not document which; both split.
    search_cap : int
        Most results one search query pages through (HubSpot's 10,000); lower
        it to test a client's restarts with few tickets.
    search_per_second : int, optional
        Searches answered in any rolling second (HubSpot's 5; beyond, a
        ``SECONDLY`` 429); None for no limit. Searches do not count in the
        10 s window nor the daily limit.
    app_id : int
        The private app the token belongs to: :attr:`writes` records each
        write over HTTP with source ``API`` and ``sourceId``
        ``"app:<app_id>"``. Ticket histories show API writes as HubSpot's v1
        answers do (the seed's example): source ``API``, no ``sourceId``.
    record_bodies : bool
        Keep each request's body and answer in :attr:`requests`
        (:attr:`RequestRecord.body`, :attr:`RequestRecord.answer`); off by
        default, so long runs keep no bodies.

    Notes
    -----
    The private keyword ``_window_seconds`` (default 10) shortens the rolling
    window so tests can watch it pass; ``X-HubSpot-RateLimit-Interval-Milliseconds``
    follows it.

    Examples
    --------
    >>> import json, urllib.request
    >>> from pandas_hubtickets.testing import FakeHubSpot
    >>> with FakeHubSpot(seed=1) as hub:
    ...     ids = hub.seed_tickets(3)
    ...     req = urllib.request.Request(
    ...         f"{hub.base_url}/crm-objects/v1/objects/tickets/batch-update",
    ...         data=json.dumps([{"objectId": ids[0], "properties": [
    ...             {"name": "status", "value": "CLOSED"}]}]).encode(),
    ...         headers={"Authorization": f"Bearer {hub.token}",
    ...                  "Content-Type": "application/json"},
    ...     )
    ...     answer = json.load(urllib.request.urlopen(req))
    ...     print(answer[0]["properties"]["status"]["value"], len(hub.writes))
    CLOSED 1
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        portal_id: int = 62515,
        requests_per_10s: int | None = None,
        daily_limit: int | None = None,
        latency: float = 0.0,
        faults: Faults | None = None,
        seed: int = 0,
        retry_after: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        missing_object_status: int = 400,
        app_id: int = 1_851_932,
        record_bodies: bool = False,
        search_cap: int = SEARCH_CAP,
        search_per_second: int | None = SEARCH_PER_SECOND,
        _window_seconds: float = 10.0,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must not be negative, not {latency}")
        if missing_object_status not in (400, 404):
            raise ValueError(
                f"missing_object_status must be 400 or 404, not {missing_object_status}"
            )
        self.token = token or f"pat-na1-{uuid.uuid4()}"
        self.portal_id = portal_id
        self.latency = latency
        self.faults = faults
        self.seed = seed
        self.retry_after = retry_after
        self.record_bodies = record_bodies
        self._address = (host, port)
        self._lock = threading.Lock()
        self._store = TicketStore(portal_id, missing_object_status)
        self._store.writer = f"app:{app_id}"
        self._limiter = RateLimiter(requests_per_10s, daily_limit, _window_seconds)
        if search_cap < 1:
            raise ValueError(f"search_cap must be at least 1, not {search_cap}")
        self._store.search_cap = search_cap
        self._search_limiter = RateLimiter(search_per_second, None, 1.0, policy="SECONDLY")
        self._fault_rng = random.Random(f"faults:{seed}")
        self._requests: list[RequestRecord] = []
        self._seq = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()

    # --- lifecycle ---

    def start(self) -> FakeHubSpot:
        """Start listening in a daemon thread; returns the emulator."""
        if self._server is not None:
            raise RuntimeError("FakeHubSpot is already running")
        self._stopping.clear()
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeHubSpot:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection (tickets and logs are kept)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        thread.join()
        self._server = self._thread = None

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C (or :meth:`stop` from another thread)."""
        if self._server is None:
            self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> FakeHubSpot:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"<FakeHubSpot {where}, {len(self._store.tickets)} tickets>"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; the client appends ``/crm-objects/v1/...``."""
        if self._server is None:
            raise RuntimeError("FakeHubSpot is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- data ---

    def seed_tickets(self, n: int, *, start_id: int | None = None) -> list[int]:
        """Create ``n`` plausible tickets with consecutive ids; returns the ids.

        Each ticket's data depends only on ``seed`` and its id. Its properties
        (subject, content, status, hs_pipeline, hs_pipeline_stage,
        hs_ticket_priority, source_type, is_escalated and some of
        hs_ticket_category, hubspot_owner_id, due_date) have one version, with
        source ``CRM_UI`` and a creation time in the past. ``start_id``
        defaults to the next free id.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, not {n}")
        with self._lock:
            first = self._store.next_id() if start_id is None else start_id
            ids = list(range(first, first + n))
            taken = [i for i in ids if i in self._store.tickets]
            if taken:
                raise ValueError(f"tickets already exist: {taken[:5]}")
            for oid in ids:
                rng = random.Random(f"tickets:{self.seed}:{oid}")
                created = _SEED_EPOCH_MS + rng.randrange(_YEAR_MS)
                self._store.create(
                    sample_properties(rng, oid, created),
                    object_id=oid,
                    timestamp=created,
                    source="CRM_UI",
                )
        return ids

    def create_ticket(self, properties: Mapping[str, str], *, object_id: int | None = None) -> int:
        """Create one ticket now (source ``API``); returns its id.

        Values are checked like HubSpot checks them, except that read-only
        properties may be set. Unlike a create over HTTP, nothing is required
        and nothing goes to :attr:`writes`.
        """
        problems = [
            p
            for name, value in properties.items()
            if (p := check_write(name, value, allow_read_only=True)) is not None
        ]
        if problems:
            raise ValueError("; ".join(f"{p.name}: {p.message} ({p.code})" for p in problems))
        with self._lock:
            return self._store.create(properties, object_id=object_id).object_id

    # --- history, pipelines and owners ---

    def seed_history(
        self, versions: Iterable[Mapping[str, Any]], *, deleted: Iterable[int] = ()
    ) -> list[int]:
        """Add property versions with their own timestamps, sources and source ids.

        For history older than today: each record is ``{"objectId", "name",
        "value", "timestamp", "source", "sourceId"}`` (``timestamp`` in epoch
        milliseconds, ``source`` default ``"CRM_UI"``, ``sourceId`` optional,
        e.g. ``"userId:7650011"``, ``"workflow:1041"``, ``"import:88102"``).
        Tickets are created as needed (``createdate`` their first
        timestamp); ``hs_lastmodifieddate`` gets a version at every timestamp;
        reads with history give the versions newest first. Values are checked
        like HubSpot checks them (read-only properties may be set); every
        problem is raised at once as a ValueError and nothing is added. Later
        writes over HTTP are newer than anything seeded. Nothing goes to
        :attr:`writes`.

        Parameters
        ----------
        versions : iterable of mappings
            The records, in any order (same-timestamp versions of a property
            keep their order).
        deleted : iterable of int
            Tickets to mark deleted afterwards (reads then leave them out).

        Returns
        -------
        list of int
            The ids touched, in order of first appearance.

        Examples
        --------
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> hub = FakeHubSpot()
        >>> hub.seed_history([
        ...     {"objectId": 9, "name": "hs_pipeline_stage", "value": "1", "timestamp": 1_000},
        ...     {"objectId": 9, "name": "hs_pipeline_stage", "value": "4", "timestamp": 5_000,
        ...      "source": "WORKFLOWS", "sourceId": "workflow:1042"},
        ... ])
        [9]
        >>> stage = hub.ticket(9)["properties"]["hs_pipeline_stage"]
        >>> [(v["value"], v["source"], v.get("sourceId")) for v in stage["versions"]]
        [('4', 'WORKFLOWS', 'workflow:1042'), ('1', 'CRM_UI', None)]
        """
        by_ticket: dict[int, list[tuple[str, Version]]] = {}
        problems: list[str] = []
        for i, record in enumerate(versions):
            try:
                oid, name, version = _seeded_version(record)
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"record {i}: {error}")
                continue
            problem = check_write(name, version[VALUE], allow_read_only=True)
            if problem is not None:
                problems.append(f"record {i}: {name}: {problem.message} ({problem.code})")
            by_ticket.setdefault(oid, []).append((name, version))
        if problems:
            raise ValueError("; ".join(problems))
        gone = {int(oid) for oid in deleted}
        with self._lock:
            unknown = gone - by_ticket.keys() - self._store.tickets.keys()
            if unknown:
                raise ValueError(f"cannot delete tickets that do not exist: {sorted(unknown)}")
            for oid, pairs in by_ticket.items():
                self._store.add_history(oid, pairs, deleted=oid in gone)
            for oid in gone - by_ticket.keys():
                self._store.tickets[oid].deleted = True
        return list(by_ticket)

    def generate_history(
        self,
        tickets: int = 50,
        *,
        seed: int | None = None,
        weeks: int = 12,
        start_id: int | None = None,
    ) -> list[int]:
        """Seed ``tickets`` realistic ticket histories; returns their ids (one is deleted).

        Weeks of a support team's work ending before 2026-11-02 (see
        :mod:`pandas_hubtickets.testing.history`): tickets created by users,
        integrations and imports, assigned by a workflow or their creator,
        moving through the stages of :attr:`pipelines` (back and forth, closed
        by their owner or a workflow), priorities raised, values re-sent
        unchanged by an integration, owners from :attr:`owners`. The same
        ``seed`` (default: the emulator's) and ids give the same histories.

        Examples
        --------
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> hub = FakeHubSpot(seed=3)
        >>> ids = hub.generate_history(20)
        >>> sum(t["isDeleted"] for t in hub.tickets.values()), len(ids)
        (1, 20)
        """
        if tickets < 0:
            raise ValueError(f"tickets must not be negative, not {tickets}")
        with self._lock:
            first = self._store.next_id() if start_id is None else start_id
            ids = list(range(first, first + tickets))
            taken = [i for i in ids if i in self._store.tickets]
        if taken:
            raise ValueError(f"tickets already exist: {taken[:5]}")
        records, deleted = generate(self.seed if seed is None else seed, ids, weeks=weeks)
        self.seed_history(records, deleted=deleted)
        return ids

    @property
    def pipelines(self) -> list[dict[str, Any]]:
        """The ticket pipelines as ``GET /crm-pipelines/v1/pipelines/tickets`` gives them.

        Examples
        --------
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> [(p["pipelineId"], p["label"], len(p["stages"])) for p in FakeHubSpot().pipelines]
        [('0', 'Support Pipeline', 4), ('31284719', 'Billing', 4)]
        """
        with self._lock:
            return list(pipelines_v1(self._store.pipelines)["results"])

    @property
    def owners(self) -> list[dict[str, Any]]:
        """Every owner, archived ones too, as ``GET /crm/v3/owners`` gives them."""
        with self._lock:
            everyone = self._store.owners
            return list(owners_page(everyone, 0, len(everyone))["results"])

    def add_owner(
        self, first_name: str, last_name: str, email: str | None = None, *, archived: bool = False
    ) -> str:
        """Add an owner (a new user, or with ``archived`` someone who left); returns its id.

        Examples
        --------
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> hub = FakeHubSpot()
        >>> owner_id = hub.add_owner("Katherine", "Johnson", archived=True)
        >>> [(o["email"], o["archived"]) for o in hub.owners if o["id"] == owner_id]
        [('katherine.johnson@example.com', True)]
        """
        with self._lock:
            taken = [int(o.owner_id) for o in self._store.owners]
            owner_id = max(taken, default=51_234_566) + 1
            self._store.owners.append(
                Owner(
                    str(owner_id),
                    owner_id - 43_584_556,
                    first_name,
                    last_name,
                    email or f"{first_name}.{last_name}@example.com".lower(),
                    archived,
                )
            )
        return str(owner_id)

    # --- admin validation rules (date-versioned writes) ---

    def add_validation_rule(self, name: str, pattern: str, message: str) -> None:
        """Refuse date-versioned writes of ``name`` whose value does not match ``pattern``.

        An admin-configured validation rule, as HubSpot enforces them on writes
        from API version 2026-09: a batch update with a value that breaks it
        is answered 400 ``VALIDATION_ERROR`` with ``message``. v1 writes are
        not checked.

        Examples
        --------
        >>> from pandas_hubtickets.testing import FakeHubSpot
        >>> hub = FakeHubSpot()
        >>> hub.add_validation_rule("subject", r"[A-Z].*", "Subject must start with a capital")
        """
        rule = ValidationRule(name, pattern, message)
        with self._lock:
            self._store.validation_rules.append(rule)

    def ticket(self, object_id: int) -> dict[str, Any]:
        """A copy of the stored v1 ticket object, every property with its whole history."""
        with self._lock:
            ticket = self._store.tickets.get(object_id)
            if ticket is None:
                raise KeyError(object_id)
            return v1_object(ticket, self.portal_id, True)

    @property
    def tickets(self) -> dict[int, dict[str, Any]]:
        """A copy of every ticket (deleted ones too), as :meth:`ticket` gives them."""
        with self._lock:
            return {
                oid: v1_object(t, self.portal_id, True) for oid, t in self._store.tickets.items()
            }

    @property
    def writes(self) -> list[dict[str, Any]]:
        """Every property write accepted over HTTP, in order.

        Each is ``{"objectId", "name", "value", "timestamp", "source",
        "sourceId", "request"}``, ``request`` being the :attr:`RequestRecord.seq`
        that made it and ``source`` / ``sourceId`` the writer (``API``, the app).
        """
        with self._lock:
            return [dict(zip(WRITE_FIELDS, w, strict=True)) for w in self._store.writes]

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request seen, by sequence number."""
        with self._lock:
            return sorted(self._requests, key=lambda r: r.seq)

    def clear_log(self) -> None:
        """Forget :attr:`writes` and :attr:`requests` (tickets and rate-limit counts stay)."""
        with self._lock:
            self._store.writes.clear()
            self._requests.clear()

    # --- request handling (called from handler threads) ---

    def _track(self, connection: socket.socket, *, opened: bool) -> bool:
        """Register an open connection (False once stopping) or forget a closed one."""
        with self._lock:
            if not opened:
                self._connections.discard(connection)
                return True
            if self._stopping.is_set():
                return False
            self._connections.add(connection)
            return True

    def _too_many(self, policy: str) -> Reply:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(self.retry_after))
        return Reply(429, rate_limit_body(policy, self.portal_id), headers=headers, codes=(policy,))

    def _injected(self, fault: str | None) -> Reply | None:
        if fault == "429":
            return self._too_many("TEN_SECONDLY_ROLLING")
        if fault == "502":
            return Reply(502, BAD_GATEWAY_HTML, "text/html", codes=("502",))
        if fault in ("500", "503"):
            message, category = _SERVER_ERRORS[int(fault)]
            return Reply(int(fault), error_body(message, category=category), codes=(category,))
        return None

    def _admit(
        self, authorization: str | None, query: dict[str, list[str]], handler: Handler
    ) -> tuple[Reply | None, str | None, dict[str, str]]:
        """Under the lock: an early answer (or None to process), the fault, rate-limit headers."""
        refusal = _authenticate(authorization, query, self.token)
        if refusal is not None:
            return refusal, None, {}
        fault = self.faults.draw(self._fault_rng.random()) if self.faults is not None else None
        now = time.monotonic()
        if handler in SECONDLY_LIMITED:  # HubSpot's search: 5 a second, apart from the rest
            policy, headers = self._search_limiter.admit(now), {}
        else:
            policy, headers = self._limiter.admit(now), self._limiter.headers(now)
        if policy is not None:
            return self._too_many(policy), None, headers
        return self._injected(fault), fault, headers

    def _answer(self, method: str, target: str, headers: Message, raw: bytes) -> _Wire | None:
        """The answer to one request, or None to drop the connection."""
        started = time.monotonic()
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        body, body_error = _parse_json(raw)
        with self._lock:
            self._seq += 1
            seq = self._seq
        fault: str | None = None
        limit_headers: dict[str, str] = {}
        handler: Handler | None
        reply: Reply | None
        try:
            if len(target) > MAX_TARGET_LENGTH:
                raise ApiError(
                    414,
                    f"The request target is {len(target)} characters long; "
                    f"at most {MAX_TARGET_LENGTH} are accepted",
                    ("URI_TOO_LONG",),
                )
            handler, params = resolve(method, url.path)
        except ApiError as error:
            handler, params, reply = None, (), error.reply()
        else:
            with self._lock:
                reply, fault, limit_headers = self._admit(
                    headers.get("Authorization"), query, handler
                )
        stall = self.faults.stall_seconds if fault == "stall" and self.faults else 0.0
        delay = self.latency + stall
        stopped = delay > 0 and self._stopping.wait(delay)
        if stopped or fault == "drop":
            reply = None
        elif reply is None and handler is not None:
            call = Call(method, url.path, params, query, body, body_error, seq)
            with self._lock:
                reply = dispatch(handler, self._store, call)
        record = RequestRecord(
            seq=seq,
            method=method,
            path=url.path,
            query=url.query,
            status=None if reply is None else reply.status,
            objects=_count_objects(body),
            fault=fault,
            started=started,
            elapsed=time.monotonic() - started,
            codes=() if reply is None else reply.codes,
        )
        wire = None if reply is None else _encode(reply, limit_headers)
        recordings = [r for r in _RECORDINGS if r.select(method, url.path)]
        if self.record_bodies or recordings:
            full = dataclasses.replace(record, body=body, answer=_sent_body(wire))
            for recording in recordings:
                recording.records.append(full)
            record = full if self.record_bodies else record
        with self._lock:
            self._requests.append(record)
        return wire
