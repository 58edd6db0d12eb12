"""Read the wallet's on-chain cash and positions: read-only, one pinned block.

JSON-RPC is spoken directly over one kept-alive HTTP connection, with call data
encoded by hand (a selector and padded words): web3's contract helper costs ~3 ms a
call and `import web3` ~0.65 s, and this module must stay cheap to import (the
console and local-only audits import it). Only keccak (for EIP-55 checksums) is
imported, lazily, from eth_hash, which web3 already depends on.

No silent retries: a timeout is reported at once. The one exception is a kept-alive
connection the server closed while it sat idle, which is reopened once (nothing was
answered on it, so nothing is retried after a hang).

Every error is a ChainError subclass with a one-line message; any message that
names the RPC URL shows it redacted. No private key is ever asked for or read."""

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
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, Sequence
from urllib.parse import unquote, urlsplit

from statetui.core.config import Config
from statetui.core.errors import ChainError, UsageError
from statetui.core.redact import RpcUrl, redact_text


# --- errors -------------------------------------------------------------------

class ChainNotConfiguredError(ChainError, UsageError):
    """rpc_url, wallet or the token list is not set."""


class RpcUrlError(ChainError, UsageError):
    """The RPC URL (or the timeout) cannot be used: not http(s), malformed, not ASCII."""


class RpcUnreachableError(ChainError):
    """No connection to the RPC (refused, DNS, TLS, connection dropped)."""


class RpcTimeoutError(ChainError):
    """The RPC did not answer within config.rpc_timeout."""


class WrongChainError(ChainError):
    """The RPC serves another chain than config.chain_id."""

    def __init__(self, message: str, expected: int, got: int):
        super().__init__(message)
        self.expected = expected
        self.got = got


class NoContractCodeError(ChainError):
    """A token (or the conditional tokens contract) has no code at the pinned block."""

    def __init__(self, message: str, address: str):
        super().__init__(message)
        self.address = address


class BadAddressError(ChainError, UsageError):
    """An address is malformed or not EIP-55 checksummed. `what` says which one."""

    def __init__(self, message: str, what: str):
        super().__init__(message)
        self.what = what


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


# --- addresses ------------------------------------------------------------------

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def to_checksum_address(address: str) -> str:
    """EIP-55: a hex letter is upper case when the matching nibble of keccak(lower hex) is >= 8."""
    from eth_hash.auto import keccak  # lazy: pycryptodome costs ~30 ms to import

    body = address[2:].lower()
    digest = keccak(body.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(body))


def require_checksummed(value: object, what: str) -> str:
    """The address itself when it is well formed and checksummed, else BadAddressError naming `what`."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise BadAddressError(f"{what} address {value!r} is malformed: expected 0x followed by 40 hex digits", what)
    good = to_checksum_address(value)
    if value == good:
        return value
    body = value[2:]
    if body == body.lower() or body == body.upper():
        raise BadAddressError(f"{what} address {value} is not checksummed (EIP-55): write it as {good}", what)
    # Mixed case that does not match: likely a typo, so suggest nothing.
    raise BadAddressError(f"{what} address {value} fails its EIP-55 checksum: it may be mistyped", what)


# --- the reading ------------------------------------------------------------------

_EXACT = Context(prec=100)  # uint256 has 78 digits: money arithmetic on it must not round
_MAX_BLOCK_TIME = 253402300800  # 10000-01-01: beyond it, not a block's time

# Selectors: first 4 bytes of keccak256 of the signature.
_BALANCE_OF = "0x70a08231"  # balanceOf(address)
_DECIMALS = "0x313ce567"  # decimals()
_SYMBOL = "0x95d89b41"  # symbol()
_BALANCE_OF_1155 = "0x00fdd58e"  # balanceOf(address,uint256)


@dataclass
class TokenBalance:
    address: str
    symbol: str | None
    decimals: int
    raw: int
    amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "symbol": self.symbol, "decimals": self.decimals,
                "raw": str(self.raw), "amount": str(self.amount)}


@dataclass
class ChainReading:
    rpc_url: str  # redacted
    chain_id: int
    block_number: int
    block_time: int  # unix seconds of the pinned block
    wallet: str
    tokens: list[TokenBalance] = field(default_factory=list)
    cash: Decimal = Decimal(0)
    positions: dict[int, int] = field(default_factory=dict)  # ERC-1155 token id -> raw balance
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: Decimals and uint256 values as strings (a JSON reader may not hold 78 digits)."""
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "block_number": self.block_number,
            "block_time": self.block_time,
            "wallet": self.wallet,
            "tokens": [t.to_dict() for t in self.tokens],
            "cash": str(self.cash),
            "positions": {str(k): str(v) for k, v in self.positions.items()},
            "elapsed_ms": round(self.elapsed_ms, 2),
        }

    def evidence(self) -> dict[str, Any]:
        """What the chain said, JSON-safe, for a plan and its journal entry (the URL redacted)."""
        from datetime import datetime, timezone

        when = datetime.fromtimestamp(self.block_time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        ev: dict[str, Any] = {"rpc_url": self.rpc_url, "chain_id": self.chain_id, "wallet": self.wallet,
                              "block_number": self.block_number, "block_time": when}
        for t in self.tokens:
            key = f"balance {t.symbol or t.address}"
            ev[key if key not in ev else f"{key} {t.address}"] = f"{t.amount} ({t.address})"
        for token_id, raw in self.positions.items():
            ev[f"position {token_id}"] = str(raw)
        return ev


# (rpc url, chain id, token) -> (decimals, symbol): read once per process.
_TOKEN_META: dict[tuple[str, int, str], tuple[int, str | None]] = {}


def clear_token_cache() -> None:
    _TOKEN_META.clear()


def read_chain(config: Config, position_token_ids: Sequence[int] = (), *, block: int | None = None) -> ChainReading:
    """Cash (sum of balanceOf(wallet) over config.tokens) and ERC-1155 position balances
    on config.ctf_address, all at one block: `block`, or the head when None."""
    started = time.perf_counter()
    url = RpcUrl(config.rpc_url) if config.rpc_url else None
    if not url or not config.wallet:
        raise ChainNotConfiguredError("chain not configured: set rpc_url and wallet (STATETUI_RPC_URL, STATETUI_WALLET)")
    if not config.tokens:  # summing no token would call the wallet empty
        raise ChainNotConfiguredError("chain not configured: no token addresses (tokens) to read the cash from")
    wallet = require_checksummed(config.wallet, "wallet")
    tokens = [require_checksummed(t, "token") for t in config.tokens]
    ids = [_token_id(i) for i in position_token_ids]
    ctf = require_checksummed(config.ctf_address, "conditional tokens (ctf_address)") if ids else config.ctf_address
    if block is not None and (isinstance(block, bool) or not isinstance(block, int) or block < 0):
        raise ChainError(f"block {block!r} is not a block number")

    rpc = _Rpc(url, config.rpc_timeout)
    # Chain id first: nothing else in this reading is used unless it matches.
    head = rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])] if block is None else [("eth_chainId", [])])
    chain_id = _quantity(rpc.ok(head[0], "eth_chainId"), "eth_chainId", rpc)
    if chain_id != config.chain_id:
        raise WrongChainError(
            f"RPC {rpc.shown} serves chain id {chain_id}, expected {config.chain_id}: refusing to read balances from another chain",
            expected=config.chain_id, got=chain_id)
    number = block if block is not None else _quantity(rpc.ok(head[1], "eth_blockNumber"), "eth_blockNumber", rpc)
    tag = hex(number)

    owner = _word_address(wallet)
    calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", [tag, False])]
    calls += [("eth_call", [{"to": t, "data": _BALANCE_OF + owner}, tag]) for t in tokens]
    unknown = [t for t in dict.fromkeys(tokens) if (url, chain_id, t) not in _TOKEN_META]
    for t in unknown:
        calls += [("eth_call", [{"to": t, "data": _DECIMALS}, tag]), ("eth_call", [{"to": t, "data": _SYMBOL}, tag])]
    calls += [("eth_call", [{"to": ctf, "data": _BALANCE_OF_1155 + owner + f"{i:064x}"}, tag]) for i in ids]
    answers = rpc.batch(calls)

    header = rpc.ok(answers[0], "eth_getBlockByNumber")
    if header is None:
        raise ChainError(f"RPC {rpc.shown} has no block {number}")
    if not isinstance(header, dict):
        raise rpc.malformed("eth_getBlockByNumber", f"a block must be an object, got {_show(header)}")
    block_time = _quantity(header.get("timestamp"), "eth_getBlockByNumber timestamp", rpc)
    if block_time >= _MAX_BLOCK_TIME:  # a date no clock shows (and datetime cannot hold)
        raise rpc.malformed("eth_getBlockByNumber", f"timestamp {block_time} is not a block time")

    pos = 1
    raws: list[int] = []
    for t in tokens:
        raws.append(_uint(rpc, answers[pos], f"balanceOf at token {t}", t, tag, "token"))
        pos += 1
    for t in unknown:
        decimals = _uint(rpc, answers[pos], f"decimals() at token {t}", t, tag, "token")
        if decimals > 77:
            raise rpc.malformed(f"decimals() at token {t}", f"{decimals} decimals is not a token's")
        _TOKEN_META[(url, chain_id, t)] = (decimals, _symbol(answers[pos + 1]))
        pos += 2
    positions: dict[int, int] = {}
    for i in ids:
        positions[i] = _uint(rpc, answers[pos], f"balanceOf(wallet, {i}) at conditional tokens {ctf}", ctf, tag,
                             "conditional tokens contract")
        pos += 1

    balances = []
    cash = Decimal(0)
    for t, raw in zip(tokens, raws):
        decimals, symbol = _TOKEN_META[(url, chain_id, t)]
        amount = Decimal(raw).scaleb(-decimals, _EXACT)
        cash = _EXACT.add(cash, amount)
        balances.append(TokenBalance(t, symbol, decimals, raw, amount))
    return ChainReading(
        rpc_url=rpc.shown, chain_id=chain_id, block_number=number, block_time=block_time, wallet=wallet,
        tokens=balances, cash=cash, positions=positions, elapsed_ms=(time.perf_counter() - started) * 1000)


def _token_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise ChainError(f"position token id {value!r} is not a uint256")
    return value


def _word_address(address: str) -> str:
    return address[2:].lower().rjust(64, "0")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_HEX_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def _quantity(value: object, what: str, rpc: "_Rpc") -> int:
    if not isinstance(value, str) or not _HEX_QUANTITY.fullmatch(value):
        raise rpc.malformed(what, f"{_show(value)} is not a hex number")
    return int(value, 16)


def _uint(rpc: "_Rpc", answer: object, what: str, address: str, tag: str, kind: str) -> int:
    """A uint256 return value; empty return data means no code there (checked, to say so)."""
    data = rpc.ok(answer, what)
    if not isinstance(data, str) or not _HEX_DATA.fullmatch(data):
        raise rpc.malformed(what, f"{_show(data)} is not hex data")
    if data == "0x":
        code = rpc.ok(rpc.batch([("eth_getCode", [address, tag])])[0], "eth_getCode")
        if code in ("0x", "0x0", ""):
            raise NoContractCodeError(
                f"no contract code at {kind} {address} at block {int(tag, 16)}: wrong address, or the RPC is on another network",
                address)
        raise rpc.malformed(what, "empty return data from a contract: not an ERC-20 / ERC-1155?")
    if len(data) < 66:
        raise rpc.malformed(what, f"{(len(data) - 2) // 2} bytes returned, expected 32")
    return int(data[2:66], 16)


def _symbol(answer: object) -> str | None:
    """ABI string, or bytes32 as some old tokens return; None when unreadable (symbol is only a label)."""
    if isinstance(answer, Exception) or not isinstance(answer, str) or not _HEX_DATA.fullmatch(answer):
        return None
    data = bytes.fromhex(answer[2:])
    try:
        if len(data) == 32:
            text = data.rstrip(b"\0").decode("utf-8")
        else:
            offset = int.from_bytes(data[0:32], "big")
            length = int.from_bytes(data[offset:offset + 32], "big")
            raw = data[offset + 32:offset + 32 + length]
            if length > 64 or len(raw) != length:
                return None
            text = raw.decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return None
    text = "".join(c for c in text if c.isprintable()).strip()
    return text or None


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


class _Rpc:
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
        if isinstance(answer, _CallFailed):
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
        """Each call's result, or a _CallFailed for a JSON-RPC error object; in order."""
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
            raise self.malformed(what, f"expected a JSON-RPC batch (a list), got {_show(doc)}")
        by_id = {item.get("id"): item for item in doc if isinstance(item, dict)}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(i)
            if item is None:
                raise self.malformed(what, f"no answer to {method} (id {i})")
            if item.get("error") is not None:
                error = item["error"]
                code = error.get("code") if isinstance(error, dict) else None
                results.append(_CallFailed(redact_text(_error_text(error), self.url), code if isinstance(code, int) else None,
                                           redact_text(_error_detail(error), self.url)))
            elif "result" in item:
                results.append(item["result"])
            else:
                raise self.malformed(method, "neither result nor error")
        return results


class Deferred:
    """An answer not decoded yet (_Rpc.call_deferred): .result() decodes it, or raises as
    the call would have."""

    def __init__(self, rpc: _Rpc, raw: bytes, calls: list[tuple[str, list[Any]]]):
        self.rpc, self.raw, self.calls = rpc, raw, calls

    def result(self) -> Any:
        answer = self.rpc.parse_batch(self.raw, self.calls, self.calls[0][0])[0]
        return self.rpc.ok(answer, self.calls[0][0])


class _CallFailed(Exception):
    def __init__(self, message: str, code: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or message


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        message = str(error.get("message", "error"))[:200]
        return f"{message} (code {error.get('code')})" if "code" in error else message
    return _show(error)


def _error_detail(error: object) -> str:
    """A JSON-RPC error's message and data as one text (providers put range hints in either)."""
    if not isinstance(error, dict):
        return _show(error)
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
