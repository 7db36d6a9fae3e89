"""Workers sized for the rate tier: the 250 tier's limit reached, never exceeded (counted)."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd
import pytest

import pandas_hubtickets as ht
from pandas_hubtickets import RateLimiter
from pandas_hubtickets._transport import default_workers
from pandas_hubtickets.testing import FakeHubSpot

FIRST = 5_000_000


@pytest.mark.parametrize(("tier", "workers"), [(1, 4), (100, 6), (190, 12), (250, 15), (10**6, 32)])
def test_default_workers_follow_the_tier(tier, workers):
    assert default_workers(tier) == workers
    with ht.TicketsClient("pat-na1-example", requests_per_10s=tier) as client:
        assert client.max_workers == workers
    with ht.TicketsClient("pat-na1-example", limiter=RateLimiter(tier)) as client:
        assert client.max_workers == workers
    with ht.TicketsClient("pat-na1-example", requests_per_10s=tier, max_workers=3) as client:
        assert client.max_workers == 3


def most_in_any_window(starts: list[float], window: float) -> int:
    """The largest number of request starts within any rolling ``window``."""
    starts = sorted(starts)
    return max(bisect.bisect_left(starts, t + window) - i for i, t in enumerate(starts))


def most_in_flight(records: list) -> int:
    """The largest number of requests the emulator was answering at once."""
    events = sorted(
        [(r.started, 1) for r in records] + [(r.started + r.elapsed, -1) for r in records]
    )
    return int(np.max(np.cumsum([e for _, e in events])))


def test_a_push_with_default_workers_never_exceeds_the_250_tier():
    """The tier's window shortened to 1 s on both sides, so that the test watches it pass."""
    window, tier, rows = 1.0, 250, 700
    df = pd.DataFrame({"objectId": np.arange(FIRST, FIRST + rows), "subject": "x"})
    with FakeHubSpot(requests_per_10s=tier, latency=0.05, _window_seconds=window) as hub:
        hub.seed_tickets(rows, start_id=FIRST)
        # the slack the 10 s window has (0.2 s), which absorbs the jitter of arrival
        limiter = RateLimiter(tier, window=window, slack=0.2)
        with ht.TicketsClient(hub.token, base_url=hub.base_url, limiter=limiter) as client:
            assert client.max_workers == 15
            result = df.hubtickets.update(client, batch_size=1, progress=False, tickets=False)
        records = hub.requests
    assert (result.report["status"] == "updated").all()
    assert [r for r in records if r.status == 429] == []
    assert most_in_any_window([r.started for r in records], window) <= tier
    # more than the old default of 4 were at work, else the limit was not what held them
    assert most_in_flight(records) > 4


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter_with(starts: int, max_requests: int = 250) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    limiter = RateLimiter(max_requests, 10.0, margin=14, slack=0.0, clock=clock, sleep=clock.sleep)
    for _ in range(starts):
        limiter.acquire()
    clock.now = 1.0
    return limiter, clock


def low(remaining: int, maximum: int | None = 250) -> dict[str, str]:
    headers = {"X-HubSpot-RateLimit-Remaining": str(remaining)}
    if maximum is not None:
        headers["X-HubSpot-RateLimit-Max"] = str(maximum)
    return headers


def test_a_window_spent_by_us_alone_is_used_to_the_last_slot():
    """Within the margin, but every request HubSpot counted is ours: acquire paces them."""
    limiter, _ = limiter_with(236)
    limiter.observe(low(14))
    assert [limiter.acquire() for _ in range(14)] == [0.0] * 14
    assert limiter.acquire() == 9.0  # the 251st waits for the first to leave the window


@pytest.mark.parametrize(
    ("starts", "headers"),
    [
        (100, low(14)),  # 136 requests of someone else's in HubSpot's window
        (236, low(14, maximum=None)),  # HubSpot does not say: assume the worst
        (236, low(14, maximum=240)),  # HubSpot's limit is below ours
    ],
)
def test_a_window_others_share_holds_within_the_margin(starts, headers):
    limiter, _ = limiter_with(starts)
    limiter.observe(headers)
    assert limiter.acquire() == 9.0
