"""A real EVM for the demo: the wallet's cash lives in contract storage and is read with
ordinary eth_call, by the same reader statetui uses against Polygon. No fake numbers.

Two backends, one interface (a JSON-RPC URL):
  py-evm  the Python EVM, in this process, served over loopback HTTP from a thread.
          The test ERC-20 (pUSD, USDC.e) and ERC-1155 (conditional tokens) runtime code
          sits at the real Polymarket addresses from genesis, balances in storage.
  anvil   Foundry's node, when installed (statetui/testing/anvil.py starts it).

The simulated bot moves cash with the dev calls anvil has (anvil_setStorageAt then
evm_mine), which the py-evm server answers too, so the bot does not care which runs."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from statetui.core.config import CTF, PUSD, USDC_E
from statetui.core.errors import StatetuiError

CHAIN_ID = 137
DECIMALS = 6
# The demo wallet keeps some legacy USDC.e beside pUSD, as many bots do; the rest is pUSD.
LEGACY_USDC_E = Decimal("50.47")
BACKENDS = ("auto", "py-evm", "anvil")


class ChainUnavailable(StatetuiError):
    """No local EVM can be started here."""


@dataclass
class DemoChain:
    kind: str  # "py-evm" | "anvil"
    url: str
    pid: int  # the process serving it (this one for py-evm)
    _stop: Callable[[], None] = field(repr=False, default=lambda: None)
    proc: Any = field(default=None, repr=False)  # anvil's Popen (None for py-evm, in this process)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._stop()


def pyevm_available() -> bool:
    try:
        return importlib.util.find_spec("eth.chains.base") is not None
    except ModuleNotFoundError:
        return False


def start_chain(kind: str = "auto", wallet: str | None = None, cash: Decimal = Decimal(0),
                positions: dict[int, int] | None = None) -> DemoChain:
    """A running chain whose `wallet` holds `cash` (and the ERC-1155 `positions`, id -> raw)."""
    if kind not in BACKENDS:
        raise ChainUnavailable(f"unknown demo chain {kind!r} (choose {', '.join(BACKENDS)})")
    if kind == "py-evm" or (kind == "auto" and pyevm_available()):
        if not pyevm_available():
            raise ChainUnavailable("py-evm is not installed: pip install 'py-evm>=0.12.1b1' (or use anvil)")
        return start_pyevm(wallet, cash, positions or {})
    return start_anvil_chain(wallet, cash, positions or {}, explicit=kind == "anvil")


# --- cash and positions, over JSON-RPC (both backends) ---------------------------------

def split_cash(cash: Decimal) -> dict[str, int]:
    """Raw token balances that add up to `cash` exactly: legacy USDC.e first, the rest pUSD."""
    raw = int((Decimal(cash) * 10**DECIMALS).to_integral_value())
    if raw < 0:
        raise ValueError(f"cash cannot be negative: {cash}")
    legacy = min(raw, int(LEGACY_USDC_E * 10**DECIMALS))
    return {PUSD: raw - legacy, USDC_E: legacy}


def _storage_writes(wallet: str, cash: Decimal | None, positions: dict[int, int]) -> list[tuple[str, str, int]]:
    from statetui.testing.anvil import erc20_balance_slot, erc1155_balance_slot

    writes = []
    if cash is not None:
        writes += [(token, erc20_balance_slot(wallet), raw) for token, raw in split_cash(cash).items()]
    writes += [(CTF, erc1155_balance_slot(wallet, token_id), raw) for token_id, raw in positions.items()]
    return writes


def set_wallet(url: str, wallet: str, cash: Decimal | None = None, positions: dict[int, int] | None = None,
               timeout: float = 5.0) -> None:
    """Set the wallet's cash (and ERC-1155 balances) and mine one block, in one batch."""
    calls = [("anvil_setStorageAt", [addr, slot, f"0x{value:064x}"])
             for addr, slot, value in _storage_writes(wallet, cash, positions or {})]
    rpc_batch(url, calls + [("evm_mine", [])], timeout)


def get_cash(url: str, wallet: str, timeout: float = 5.0) -> Decimal:
    """The wallet's cash now (pUSD + USDC.e), by plain eth_call: the bot moves it relative
    to what the chain holds, so a change made outside the bot stays visible."""
    data = "0x70a08231" + wallet.lower().removeprefix("0x").rjust(64, "0")  # balanceOf(wallet)
    raw = rpc_batch(url, [("eth_call", [{"to": token, "data": data}, "latest"]) for token in (PUSD, USDC_E)], timeout)
    return sum((Decimal(int(x, 16)) for x in raw), Decimal(0)) / 10**DECIMALS


def rpc_batch(url: str, calls: list[tuple[str, list[Any]]], timeout: float = 5.0) -> list[Any]:
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answers = {a.get("id"): a for a in json.loads(resp.read())}
    out = []
    for i, (method, _) in enumerate(calls):
        answer = answers.get(i, {})
        if answer.get("error") is not None or "result" not in answer:
            raise StatetuiError(f"demo chain {url}: {method} failed: {answer.get('error')}")
        out.append(answer["result"])
    return out


# --- anvil ----------------------------------------------------------------------------

def start_anvil_chain(wallet: str | None, cash: Decimal, positions: dict[int, int], explicit: bool = True) -> DemoChain:
    from statetui.testing import anvil

    try:
        binary = anvil.find_anvil(install=False)
    except anvil.AnvilUnavailable:
        if explicit:
            raise ChainUnavailable("anvil is not installed: run `npm ci` in the repository, or put anvil on PATH") from None
        raise ChainUnavailable("the demo needs a local EVM: pip install 'py-evm>=0.12.1b1' "
                               "(or install anvil: `npm ci` in the repository)") from None
    try:
        node = anvil.start_anvil(CHAIN_ID, binary=binary)
    except (OSError, RuntimeError) as exc:
        raise ChainUnavailable(f"anvil ({binary}) did not start: {exc}") from None
    try:
        anvil.deploy_polymarket(node.url)
        if wallet:
            set_wallet(node.url, wallet, cash, positions)
        else:
            anvil.mine(node.url)
    except BaseException:
        node.stop()
        raise
    return DemoChain("anvil", node.url, node.pid, node.stop, proc=node.proc)


# --- py-evm -----------------------------------------------------------------------------

def start_pyevm(wallet: str | None, cash: Decimal, positions: dict[int, int]) -> DemoChain:
    node = PyEvmNode(wallet, cash, positions)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(node))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="statetui-demo-chain", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return DemoChain("py-evm", f"http://127.0.0.1:{server.server_address[1]}", os.getpid(), stop)


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: str | None = None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def _hex(value: int) -> str:
    return hex(value)


def _int(value: Any, what: str) -> int:
    try:
        return int(value, 16) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise RpcError(-32602, f"invalid {what}: {value!r}") from None


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(-32602, f"invalid {what}: {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(-32602, f"invalid {what}: {value!r}") from None


def _code(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _address(value: Any) -> bytes:
    raw = _bytes(value, "address")
    if len(raw) != 20:
        raise RpcError(-32602, f"invalid address: {value!r}")
    return raw


class PyEvmNode:
    """A py-evm chain (chain id 137, latest fork) answering the JSON-RPC methods the
    reader and the demo bot use. One lock: py-evm is not thread-safe."""

    def __init__(self, wallet: str | None, cash: Decimal, positions: dict[int, int]):
        from eth.chains.base import MiningChain
        from eth.constants import ZERO_ADDRESS
        from eth.db.atomic import AtomicDB
        from eth.vm.forks import PragueVM

        from statetui.testing.anvil import bytecode

        self.lock = threading.Lock()
        self._dirty = False
        klass = type("StatetuiDemoChain", (MiningChain,), {"chain_id": CHAIN_ID, "vm_configuration": ((0, PragueVM),)})
        code = bytecode()
        genesis: dict[bytes, dict[str, Any]] = {}
        for token, symbol in ((PUSD, "pUSD"), (USDC_E, "USDC.e")):
            # Storage layout of TestERC20: balances at slot 0, symbol (short string) at 1, decimals at 2.
            word = symbol.encode().ljust(31, b"\0") + bytes([len(symbol) * 2])
            genesis[_address(token)] = {"balance": 0, "nonce": 0, "code": _code(code["TestERC20"]),
                                        "storage": {1: int.from_bytes(word, "big"), 2: DECIMALS}}
        genesis[_address(CTF)] = {"balance": 0, "nonce": 0, "code": _code(code["TestERC1155"]), "storage": {}}
        if wallet:
            for addr, slot, value in _storage_writes(wallet, cash, positions):
                genesis[_address(addr)]["storage"][int(slot, 16)] = value
        params = {"difficulty": 0, "gas_limit": 30_000_000, "timestamp": int(time.time()), "coinbase": ZERO_ADDRESS,
                  "extra_data": b"statetui demo", "nonce": b"\0" * 8, "mix_hash": b"\0" * 32}
        self.chain = klass.from_genesis(AtomicDB(), params, genesis)

    # --- blocks ---
    def head(self):
        return self.chain.get_canonical_head()

    def header_at(self, tag: Any):
        head = self.head()
        if tag in (None, "latest", "safe", "finalized", "pending"):
            return head
        if tag == "earliest":
            return self.chain.get_canonical_block_header_by_number(0)
        number = _int(tag, "block")
        if number > head.block_number:
            return None
        return self.chain.get_canonical_block_header_by_number(number)

    def _require(self, tag: Any):
        header = self.header_at(tag)
        if header is None:
            raise RpcError(-32000, f"header not found: block {tag} is beyond the head")
        return header

    def mine(self) -> None:
        parent = self.head()
        self.chain.header = self.chain.header.copy(timestamp=max(int(time.time()), parent.timestamp + 1))
        self.chain.mine_block()
        self._dirty = False

    def finish_request(self) -> None:
        """State set without a mine is mined at the end of the request, so it shows at
        'latest' at once, as on anvil."""
        if self._dirty:
            self.mine()

    # --- methods ---
    def call(self, method: str, params: list[Any]) -> Any:
        fn = getattr(self, "rpc_" + method, None)
        if fn is None:
            raise RpcError(-32601, f"method {method} not supported by the statetui demo chain")
        if not isinstance(params, list):
            raise RpcError(-32602, "params must be a list")
        try:
            inspect.signature(fn).bind(*params)
        except TypeError:
            raise RpcError(-32602, f"wrong number of params for {method}") from None
        return fn(*params)

    def rpc_eth_chainId(self) -> str:
        return _hex(CHAIN_ID)

    def rpc_net_version(self) -> str:
        return str(CHAIN_ID)

    def rpc_web3_clientVersion(self) -> str:
        return "statetui-demo/py-evm"

    def rpc_eth_blockNumber(self) -> str:
        return _hex(self.head().block_number)

    def rpc_eth_getBlockByNumber(self, tag: Any, full: bool = False) -> dict[str, Any] | None:
        h = self.header_at(tag)
        if h is None:
            return None
        return {
            "number": _hex(h.block_number), "hash": "0x" + h.hash.hex(), "parentHash": "0x" + h.parent_hash.hex(),
            "timestamp": _hex(h.timestamp), "stateRoot": "0x" + h.state_root.hex(), "miner": "0x" + h.coinbase.hex(),
            "gasLimit": _hex(h.gas_limit), "gasUsed": _hex(h.gas_used), "extraData": "0x" + h.extra_data.hex(),
            "baseFeePerGas": _hex(getattr(h, "base_fee_per_gas", 0) or 0), "transactions": [], "uncles": [],
        }

    def rpc_eth_getCode(self, address: Any, tag: Any = "latest") -> str:
        state = self.chain.get_vm(self._require(tag)).state
        return "0x" + state.get_code(_address(address)).hex()

    def rpc_eth_getBalance(self, address: Any, tag: Any = "latest") -> str:
        return _hex(self.chain.get_vm(self._require(tag)).state.get_balance(_address(address)))

    def rpc_eth_getStorageAt(self, address: Any, slot: Any, tag: Any = "latest") -> str:
        value = self.chain.get_vm(self._require(tag)).state.get_storage(_address(address), _int(slot, "slot"))
        return f"0x{value:064x}"

    def rpc_eth_call(self, tx: Any, tag: Any = "latest") -> str:
        from eth.constants import ZERO_ADDRESS
        from eth.exceptions import VMError
        from eth.vm.spoof import SpoofTransaction

        if not isinstance(tx, dict) or "to" not in tx:
            raise RpcError(-32602, "eth_call needs a transaction object with 'to'")
        header = self._require(tag)
        data = _bytes(tx.get("data") or tx.get("input") or "0x", "data")
        sender = _address(tx["from"]) if tx.get("from") else ZERO_ADDRESS
        vm = self.chain.get_vm(header)
        unsigned = vm.get_transaction_builder().create_unsigned_transaction(
            nonce=vm.state.get_nonce(sender), gas_price=0, gas=30_000_000, to=_address(tx["to"]), value=0, data=data)
        try:
            return "0x" + self.chain.get_transaction_result(SpoofTransaction(unsigned, from_=sender), header).hex()
        except VMError as exc:  # a revert: the answer to this call, not a server failure
            raise RpcError(3, f"execution reverted: {type(exc).__name__}") from None

    def rpc_eth_getLogs(self, query: Any) -> list[Any]:
        """No contract here emits an event (the demo sets balances in storage): the true answer
        to every log query is none (statetui's history scan then reports that the balances
        moved without Transfer events)."""
        if not isinstance(query, dict):
            raise RpcError(-32602, "eth_getLogs needs a filter object")
        return []

    def rpc_anvil_setStorageAt(self, address: Any, slot: Any, value: Any) -> bool:
        addr, key, word = _address(address), _int(slot, "slot"), _int(value, "value")
        vm = self.chain.get_vm()
        vm.state.set_storage(addr, key, word)
        vm.state.persist()
        self.chain.header = self.chain.header.copy(state_root=vm.state.state_root)
        self._dirty = True
        return True

    rpc_hardhat_setStorageAt = rpc_anvil_setStorageAt

    def rpc_evm_mine(self, *_: Any) -> str:
        self.mine()
        return "0x0"

    def rpc_anvil_mine(self, blocks: Any = "0x1", *_: Any) -> None:
        for _ in range(max(1, _int(blocks, "blocks"))):
            self.mine()
        return None


def _handler_for(node: PyEvmNode) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the reader's pooled connections expect
        timeout = 60  # an idle kept-alive connection is closed after this
        # Headers and body go out in two writes: with Nagle on, the second waits for the
        # client's delayed ACK (~40 ms a request).
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet: the console owns the terminal
            pass

        def do_GET(self) -> None:
            self._send(200, b"statetui demo chain (py-evm): POST JSON-RPC here\n", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                doc = json.loads(body)
            except ValueError:
                self._json({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
                return
            with node.lock:
                answer = [self._one(r) for r in doc] if isinstance(doc, list) else self._one(doc)
                node.finish_request()
            self._json(answer)

        def _one(self, req: Any) -> dict[str, Any]:
            rid = req.get("id") if isinstance(req, dict) else None
            if not isinstance(req, dict) or not isinstance(req.get("method"), str):
                return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32600, "message": "invalid request"}}
            try:
                return {"jsonrpc": "2.0", "id": rid, "result": node.call(req["method"], req.get("params", []))}
            except RpcError as exc:
                return {"jsonrpc": "2.0", "id": rid, "error": {"code": exc.code, "message": exc.message}}
            except Exception as exc:  # keep serving: one bad call must not take the chain down
                return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"internal error: {exc}"}}

        def _json(self, obj: Any) -> None:
            self._send(200, json.dumps(obj).encode(), "application/json")

        def _send(self, status: int, data: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
