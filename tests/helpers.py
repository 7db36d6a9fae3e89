"""What the tests share: a token, clients, servers, the output of ``hubtickets serve``."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pandas_hubtickets._client import TicketsClient
from pandas_hubtickets.testing import FakeHubSpot

TOKEN = "pat-na1-11111111-2222-3333-4444-SECRETSECRET"


def client_for(hub: FakeHubSpot, token: str | None = None, **kwargs: Any) -> TicketsClient:
    """A client of ``hub`` with tiny timeouts and backoff."""
    options: dict[str, Any] = {
        "base_url": hub.base_url,
        "backoff_factor": 0.01,
        "timeout": (2.0, 2.0),
        "max_retries": 5,
    }
    options.update(kwargs)
    return TicketsClient(token or hub.token, **options)


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago (nothing listens on it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def update_body(ticket_id: int, **props: str) -> list[dict[str, Any]]:
    return [
        {"objectId": ticket_id, "properties": [{"name": k, "value": v} for k, v in props.items()]}
    ]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers 200 with JSON bytes."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, payload: bytes, *headers: tuple[str, str]) -> None:
        """Send ``payload`` as a 200 JSON answer, after ``headers``."""
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local threading server with ``handler`` on 127.0.0.1; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def canned_server(body: Any) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local server answering every GET with ``body`` (JSON); yields its URL and headers seen."""
    seen: list[dict[str, str]] = []
    payload = json.dumps(body).encode()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            self.answer(payload)

    with serve(Handler) as url:
        yield url, seen


def serve_output(process: subprocess.Popen[str], seconds: float = 60) -> list[str]:
    """What ``hubtickets serve`` prints up to "Ctrl-C to stop.", read so that a hang fails."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    printed = [lines.get(timeout=seconds)]
    while not printed[-1].startswith("Ctrl-C"):
        printed.append(lines.get(timeout=seconds))
    return printed
