"""Loopback JSON-RPC servers for the hostile suite (127.0.0.1, port 0, stopped by the test).

HostileRpc answers each POST with what its current `mode` says: garbage bytes, JSON that is
not JSON-RPC, numbers too big for any balance, HTTP errors, a reply dripped a byte at a time,
a body bigger than any balance reading, a closed connection. Any mode can be switched
between requests, so one server serves a whole generated family.

Forwarder relays every request, whatever its path and query, to a real node (anvil): a
provider's URL with the key in its path (`/v2/<key>`), in front of a real chain."""

from __future__ import annotations

import http.client
import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import urlsplit

from statetui.testing.loopback import PostServer, send

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _answers(request: Any, result_for: Callable[[dict], Any]) -> Any:
    calls = request if isinstance(request, list) else [request]
    out = [{"jsonrpc": "2.0", "id": c.get("id"), "result": result_for(c)} for c in calls if isinstance(c, dict)]
    return out if isinstance(request, list) else (out[0] if out else {})


def honest(chain_id: int = 137, cash_raw: int = 200_970_000, decimals: int = 6, timestamp: int = 1768528560,
           block: int = 1234) -> Callable[[dict], Any]:
    """A well-behaved node's answer to each call statetui makes (a result per method)."""
    def result_for(call: dict) -> Any:
        method = call.get("method")
        if method == "eth_chainId":
            return hex(chain_id)
        if method == "eth_blockNumber":
            return hex(block)
        if method == "eth_getBlockByNumber":
            return {"number": hex(block), "timestamp": hex(timestamp)}
        if method == "eth_getCode":
            return "0x6001"
        if method == "eth_call":
            data = call["params"][0]["data"]
            if data.startswith("0x313ce567"):  # decimals()
                return "0x" + f"{decimals:064x}"
            if data.startswith("0x95d89b41"):  # symbol()
                return "0x" + f"{32:064x}" + f"{4:064x}" + b"USDC".hex().ljust(64, "0")
            return "0x" + f"{cash_raw:064x}"  # balanceOf
        return None

    return result_for


class HostileRpc(PostServer):
    """A JSON-RPC endpoint whose misbehaviour is `mode` (see MODES)."""

    def __init__(self) -> None:
        super().__init__()
        self.mode: str = "honest"
        self.arg: Any = None
        self.requests = 0

    def on_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        self.requests += 1
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        self._serve(handler, request)

    def set(self, mode: str, arg: Any = None) -> None:
        self.mode, self.arg = mode, arg

    # Each mode: how the handler answers.
    def _serve(self, h: BaseHTTPRequestHandler, request: Any) -> None:
        mode, arg = self.mode, self.arg
        if mode == "honest":
            return send(h, 200, json.dumps(_answers(request, honest())).encode())
        if mode == "result":  # every call answered with `arg` as its result
            return send(h, 200, json.dumps(_answers(request, lambda c: arg)).encode())
        if mode == "method":  # honest, except method arg[0] answered with arg[1]
            base = honest()
            return send(h, 200, json.dumps(_answers(request, lambda c: arg[1] if c.get("method") == arg[0] else base(c))).encode())
        if mode == "honest-with":  # honest with other figures (chain id, cash, decimals, timestamp)
            return send(h, 200, json.dumps(_answers(request, honest(**arg))).encode())
        if mode == "echo":  # a server quoting the request path back (status arg), key and all
            return send(h, arg, f"Cannot POST {h.path} ({h.headers.get('Authorization')})".encode())
        if mode == "raw":  # these exact bytes, HTTP 200
            return send(h, 200, arg)
        if mode == "http":  # (status, body)
            return send(h, arg[0], arg[1])
        if mode == "error-object":
            doc = [{"jsonrpc": "2.0", "id": c.get("id"), "error": arg} for c in (request or [{}]) if isinstance(c, dict)]
            return send(h, 200, json.dumps(doc).encode())
        if mode == "drip":  # a valid answer, one byte every arg seconds
            payload = json.dumps(_answers(request, honest())).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            try:
                for i in range(len(payload)):
                    h.wfile.write(payload[i:i + 1])
                    h.wfile.flush()
                    time.sleep(arg)
            except OSError:
                pass
            return None
        if mode == "silent":  # read the request, never answer (until the client gives up)
            time.sleep(arg)
            return None
        if mode == "huge-body":  # arg bytes of a JSON string, announced honestly
            h.send_response(200)
            h.send_header("Content-Length", str(arg))
            h.end_headers()
            try:
                chunk = b" " * 65536
                sent = 0
                while sent < arg:
                    n = min(len(chunk), arg - sent)
                    h.wfile.write(chunk[:n])
                    sent += n
            except OSError:
                pass
            return None
        if mode == "close":  # hang up without a word
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        raise ValueError(mode)


class Forwarder(PostServer):
    """Relays every POST (any path, any query) to `target` (a real node's URL)."""

    def __init__(self, target: str):
        super().__init__()
        self._target = urlsplit(target)
        self.paths: list[str] = []

    def on_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        self.paths.append(handler.path)
        conn = http.client.HTTPConnection(self._target.hostname, self._target.port, timeout=10)
        try:
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            send(handler, resp.status, resp.read())
        finally:
            conn.close()
