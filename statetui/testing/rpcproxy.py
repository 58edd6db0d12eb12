"""A loopback JSON-RPC proxy in front of anvil that behaves like a hosted provider:
eth_getLogs block-range and result-count caps, and rate limits, refused with the codes,
HTTP statuses and words each provider uses (as published in their docs and issues).
Everything else passes through to the real node. It counts what it served, so tests
can assert how many calls a scan made and which ranges it asked for.

    with LimitingProxy(node.url, style="alchemy", max_range=500, max_results=40, rate_every=7) as proxy:
        ... config.rpc_url = proxy.url ...
        proxy.get_logs  # [(from, to), ...] of every eth_getLogs that reached it"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler
from typing import Any

from statetui.testing.loopback import PostServer, send

STYLES = ("alchemy", "infura", "quicknode", "ankr", "drpc", "chainstack", "polygon")


def _range_error(style: str, a: int, b: int, limit: int) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON-RPC error) for a range wider than `limit` blocks."""
    span = b - a + 1
    if style == "alchemy":
        return 200, {"code": -32600, "message": f"Under the Free tier plan, you can make eth_getLogs requests with up to "
                                                f"a {limit} block range. Based on your parameters, this block range should "
                                                f"work: [{hex(a)}, {hex(a + limit - 1)}]"}
    if style == "infura":
        return 200, {"code": -32602, "message": f"range {span} exceeds limit of {limit}"}
    if style == "quicknode":
        return 413, {"code": -32614, "message": f"eth_getLogs is limited to a {limit:,} range"}
    if style == "ankr":
        return 200, {"code": -32600, "message": "block range is too wide"}
    if style == "drpc":
        return 200, {"code": 35, "message": f"ranges over {limit} blocks are not supported on freetier"}
    if style == "chainstack":
        return 200, {"code": -32000, "message": "Block range limit exceeded."}
    return 200, {"code": -32000, "message": f"exceed maximum block range: {limit}"}


def _results_error(style: str, a: int, fits_to: int, limit: int) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON-RPC error) for more than `limit` logs; [a, fits_to] would fit."""
    if style == "alchemy":
        return 200, {"code": -32602, "message": "Log response size exceeded. You can make eth_getLogs requests with up to "
                                                "a 2K block range and no limit on the response size, or you can request any "
                                                f"block range with a cap of {limit} logs in the response. Based on your "
                                                "parameters and the response size limit, this block range should work: "
                                                f"[{hex(a)}, {hex(fits_to)}]"}
    if style == "infura":
        return 200, {"code": -32005, "data": {"from": hex(a), "to": hex(fits_to), "limit": limit},
                     "message": f"query returned more than {limit} results. Try with this block range [{hex(a)}, {hex(fits_to)}]."}
    if style == "ankr":
        return 200, {"code": -32602, "message": f"query exceeds max results {limit}, retry with the range {a}-{fits_to}"}
    return 200, {"code": -32005, "message": f"query returned more than {limit} results"}


def _rate_error(style: str, wait: float) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(HTTP status, JSON-RPC error, headers) for a rate-limited request."""
    if style == "alchemy":
        return 429, {"code": 429, "message": "Your app has exceeded its compute units per second capacity. If you have "
                                             "retries enabled, you can safely ignore this message. If not, check out "
                                             "https://docs.alchemy.com/reference/throughput"}, {}
    if style == "infura":
        return 429, {"code": -32005, "message": "project ID request rate exceeded",
                     "data": {"rate": {"allowed_rps": 1, "backoff_seconds": wait, "current_rps": 2}}}, {}
    if style == "quicknode":
        return 429, {"code": -32007, "message": "15/second request limit reached - reduce calls per second or upgrade "
                                                "your account at quicknode.com"}, {"Retry-After": str(wait)}
    if style == "ankr":
        return 200, {"code": -32090, "message": f"Too many requests, reason: call rate limit exhausted, retry in {wait}s"}, {}
    if style == "drpc":
        return 429, {"code": 429, "message": "Too many requests, try again later"}, {"Retry-After": str(wait)}
    return 429, {"code": -32005, "message": "rate limit exceeded"}, {"Retry-After": str(wait)}


class LimitingProxy(PostServer):
    def __init__(self, upstream: str, *, style: str = "polygon", max_range: int | None = None,
                 max_results: int | None = None, rate_every: int | None = None, rate_wait: float = 0.01,
                 state_window: int | None = None):
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        super().__init__()
        self.upstream = upstream
        self.style = style
        self.max_range = max_range
        self.max_results = max_results
        self.rate_every = rate_every
        self.rate_wait = rate_wait
        # Not an archive node: eth_call older than head - state_window fails as geth/Bor answer.
        self.state_window = state_window
        self.requests = 0  # HTTP requests received
        self.calls: list[str] = []  # every JSON-RPC method received, refused or not
        self.get_logs: list[tuple[int, int]] = []  # ranges of eth_getLogs received
        self.refused = {"range": 0, "results": 0, "rate": 0}
        self._lock = threading.Lock()

    def on_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        status, payload, headers = self._answer(json.loads(body))
        send(handler, status, json.dumps(payload).encode(), headers)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.calls.clear()
            self.get_logs.clear()
            self.refused = {"range": 0, "results": 0, "rate": 0}

    def _answer(self, request: Any) -> tuple[int, Any, dict[str, str]]:
        calls = request if isinstance(request, list) else [request]
        with self._lock:
            self.requests += 1
            self.calls += [c.get("method") for c in calls]
            limited = self.rate_every is not None and self.requests % self.rate_every == 0
        if limited:
            self.refused["rate"] += 1
            status, error, headers = _rate_error(self.style, self.rate_wait)
            doc = {"jsonrpc": "2.0", "id": calls[0].get("id"), "error": error}
            return status, doc, headers
        answers = []
        for call in calls:
            status, item = self._one(call)
            if status != 200:  # an HTTP-level refusal answers the whole request (QuickNode's 413)
                return status, item, {}
            answers.append(item)
        return 200, (answers if isinstance(request, list) else answers[0]), {}

    def _one(self, call: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if call.get("method") == "eth_getLogs":
            flt = call["params"][0]
            a, b = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
            with self._lock:
                self.get_logs.append((a, b))
            if self.max_range is not None and b - a + 1 > self.max_range:
                self.refused["range"] += 1
                status, error = _range_error(self.style, a, b, self.max_range)
                return status, {"jsonrpc": "2.0", "id": call.get("id"), "error": error}
        if call.get("method") == "eth_call" and self.state_window is not None:
            tag = call["params"][1] if len(call["params"]) > 1 else "latest"
            if isinstance(tag, str) and tag.startswith("0x"):
                head = int(self._forward({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []})["result"], 16)
                if int(tag, 16) < head - self.state_window:
                    return 200, {"jsonrpc": "2.0", "id": call.get("id"), "error": {
                        "code": -32000, "message": "missing trie node 9b1e7fd4c2a5e0d3f8b6a1c4e7d2b5a8c3f6e9d1b4a7c0e3f6d9b2a5c8e1f4d7 (path ) <nil>"}}
        answer = self._forward(call)
        result = answer.get("result")
        if call.get("method") == "eth_getLogs" and self.max_results is not None and isinstance(result, list) \
                and len(result) > self.max_results:
            self.refused["results"] += 1
            fits_to = int(result[self.max_results]["blockNumber"], 16) - 1
            status, error = _results_error(self.style, a, max(a, fits_to), self.max_results)
            return status, {"jsonrpc": "2.0", "id": call.get("id"), "error": error}
        return 200, answer

    def _forward(self, call: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(self.upstream, json.dumps(call).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
