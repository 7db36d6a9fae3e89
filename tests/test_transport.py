"""The transport under TicketsClient: construction, secrets, retries, failing fast.

Over real sockets, against FakeHubSpot or small servers on 127.0.0.1 (nothing is
patched). Timeouts and backoff are tiny so that every failure mode runs in a
fraction of a second.
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import logging
import pickle
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import certifi
import pytest
import requests
from helpers import TOKEN, QuietHandler, canned_server, client_for, free_port, serve, update_body

import pandas_hubtickets
from pandas_hubtickets._client import V1_TICKETS, Secret, TicketsClient
from pandas_hubtickets._limiter import RateLimiter
from pandas_hubtickets._transport import RETRY_AFTER_MAX, USER_AGENT, _HubSpotRetry
from pandas_hubtickets._version import UNKNOWN_VERSION, installed_version
from pandas_hubtickets.errors import (
    ConfigurationError,
    HubSpotError,
    RateLimitError,
    TransportError,
    UnreachableError,
)
from pandas_hubtickets.testing import FakeHubSpot, Faults


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(token=TOKEN, seed=3) as h:
        yield h


# ----------------------------------------------------------------- construction
class TestConstruction:
    def test_missing_token_says_how_to_provide_one(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
        with pytest.raises(ConfigurationError, match="HUBSPOT_ACCESS_TOKEN") as info:
            TicketsClient()
        assert "token=" in str(info.value)

    @pytest.mark.parametrize("bad", ["", "   ", "\n"])
    def test_blank_token_refused(self, bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", bad)
        with pytest.raises(ConfigurationError, match="no HubSpot access token"):
            TicketsClient()

    def test_token_with_inner_whitespace_refused_without_echoing_it(self) -> None:
        with pytest.raises(ConfigurationError) as info:
            TicketsClient("pat-na1 SECRETPART")
        assert "SECRETPART" not in str(info.value)

    def test_token_from_env(self, hub: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        (ticket_id,) = hub.seed_tickets(1)
        with TicketsClient(base_url=hub.base_url) as client:
            assert client.get(ticket_id)["objectId"] == ticket_id
        assert [r.status for r in hub.requests] == [200]

    def test_base_url_from_env(self, hub: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", hub.base_url)
        (ticket_id,) = hub.seed_tickets(1)
        with TicketsClient() as client:
            assert client.base_url == hub.base_url
            assert client.get(ticket_id)["objectId"] == ticket_id
        monkeypatch.setenv("HUBSPOT_BASE_URL", "http://example.com")  # checked like the argument
        with pytest.raises(ConfigurationError, match="must use https"):
            TicketsClient()
        monkeypatch.delenv("HUBSPOT_BASE_URL")
        with TicketsClient() as client:
            assert client.base_url == "https://api.hubapi.com"

    def test_argument_beats_env(self, hub: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-wrong")
        (ticket_id,) = hub.seed_tickets(1)
        with client_for(hub) as client:
            assert client.get(ticket_id)["objectId"] == ticket_id

    @pytest.mark.parametrize(
        "url",
        [
            "http://example.com",
            "http://api.hubapi.com",
            "http://10.0.0.1:8080",
            "http://app.localhost:8080",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
            "api.hubapi.com",
            "https://user:pw@api.hubapi.com",
            "https://api.hubapi.com/?hapikey=x",
            "",
        ],
    )
    def test_non_https_refused(self, url: str) -> None:
        with pytest.raises(ConfigurationError, match="base_url"):
            TicketsClient(TOKEN, base_url=url)

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1",
            "http://127.0.0.1:{port}",
            "http://127.8.9.10:{port}",
            "http://localhost:{port}",
            "http://[::1]:{port}",
            "https://api.hubapi.com",
            "https://api.hubapi.com/",
        ],
    )
    def test_https_and_loopback_accepted_without_a_request(self, url: str) -> None:
        with socket.socket() as listener:  # would see any connection attempt
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.settimeout(0.05)
            port = listener.getsockname()[1]
            client = TicketsClient(TOKEN, base_url=url.format(port=port))
            client.close()
            with pytest.raises(socket.timeout):
                listener.accept()
        assert not client.base_url.endswith("/")

    def test_verify_false_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="verify=False"):
            TicketsClient(TOKEN, verify=False)

    def test_verify_ca_bundle(self, tmp_path: Any) -> None:
        client = TicketsClient(TOKEN, verify=certifi.where())
        assert client.verify == certifi.where()
        client.close()
        with pytest.raises(ConfigurationError, match="no CA bundle"):
            TicketsClient(TOKEN, verify=str(tmp_path / "missing.pem"))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"requests_per_10s": 0},
            {"requests_per_10s": 1.5},
            {"max_workers": 0},
            {"max_workers": True},
            {"max_retries": -1},
            {"backoff_factor": -0.1},
            {"backoff_factor": 1000},
            {"timeout": 0},
            {"timeout": None},
            {"timeout": (1.0,)},
            {"timeout": (1.0, -2.0)},
            {"timeout": float("inf")},
            {"limiter": "fast"},
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            TicketsClient(TOKEN, **kwargs)

    def test_attributes(self) -> None:
        limiter = RateLimiter(190)
        with TicketsClient(TOKEN, max_workers=8, limiter=limiter, timeout=3) as client:
            assert client.max_workers == 8
            assert client.limiter is limiter
            assert client.requests_per_10s == 190
            assert client.timeout == 3.0

    def test_closed_client_refuses(self, hub: FakeHubSpot) -> None:
        client = client_for(hub)
        client.close()
        client.close()
        with pytest.raises(ConfigurationError, match="closed"):
            client.get(1)
        assert hub.requests == []


# -------------------------------------------------------------------- secrets
class TestSecrets:
    def test_repr_and_str_redacted(self) -> None:
        client = TicketsClient(TOKEN, requests_per_10s=190)
        for text in (repr(client), str(client), f"{client}", repr(vars(client))):
            assert TOKEN not in text
            assert "SECRET" not in text
        assert "token=<redacted>" in repr(client)
        assert "https://api.hubapi.com" in repr(client)
        assert "requests_per_10s=190" in repr(client)
        client.close()

    def test_secret_object(self) -> None:
        secret = Secret(TOKEN)
        assert TOKEN not in f"{secret!r} {secret!s} {secret} {[secret]} {secret:>10}"
        assert secret.reveal() == TOKEN
        with pytest.raises(TypeError):
            import pickle

            pickle.dumps(secret)

    def test_token_travels_only_in_the_authorization_header(self) -> None:
        # A tiny socket server that records the raw request bytes.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            client = TicketsClient(
                TOKEN, base_url=f"http://127.0.0.1:{port}", max_retries=0, timeout=(1.0, 0.3)
            )
            with ThreadPoolExecutor(1) as pool:
                future = pool.submit(client.get, 42, ["subject"])
                conn, _ = listener.accept()
                with conn:
                    raw = conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 15\r\n\r\n{"objectId":42}'
                    )
                assert future.result(timeout=5) == {"objectId": 42}
            client.close()
        head = raw.decode()
        request_line = head.split("\r\n", 1)[0]
        assert request_line == f"GET {V1_TICKETS}/42?properties=subject HTTP/1.1"
        assert f"Authorization: Bearer {TOKEN}\r\n" in head
        assert head.count(TOKEN) == 1

    def test_no_token_in_logs_or_errors_over_a_rough_run(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        faults = Faults(rate_429=0.2, rate_500=0.1, rate_502=0.1, rate_503=0.1, drop=0.1)
        errors: list[BaseException] = []
        with FakeHubSpot(token=TOKEN, faults=faults, seed=11) as hub:
            ids = hub.seed_tickets(5)
            with caplog.at_level(logging.DEBUG), client_for(hub, max_retries=10) as client:
                for ticket_id in ids:
                    client.get(ticket_id, ["subject"])
                client.batch_update(update_body(ids[0], subject="new subject"))
                for call in (
                    lambda: client.batch_update(update_body(ids[1], no_such_property="x")),
                    lambda: client.get(999_999),
                ):
                    with pytest.raises(HubSpotError) as info:
                        call()
                    errors.append(info.value)
            with caplog.at_level(logging.DEBUG), client_for(hub, max_retries=0) as client:
                hub.faults = Faults(drop=1.0)
                with pytest.raises(TransportError) as info2:
                    client.get(ids[0])
                errors.append(info2.value)
            assert any(r.fault for r in hub.requests), "the run should have had retries"
        with FakeHubSpot(token="pat-na1-the-right-one") as other:
            with caplog.at_level(logging.DEBUG), client_for(other, TOKEN) as client:
                with pytest.raises(HubSpotError) as info3:
                    client.get(1)
                errors.append(info3.value)
            assert info3.value.status == 401
        assert any(r.levelno == logging.WARNING for r in caplog.records)
        assert any(r.levelno == logging.DEBUG for r in caplog.records)
        for record in caplog.records:
            assert TOKEN not in record.getMessage()
            assert "SECRETSECRET" not in record.getMessage()
            assert "Bearer" not in record.getMessage()
        assert TOKEN not in caplog.text
        for error in errors:
            texts = [str(error), repr(error), repr(vars(error))]
            texts += traceback.format_exception(type(error), error, error.__traceback__)
            cause = error.__cause__
            while cause is not None:
                texts += [str(cause), repr(cause), repr(vars(cause))]
                cause = cause.__cause__
            for text in texts:
                assert TOKEN not in text
                assert "SECRETSECRET" not in text


# -------------------------------------------------------------------- retries
FAULT_KINDS = ["rate_429", "rate_500", "rate_502", "rate_503", "drop"]
FAULT_NAMES = {"rate_429": "429", "rate_500": "500", "rate_502": "502", "rate_503": "503"}


class TestRetries:
    @pytest.mark.parametrize("kind", FAULT_KINDS)
    def test_transient_failures_are_retried_and_counted(self, kind: str) -> None:
        faults = Faults(**{kind: 0.4})
        with FakeHubSpot(token=TOKEN, faults=faults, seed=5) as hub:
            ids = hub.seed_tickets(12)
            with client_for(hub, max_retries=10) as client:
                replies = [client.batch_update_reply(update_body(i, subject=f"s{i}")) for i in ids]
            records = hub.requests
        assert all(r.status == 200 for r in replies)
        assert all(isinstance(r.data, list) and r.data[0]["objectId"] for r in replies)
        # Every attempt reached the emulator, and every attempt was counted.
        assert sum(r.attempts for r in replies) == len(records)
        faulted = [r for r in records if r.fault]
        assert len(faulted) == len(records) - len(ids) > 0
        assert {r.fault for r in faulted} == {FAULT_NAMES.get(kind, kind)}
        assert max(r.attempts for r in replies) > 1
        # A faulted request changes nothing, so each ticket was written exactly once.
        assert sorted(w["objectId"] for w in hub.writes) == ids

    def test_stalled_read_times_out_and_is_retried(self) -> None:
        faults = Faults(stall=0.5, stall_seconds=0.4)
        with FakeHubSpot(token=TOKEN, faults=faults, seed=2) as hub:
            ids = hub.seed_tickets(6)
            with client_for(hub, timeout=(1.0, 0.1), max_retries=10) as client:
                replies = [client.send("GET", f"{V1_TICKETS}/{i}") for i in ids]
            assert [r.data["objectId"] for r in replies] == ids
            attempts = sum(r.attempts for r in replies)
            assert attempts > len(ids)
            deadline = time.monotonic() + 3
            while len(hub.requests) < attempts and time.monotonic() < deadline:
                time.sleep(0.02)  # stalled requests are logged when the stall ends
            records = hub.requests
        assert len(records) == attempts
        assert len([r for r in records if r.fault == "stall"]) == attempts - len(ids)

    def test_mixed_faults_concurrently(self) -> None:
        faults = Faults(rate_429=0.1, rate_500=0.1, rate_502=0.1, rate_503=0.1, drop=0.1)
        with FakeHubSpot(token=TOKEN, faults=faults, seed=9) as hub:
            ids = hub.seed_tickets(40)
            client = client_for(hub, max_retries=12, max_workers=4)
            with client, ThreadPoolExecutor(client.max_workers) as pool:
                replies = list(
                    pool.map(
                        lambda i: client.batch_update_reply(update_body(i, subject=f"x{i}")),
                        ids,
                    )
                )
            records = hub.requests
            assert sum(r.attempts for r in replies) == len(records)
            assert sorted(w["objectId"] for w in hub.writes) == ids
            assert all(hub.ticket(i)["properties"]["subject"]["value"] == f"x{i}" for i in ids)

    @pytest.mark.parametrize(
        ("kind", "error_type", "code"),
        [
            ("rate_500", HubSpotError, "INTERNAL_ERROR"),
            ("rate_502", HubSpotError, "HTTP_502"),
            ("rate_503", HubSpotError, "SERVICE_UNAVAILABLE"),
            ("rate_429", RateLimitError, "RATE_LIMIT"),
        ],
    )
    def test_exhausted_status_retries(
        self, kind: str, error_type: type[HubSpotError], code: str
    ) -> None:
        with FakeHubSpot(token=TOKEN, faults=Faults(**{kind: 1.0})) as hub:
            with client_for(hub, max_retries=2) as client, pytest.raises(error_type) as info:
                client.batch_update(update_body(1, subject="x"))
            assert len(hub.requests) == 3
        error = info.value
        assert type(error) is error_type
        assert error.attempts == 3
        assert error.error == code
        assert error.status == int(FAULT_NAMES[kind])
        if kind == "rate_502":  # an HTML page, not JSON: kept as text, summarised
            assert "502 Bad Gateway" in error.message
            assert isinstance(error.body, str) and "<html>" in error.body
        else:
            assert isinstance(error.body, dict) and error.correlation_id
        if isinstance(error, RateLimitError):
            assert error.policy == "TEN_SECONDLY_ROLLING"

    def test_exhausted_drops_raise_transport_error(self) -> None:
        with FakeHubSpot(token=TOKEN, faults=Faults(drop=1.0)) as hub:
            with client_for(hub, max_retries=3) as client, pytest.raises(TransportError) as info:
                client.batch_update(update_body(1, subject="x"))
            assert len(hub.requests) == 4
        assert info.value.attempts == 4
        assert "after 4 attempts" in str(info.value)
        assert not isinstance(info.value, UnreachableError)  # they were sent

    def test_tls_failure_is_not_retried(self, hub: FakeHubSpot) -> None:
        # https to a plain-http port: the handshake fails; retrying would not help.
        port = hub.base_url.rsplit(":", 1)[1]
        client = TicketsClient(TOKEN, base_url=f"https://127.0.0.1:{port}", backoff_factor=0.01)
        with client, pytest.raises(TransportError) as info:
            client.get(1)
        assert info.value.attempts == 1
        assert "SSL" in str(info.value)

    def test_no_retry_budget(self) -> None:
        with FakeHubSpot(token=TOKEN, faults=Faults(rate_503=1.0)) as hub:
            with client_for(hub, max_retries=0) as client, pytest.raises(HubSpotError) as info:
                client.get(1)
            assert len(hub.requests) == 1
        assert info.value.attempts == 1

    def test_daily_limit_stops_at_once(self) -> None:
        # retry_after is set: even so, a DAILY 429 must not be retried (by urllib3 or by us).
        with FakeHubSpot(token=TOKEN, daily_limit=0, retry_after=1) as hub:
            with client_for(hub) as client, pytest.raises(RateLimitError) as info:
                client.batch_update(update_body(1, subject="x"))
            assert len(hub.requests) == 1
        error = info.value
        assert error.policy == "DAILY"
        assert error.status == 429
        assert error.error == "RATE_LIMIT"
        assert error.attempts == 1
        assert "daily" in error.message

    def test_retry_after_is_honoured(self) -> None:
        with FakeHubSpot(token=TOKEN, faults=Faults(rate_429=0.5), retry_after=1, seed=4) as hub:
            (ticket_id,) = hub.seed_tickets(1)
            with client_for(hub) as client:
                for _ in range(10):
                    started = time.monotonic()
                    reply = client.send("GET", f"{V1_TICKETS}/{ticket_id}")
                    elapsed = time.monotonic() - started
                    if reply.attempts > 1:
                        break
        assert reply.attempts > 1, "the seed should give a 429 within 10 calls"
        # Without Retry-After the pause would be ~backoff_factor (0.01 s).
        assert elapsed >= (reply.attempts - 1) * 1.0 - 0.05

    def test_limiter_keeps_to_the_rate_no_429(self) -> None:
        # HubSpot allows 3 per 0.5 s here; the client keeps 3 per 0.7 s (a margin
        # for the time between our start and HubSpot's count), over 4 threads.
        with FakeHubSpot(token=TOKEN, requests_per_10s=3, _window_seconds=0.5) as hub:
            ids = hub.seed_tickets(9)
            limiter = RateLimiter(3, window=0.7)
            client = client_for(hub, limiter=limiter, max_workers=4)
            with client, ThreadPoolExecutor(4) as pool:
                started = time.monotonic()
                replies = list(pool.map(lambda i: client.send("GET", f"{V1_TICKETS}/{i}"), ids))
                elapsed = time.monotonic() - started
            records = hub.requests
        assert [r.status for r in records] == [200] * 9, "the emulator saw a 429"
        assert all(r.attempts == 1 for r in replies)
        assert elapsed >= 2 * 0.7 - 0.05

    def test_remaining_header_slows_a_client_configured_too_fast(self) -> None:
        # The client thinks it may send 100 per window; HubSpot's headers say otherwise.
        with FakeHubSpot(token=TOKEN, requests_per_10s=3, _window_seconds=0.4) as hub:
            ids = hub.seed_tickets(7)
            # slack: a loaded test machine may take a while between our start and
            # HubSpot's count; 25 % of 0.4 s covers it.
            limiter = RateLimiter(100, window=0.6, slack=0.25)
            with client_for(hub, limiter=limiter) as client:
                started = time.monotonic()
                replies = [client.send("GET", f"{V1_TICKETS}/{i}") for i in ids]
                elapsed = time.monotonic() - started
            records = hub.requests
        assert [r.status for r in records] == [200] * 7, "the emulator saw a 429"
        assert all(r.attempts == 1 for r in replies)
        assert elapsed >= 2 * 0.4  # held twice, after the 3rd and the 6th

    def test_rolling_limit_429_is_waited_out(self) -> None:
        # The client is too fast and its window too short: HubSpot says 429
        # TEN_SECONDLY_ROLLING; the client pauses and gets through.
        with FakeHubSpot(token=TOKEN, requests_per_10s=2, _window_seconds=0.3) as hub:
            ids = hub.seed_tickets(6)
            limiter = RateLimiter(100, window=0.01)
            client = client_for(hub, limiter=limiter, max_workers=3, max_retries=20)
            with client, ThreadPoolExecutor(3) as pool:
                replies = list(pool.map(lambda i: client.send("GET", f"{V1_TICKETS}/{i}"), ids))
            records = hub.requests
        assert [r.data["objectId"] for r in replies] == ids
        assert sum(r.attempts for r in replies) == len(records)
        assert any(r.status == 429 for r in records)

    def test_send_refuses_absolute_urls(self, hub: FakeHubSpot) -> None:
        with client_for(hub) as client:
            for path in ("https://evil.example/x", "//evil.example/x", "relative"):
                with pytest.raises(ValueError):
                    client.send("GET", path)
        assert hub.requests == []


# ----------------------------------------------------------------- fail fast
class TestFailFast:
    def test_refused_connection_gives_up_after_two_attempts(self) -> None:
        url = f"http://127.0.0.1:{free_port()}"
        client = TicketsClient(TOKEN, base_url=url, max_retries=5, backoff_factor=0.01)
        with client, pytest.raises(UnreachableError) as info:
            client.batch_update(update_body(1, subject="x"))
        error = info.value
        assert isinstance(error, TransportError)
        assert error.attempts == 2  # not max_retries + 1 = 6
        assert error.url == url
        assert url in str(error)
        assert "nothing was sent" in str(error)
        assert "NewConnectionError" in str(error)
        assert "Connection refused" in str(error)
        assert TOKEN not in str(error) and TOKEN not in repr(vars(error))

    def test_no_retry_budget_means_one_attempt(self) -> None:
        client = TicketsClient(TOKEN, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
        with client, pytest.raises(UnreachableError) as info:
            client.get(1)
        assert info.value.attempts == 1

    def test_connect_timeout_is_unreachable_too(self) -> None:
        # A listener whose accept queue is full: Linux drops further SYNs, so
        # connecting times out (nothing was sent).
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            fillers = []
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            time.sleep(0.05)
            try:
                client = TicketsClient(
                    TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=(0.2, 1.0)
                )
                with client, pytest.raises(TransportError) as info:
                    client.get(1)
            finally:
                for filler in fillers:
                    filler.close()
        if "ConnectTimeoutError" not in str(info.value):
            pytest.skip("this kernel accepted the connection: no connect timeout to test")
        assert type(info.value) is UnreachableError
        assert info.value.attempts == 2
        assert "nothing was sent" in str(info.value)

    def test_refused_after_a_request_was_sent_may_have_been_applied(self) -> None:
        # Attempt 1 is read by the server, which closes it without an answer and
        # stops listening: the retry is refused. The first request may have
        # landed, so this is a TransportError, not an UnreachableError.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]

            def take_one() -> None:
                conn, _ = listener.accept()
                conn.recv(65536)
                listener.close()
                conn.close()

            thread = threading.Thread(target=take_one)
            thread.start()
            client = TicketsClient(
                TOKEN, base_url=f"http://127.0.0.1:{port}", backoff_factor=0.01, timeout=2.0
            )
            with client, pytest.raises(TransportError) as info:
                client.batch_update(update_body(1, subject="x"))
            thread.join()
        assert type(info.value) is TransportError
        assert info.value.attempts >= 2

    def test_unreachable_error_pickles(self) -> None:
        error = UnreachableError("cannot connect", attempts=2, url="https://x.example")
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), copy.attempts, copy.url) == (
            UnreachableError,
            "cannot connect",
            2,
            "https://x.example",
        )


# ---------------------------------------------------- urllib3 and the version
class TestRetryAfterCap:
    @pytest.mark.parametrize("header", ["3600", "86400"])
    def test_long_retry_after_is_cut(self, header: str) -> None:
        assert _HubSpotRetry(total=1).parse_retry_after(header) == RETRY_AFTER_MAX

    def test_http_date_retry_after_is_cut(self) -> None:
        later = email.utils.formatdate(time.time() + 7200, usegmt=True)
        assert _HubSpotRetry(total=1).parse_retry_after(later) == RETRY_AFTER_MAX

    def test_short_retry_after_is_kept(self) -> None:
        assert _HubSpotRetry(total=1).parse_retry_after("2") == 2


class TestVersion:
    def test_version_comes_from_the_package_metadata(self) -> None:
        assert pandas_hubtickets.__version__ == importlib.metadata.version("pandas-hubtickets")
        assert "__version__" in pandas_hubtickets.__all__

    def test_uninstalled_tree_falls_back(self) -> None:
        assert installed_version("pandas-hubtickets-never-installed") == UNKNOWN_VERSION

    def test_user_agent_names_the_version(self) -> None:
        with canned_server({"objectId": 5}) as (url, seen), TicketsClient(TOKEN, base_url=url) as c:
            c.get(5)
        expected = f"pandas-hubtickets/{pandas_hubtickets.__version__} "
        assert seen[0]["User-Agent"].startswith(expected)
        assert seen[0]["User-Agent"] == USER_AGENT


# ------------------------------------------------------------ what is sent
@contextmanager
def recording_server(cookie: str | None = None) -> Iterator[tuple[str, list[Any]]]:
    """A local server answering every POST with ``[]``; yields its URL and each request seen.

    A request is ``(request line, header items in order, body)``. With ``cookie``,
    the first answer sets it (``Set-Cookie``), as HubSpot's CDN does.
    """
    seen: list[Any] = []

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.requestline, list(self.headers.items()), body))
            first = cookie is not None and len(seen) == 1
            self.answer(b"[]", *([("Set-Cookie", f"{cookie}; Path=/")] if first else []))

    with serve(Handler) as url:
        yield url, seen


class TestWhatIsSent:
    BODIES = (b'[{"objectId":1}]', b'[{"objectId":22,"x":"y"}]', b"[" + b"1," * 500 + b"1]")

    def test_each_body_is_sent_as_a_request_prepared_afresh_would_send_it(self) -> None:
        # The transport's own session sends copies of a request prepared once (one
        # per method and URL); a session given by the caller is prepared afresh each
        # time, by requests. Both must put the same bytes on the wire, body after body.
        given = requests.Session()
        with recording_server() as (url, seen):
            for session in (None, given):
                with TicketsClient(TOKEN, base_url=url, session=session) as client:
                    for body in self.BODIES:
                        assert client.send("POST", "/a/b", body=body).data == []
                    client.send("POST", "/a/c", body=self.BODIES[0])
        given.close()
        sent = [seen[:4], seen[4:]]
        own, fresh = sent
        assert own == fresh
        assert [body for _, _, body in own] == [*self.BODIES, self.BODIES[0]]
        assert [dict(h)["Content-Length"] for _, h, _ in own] == [
            str(len(b)) for b in (*self.BODIES, self.BODIES[0])
        ]
        assert [line.split()[1] for line, _, _ in own] == ["/a/b"] * 3 + ["/a/c"]
        assert all(dict(h)["Authorization"] == f"Bearer {TOKEN}" for _, h, _ in own)

    def test_cookies_the_server_sets_are_sent_back(self) -> None:
        with (
            recording_server(cookie="__cf_bm=abc123") as (url, seen),
            TicketsClient(TOKEN, base_url=url) as client,
        ):
            for body in self.BODIES:
                client.send("POST", "/a/b", body=body)
        cookies = [dict(headers).get("Cookie") for _, headers, _ in seen]
        assert cookies == [None, "__cf_bm=abc123", "__cf_bm=abc123"]
        assert [body for _, _, body in seen] == list(self.BODIES)
