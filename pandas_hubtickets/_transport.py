"""The transport under :class:`~pandas_hubtickets.TicketsClient`: auth, rate limits, retries.

This module knows HTTP and HubSpot's transport rules, and no endpoint. It
holds the access token (:class:`Secret`, sent only by an auth hook in the
``Authorization`` header), the checks of the connection arguments, the
retry plumbing, the parsing of error bodies, and :class:`Transport`, which
owns the session and the rate limiter and sends every request.

How a request travels (see :meth:`Transport.send`):

1. The shared :class:`~pandas_hubtickets.RateLimiter` hands out a slot
   (at most ``requests_per_10s`` starts in any rolling 10 s, across threads).
2. ``requests`` sends it through an ``HTTPAdapter`` whose urllib3 ``Retry``
   retries read timeouts, dropped connections and 500/502/503/504 -- POST
   included (``allowed_methods=None``: sending the same batch update twice
   writes the same values) -- with exponential backoff and jitter, honouring
   ``Retry-After`` (cut to 60 s). Every retry takes a limiter slot too.
3. A connection that cannot be opened (refused, no such host, connect
   timeout) is tried once more, at once, and then the call fails with
   :class:`~pandas_hubtickets.errors.UnreachableError`: nothing was sent.
   Failures after a request went out stay
   :class:`~pandas_hubtickets.errors.TransportError` ("may or may not have
   been applied").
4. A 429 comes back to a small loop in :meth:`Transport.send`, because
   only the *body* says what kind of 429 it is, and urllib3 decides before the
   body is read: ``DAILY`` stops at once with :class:`RateLimitError`;
   ``TEN_SECONDLY_ROLLING``/``SECONDLY`` pause every worker thread (backoff,
   ``Retry-After`` when present, and until the limiter's window has room when
   HubSpot reports no requests left) and try again.
5. Both layers draw on one budget: a call makes at most ``max_retries + 1``
   attempts, and reports how many it made (``Reply.attempts``,
   ``exc.attempts``).
6. Every attempt has a total deadline (``deadline``, counted from its start):
   the body is read under a watchdog that shuts the socket down when the
   deadline passes, so a server trickling its answer cannot hold a call
   beyond it. An attempt over its deadline is retried like a body cut off
   half-way.
7. A write (any method but GET, HEAD, OPTIONS) whose attempt was sent and
   then timed out, was reset or cut off, outlasted its deadline, or got a
   2xx whose body cannot be read, *may have been applied*: the errors the
   call finally raises say so (``exc.maybe_applied``), whatever the last
   attempt got. A connection that could not be opened sent nothing.

Works with every urllib3 2.x: ``Retry-After`` is capped by overriding
:meth:`_HubSpotRetry.parse_retry_after`, not with ``retry_after_max=`` (which
urllib3 has only from 2.6.3).
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import json
import logging
import math
import os
import random
import re
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from ._json import loads
from ._limiter import RateLimiter
from ._version import __version__
from .errors import (
    ConfigurationError,
    HubSpotError,
    RateLimitError,
    TransportError,
    UnreachableError,
)

if TYPE_CHECKING:
    from typing_extensions import Self
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

__all__ = [
    "DEFAULT_BASE_URL",
    "TOKEN_ENV_VAR",
    "USER_AGENT",
    "Reply",
    "Secret",
    "Transport",
]

log = logging.getLogger("pandas_hubtickets._client")

DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
TOKEN_ENV_VAR: Final = "HUBSPOT_ACCESS_TOKEN"
RETRY_STATUSES: Final = frozenset({500, 502, 503, 504})
RETRY_AFTER_MAX: Final = 60  # seconds; a longer Retry-After is cut to this
BACKOFF_MAX: Final = 30.0  # seconds between two attempts, at most
DEADLINE_MIN: Final = 60.0  # seconds an attempt may take, at least, unless set explicitly
_READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})  # methods that change nothing
CONNECT_RETRIES: Final = 1  # a connection that cannot be opened is tried twice in all
USER_AGENT: Final = f"pandas-hubtickets/{__version__} python-requests/{requests.__version__}"
_REDACTED: Final = "<redacted>"
#: Seconds of answer time the default number of workers keeps a rate tier busy through.
LATENCY_BUDGET: Final = 0.6
MAX_DEFAULT_WORKERS: Final = 32
#: Call shapes (method and URL) whose prepared request a transport keeps (see Transport._prepare).
_PREPARED_MAX: Final = 64


def default_workers(requests_per_10s: int) -> int:
    """Workers enough to reach a tier's limit while HubSpot answers within LATENCY_BUDGET.

    ``w`` workers whose requests take ``L`` seconds start at most ``w / L``
    requests a second: a tier of ``R`` requests per 10 s needs ``R / 10 * L``
    of them to be limited by the tier and not by the latency. More are
    harmless -- the rate limiter holds every start -- so the default sizes
    for a slow answer (0.6 s), with at least 4 and at most 32 workers.

    Examples
    --------
    >>> [default_workers(tier) for tier in (100, 190, 250)]
    [6, 12, 15]
    """
    return min(MAX_DEFAULT_WORKERS, max(4, math.ceil(requests_per_10s / 10 * LATENCY_BUDGET)))


# --------------------------------------------------------------------- secret
class Secret:
    """A string that never shows itself: ``repr`` and ``str`` are redacted.

    Parameters
    ----------
    value : str
        The secret (an access token).

    Examples
    --------
    >>> token = Secret("pat-na1-0000")
    >>> token
    Secret(<redacted>)
    >>> str(token)
    '<redacted>'
    >>> token.reveal()
    'pat-na1-0000'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself. Call it only to build the request header."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED})"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, spec: str) -> str:
        return _REDACTED

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def scrub(self, text: str) -> str:
        """Return ``text`` with every occurrence of the secret redacted.

        Examples
        --------
        >>> Secret("abc123").scrub("token abc123 leaked")
        'token <redacted> leaked'
        """
        return text.replace(self._value, _REDACTED) if self._value else text

    def scrub_bytes(self, data: bytes) -> bytes:
        """Return ``data`` with every occurrence of the secret (UTF-8) redacted.

        Examples
        --------
        >>> Secret("abc123").scrub_bytes(b"<p>abc123</p>")
        b'<p><redacted></p>'
        """
        return data.replace(self._value.encode(), _REDACTED.encode()) if self._value else data

    def scrub_json(self, tree: Any) -> Any:
        """Redact the secret in every string and key of parsed JSON, in place; return ``tree``.

        Scrubbing the raw body is not enough: JSON can spell the secret with
        ``\\u`` escapes. The walk is iterative, so no nesting is too deep.

        Examples
        --------
        >>> Secret("abc123").scrub_json({"abc123": ["x abc123", 1, {"k": "abc123"}]})
        {'<redacted>': ['x <redacted>', 1, {'k': '<redacted>'}]}
        """
        if isinstance(tree, str):
            return self.scrub(tree)
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if any(isinstance(k, str) and self._value in k for k in node):
                    items = list(node.items())
                    node.clear()
                    node.update((self.scrub(k) if isinstance(k, str) else k, v) for k, v in items)
                pairs: Any = node.items()
            elif isinstance(node, list):
                pairs = enumerate(node)
            else:
                continue
            for key, value in pairs:
                if isinstance(value, str):
                    node[key] = self.scrub(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        return tree


class _BearerAuth(AuthBase):
    """Puts ``Authorization: Bearer <token>`` on each request, and nothing else."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return r

    def __repr__(self) -> str:
        return f"_BearerAuth({_REDACTED})"


# ---------------------------------------------------------------------- reply
@dataclass(frozen=True)
class Reply:
    """One successful (2xx) answer from HubSpot.

    Attributes
    ----------
    status : int
        The HTTP status (do not rely on 200 vs 201 vs 204; read ``data``).
    data : Any
        The parsed JSON body, or ``None`` for an empty body.
    attempts : int
        Requests it took: 1, plus one per retry (either retry layer).
    headers : Mapping[str, str]
        The response headers (case-insensitive).

    Examples
    --------
    >>> Reply(200, [{"objectId": 1}], attempts=2)
    Reply(status=200, data=[{'objectId': 1}], attempts=2)
    """

    status: int
    data: Any
    attempts: int = 1
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


# ------------------------------------------------------------- retry plumbing
class DeadlineExceeded(requests.exceptions.Timeout):
    """An attempt whose answer was not complete within the transport's ``deadline``."""


@dataclass
class _CallState:
    """Per-call bookkeeping shared by the hand-written loop and urllib3's Retry."""

    method: str
    path: str
    max_attempts: int
    attempts: int = 0
    #: True once an attempt may have reached the server (anything but a
    #: connection that could not be opened).
    sent: bool = False
    #: True once an attempt of a write was sent and then went unanswered
    #: (timeout, reset, cut-off body, deadline) or answered 2xx unreadably:
    #: it may have been applied, whatever later attempts get.
    maybe_applied: bool = False
    #: When the current attempt started (``time.monotonic()``), for its deadline.
    attempt_started: float = field(default_factory=time.monotonic)
    #: The limiter this call's attempts take their slots from (None: the transport's).
    gate: RateLimiter | None = None

    @property
    def writes(self) -> bool:
        """Whether the call may change something on the server."""
        return self.method not in _READS

    def unanswered(self) -> None:
        """Note an attempt that was sent and then went unanswered (or unreadable)."""
        self.maybe_applied = self.maybe_applied or self.writes


class _Hooks:
    """What the urllib3 layer needs from the client: the limiter, the token, the current call.

    The token is here only to scrub it from the errors a retry logs: their text
    can hold the server's bytes (a bad status line, a chunk length).
    """

    def __init__(self, limiter: RateLimiter, token: Secret) -> None:
        self.limiter = limiter
        self.token = token
        self._local = threading.local()

    @property
    def state(self) -> _CallState | None:
        state: _CallState | None = getattr(self._local, "state", None)
        return state

    @state.setter
    def state(self, value: _CallState | None) -> None:
        self._local.state = value


def _never_connected(error: BaseException | None) -> bool:
    """True for a connection that could not be opened: refused, no such host, connect timeout.

    urllib3's ``NewConnectionError`` and ``NameResolutionError`` are
    ``ConnectTimeoutError`` subclasses; nothing of the request was sent.
    """
    if isinstance(error, ProxyError):
        error = error.original_error
    return isinstance(error, ConnectTimeoutError)


def _scrub_error(token: Secret, error: BaseException) -> None:
    """Redact ``token`` in place in ``error``'s text, and in every exception it holds or follows.

    urllib3 and http.client put the server's own bytes into their errors (a
    bad status line, an invalid chunk length): a server can echo the token
    there. Arguments and attributes are scrubbed along the ``__cause__`` and
    ``__context__`` chain and into exceptions held as arguments or attributes.
    """
    seen: set[int] = set()
    stack = [error]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.args = tuple(token.scrub(a) if isinstance(a, str) else a for a in exc.args)
        held = list(exc.args)
        for name, value in list(getattr(exc, "__dict__", {}).items()):
            if isinstance(value, str):
                setattr(exc, name, token.scrub(value))
            elif isinstance(value, bytes):
                setattr(exc, name, token.scrub_bytes(value))
            held.append(value)
        held += [exc.__cause__, exc.__context__]
        stack += [x for x in held if isinstance(x, BaseException)]


def _unanswered(error: BaseException | None) -> bool:
    """True for an attempt that was sent (fully or in part) and then got no whole answer."""
    return isinstance(error, (ReadTimeoutError, ProtocolError)) and not _never_connected(error)


def _describe(error: Exception | None, response: BaseHTTPResponse | None) -> str:
    if response is not None:
        return f"HTTP {response.status}"
    if error is None:
        return "unknown error"
    inner = error.args[1] if isinstance(error, ProtocolError) and len(error.args) > 1 else error
    return f"{type(inner).__name__}: {inner}" if str(inner) else type(inner).__name__


class _HubSpotRetry(Retry):
    """urllib3's ``Retry`` plus the client's shared attempt budget and rate limiter.

    - Every retry first takes a slot from the shared limiter (in :meth:`sleep`,
      which urllib3 calls just before it sends again).
    - A call's attempts, counted across this layer and the 429 loop, stay
      within ``max_retries + 1``.
    - 429 is never retried here, even with a ``Retry-After`` header: only the
      body tells a ``DAILY`` limit (stop) from a rolling one (wait, retry).
    - It notes in the call's state whether an attempt may have reached the
      server, so that a call that never connected can say nothing was sent.
    - ``Retry-After`` is cut to ``RETRY_AFTER_MAX`` seconds here, on every
      urllib3 2.x (``retry_after_max=`` exists only from urllib3 2.6.3).

    Examples
    --------
    >>> _HubSpotRetry(total=1).parse_retry_after("3600")
    60.0
    """

    RETRY_AFTER_STATUS_CODES = frozenset({503})

    def __init__(self, *args: Any, hooks: _Hooks | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hooks = hooks

    def new(self, **kw: Any) -> Self:
        kw.setdefault("hooks", self.hooks)
        return super().new(**kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        state = self.hooks.state if self.hooks is not None else None
        if state is not None and self.hooks is not None:
            if error is not None:  # before urllib3 or this class logs it
                _scrub_error(self.hooks.token, error)
            state.sent = state.sent or not _never_connected(error)
            if _unanswered(error):
                state.unanswered()
            if response is not None:
                (state.gate or self.hooks.limiter).observe(response.headers)
            if state.attempts >= state.max_attempts:
                reason = error or ResponseError(
                    ResponseError.SPECIFIC_ERROR.format(
                        status_code=response.status if response is not None else "?"
                    )
                )
                raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if state is not None:
            log.warning(
                "%s %s: %s; retrying (attempt %d of %d)",
                state.method,
                state.path,
                _describe(error, response),
                state.attempts + 1,
                state.max_attempts,
            )
        return new

    def parse_retry_after(self, retry_after: str) -> float:
        return min(float(RETRY_AFTER_MAX), float(super().parse_retry_after(retry_after)))

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        super().sleep(response)
        if self.hooks is not None:
            state = self.hooks.state
            if state is not None:
                state.attempts += 1
            (state.gate if state is not None and state.gate else self.hooks.limiter).acquire()
            if state is not None:
                state.attempt_started = time.monotonic()


# ------------------------------------------------------------------ deadline
class _Alarm:
    """One attempt's deadline: the socket to shut down when it passes, and whether it did."""

    __slots__ = ("fired", "live", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self.live = True  # False once the attempt is over (or the alarm fired)
        self.fired = False


class _Watchdog:
    """One thread that keeps every attempt's deadline, instead of a timer thread per request.

    :meth:`arm` registers a socket and a moment; when the moment passes, the
    socket is shut down (``socket.socket``'s own shutdown: an ``SSLSocket``'s
    would unset its SSL object) and the read of the answer fails at once.
    :meth:`disarm` forgets it. A thread started and ended for each request
    cost about 0.2 ms of CPU a request; this one is started when first needed
    (again in a forked child) and waits on a condition in between.

    Examples
    --------
    >>> a, b = socket.socketpair()
    >>> alarm = _WATCHDOG.arm(time.monotonic() + 60.0, a)
    >>> _WATCHDOG.disarm(alarm)
    >>> alarm.fired
    False
    >>> a.close(); b.close()
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        """Start afresh (also in a forked child: the parent's lock may have been held)."""
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, sock: socket.socket) -> _Alarm:
        """Shut ``sock`` down at ``when`` (``time.monotonic()`` seconds) unless disarmed first."""
        alarm = _Alarm(sock)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._order), alarm))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hubtickets-deadline", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is alarm:
                self._cond.notify()  # the earliest deadline changed
        return alarm

    def disarm(self, alarm: _Alarm) -> None:
        """Forget ``alarm`` (the attempt is over); nothing happens if it already fired."""
        with self._cond:
            alarm.live = False
            alarm.sock = None
            if len(self._heap) > 64 and 2 * sum(a.live for _, _, a in self._heap) < len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2].live]
                heapq.heapify(self._heap)  # most attempts end long before their deadline

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, alarm = self._heap[0]
                left = when - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                alarm.live, alarm.fired = False, True
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(alarm.sock, socket.SHUT_RDWR)  # type: ignore[arg-type]
                alarm.sock = None


_WATCHDOG: Final = _Watchdog()
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_WATCHDOG._reset)


# ------------------------------------------------------------------- helpers
def _is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url.strip():
        raise ConfigurationError("base_url must be a non-empty URL such as https://api.hubapi.com")
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("base_url must not contain credentials (user:password@)")
    if parts.query or parts.fragment:
        raise ConfigurationError("base_url must not contain a query string or a fragment")
    if not host:
        raise ConfigurationError(f"base_url {base_url!r} has no host")
    if parts.scheme == "https":
        pass
    elif parts.scheme == "http" and _is_loopback(host):
        pass  # a local emulator: the token never leaves the machine
    else:
        raise ConfigurationError(
            f"base_url {base_url!r} must use https (plain http is accepted only for "
            "loopback hosts such as 127.0.0.1, ::1 or localhost, e.g. a local emulator): "
            "the access token must never cross a network in clear text"
        )
    return base_url.strip().rstrip("/")


def _check_timeout(timeout: object) -> float | tuple[float, float]:
    def ok(x: object) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < float("inf")

    if ok(timeout):
        return float(timeout)  # type: ignore[arg-type]
    if isinstance(timeout, tuple) and len(timeout) == 2 and all(ok(t) for t in timeout):
        return (float(timeout[0]), float(timeout[1]))
    raise ConfigurationError(
        f"timeout must be a positive number of seconds or a (connect, read) pair, got {timeout!r}"
    )


def _check_deadline(deadline: object, timeout: float | tuple[float, float]) -> float:
    """The total seconds an attempt may take: ``deadline``, else ``max(60, connect + read)``.

    Examples
    --------
    >>> _check_deadline(None, (5.0, 30.0)), _check_deadline(None, (10.0, 120.0))
    (60.0, 130.0)
    """
    if deadline is None:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return max(DEADLINE_MIN, connect + read)
    if (
        isinstance(deadline, bool)
        or not isinstance(deadline, (int, float))
        or not 0 < deadline < float("inf")
    ):
        raise ConfigurationError(
            f"deadline must be a positive number of seconds (or None), got {deadline!r}"
        )
    return float(deadline)


def _resolve_token(token: str | None) -> Secret:
    source = "token argument"
    if token is None:
        token = os.environ.get(TOKEN_ENV_VAR)
        source = f"{TOKEN_ENV_VAR} environment variable"
    if token is None or not str(token).strip():
        raise ConfigurationError(
            "no HubSpot access token: pass TicketsClient(token=...) or set the "
            f"{TOKEN_ENV_VAR} environment variable to a private-app access token "
            "(Settings > Integrations > Private apps) or an OAuth access token"
        )
    if not isinstance(token, str):
        raise ConfigurationError(f"the token must be a str, got {type(token).__name__}")
    token = token.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in token):
        raise ConfigurationError(
            f"the access token from the {source} contains whitespace or control characters"
        )
    return Secret(token)


def _check_verify(verify: bool | str) -> bool | str:
    if verify is True:
        return True
    if verify is False:
        raise ConfigurationError(
            "verify=False is refused: the client sends your access token and must be sure "
            "of the server. Pass verify='/path/to/ca-bundle.pem' for a private CA, or use "
            "http://127.0.0.1:PORT for a local emulator"
        )
    if isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if not os.path.exists(path):
            raise ConfigurationError(f"verify: no CA bundle at {path!r}")
        return path
    raise ConfigurationError(f"verify must be True or a CA bundle path, got {verify!r}")


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _encode_json(obj: Any) -> bytes:
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError as exc:  # NaN / inf: JSON cannot carry them
        raise ValueError(
            f"the request body cannot be encoded as JSON ({exc}); NaN and infinity are not "
            "JSON values -- drop them (NaN means 'leave unchanged') or send '' to clear"
        ) from exc


def _send_settings(session: requests.Session, base_url: str, verify: bool | str) -> dict[str, Any]:
    """What ``Session.request`` would add to every call to ``base_url``, worked out once.

    ``requests`` looks the proxies and the CA bundle up in the environment on
    every call (``os.environ`` walked twice, ``no_proxy`` matched, a ``stat``):
    about a millisecond of CPU a request. They depend only on the host, which
    is the same for every call of a transport, so they are resolved here, by
    requests' own ``merge_environment_settings``, when the client is made:
    ``HTTPS_PROXY``/``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
    and the session's ``proxies``, ``verify`` and ``cert`` all apply as before.
    The body is always streamed (read by ``_read_body``, under the deadline).
    """
    return dict(session.merge_environment_settings(base_url + "/", {}, True, verify, None))


def _parse_json(content: bytes) -> tuple[Any, bool]:
    """``(parsed, ok)``: ``(None, True)`` for an empty body, ``(None, False)`` if not JSON."""
    if not content.strip():
        return None, True
    try:
        return loads(content), True  # the collector paused; orjson when installed
    except ValueError:
        return None, False


#: A JSON escape that could spell a token character (\b \f \n \r \t cannot: a
#: token holds no whitespace or control character); without one, and in UTF-8,
#: the parsed body holds the token only if the raw bytes did.
_HIDING_ESCAPE: Final = re.compile(rb"\\[^bfnrt]")
_UTF8: Final = frozenset({"utf-8", "utf-8-sig"})
_CONNECTION_REPR = re.compile(r"^(<[^>]*>|\w+\([^)]*\)): ")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _text_summary(content: bytes, limit: int = 200) -> str:
    """A short, single-line account of a non-JSON body (an HTML error page, say)."""
    match = _TITLE.search(content)
    raw = match.group(1) if match else content
    text = _TAGS.sub(" ", raw.decode("utf-8", errors="replace"))
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


_STATUS_CODES: Final = {401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 429: "RATE_LIMIT"}


def _error_fields(parsed: Any) -> tuple[str | None, str | None, str | None]:
    """``(code, message, correlation_id)`` read from an error body of any known shape."""
    if not isinstance(parsed, Mapping):
        return None, None, None
    code: str | None = None
    results = parsed.get("validationResults")
    if isinstance(results, list):
        for result in results:
            if isinstance(result, Mapping) and isinstance(result.get("error"), str):
                code = result["error"]
                break
    if code is None:
        errors = parsed.get("errors")  # date-versioned API: errors[].code
        if isinstance(errors, list):
            for err in errors:
                if isinstance(err, Mapping) and isinstance(err.get("code"), str):
                    code = err["code"]
                    break
    if code is None:
        for key in ("errorType", "category", "error", "subCategory"):
            value = parsed.get(key)
            if isinstance(value, str) and value:
                code = value
                break
    message = parsed.get("message")
    cid = parsed.get("correlationId")
    return (
        code,
        message if isinstance(message, str) else None,
        cid if isinstance(cid, str) else None,
    )


class _Adapter(HTTPAdapter):
    """The transport's ``HTTPAdapter``: no proxy at all for a plain-http (loopback) base URL.

    A proxy from ``HTTP_PROXY``/``ALL_PROXY`` or from a given session's
    ``proxies`` would receive the ``Authorization`` header in clear text, and
    from another machine. https keeps every proxy setting: its tunnel is
    encrypted. Deciding here, where the connection is chosen, covers every
    way requests merges proxies (environment, ``session.proxies``, per call).
    """

    def __init__(self, *, direct: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.direct = direct
        self._pool_keys: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        cert: str | tuple[str, str] | None = None,
    ) -> tuple[Any, Any]:
        """requests' own answer (requests 2.32+), worked out once per origin and TLS settings.

        It parses the URL and asks the file system whether a CA bundle path
        is a folder (a ``stat``) on every request, for an answer that
        depends only on the scheme, host and port and on ``verify`` and
        ``cert``, which are the same for every call of a transport.
        """
        key = (*str(request.url).split("/", 3)[:3], verify, cert)
        known = self._pool_keys.get(key)
        if known is None:
            known = super().build_connection_pool_key_attributes(request, verify, cert)
            if len(self._pool_keys) < 16:  # one origin a transport: never many
                self._pool_keys[key] = known
        host_params, pool_kwargs = known
        return dict(host_params), dict(pool_kwargs)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request, stream, timeout, verify, cert, None if self.direct else proxies
        )


# ------------------------------------------------------------------ transport
class Transport:
    """One HubSpot account over HTTP: the token, the session, the rate limiter and retries.

    Thread-safe. It knows no endpoint: :class:`~pandas_hubtickets.TicketsClient`
    builds one from its own (documented) arguments and sends every call through
    :meth:`send`.

    Parameters
    ----------
    token : str or None
        The access token; ``None`` reads the ``HUBSPOT_ACCESS_TOKEN`` variable.
    base_url, requests_per_10s, max_workers, timeout, max_retries, backoff_factor, verify, \
session, limiter, deadline
        As for :class:`~pandas_hubtickets.TicketsClient`, which documents them.

    Raises
    ------
    ConfigurationError
        No token, a non-https base URL, ``verify=False``, a bad argument.

    Examples
    --------
    >>> transport = Transport("pat-na1-example", base_url="https://api.hubapi.com",
    ...     requests_per_10s=100, max_workers=4, timeout=(5.0, 30.0), max_retries=5,
    ...     backoff_factor=0.5, verify=True, session=None, limiter=None, deadline=None)
    >>> transport
    Transport(base_url='https://api.hubapi.com', requests_per_10s=100, token=<redacted>)
    >>> transport.close()
    """

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str,
        requests_per_10s: int,
        max_workers: int | None,
        timeout: float | tuple[float, float],
        max_retries: int,
        backoff_factor: float,
        verify: bool | str,
        session: requests.Session | None,
        limiter: RateLimiter | None,
        deadline: float | None = None,
    ) -> None:
        self._token = _resolve_token(token)
        self.base_url = _check_base_url(base_url)
        self.requests_per_10s = _check_int("requests_per_10s", requests_per_10s, 1)
        self.max_retries = _check_int("max_retries", max_retries, 0)
        if (
            isinstance(backoff_factor, bool)
            or not isinstance(backoff_factor, (int, float))
            or not 0 <= backoff_factor <= BACKOFF_MAX
        ):
            raise ConfigurationError(
                f"backoff_factor must be a number of seconds in [0, {BACKOFF_MAX:g}], "
                f"got {backoff_factor!r}"
            )
        self.backoff_factor = float(backoff_factor)
        self.timeout = _check_timeout(timeout)
        self.deadline = _check_deadline(deadline, self.timeout)
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout,) * 2
        #: What requests gets: no single wait may outlast the deadline either.
        self._attempt_timeout = (connect, min(read, self.deadline))
        self.verify = _check_verify(verify)
        if limiter is not None and not isinstance(limiter, RateLimiter):
            raise ConfigurationError(f"limiter must be a RateLimiter, got {limiter!r}")
        if max_workers is None:  # sized for the tier: see default_workers
            tier = limiter.max_requests if limiter is not None else self.requests_per_10s
            max_workers = default_workers(tier)
        self.max_workers = _check_int("max_workers", max_workers, 1)
        self.limiter = limiter or RateLimiter(
            self.requests_per_10s, 10.0, margin=self.max_workers - 1
        )
        if limiter is not None:
            self.requests_per_10s = limiter.max_requests

        self._auth = _BearerAuth(self._token)
        self._hooks = _Hooks(self.limiter, self._token)
        self._retry = _HubSpotRetry(
            total=self.max_retries,
            connect=CONNECT_RETRIES,  # never connected: nothing sent, fail fast
            read=None,
            redirect=False,
            status=None,
            other=0,  # TLS failures and the like: retrying will not help
            allowed_methods=None,  # POST too: a batch update of the same values is idempotent
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor,
            backoff_jitter=self.backoff_factor,
            backoff_max=BACKOFF_MAX,
            raise_on_status=False,  # give back the last response; send() builds the error
            respect_retry_after_header=True,
            hooks=self._hooks,
        )
        self._adapter = _Adapter(
            direct=urlsplit(self.base_url).scheme == "http",  # loopback: checked above
            max_retries=self._retry,
            pool_connections=1,
            pool_maxsize=max(10, self.max_workers),
        )
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.mount(self.base_url + "/", self._adapter)
        self._send_settings = _send_settings(self._session, self.base_url, self.verify)
        #: Each body-carrying call's request as prepared once, by (method, url): see _prepare.
        self._prepared: dict[tuple[str, str], requests.PreparedRequest] = {}
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"Transport(base_url={self.base_url!r}, requests_per_10s={self.requests_per_10s}, "
            f"token={_REDACTED})"
        )

    def __getstate__(self) -> Any:
        raise TypeError("a Transport cannot be pickled (it holds a token and a session)")

    def close(self) -> None:
        """Release the connections (and the session, if the transport made it); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_session:
            self._session.close()
        else:
            self._adapter.close()

    # -------------------------------------------------------------- low level
    def _url(self, path: str) -> str:
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"path must be relative to base_url and start with '/', got {path!r}")
        if "://" in path or "\\" in path:
            raise ValueError(f"path must be relative to base_url, got {path!r}")
        return self.base_url + path

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        body: Any = None,
        limiter: RateLimiter | None = None,
    ) -> Reply:
        """Send one request, with rate limiting and retries (documented at ``TicketsClient.send``).

        ``limiter``: the limiter whose slots this call's attempts take, and
        which 429s hold, instead of the transport's (HubSpot's search requests
        have a limit of their own and do not count in the 10-second one).

        Examples
        --------
        >>> reply = client.send("GET", "/crm-objects/v1/objects/tickets/176602")
        >>> reply.status, reply.attempts
        (200, 1)
        """
        if self._closed:
            raise ConfigurationError("this TicketsClient is closed; create a new one")
        method = method.upper()
        url = self._url(path)
        log_path = path.split("?", 1)[0]
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        data: bytes | None = None
        if body is not None:
            if isinstance(body, bytes):
                data = body
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = _encode_json(body)
            headers["Content-Type"] = "application/json"

        gate = limiter or self.limiter
        state = _CallState(method=method, path=log_path, max_attempts=self.max_retries + 1)
        state.gate = limiter
        self._hooks.state = state
        rate_limited = 0
        broken_reads = 0
        try:
            while True:
                state.attempts += 1
                gate.acquire()
                started = state.attempt_started = time.monotonic()
                try:
                    resp = self._session.send(
                        self._prepare(method, url, headers, data, params),
                        timeout=self._attempt_timeout,
                        allow_redirects=False,
                        **self._send_settings,
                    )
                    content = self._read_body(resp, state)
                except requests.RequestException as exc:
                    if self._broke_mid_body(exc):
                        state.sent = True
                        state.unanswered()
                    if self._broke_mid_body(exc) and state.attempts < state.max_attempts:
                        # urllib3 retries only until the headers; a body cut off
                        # half-way (or over the deadline) lands here, and is retried by hand.
                        broken_reads += 1
                        delay = self._backoff(broken_reads)
                        log.warning(
                            "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
                            method,
                            log_path,
                            type(exc).__name__,
                            delay,
                            state.attempts + 1,
                            state.max_attempts,
                        )
                        gate.hold(delay)
                        continue
                    raise self._transport_error(exc, state) from self._sanitized(exc)
                elapsed = time.monotonic() - started
                state.sent = True
                status = resp.status_code
                log.debug(
                    "%s %s -> %d (attempt %d, %.3f s)",
                    method,
                    log_path,
                    status,
                    state.attempts,
                    elapsed,
                )
                content, parsed, is_json = self._read(resp, content)
                gate.observe(resp.headers)
                if 200 <= status < 300:
                    if not is_json:
                        state.unanswered()  # HubSpot said yes, in words we cannot read
                        raise HubSpotError(
                            status,
                            "the response body is not JSON: " + _text_summary(content),
                            error="INVALID_RESPONSE",
                            body=content.decode("utf-8", errors="replace"),
                            attempts=state.attempts,
                            maybe_applied=state.maybe_applied,
                        )
                    return Reply(status, parsed, state.attempts, resp.headers)  # _read's copy
                if status == 429:
                    rate_limited += 1
                    delay = self._rate_limit_delay(resp, parsed, content, state, rate_limited)
                    gate.hold(delay)
                    continue
                raise self._hubspot_error(resp, parsed, is_json, content, state)
        finally:
            self._hooks.state = None

    # The helpers of send() -------------------------------------------------
    def _prepare(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
    ) -> requests.PreparedRequest:
        """The request as ``Session.prepare_request`` makes it, prepared once per call shape.

        ``prepare_request`` merges the session's headers, cookies, hooks and
        auth into the request and parses its URL again for every call: 0.1 to
        0.2 ms of CPU, for a result that, for a body sent to a URL without
        query parameters through the transport's own session (whose settings
        nothing else changes), differs between two calls only by its body and
        ``Content-Length``. Such a request is prepared once per method and URL
        and each call sends a copy with its own body. A session given by the
        caller (its settings may change between calls), query parameters, an
        empty body, or cookies the server set (sent back as requests does) take
        ``prepare_request`` every time.
        """
        if not data or params or not self._owns_session or len(self._session.cookies):
            request = requests.Request(
                method, url, headers, data=data or {}, params=params or {}, auth=self._auth
            )
            return self._session.prepare_request(request)
        key = (method, url)
        prepared = self._prepared.get(key)
        if prepared is None:
            request = requests.Request(method, url, headers, data=data, auth=self._auth)
            prepared = self._session.prepare_request(request)
            if len(self._prepared) < _PREPARED_MAX:
                self._prepared[key] = prepared
        copy = prepared.copy()
        copy.body = data
        copy.headers["Content-Length"] = str(len(data))
        return copy

    def _backoff(self, n: int) -> float:
        base = self.backoff_factor * (2 ** (n - 1))
        return float(min(BACKOFF_MAX, base + random.uniform(0, self.backoff_factor)))

    def _read_body(self, resp: requests.Response, state: _CallState) -> bytes:
        """The whole body, or :class:`DeadlineExceeded` when not complete by the deadline.

        http.client waits for every trickled byte in turn (each wait within
        the read timeout), so the deadline is kept by a watchdog that shuts
        the socket down when it passes; the read then fails at once.
        """
        sock: socket.socket | None = getattr(getattr(resp.raw, "connection", None), "sock", None)
        when = state.attempt_started + self.deadline
        alarm = _WATCHDOG.arm(when, sock) if sock is not None else None
        try:
            # in one read where the length is known (.content reads 10 KiB at a time)
            return b"".join(resp.iter_content(chunk_size=None))
        except requests.RequestException as exc:
            if alarm is not None and alarm.fired:
                raise DeadlineExceeded(
                    f"no complete answer within the {self.deadline:g} s deadline"
                ) from self._sanitized(exc)
            raise
        finally:
            if alarm is not None:
                _WATCHDOG.disarm(alarm)
            resp.close()

    @staticmethod
    def _broke_mid_body(exc: requests.RequestException) -> bool:
        """True for a failure while reading the body (after urllib3's retries applied)."""
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError, DeadlineExceeded)):
            return True
        if isinstance(exc, requests.exceptions.SSLError):
            return False
        inner = exc.args[0] if exc.args else None
        return isinstance(exc, requests.ConnectionError) and isinstance(
            inner, (ReadTimeoutError, ProtocolError)
        )

    def _read(self, resp: requests.Response, body: bytes) -> tuple[bytes, Any, bool]:
        """``(content, parsed, is_json)`` of the answer ``body``, the token redacted from all of it.

        The one place where what a server says enters the library: a server or
        a proxy may echo the token in the reason phrase, a header or the body
        (even spelt with JSON escapes), and every message, error attribute,
        report cell, journal line and log record is built from what this
        leaves -- the response's ``reason`` and ``headers`` are replaced too.
        """
        token = self._token
        resp.reason = token.scrub(resp.reason or "")
        resp.headers = CaseInsensitiveDict(
            {token.scrub(k): token.scrub(v) for k, v in resp.headers.items()}
        )
        content = token.scrub_bytes(body)
        parsed, is_json = _parse_json(content)
        # (a backslash is looked for first: 1 us, where the expression takes 100 us to find none)
        escaped = b"\\" in content and _HIDING_ESCAPE.search(content) is not None
        if escaped or json.detect_encoding(content) not in _UTF8:
            token.scrub_json(parsed)  # the token may be spelt with \u escapes, or in UTF-16
        return content, parsed, is_json

    def _sanitized(self, exc: requests.RequestException) -> requests.RequestException:
        """``exc``, fit to be chained: no request (its headers hold the token), no token."""
        exc.request = None
        exc.response = None
        _scrub_error(self._token, exc)
        return exc

    def _transport_error(self, exc: requests.RequestException, state: _CallState) -> TransportError:
        inner: BaseException = exc
        if exc.args and isinstance(exc.args[0], MaxRetryError):
            inner = exc.args[0].reason or exc.args[0]
        elif exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if isinstance(inner, ProtocolError) and len(inner.args) > 1:
            reason = f"{inner.args[0]} ({inner.args[1]!r})"
        else:  # drop urllib3's "<...HTTPConnection object at 0x..>: " prefix
            reason = _CONNECTION_REPR.sub("", str(inner)) or type(inner).__name__
        noun = "attempt" if state.attempts == 1 else "attempts"
        cause = f"{type(inner).__name__}: {reason}"
        if _never_connected(inner) and not state.sent:
            return UnreachableError(
                self._token.scrub(
                    f"cannot connect to {self.base_url} ({cause}; {state.attempts} {noun}); "
                    f"nothing was sent, so nothing was changed. Check base_url and the "
                    f"network, then run again"
                ),
                attempts=state.attempts,
                url=self.base_url,
            )
        landed = "; it was sent and may have been applied" if state.maybe_applied else ""
        message = self._token.scrub(
            f"{state.method} {state.path} failed after {state.attempts} {noun}: {cause}{landed}"
        )
        return TransportError(message, attempts=state.attempts, maybe_applied=state.maybe_applied)

    def _rate_limit_delay(
        self,
        resp: requests.Response,
        parsed: Any,
        content: bytes,
        state: _CallState,
        n: int,
    ) -> float:
        """Seconds to pause after a 429 -- or raise when it must not (or cannot) be retried."""
        policy = parsed.get("policyName") if isinstance(parsed, Mapping) else None
        policy = policy.upper() if isinstance(policy, str) else None
        if policy is None and resp.headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
            policy = "DAILY"
        if policy == "DAILY" or state.attempts >= state.max_attempts:
            raise self._hubspot_error(resp, parsed, True, content, state, policy=policy)
        retry_after = resp.headers.get("Retry-After")
        delay: float | None = None
        if retry_after:
            try:
                delay = self._retry.parse_retry_after(retry_after)  # at most RETRY_AFTER_MAX
            except InvalidHeader:
                delay = None
        if delay is None:
            # No Retry-After (HubSpot sends none): back off exponentially, at
            # most one window. observe() has already held the limiter until
            # its window has room if HubSpot said no requests are left.
            interval = 1.0 if policy == "SECONDLY" else self.limiter.window
            interval_ms = resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
            if policy != "SECONDLY" and interval_ms.isdigit() and int(interval_ms) > 0:
                interval = int(interval_ms) / 1000.0  # the server's window is the truth
            delay = min(interval, self._backoff(n))
        log.warning(
            "%s %s: 429 %s; pausing all requests %.2f s (attempt %d of %d)",
            state.method,
            state.path,
            policy or "rate limit",
            delay,
            state.attempts + 1,
            state.max_attempts,
        )
        return delay

    def _hubspot_error(
        self,
        resp: requests.Response,
        parsed: Any,
        is_json: bool,
        content: bytes,
        state: _CallState,
        policy: str | None = None,
    ) -> HubSpotError:
        status = resp.status_code
        code, message, cid = _error_fields(parsed)
        if code is None:
            code = _STATUS_CODES.get(status)
        if message is None:
            summary = _text_summary(content) if content.strip() else ""
            message = summary or resp.reason or f"HTTP {status}"
        if 300 <= status < 400:
            message = f"unexpected redirect to {resp.headers.get('Location', '?')!r} ({message})"
        cid = cid or resp.headers.get("X-HubSpot-Correlation-Id")
        body: Any = (
            parsed
            if (is_json and parsed is not None)
            else (content.decode("utf-8", errors="replace") if content else None)
        )
        if status == 429:
            return RateLimitError(
                status,
                message,
                policy=policy,
                error=code,
                body=body,
                correlation_id=cid,
                attempts=state.attempts,
                maybe_applied=state.maybe_applied,
            )
        return HubSpotError(
            status,
            message,
            error=code,
            body=body,
            correlation_id=cid,
            attempts=state.attempts,
            maybe_applied=state.maybe_applied,
        )

    # ------------------------------------------------------------ the calls
