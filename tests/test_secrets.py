"""The token never in clear: proxies bypassed for plain http, echoed tokens scrubbed.

Over real sockets on 127.0.0.1: a recording "proxy" set in the environment, a
hostile server written here that echoes the ``Authorization`` token into every
place a server can put text, and FakeHubSpot. Nothing is patched.
"""

from __future__ import annotations

import json
import logging
import pickle
import socket
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from helpers import client_for, serve

import pandas_hubtickets  # noqa: F401  (registers df.hubtickets)
from pandas_hubtickets._cli import _parser, _serve_warning, main
from pandas_hubtickets._client import TicketsClient
from pandas_hubtickets._transport import Reply
from pandas_hubtickets.errors import ConfigurationError, HubSpotError, TransportError, UpdateStopped
from pandas_hubtickets.testing import FakeHubSpot

TOKEN = "pat-na1-hostile-0f9e8d7c-6b5a-4321-ECHOECHO"
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy")


def leaks(blob: str | bytes) -> list[str]:
    """The pieces of TOKEN (any 12 characters in a row) found in ``blob``."""
    text = blob.decode("utf-8", errors="replace") if isinstance(blob, bytes) else blob
    pieces = {TOKEN[i : i + 12] for i in range(len(TOKEN) - 11)}
    return sorted(p for p in pieces if p in text)


# ---------------------------------------------------------------------- proxies
@contextmanager
def recording_proxy() -> Iterator[tuple[str, list[str]]]:
    """A "proxy" on 127.0.0.1 that records every request line it gets and forwards nothing."""
    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def handle_one_request(self) -> None:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                return
            seen.append(self.raw_requestline.decode("latin-1").strip())
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Proxy) as url:
        yield url, seen


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*PROXY_VARS, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class TestProxies:
    @pytest.mark.reliability
    @pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
    def test_loopback_http_bypasses_a_proxy_from_the_environment(
        self, variable: str, host: str, no_proxy_env: pytest.MonkeyPatch, figures: Any
    ) -> None:
        with recording_proxy() as (proxy, seen), FakeHubSpot(token=TOKEN, seed=1) as hub:
            no_proxy_env.setenv(variable, proxy)
            ids = hub.seed_tickets(1)
            base_url = hub.base_url.replace("127.0.0.1", host)
            with client_for(hub, base_url=base_url, max_retries=0) as client:
                assert client.get(ids[0], ["subject"])["objectId"] == ids[0]
            assert len(hub.requests) == 1
        assert seen == []
        figures.add("secrets", "proxy settings tried on loopback http (token sent to none)", 1)

    @pytest.mark.reliability
    def test_loopback_http_bypasses_the_proxies_of_a_given_session(
        self, no_proxy_env: pytest.MonkeyPatch, figures: Any
    ) -> None:
        session = requests.Session()
        with recording_proxy() as (proxy, seen), FakeHubSpot(token=TOKEN, seed=1) as hub:
            ids = hub.seed_tickets(1)
            port = hub.base_url.rsplit(":", 1)[1]
            session.proxies.update(
                {
                    "http": proxy,
                    "all": proxy,
                    "http://127.0.0.1": proxy,
                    f"http://127.0.0.1:{port}": proxy,
                    "all://127.0.0.1": proxy,
                }
            )
            with client_for(hub, session=session, max_retries=0) as client:
                assert client.get(ids[0], ["subject"])["objectId"] == ids[0]
            assert len(hub.requests) == 1
        assert seen == []
        figures.add("secrets", "proxy settings tried on loopback http (token sent to none)", 1)
        assert session.proxies["http"] == proxy  # the caller's session is left as it was
        session.close()

    @pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
    def test_https_still_goes_through_its_proxy(
        self, variable: str, no_proxy_env: pytest.MonkeyPatch
    ) -> None:
        # https through a proxy is a CONNECT tunnel: the token travels encrypted.
        # The base URL is loopback, so nothing could leave the machine even if
        # the proxy were skipped; the recording proxy refuses the tunnel.
        with recording_proxy() as (proxy, seen), FakeHubSpot(token=TOKEN, seed=1) as hub:
            no_proxy_env.setenv(variable, proxy)
            port = hub.base_url.rsplit(":", 1)[1]
            client = TicketsClient(
                TOKEN, base_url=f"https://127.0.0.1:{port}", max_retries=0, timeout=(2.0, 2.0)
            )
            with client, pytest.raises(TransportError):
                client.get(1)
            assert hub.requests == []
        assert [line.rsplit(" ", 1)[0] for line in seen] == [f"CONNECT 127.0.0.1:{port}"]

    def test_proxies_from_the_environment_are_read_when_the_client_is_made(
        self, no_proxy_env: pytest.MonkeyPatch
    ) -> None:
        # Once per client, not once per request (it cost about 1 ms of CPU a request):
        # a proxy set afterwards is used by the next client made, not by this one.
        with recording_proxy() as (proxy, seen), FakeHubSpot(token=TOKEN, seed=1) as hub:
            port = hub.base_url.rsplit(":", 1)[1]
            url = f"https://127.0.0.1:{port}"
            before = TicketsClient(TOKEN, base_url=url, max_retries=0, timeout=(2.0, 2.0))
            no_proxy_env.setenv("HTTPS_PROXY", proxy)
            after = TicketsClient(TOKEN, base_url=url, max_retries=0, timeout=(2.0, 2.0))
            with before, after:
                for client in (after, before, after):  # before: straight to a hub without TLS
                    with pytest.raises(TransportError):
                        client.get(1)
        assert [line.rsplit(" ", 1)[0] for line in seen] == [f"CONNECT 127.0.0.1:{port}"] * 2

    def test_a_ca_bundle_from_the_environment_still_applies(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        bundle = tmp_path / "no-such-bundle.pem"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        with socket.socket() as listener:  # never reached: the bundle is checked first
            listener.bind(("127.0.0.1", 0))
            url = f"https://127.0.0.1:{listener.getsockname()[1]}"
            with TicketsClient(TOKEN, base_url=url, max_retries=0) as client:
                for _ in range(2):  # on every request, not only the first
                    with pytest.raises(OSError, match=r"no-such-bundle\.pem"):
                        client.get(1)


# ------------------------------------------------------------- a hostile server
def _escaping(body: object, token: str) -> bytes:
    """``body`` as JSON, where the string "ESCAPED" becomes ``token`` spelt in \\u escapes."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in token)
    return json.dumps(body).replace("ESCAPED", escaped).encode()


def _error_body(token: str) -> bytes:
    body = {
        "status": "error",
        "message": f"Property values were not valid: {token}",
        "correlationId": token,
        "category": "VALIDATION_ERROR",
        "validationResults": [
            {"isValid": False, "message": f"{token} is not valid", "error": token, "name": token}
        ],
        "errors": [{"code": token, "message": token}],
        token: {"nested": [token, {"deeper": f"x{token}x", token: [token]}]},
        "escaped": "ESCAPED",
        "ESCAPED-key": 1,
    }
    return _escaping(body, token)


def _echo_tickets(token: str, ids: list[int]) -> bytes:
    def prop(name: str, value: str) -> dict[str, Any]:
        version = {"name": name, "value": value, "timestamp": 1, "source": token}
        return {
            "value": value,
            "timestamp": 1,
            "source": token,
            "sourceId": token,
            "versions": [{**version, "sourceVid": []}],
        }

    tickets = [
        {
            "objectType": "TICKET",
            "portalId": 1,
            "objectId": i,
            "isDeleted": False,
            "properties": {
                "subject": prop("subject", token),
                "content": prop("content", "ESCAPED"),
            },
        }
        for i in ids
    ]
    return _escaping(tickets, token)


#: How the hostile server answers, one way per mode.
MODES = [
    "json400",
    "json500",
    "utf16",
    "html500",
    "text200",
    "echo200",
    "redirect",
    "badstatus",
    "daily429",
]


class Hostile(BaseHTTPRequestHandler):
    """Echoes the bearer token into the status line, headers and body of every answer."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.answer(self.path.rsplit("/", 1)[-1], [1])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        objects = json.loads(self.rfile.read(length))
        ids = [int(o["objectId"]) for o in objects]
        self.answer(MODES[(ids[0] - 1) % len(MODES)], ids)

    def answer(self, mode: str, ids: list[int]) -> None:
        token = self.headers.get("Authorization", "").split()[-1]
        if mode == "badstatus":
            self.close_connection = True
            self.wfile.write(f"HTTP/1.1 4x0 {token}\r\n\r\n".encode())
            return
        status, body, kind = {
            "json400": (400, _error_body(token), "application/json"),
            "json500": (500, _error_body(token), "application/json"),
            "utf16": (  # JSON may come in UTF-16: the token's UTF-8 bytes are not in it
                400,
                json.dumps({"message": token, "correlationId": token, "category": token}).encode(
                    "utf-16"
                ),
                "application/json",
            ),
            "html500": (
                500,
                f"<html><title>{'x' * 190}{token}</title><body>{token}</body></html>".encode(),
                "text/html",
            ),
            "text200": (200, f"upstream says {token}".encode(), "text/plain"),
            "echo200": (200, _echo_tickets(token, ids), "application/json"),
            "redirect": (302, b"", "text/plain"),
            "daily429": (
                429,
                json.dumps(
                    {
                        "status": "error",
                        "message": token,
                        "errorType": "RATE_LIMIT",
                        "policyName": "DAILY",
                        "correlationId": token,
                    }
                ).encode(),
                "application/json",
            ),
        }[mode]
        self.send_response(status, f"Echo {token}")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-HubSpot-Correlation-Id", token)
        self.send_header("X-Echo", f"Bearer {token}")
        self.send_header("Location", f"https://example.invalid/?token={token}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _texts_of(obj: object) -> list[str | bytes]:
    """Everything a user could see or store of ``obj``: str, repr, attributes, pickle, chain."""
    texts: list[str | bytes] = [str(obj), repr(obj), pickle.dumps(obj)]
    if hasattr(obj, "__dict__"):
        texts.append(repr(vars(obj)))
    if isinstance(obj, BaseException):
        texts += traceback.format_exception(type(obj), obj, obj.__traceback__)
    if isinstance(obj, Reply):
        texts += [repr(obj.data), repr(dict(obj.headers))]
    return texts


class TestEchoedTokens:
    @pytest.mark.reliability
    @pytest.mark.parametrize("mode", MODES)
    def test_send_keeps_no_trace_of_an_echoed_token(
        self, mode: str, caplog: pytest.LogCaptureFixture, figures: Any
    ) -> None:
        with serve(Hostile) as url, caplog.at_level(logging.DEBUG):
            client = TicketsClient(
                TOKEN, base_url=url, max_retries=1, backoff_factor=0.01, timeout=(2.0, 2.0)
            )
            with client:
                try:
                    outcome: object = client.send("GET", f"/echo/{mode}")
                except (HubSpotError, TransportError) as exc:
                    outcome = exc
        texts = _texts_of(outcome) + [r.getMessage() for r in caplog.records] + [caplog.text]
        assert [leaks(t) for t in texts if leaks(t)] == []
        figures.add("secrets", "ways a hostile server echoed the token", 1)
        figures.add("secrets", "texts searched for the token (found in none)", len(texts))
        # The server did echo it: what it said is kept, with the token redacted.
        shown = " ".join(t if isinstance(t, str) else "" for t in texts)
        if mode != "badstatus":
            assert "<redacted>" in shown
        if isinstance(outcome, HubSpotError) and mode in ("json400", "json500", "utf16"):
            assert outcome.correlation_id == "<redacted>"
            assert outcome.error == "<redacted>"
        if isinstance(outcome, HubSpotError) and mode in ("json400", "json500"):
            assert outcome.body["escaped"] == "<redacted>"
            assert outcome.body["<redacted>"]["nested"][1]["deeper"] == "x<redacted>x"
            assert outcome.body["<redacted>-key"] == 1

    @pytest.mark.reliability
    def test_update_report_journal_pickle_logs_and_bar_keep_no_trace(
        self,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
        figures: Any,
    ) -> None:
        ids = list(range(1, len(MODES) + 1))  # one row per mode, "daily429" last: it stops
        df = pd.DataFrame({"objectId": ids, "subject": [f"s{i}" for i in ids]})
        journal = tmp_path / "run.journal"
        with serve(Hostile) as url, caplog.at_level(logging.DEBUG):
            client = TicketsClient(
                TOKEN,
                base_url=url,
                max_retries=1,
                max_workers=1,
                backoff_factor=0.01,
                timeout=(2.0, 2.0),
            )
            with client, pytest.raises(UpdateStopped) as info:
                df.hubtickets.update(
                    client, batch_size=1, journal=journal, progress=True, check_properties=False
                )
        result = info.value.result
        report = result.report
        captured = capsys.readouterr()
        texts: list[str | bytes] = [
            *_texts_of(info.value),
            pickle.dumps(result),
            report.to_csv(),
            result.tickets.to_csv(),
            journal.read_bytes(),
            caplog.text,
            *(r.getMessage() for r in caplog.records),
            captured.out,
            captured.err,
        ]
        assert [leaks(t) for t in texts if leaks(t)] == []
        figures.add("secrets", "texts searched for the token (found in none)", len(texts))
        # Each mode was met, and what the server said survives, redacted.
        assert len(report) == len(MODES)
        assert (report["status"] != "not_sent").all()
        assert report["message"].astype(str).str.contains("<redacted>").any()
        assert b"<redacted>" in journal.read_bytes()
        assert set(result.tickets["value"]) == {"<redacted>"}  # the echoing 200's tickets
        assert "hubtickets update" in captured.err  # the bar was drawn


# ------------------------------------------------------------- hubtickets serve
# No test binds an address other than 127.0.0.1: 192.0.2.1 (TEST-NET-1) is refused
# before anything binds, and the allowed case is tested where it is decided.
class TestServeHost:
    def test_a_host_reachable_from_the_network_is_refused(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["serve", "--host", "192.0.2.1", "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert "--allow-remote" in err
        assert "'192.0.2.1' is not a loopback address" in err

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "example.invalid"])
    def test_every_non_loopback_host_needs_allow_remote(self, host: str) -> None:
        with pytest.raises(ConfigurationError, match="--allow-remote"):
            _serve_warning(host, allow_remote=False)
        warning = _serve_warning(host, allow_remote=True)
        assert warning is not None
        assert "reachable from the network" in warning
        assert "token travels in clear" in warning

    @pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
    def test_loopback_hosts_need_nothing(self, host: str) -> None:
        assert _serve_warning(host, allow_remote=False) is None
        assert _serve_warning(host, allow_remote=True) is None

    def test_allow_remote_reaches_the_check_and_its_warning_goes_to_stderr(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        args = _parser().parse_args(["serve", "--host", "0.0.0.0", "--allow-remote"])
        assert (args.host, args.allow_remote) == ("0.0.0.0", True)
        assert _parser().parse_args(["serve"]).allow_remote is False
        # All the way through main, on an address this machine cannot bind (nothing
        # listens, nothing is sent): the warning comes first, then the bind fails.
        assert main(["serve", "--host", "192.0.2.1", "--port", "0", "--allow-remote"]) == 2
        captured = capsys.readouterr()
        assert "hubtickets serve: warning: " in captured.err
        assert "reachable from the network" in captured.err
        assert "warning" not in captured.out
