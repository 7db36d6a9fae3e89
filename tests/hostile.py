"""A deliberately hostile HubSpot stand-in for the tests: lying 200s, cut and trickled bodies.

Each request gets the next behaviour of a script (the last one repeats).
Every behaviour is bounded: stalls end after ``stall`` seconds, a trickled
body ends after ``trickle_bytes`` bytes or when the client hangs up, and
:meth:`Hostile.__exit__` stops the server and its threads.

Behaviours
----------
``echo``
    200 listing every ticket of the request, as HubSpot's v1 batch update does.
``empty_list``, ``empty_dict``
    200 with ``[]`` or ``{}``: nothing confirmed.
``partial``
    200 listing every ticket but the last one of the request.
``not_json``
    200 with an HTML page.
``trickle``
    200 with a JSON body sent one byte at a time, ``trickle_interval`` apart.
``reset``
    200 headers and half of the body, then a TCP reset.
``stall``
    Read the request, answer nothing for ``stall`` seconds, then hang up.
``502``, ``503``
    HubSpot's gateway and service errors.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

BEHAVIOURS = frozenset(
    {"echo", "empty_list", "empty_dict", "partial", "reversed", "not_json", "trickle", "reset"}
    | {"stall"}
    | {"502", "503"}
)


@dataclass(frozen=True)
class Seen:
    """One request the server received, and what it did with it."""

    method: str
    path: str
    body: Any
    behaviour: str


def tickets(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A v1 batch-update answer listing these objects."""
    return [ticket(o["objectId"], o["properties"]) for o in objects]


def ticket(object_id: int, properties: list[dict[str, Any]]) -> dict[str, Any]:
    """A v1 ticket object holding the properties written, as HubSpot answers a batch update."""
    props = {
        p["name"]: {
            "value": p["value"],
            "timestamp": 1_700_000_000_000,
            "source": "API",
            "sourceId": None,
            "versions": [
                {
                    "name": p["name"],
                    "value": p["value"],
                    "timestamp": 1_700_000_000_000,
                    "source": "API",
                    "sourceVid": [],
                }
            ],
        }
        for p in properties
    }
    return {
        "objectType": "TICKET",
        "portalId": 62515,
        "objectId": object_id,
        "properties": props,
        "isDeleted": False,
    }


def versioned(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A date-versioned batch-update answer listing these inputs (trace ids repeated)."""
    moment = "2024-01-31T12:00:00.000Z"
    return {
        "status": "COMPLETE",
        "results": [
            {
                "id": o["id"],
                "properties": dict(o["properties"]),
                "createdAt": moment,
                "updatedAt": moment,
                "archived": False,
                **(
                    {"objectWriteTraceId": o["objectWriteTraceId"]}
                    if "objectWriteTraceId" in o
                    else {}
                ),
            }
            for o in objects
        ],
        "startedAt": moment,
        "completedAt": moment,
    }


class Hostile:
    """A local server on 127.0.0.1 that answers each request with the next scripted behaviour.

    Parameters
    ----------
    *script : str
        Behaviours, one per request in order; the last one repeats.
    stall : float
        Seconds a ``stall`` keeps quiet before hanging up.
    trickle_interval : float
        Seconds between two bytes of a ``trickle``.
    trickle_bytes : int
        A trickle sends at most this many bytes, then hangs up.
    """

    def __init__(
        self,
        *script: str,
        stall: float = 1.0,
        trickle_interval: float = 0.05,
        trickle_bytes: int = 400,
    ) -> None:
        unknown = set(script) - BEHAVIOURS
        if not script or unknown:
            raise ValueError(f"script needs behaviours among {sorted(BEHAVIOURS)}, got {script}")
        self.script = script
        self.stall = stall
        self.trickle_interval = trickle_interval
        self.trickle_bytes = trickle_bytes
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next(self, method: str, path: str, body: Any) -> str:
        with self._lock:
            behaviour = self.script[min(len(self.seen), len(self.script) - 1)]
            self.seen.append(Seen(method, path, body, behaviour))
        return behaviour

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(json.loads(raw) if raw else None)

            def _answer(self, body: Any) -> None:
                behaviour = hostile._next(self.command, self.path, body)
                inputs = body.get("inputs") if isinstance(body, dict) else None
                objects = body if isinstance(body, list) else inputs or []
                if behaviour == "stall":
                    hostile._stopping.wait(hostile.stall)
                    self.close_connection = True
                    return
                if behaviour in ("502", "503"):
                    self._send(int(behaviour), b'{"status":"error","message":"unavailable"}')
                    return
                if behaviour == "not_json":
                    self._send(200, b"<html><body>OK</body></html>", "text/html")
                    return
                shape = versioned if inputs is not None else tickets
                answer: Any = {
                    "empty_list": shape([]),
                    "empty_dict": {},
                    "partial": shape(objects[:-1]),
                    "reversed": shape(objects[::-1]),
                }.get(behaviour, shape(objects))
                payload = json.dumps(answer).encode()
                if behaviour == "trickle":
                    self._trickle(payload)
                elif behaviour == "reset":
                    self._reset(payload)
                else:
                    self._send(200, payload)

            def _headers(self, status: int, length: int, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def _send(self, status: int, payload: bytes, kind: str = "application/json") -> None:
                self._headers(status, len(payload), kind)
                self.wfile.write(payload)

            def _trickle(self, payload: bytes) -> None:
                self._headers(200, len(payload), "application/json")
                self.wfile.flush()
                for i in range(min(len(payload), hostile.trickle_bytes)):
                    if hostile._stopping.wait(hostile.trickle_interval):
                        break
                    try:
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client hung up
                        break
                self.close_connection = True

            def _reset(self, payload: bytes) -> None:
                self._headers(200, len(payload), "application/json")
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                # SO_LINGER 0: closing sends a RST instead of a FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()  # the socket closes with the handler's files
                self.close_connection = True

        return Handler
