"""Read the wallet's on-chain cash and positions: read-only, one pinned block.

JSON-RPC is spoken directly (statetui.core.rpc), with call data encoded by hand (a
selector and padded words): web3's contract helper costs ~3 ms a call and `import web3`
~0.65 s, and this module must stay cheap to import (the console and local-only audits
import it). Only keccak (for EIP-55 checksums) is imported, lazily, from eth_hash, which
web3 already depends on.

Every error is a ChainError subclass with a one-line message; any message that
names the RPC URL shows it redacted. No private key is ever asked for or read."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, Sequence

from statetui.core.config import Config
from statetui.core.errors import ChainError, UsageError
from statetui.core.redact import RpcUrl
# The RPC's errors and transport live in rpc.py; they are part of this module's API too.
from statetui.core.rpc import (HEX_DATA, CallFailed, Rpc, RpcCallError, RpcResponseError,  # noqa: F401
                               RpcTimeoutError, RpcUnreachableError, RpcUrlError, close_connections, quantity,
                               show_value)


# --- errors -------------------------------------------------------------------

class ChainNotConfiguredError(ChainError, UsageError):
    """rpc_url, wallet or the token list is not set."""


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

    rpc = Rpc(url, config.rpc_timeout)
    # Chain id first: nothing else in this reading is used unless it matches.
    head = rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])] if block is None else [("eth_chainId", [])])
    chain_id = quantity(rpc.ok(head[0], "eth_chainId"), "eth_chainId", rpc)
    if chain_id != config.chain_id:
        raise WrongChainError(
            f"RPC {rpc.shown} serves chain id {chain_id}, expected {config.chain_id}: refusing to read balances from another chain",
            expected=config.chain_id, got=chain_id)
    number = block if block is not None else quantity(rpc.ok(head[1], "eth_blockNumber"), "eth_blockNumber", rpc)
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
        raise rpc.malformed("eth_getBlockByNumber", f"a block must be an object, got {show_value(header)}")
    block_time = quantity(header.get("timestamp"), "eth_getBlockByNumber timestamp", rpc)
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


def _uint(rpc: "Rpc", answer: object, what: str, address: str, tag: str, kind: str) -> int:
    """A uint256 return value; empty return data means no code there (checked, to say so)."""
    data = rpc.ok(answer, what)
    if not isinstance(data, str) or not HEX_DATA.fullmatch(data):
        raise rpc.malformed(what, f"{show_value(data)} is not hex data")
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
    if isinstance(answer, Exception) or not isinstance(answer, str) or not HEX_DATA.fullmatch(answer):
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
