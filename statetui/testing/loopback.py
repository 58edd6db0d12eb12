"""Misbehaving RPC endpoints on 127.0.0.1 for error-path tests: real sockets, real HTTP.

SilentServer accepts connections and never answers (a hung RPC); ScriptedHttpServer
answers every POST with what a test tells it (garbage JSON, an HTTP error). Both record
what reached them, so a test can tell how many connections and requests were made.
PostServer is the loopback HTTP server they and the tests' other endpoints (the provider
proxy, the hostile suite's RPC, the notification receiver) share."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class SilentServer:
    """Accepts TCP connections on a loopback port and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)  # held open, never answered

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()


# A reply: (HTTP status, body bytes), computed from the decoded request (None if not JSON).
Reply = Callable[[Any], "tuple[int, bytes]"]


def each_result(value: Any) -> Reply:
    """Answer every JSON-RPC call of the request (single or batch) with `value` as its result."""

    def reply(request: Any) -> tuple[int, bytes]:
        calls = request if isinstance(request, list) else [request]
        answers = [{"jsonrpc": "2.0", "id": c.get("id"), "result": value} for c in calls if isinstance(c, dict)]
        doc = answers if isinstance(request, list) else answers[0]
        return 200, json.dumps(doc).encode()

    return reply


def fixed(status: int, body: bytes) -> Reply:
    return lambda request: (status, body)


class PostServer:
    """An HTTP/1.1 server on a loopback port, in a thread of its own while used as a context
    manager, calling `on_post(handler, body)` for each POST. The servers the tests put in
    front of (or in place of) a node build on it."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                outer.on_post(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def on_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
    """One JSON answer; a client that hung up meanwhile is not an error of the server's."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(payload)
    except OSError:
        pass


class ScriptedHttpServer(PostServer):
    """Answers each POST with `reply(request)`."""

    def __init__(self, reply: Reply):
        super().__init__()
        self.reply = reply
        self.requests: list[dict[str, Any]] = []  # path, headers and body of each request

    def on_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        self.requests.append({"path": handler.path, "headers": dict(handler.headers), "body": body})
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        send(handler, *self.reply(request))
