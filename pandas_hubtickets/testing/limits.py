"""Rate limits (HubSpot's rolling burst window and daily cap) and injected faults."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields

__all__ = ["FAULT_KINDS", "Faults", "RateLimiter"]

FAULT_KINDS = ("429", "500", "502", "503", "drop", "stall")
"""Every fault :class:`Faults` can inject, in the order a draw is mapped to them."""


@dataclass(frozen=True)
class Faults:
    """Shares of requests that go wrong on purpose, for :class:`FakeHubSpot`.

    Each authenticated request draws once from the emulator's seeded random
    generator; the draw falls into at most one kind of fault. A faulted
    request never changes any ticket, except a stall: it only delays the
    answer, then the request is processed normally (so a client that timed
    out and retries writes twice, as it would against HubSpot).

    Parameters
    ----------
    rate_429 : float
        Answer 429 with HubSpot's ``TEN_SECONDLY_ROLLING`` body.
    rate_500 : float
        Answer 500 with a JSON error body.
    rate_502 : float
        Answer 502 with an HTML body (``text/html``), like a load balancer.
    rate_503 : float
        Answer 503 with a JSON error body.
    drop : float
        Close the connection without writing any response.
    stall : float
        Wait ``stall_seconds`` before answering (a read timeout for a client).
    stall_seconds : float
        How long a stall lasts.

    Raises
    ------
    ValueError
        A negative rate or ``stall_seconds``, or rates that add up to more than 1.

    Examples
    --------
    >>> from pandas_hubtickets.testing import Faults
    >>> Faults(rate_429=0.1, drop=0.05).draw(0.12)
    'drop'
    >>> Faults(rate_429=1.5)
    Traceback (most recent call last):
    ...
    ValueError: rate_429 must be between 0 and 1, not 1.5
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_503: float = 0.0
    drop: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "stall_seconds" and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
        if self.stall_seconds < 0:
            raise ValueError(f"stall_seconds must not be negative, not {self.stall_seconds}")
        if sum(self._rates()) > 1.0 + 1e-9:
            raise ValueError(f"the fault rates add up to {sum(self._rates())}, more than 1")

    def _rates(self) -> tuple[float, ...]:
        return (self.rate_429, self.rate_500, self.rate_502, self.rate_503, self.drop, self.stall)

    def draw(self, u: float) -> str | None:
        """The fault (one of :data:`FAULT_KINDS`) a uniform draw ``0 <= u < 1`` lands on, if any."""
        edge = 0.0
        for kind, rate in zip(FAULT_KINDS, self._rates(), strict=True):
            edge += rate
            if u < edge:
                return kind
        return None


class RateLimiter:
    """HubSpot's limits: at most ``per_window`` requests in any rolling window, ``daily`` a day.

    Refused requests do not count against either limit (HubSpot does not say
    whether they do). The daily count never resets: an emulator run is one
    day.
    """

    def __init__(
        self,
        per_window: int | None,
        daily: int | None,
        window_seconds: float,
        policy: str = "TEN_SECONDLY_ROLLING",
    ) -> None:
        if per_window is not None and per_window < 1:
            raise ValueError(f"requests_per_10s must be at least 1, not {per_window}")
        if daily is not None and daily < 0:
            raise ValueError(f"daily_limit must not be negative, not {daily}")
        if window_seconds <= 0:
            raise ValueError(f"the window must be positive, not {window_seconds}")
        self.per_window = per_window
        self.daily = daily
        self.window_seconds = window_seconds
        self.policy = policy  # the policyName of a refusal for the window
        self._stamps: deque[float] = deque()
        self._used_today = 0

    def _expire(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - self.window_seconds:
            self._stamps.popleft()

    def admit(self, now: float) -> str | None:
        """Count a request made at ``now`` (monotonic seconds), or name the policy refusing it."""
        self._expire(now)
        if self.daily is not None and self._used_today >= self.daily:
            return "DAILY"
        if self.per_window is not None:
            if len(self._stamps) >= self.per_window:
                return self.policy
            self._stamps.append(now)
        self._used_today += 1
        return None

    def headers(self, now: float) -> dict[str, str]:
        """The ``X-HubSpot-RateLimit-*`` headers for a response sent at ``now``.

        Without a burst limit the ``Max``, ``Remaining`` and
        ``Interval-Milliseconds`` headers are left out; without a daily limit,
        ``Daily`` and ``Daily-Remaining`` are (as on HubSpot's OAuth calls).
        """
        self._expire(now)
        out: dict[str, str] = {}
        if self.per_window is not None:
            out["X-HubSpot-RateLimit-Max"] = str(self.per_window)
            out["X-HubSpot-RateLimit-Remaining"] = str(max(self.per_window - len(self._stamps), 0))
            interval = round(self.window_seconds * 1000)
            out["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(interval)
        if self.daily is not None:
            out["X-HubSpot-RateLimit-Daily"] = str(self.daily)
            out["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(self.daily - self._used_today, 0))
        return out
