"""A thread-safe rolling-window rate limiter shared by every worker thread.

HubSpot's burst limit is *rolling*: at most ``N`` requests may start in any
10-second window (100 on Free/Starter, 190 on Professional/Enterprise). The
:class:`RateLimiter` keeps the start times of the requests it let through and
makes :meth:`RateLimiter.acquire` block until a new one fits, so the server
rarely has to say no. It also listens to the server: :meth:`RateLimiter.observe`
reads the ``X-HubSpot-RateLimit-*`` headers of every response and holds new
requests back when the account's quota runs low (other programs may share it),
and :meth:`RateLimiter.hold` lets the client pause every thread after a 429.

The clock and the sleep function can be injected, so tests run instantly and
deterministically.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping

__all__ = ["SEARCH_REQUESTS_PER_SECOND", "RateLimiter", "search_limiter"]

REMAINING_HEADER = "X-HubSpot-RateLimit-Remaining"
INTERVAL_HEADER = "X-HubSpot-RateLimit-Interval-Milliseconds"
SECONDLY_REMAINING_HEADER = "X-HubSpot-RateLimit-Secondly-Remaining"
MAX_HEADER = "X-HubSpot-RateLimit-Max"


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    """Read an integer header, case-insensitively; ``None`` when absent or malformed."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, val in headers.items():
            if key.lower() == lowered:
                value = val
                break
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class RateLimiter:
    """At most ``max_requests`` request starts in any rolling ``window`` seconds.

    Thread-safe: one instance is shared by all the threads of a
    :class:`~pandas_hubtickets.TicketsClient` (or by several clients
    that use the same HubSpot account).

    Parameters
    ----------
    max_requests : int
        Requests allowed to start in any rolling window (HubSpot: 100, 190 or
        250 per 10 s, depending on the subscription).
    window : float, default 10.0
        Length of the rolling window in seconds.
    margin : int, default 0
        :meth:`observe` holds new requests back when HubSpot reports this many
        or fewer requests left in its window. Set it to the number of requests
        that may be in flight at once minus one, so that those in flight cannot
        overdraw the quota.
    slack : float, default 0.02
        Fraction of the window added whenever a new request waits for an old
        one to leave the window (0.2 s of 10 s): HubSpot counts a request a
        little after we start it (connection set-up, latency, jitter).
    clock : callable, default time.monotonic
        Returns the current time in seconds. Inject a fake for tests.
    sleep : callable, default time.sleep
        Sleeps for the given number of seconds. Inject a fake for tests.

    Examples
    --------
    >>> limiter = RateLimiter(100, window=10.0)
    >>> limiter.acquire()  # returns at once: the window is empty
    0.0
    >>> limiter.in_window()
    1

    With a fake clock, a full window makes ``acquire`` wait for the oldest
    start to leave it, plus the slack (2% of the window):

    >>> now = [0.0]
    >>> limiter = RateLimiter(
    ...     2, window=1.0, clock=lambda: now[0],
    ...     sleep=lambda s: now.__setitem__(0, now[0] + s),
    ... )
    >>> limiter.acquire(), limiter.acquire(), limiter.acquire()
    (0.0, 0.0, 1.02)
    """

    def __init__(
        self,
        max_requests: int,
        window: float = 10.0,
        *,
        margin: int = 0,
        slack: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1:
            raise ValueError(f"max_requests must be an int >= 1, got {max_requests!r}")
        if not window > 0:
            raise ValueError(f"window must be > 0 seconds, got {window!r}")
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise ValueError(f"margin must be an int >= 0, got {margin!r}")
        self.max_requests = max_requests
        self.window = float(window)
        if not 0 <= slack < 1:
            raise ValueError(f"slack must be in [0, 1), got {slack!r}")
        self.margin = margin
        self.slack = float(slack)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._hold_until = float("-inf")

    def __repr__(self) -> str:
        return (
            f"RateLimiter(max_requests={self.max_requests}, window={self.window:g}, "
            f"margin={self.margin}, slack={self.slack:g})"
        )

    # ------------------------------------------------------------------ core
    def _purge(self, now: float) -> None:
        # A start counts for the window plus its slack: HubSpot counts a request when it
        # arrives, a little (and a varying time) after we start it, so a start that has just
        # left our window may still be in HubSpot's. Forgetting it at the window's end let a
        # worker that came along then start at once, and one arrival early enough meant a 429.
        horizon = now - self.window * (1.0 + self.slack)
        starts = self._starts
        while starts and starts[0] <= horizon:
            starts.popleft()

    def _wait_time(self, now: float) -> float:
        """Seconds until a slot is free; 0 when one is free now. Lock held."""
        self._purge(now)
        wait = self._hold_until - now
        if len(self._starts) >= self.max_requests:
            # The slot frees when the start that would make us exceed the
            # limit leaves the window -- plus the slack, since HubSpot counts a
            # request when it arrives, a little (and a varying time) after we
            # start it: without it, jitter lets the 101st arrive inside the window.
            oldest = self._starts[len(self._starts) - self.max_requests]
            wait = max(wait, oldest + self.window * (1.0 + self.slack) - now)
        return max(0.0, wait)

    def try_acquire(self) -> bool:
        """Take a slot if one is free now, without blocking.

        Returns
        -------
        bool
            ``True`` when a slot was taken.

        Examples
        --------
        >>> limiter = RateLimiter(1, window=60.0)
        >>> limiter.try_acquire(), limiter.try_acquire()
        (True, False)
        """
        with self._lock:
            now = self._clock()
            if self._wait_time(now) > 0:
                return False
            self._starts.append(now)
            return True

    def acquire(self) -> float:
        """Block until a request may start, and record its start.

        Every attempt (retries included) must call this once, just before it
        sends its request.

        Returns
        -------
        float
            Seconds spent waiting.

        Examples
        --------
        >>> RateLimiter(10, window=1.0).acquire()
        0.0
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_time(now)
                if wait <= 0:
                    self._starts.append(now)
                    return waited
            # Sleep outside the lock so that other threads can observe()/hold().
            self._sleep(wait)
            waited += wait

    # -------------------------------------------------------------- feedback
    def hold(self, seconds: float) -> None:
        """Let no request start (in any thread) for the next ``seconds``.

        Used after a 429: the whole account is out of quota, so every worker
        pauses, not just the one that was refused. Holds never shorten one
        already in force.

        Examples
        --------
        >>> now = [0.0]
        >>> limiter = RateLimiter(
        ...     10, window=1.0, clock=lambda: now[0],
        ...     sleep=lambda s: now.__setitem__(0, now[0] + s),
        ... )
        >>> limiter.hold(2.5)
        >>> limiter.acquire()
        2.5
        """
        if seconds <= 0:
            return
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down when HubSpot says the account's quota is nearly spent.

        Reads ``X-HubSpot-RateLimit-Remaining``: when it is ``margin`` or less,
        and requests other than ours count in HubSpot's window (its
        ``X-HubSpot-RateLimit-Max`` minus the remaining is more than our
        starts in the window, or it does not say its maximum), no new request
        starts until the oldest of our requests still in HubSpot's window
        (``X-HubSpot-RateLimit-Interval-Milliseconds``, else ``window``) has
        left it -- plus ``slack``. With no request of ours in that window
        (someone else spent the quota) it waits one whole window.
        (``window`` itself is enforced by :meth:`acquire` regardless.)
        ``X-HubSpot-RateLimit-Secondly-Remaining`` of 0 holds requests back
        for one second. Headers that are absent or malformed are ignored.

        Parameters
        ----------
        headers : Mapping[str, str]
            The response headers (any case).

        Examples
        --------
        >>> now = [0.0]
        >>> limiter = RateLimiter(
        ...     100, window=10.0, slack=0.0, clock=lambda: now[0],
        ...     sleep=lambda s: now.__setitem__(0, now[0] + s),
        ... )
        >>> limiter.acquire()
        0.0
        >>> now[0] = 4.0
        >>> limiter.observe({"X-HubSpot-RateLimit-Remaining": "0"})
        >>> limiter.acquire()  # waits for the start at t=0 to leave the window
        6.0
        """
        remaining = _header_int(headers, REMAINING_HEADER)
        secondly = _header_int(headers, SECONDLY_REMAINING_HEADER)
        if (remaining is None or remaining > self.margin) and (secondly is None or secondly > 0):
            return
        interval_ms = _header_int(headers, INTERVAL_HEADER)
        maximum = _header_int(headers, MAX_HEADER)
        with self._lock:
            now = self._clock()
            self._purge(now)
            until = self._hold_until
            if (
                remaining is not None
                and remaining <= self.margin
                and not self._all_ours(maximum, remaining)
            ):
                # HubSpot's own window length, if it says, else ours. Only our
                # starts still inside *its* window free a slot when they leave.
                interval = interval_ms / 1000.0 if interval_ms and interval_ms > 0 else self.window
                length = interval * (1.0 + self.slack)
                horizon = now - interval
                oldest = next((t for t in self._starts if t > horizon), now)
                until = max(until, oldest + length)
            if secondly is not None and secondly <= 0:
                until = max(until, now + 1.0)
            self._hold_until = until

    def _all_ours(self, maximum: int | None, remaining: int) -> bool:
        """Whether HubSpot's count is all our own starts, which :meth:`acquire` paces already.

        Holding then would only leave ``margin`` slots of every window unused
        (with 15 workers at the 250 tier: 6% of it). It needs HubSpot's
        ``X-HubSpot-RateLimit-Max``, at least our own limit. Lock held.
        """
        if maximum is None or maximum < self.max_requests:
            return False
        # HubSpot counted when it answered, a little before now, the requests that had *arrived*
        # in its window: our starts of the window and its slack (all kept) may be in its count.
        return maximum - remaining <= len(self._starts)

    # ------------------------------------------------------------ inspection
    def in_window(self) -> int:
        """Number of request starts in the current window and its slack (the starts counted).

        Examples
        --------
        >>> RateLimiter(5).in_window()
        0
        """
        with self._lock:
            self._purge(self._clock())
            return len(self._starts)

    def time_until_free(self) -> float:
        """Seconds until :meth:`acquire` would return without waiting (0 if now).

        Examples
        --------
        >>> RateLimiter(5).time_until_free()
        0.0
        """
        with self._lock:
            return self._wait_time(self._clock())


# ------------------------------------------------------------- search limit
SEARCH_REQUESTS_PER_SECOND = 5
"""HubSpot's limit on CRM search requests: 5 a second per account, apart from the 10 s limit."""
_search_limiters: weakref.WeakKeyDictionary[RateLimiter, RateLimiter] = weakref.WeakKeyDictionary()
_search_lock = threading.Lock()


def search_limiter(limiter: RateLimiter) -> RateLimiter:
    """The search requests' own limiter (5 starts a rolling second) that goes with ``limiter``.

    HubSpot counts search requests apart: 5 a second per account, and not in
    the account's 10-second limit. Clients that share one ``limiter`` (one
    account) get one search limiter too. Its slack is 10% of its one-second
    window (HubSpot counts a request when it arrives, a little after it starts).

    Examples
    --------
    >>> main = RateLimiter(100)
    >>> search = search_limiter(main)
    >>> search is search_limiter(main), search.max_requests, search.window
    (True, 5, 1.0)
    """
    with _search_lock:
        paired = _search_limiters.get(limiter)
        if paired is None:
            paired = _search_limiters[limiter] = RateLimiter(
                SEARCH_REQUESTS_PER_SECOND,
                1.0,
                slack=0.1,
                clock=limiter._clock,
                sleep=limiter._sleep,
            )
        return paired
