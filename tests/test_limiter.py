"""The rolling-window limiter, on a fake clock (instant, deterministic) and on real threads."""

from __future__ import annotations

import threading
import time

import pytest

from pandas_hubtickets._limiter import RateLimiter


class FakeClock:
    """A clock whose sleep advances time instantly, recording every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter must never sleep for nothing"
        self.sleeps.append(seconds)
        self.now += seconds


def make(
    max_requests: int = 3, window: float = 10.0, margin: int = 0, slack: float = 0.0
) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(
        max_requests, window, margin=margin, slack=slack, clock=clock, sleep=clock.sleep
    ), clock


def test_free_slots_do_not_wait() -> None:
    limiter, clock = make(3)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert clock.sleeps == []
    assert limiter.in_window() == 3


def test_full_window_waits_for_oldest_start_to_leave() -> None:
    limiter, clock = make(3, window=10.0)
    limiter.acquire()  # t=0
    clock.now = 2.0
    limiter.acquire()  # t=2
    clock.now = 3.0
    limiter.acquire()  # t=3
    clock.now = 4.0
    assert limiter.time_until_free() == pytest.approx(6.0)
    assert limiter.acquire() == pytest.approx(6.0)  # until t=10, when t=0 leaves
    assert clock.now == pytest.approx(10.0)
    assert limiter.acquire() == pytest.approx(2.0)  # until t=12, when t=2 leaves


def test_window_is_rolling_never_more_than_max_in_any_window() -> None:
    limiter, clock = make(5, window=1.0)
    starts = []
    for _ in range(40):
        limiter.acquire()
        starts.append(clock.now)
        clock.now += 0.03  # callers arrive faster than the limit
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s < t + 1.0]
        assert len(in_window) <= 5
    # ... and it does not throttle more than needed: 40 starts need 7 full windows.
    assert starts[-1] - starts[0] < 8.0


def test_try_acquire_does_not_block() -> None:
    limiter, clock = make(1, window=5.0)
    assert limiter.try_acquire() is True
    assert limiter.try_acquire() is False
    clock.now = 5.0
    assert limiter.try_acquire() is True
    assert clock.sleeps == []


def test_hold_pauses_everyone_and_never_shortens() -> None:
    limiter, _clock = make(100)
    limiter.hold(3.0)
    limiter.hold(1.0)  # shorter: ignored
    limiter.hold(0.0)
    limiter.hold(-5.0)
    assert limiter.acquire() == pytest.approx(3.0)
    assert limiter.acquire() == 0.0


def test_observe_low_remaining_waits_for_oldest_of_our_window() -> None:
    limiter, clock = make(100, window=10.0, margin=2)
    limiter.acquire()  # t=0
    clock.now = 1.0
    limiter.acquire()  # t=1
    clock.now = 4.0
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "3"})  # above the margin: nothing
    assert limiter.time_until_free() == 0.0
    limiter.observe({"x-hubspot-ratelimit-remaining": "2"})  # any case
    assert limiter.acquire() == pytest.approx(6.0)  # until t=10: the t=0 start leaves
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "0"})
    assert limiter.acquire() == pytest.approx(1.0)  # until t=11: the t=1 start leaves


def test_observe_low_remaining_with_empty_window_waits_one_interval() -> None:
    # Someone else spent the quota: no start of ours to wait for.
    limiter, _clock = make(100, window=10.0)
    limiter.observe(
        {
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "2500",
        }
    )
    assert limiter.acquire() == pytest.approx(2.5)
    limiter2, _ = make(100, window=4.0)
    limiter2.observe({"X-HubSpot-RateLimit-Remaining": "0"})
    assert limiter2.acquire() == pytest.approx(4.0)


def test_observe_secondly_limit() -> None:
    limiter, _clock = make(100)
    limiter.observe({"X-HubSpot-RateLimit-Secondly-Remaining": "0"})
    assert limiter.acquire() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-HubSpot-RateLimit-Remaining": "lots"},
        {"X-HubSpot-RateLimit-Remaining": ""},
        {"X-HubSpot-RateLimit-Remaining": "50"},
        {"Content-Type": "application/json"},
    ],
)
def test_observe_ignores_absent_malformed_or_high(headers: dict[str, str]) -> None:
    limiter, _clock = make(100)
    limiter.acquire()
    limiter.observe(headers)
    assert limiter.acquire() == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_requests": 0}, "max_requests"),
        ({"max_requests": True}, "max_requests"),
        ({"max_requests": 2.5}, "max_requests"),
        ({"max_requests": 5, "window": 0}, "window"),
        ({"max_requests": 5, "margin": -1}, "margin"),
        ({"max_requests": 5, "slack": -0.1}, "slack"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RateLimiter(**kwargs)  # type: ignore[arg-type]


def test_repr() -> None:
    assert repr(RateLimiter(190, 10.0, margin=3)) == (
        "RateLimiter(max_requests=190, window=10, margin=3, slack=0.02)"
    )


def test_threads_share_one_window() -> None:
    """Real clock, 8 threads: at most 4 starts in any rolling 0.25 s."""
    limiter = RateLimiter(4, window=0.25)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    t0 = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - t0
    starts.sort()
    assert len(starts) == 24
    for i, start in enumerate(starts):
        assert len([s for s in starts[i:] if s < start + 0.25 - 1e-3]) <= 4
    # 24 starts at 4 per 0.25 s: at least five full waits
    assert elapsed >= 1.2


def test_observe_uses_servers_longer_interval() -> None:
    # Our window (1 s) is shorter than HubSpot's (10 s): trust HubSpot's.
    limiter, clock = make(100, window=1.0)
    limiter.acquire()  # t=0
    clock.now = 0.5
    limiter.observe(
        {
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
    )
    assert limiter.acquire() == pytest.approx(9.5)


def test_observe_waits_for_our_oldest_start_inside_hubspots_window() -> None:
    # Our window (1 s) is longer than HubSpot's (0.4 s): starts older than 0.4 s
    # are no longer counted by HubSpot, so waiting for them would free nothing.
    limiter, clock = make(100, window=1.0)
    for t in (0.0, 0.01, 0.5):
        clock.now = t
        limiter.acquire()
    clock.now = 0.6
    limiter.observe(
        {"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "400"}
    )
    # The oldest start inside (0.2, 0.6] is t=0.5: HubSpot frees its slot at 0.9.
    assert limiter.acquire() == pytest.approx(0.3)


def test_slack_lengthens_holds() -> None:
    limiter, _ = make(100, window=10.0, slack=0.05)
    limiter.acquire()
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "0"})
    assert limiter.acquire() == pytest.approx(10.5)


def test_observe_counts_our_starts_that_just_left_the_window_as_ours() -> None:
    # HubSpot counted 3 of 3 a moment ago; by now our first start has left our
    # window (within the slack). Nobody else is using the account: no hold, only
    # the slack itself (the first start counts until 10.2).
    limiter, clock = make(3, window=10.0, margin=2, slack=0.02)
    for t in (0.0, 5.0, 6.0):
        clock.now = t
        limiter.acquire()
    clock.now = 10.1
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "3"})
    assert limiter.time_until_free() == pytest.approx(0.1)  # not 5.1: no hold of a window
    clock.now = 10.3  # past the slack: HubSpot no longer counts it either; 3 of 3 now is someone's
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "3"})
    assert limiter.time_until_free() > 0.0


def test_a_start_counts_for_the_window_and_its_slack_whoever_comes_along() -> None:
    """A worker arriving just after the oldest start left the window still waits for the
    slack: else its request can reach HubSpot inside the window the oldest one arrived in."""
    limiter, clock = make(3, window=10.0, slack=0.02)
    for t in (0.0, 5.0, 6.0):
        clock.now = t
        limiter.acquire()
    clock.now = 10.05  # the start at 0.0 has left the 10 s window, not its slack
    assert limiter.in_window() == 3
    assert limiter.time_until_free() == pytest.approx(0.15)
    clock.now = 10.2
    assert limiter.in_window() == 2 and limiter.time_until_free() == 0.0
