"""JSON-RPC over HTTP for the chain readers: one kept-alive connection per URL, batches,
a deadline on every answer, a cap on its size, and errors that never show the URL's secrets.

No silent retries: a timeout is reported at once. The one exception is a kept-alive
connection the server closed while it sat idle, which is reopened once (nothing was
answered on it, so nothing is retried after a hang)."""

from __future__ import annotations

import base64
import functools
import http.client
import io
import json
import math
import os
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from statetui.core.errors import ChainError, UsageError
from statetui.core.redact import RpcUrl, redact_text


# --- errors -------------------------------------------------------------------

class RpcUrlError(ChainError, UsageError):
    """The RPC URL (or the timeout) cannot be used: not http(s), malformed, not ASCII."""


class RpcUnreachableError(ChainError):
    """No connection to the RPC (refused, DNS, TLS, connection dropped)."""


class RpcTimeoutError(ChainError):
    """The RPC did not answer within config.rpc_timeout."""


class RpcResponseError(ChainError):
    """The RPC answered something that is not the JSON-RPC it should be (not JSON, not a number, ...)."""


class RpcCallError(ChainError):
    """The RPC answered with an error (HTTP status or a JSON-RPC error object).

    `status` (HTTP), `code` and `detail` (the JSON-RPC error's code and message, redacted)
    and `retry_after` (seconds, from a Retry-After header) are kept when the answer had
    them, so a caller can tell a rate limit or a provider's range limit from a refusal."""

    status: int | None = None
    code: int | None = None
    detail: str = ""
    retry_after: float | None = None



def show_value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
HEX_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def quantity(value: object, what: str, rpc: "Rpc") -> int:
    if not isinstance(value, str) or not _HEX_QUANTITY.fullmatch(value):
        raise rpc.malformed(what, f"{show_value(value)} is not a hex number")
    return int(value, 16)



# --- JSON-RPC over HTTP -------------------------------------------------------------

_BATCH_MAX = 100  # providers cap batch sizes; 100 is under every common cap


class _Pool:
    """Idle kept-alive connections per URL, so a reading pays no TCP/TLS setup."""

    def __init__(self) -> None:
        self._idle: dict[str, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, url: str) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(url)
            return idle.pop() if idle else None

    def give(self, url: str, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(url, []).append(conn)

    def close_all(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()

    def forget(self) -> None:
        """In a forked child: the idle sockets are the parent's too. Two processes talking
        over one kept-alive connection read each other's answers, so the child starts
        with none (and a fresh lock: another thread may have held it at the fork)."""
        self._idle = {}
        self._lock = threading.Lock()


_POOL = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.forget)


def close_connections() -> None:
    """Close every kept-alive RPC connection (tests and long-lived faces may call this)."""
    _POOL.close_all()


# An answer bigger than this is not a balance reading: refused, not read into memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class Rpc:
    def __init__(self, url: "str | RpcUrl", timeout: float):
        self.url = RpcUrl(url)
        self.shown = self.url.shown
        raw = self.url.reveal()
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
                math.isfinite(timeout) and 0 < timeout <= 86400):
            raise RpcUrlError(f"rpc_timeout {timeout!r} is not a finite number of seconds (0 < t <= 86400)")
        self.timeout = float(timeout)
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            raise RpcUrlError(f"RPC URL {self.shown} is malformed") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RpcUrlError(f"RPC URL {self.shown} is not an http:// or https:// URL")
        if not raw.isascii() or any(c.isspace() or not c.isprintable() for c in raw):
            raise RpcUrlError(f"RPC URL {self.shown} holds spaces, control or non-ASCII characters "
                              "(percent-encode them)")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username is not None:
            creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(creds).decode("ascii")

    # errors, with the URL (and anything the server echoed of it) redacted
    def _err(self, cls: type[ChainError], message: str) -> ChainError:
        return cls(redact_text(message, self.url))

    def malformed(self, what: str, detail: str) -> ChainError:
        return self._err(RpcResponseError, f"RPC {self.shown} sent a malformed answer to {what}: {detail}")

    def ok(self, answer: object, what: str) -> Any:
        if isinstance(answer, CallFailed):
            raise self._err(RpcCallError, f"RPC {self.shown} refused {what}: {answer.message}")
        return answer

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def post(self, body: bytes, what: str) -> bytes:
        """One POST, answered within `timeout` in all (a server dripping a byte at a time is
        a timeout too, not a hang), its body at most MAX_RESPONSE_BYTES."""
        deadline = time.monotonic() + self.timeout
        for _ in range(2):
            conn = _POOL.take(self.url.reveal())
            reused = conn is not None
            if conn is None:
                conn = self._connect()
            elif conn.sock is not None:
                conn.sock.settimeout(self.timeout)  # the pooled socket may come from a call with another timeout
            conn.response_class = functools.partial(_DeadlineResponse, deadline=deadline)
            try:
                conn.request("POST", self._path, body, self._headers)
                resp = conn.getresponse()
                data = _read_capped(resp)
            except _TooBig:
                conn.close()
                raise self.malformed(what, f"the answer is over {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB") from None
            except TimeoutError:
                conn.close()
                raise self._err(RpcTimeoutError, f"RPC {self.shown} timed out: no answer to {what} within {self.timeout:g} s") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                if reused:
                    continue  # the server closed the idle kept-alive connection: open a fresh one, once
                raise self._err(RpcUnreachableError, f"RPC {self.shown} unreachable: {_cause(exc)}") from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise self._err(RpcUnreachableError, f"RPC {self.shown} unreachable: {_cause(exc)}") from None
            except (UnicodeError, ValueError) as exc:  # http.client refusing what it would send
                conn.close()
                raise self._err(RpcUrlError, f"RPC URL {self.shown} cannot be requested: {_cause(exc)}") from None
            if resp.will_close:
                conn.close()
            else:
                _POOL.give(self.url.reveal(), conn)
            if resp.status != 200:
                raise self._http_error(resp, data, what)
            return data
        raise self._err(RpcUnreachableError, f"RPC {self.shown} unreachable: connection closed")

    def _http_error(self, resp: http.client.HTTPResponse, data: bytes, what: str) -> ChainError:
        """HTTP 4xx/5xx, with the JSON-RPC error a provider often puts in the body (QuickNode
        sends its range limit as HTTP 413, most providers their rate limits as 429)."""
        error: object = None
        from statetui.core.jsondoc import nested_too_deep

        try:
            if nested_too_deep(data[:20000].decode("utf-8", "replace")):
                raise RecursionError
            doc = json.loads(data[:20000])
            doc = doc[0] if isinstance(doc, list) and doc else doc
            error = doc.get("error") if isinstance(doc, dict) else None
        except (ValueError, AttributeError, RecursionError):
            pass
        said = f": {_error_text(error)}" if isinstance(error, dict) else ""
        err = self._err(RpcCallError, f"RPC {self.shown} answered HTTP {resp.status} {resp.reason} to {what}{said}")
        err.status = resp.status
        if isinstance(error, dict):
            err.code = error.get("code") if isinstance(error.get("code"), int) else None
            err.detail = redact_text(_error_detail(error), self.url)
        try:
            err.retry_after = float(resp.getheader("Retry-After") or "")
        except ValueError:
            pass
        return err

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Each call's result, or a CallFailed for a JSON-RPC error object; in order."""
        out: list[Any] = []
        for start in range(0, len(calls), _BATCH_MAX):
            out += self._batch(calls[start:start + _BATCH_MAX])
        return out

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        what = calls[0][0] if len(calls) == 1 else f"a batch of {len(calls)} calls ({calls[0][0]}, ...)"
        raw = self.post(json.dumps(payload, separators=(",", ":")).encode(), what)
        return self.parse_batch(raw, calls, what)

    def call_deferred(self, method: str, params: list[Any], *, over: int) -> Any:
        """One call, whose answer comes back undecoded (a Deferred) when it is longer than
        `over` bytes, for the caller to decode elsewhere (a thread that works while the next
        call waits on the node). An error answer is short, so it is always decoded here."""
        calls = [(method, params)]
        raw = self.post(json.dumps([{"jsonrpc": "2.0", "id": 0, "method": method, "params": params}],
                                   separators=(",", ":")).encode(), method)
        return Deferred(self, raw, calls) if len(raw) > over else self.parse_batch(raw, calls, method)[0]

    def parse_batch(self, raw: bytes, calls: list[tuple[str, list[Any]]], what: str) -> list[Any]:
        from statetui.core.jsondoc import nested_too_deep

        try:
            if nested_too_deep(raw.decode("utf-8")):  # web3 raised the recursion limit: json.loads would crash the C stack
                raise RecursionError
            doc = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, an integer of 5,000 digits, nested 100k deep
            text = raw[:60].decode("utf-8", "replace")
            raise self.malformed(what, f"not JSON: {text!r}") from None
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            err = self._err(RpcCallError, f"RPC {self.shown} refused {what}: {_error_text(doc['error'])}")
            code = doc["error"].get("code")
            err.code = code if isinstance(code, int) else None
            err.detail = redact_text(_error_detail(doc["error"]), self.url)
            raise err
        if not isinstance(doc, list):
            raise self.malformed(what, f"expected a JSON-RPC batch (a list), got {show_value(doc)}")
        by_id = {item.get("id"): item for item in doc if isinstance(item, dict)}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(i)
            if item is None:
                raise self.malformed(what, f"no answer to {method} (id {i})")
            if item.get("error") is not None:
                error = item["error"]
                code = error.get("code") if isinstance(error, dict) else None
                results.append(CallFailed(redact_text(_error_text(error), self.url), code if isinstance(code, int) else None,
                                           redact_text(_error_detail(error), self.url)))
            elif "result" in item:
                results.append(item["result"])
            else:
                raise self.malformed(method, "neither result nor error")
        return results


class Deferred:
    """An answer not decoded yet (Rpc.call_deferred): .result() decodes it, or raises as
    the call would have."""

    def __init__(self, rpc: Rpc, raw: bytes, calls: list[tuple[str, list[Any]]]):
        self.rpc, self.raw, self.calls = rpc, raw, calls

    def result(self) -> Any:
        answer = self.rpc.parse_batch(self.raw, self.calls, self.calls[0][0])[0]
        return self.rpc.ok(answer, self.calls[0][0])


class CallFailed(Exception):
    def __init__(self, message: str, code: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or message


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        message = str(error.get("message", "error"))[:200]
        return f"{message} (code {error.get('code')})" if "code" in error else message
    return show_value(error)


def _error_detail(error: object) -> str:
    """A JSON-RPC error's message and data as one text (providers put range hints in either)."""
    if not isinstance(error, dict):
        return show_value(error)
    parts = [str(error.get("message", ""))[:500]]
    if error.get("data") is not None:
        parts.append(json.dumps(error["data"])[:500] if not isinstance(error["data"], str) else error["data"][:500])
    return " ".join(p for p in parts if p)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host ({exc.strerror or exc})"
    text = str(exc).strip().replace("\n", " ")
    return text or type(exc).__name__


class _TooBig(Exception):
    pass


def _read_capped(resp: http.client.HTTPResponse) -> bytes:
    """The body, refused past MAX_RESPONSE_BYTES (by its Content-Length, or while reading)."""
    length = resp.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise _TooBig()
    chunks, total = [], 0
    while True:
        chunk = resp.read(65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_RESPONSE_BYTES:
            raise _TooBig()
        chunks.append(chunk)


class _DeadlineIO(io.RawIOBase):
    """A socket read that gives up at an absolute deadline: each recv waits only for the
    time left, so an answer dripped a byte at a time times out like a silent one."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, deadline: float, **kwargs: Any):
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the plain makefile() reader: replaced by one that keeps the deadline
        self.fp = io.BufferedReader(_DeadlineIO(sock, deadline))
