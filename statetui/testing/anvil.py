"""A real local chain for tests, benchmarks and the demo: anvil (Foundry's node, from
the npm package pinned in package.json) plus the test contracts of
statetui/core/contracts installed at the real Polymarket addresses.

Start and stop go by pid; nothing here is a mock: balances are set in contract
storage with anvil_setStorageAt and read back through ordinary eth_call."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


class AnvilUnavailable(RuntimeError):
    """anvil is not installed and cannot be installed here (no npm)."""


def find_anvil(install: bool = True) -> str:
    """Path of an anvil binary: $STATETUI_ANVIL, the repo's node_modules (running
    `npm ci` once when missing and `install`), else anvil on PATH.

    The native binary inside the platform package is what runs (never a node wrapper such
    as @foundry-rs/anvil's: killing the wrapper's pid would leave the real node running)."""
    explicit = os.environ.get("STATETUI_ANVIL")
    if explicit:
        return explicit
    found = _repo_anvil()
    if found:
        return found
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    if install and (REPO_ROOT / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise AnvilUnavailable("anvil is not installed and npm is absent: install Node.js/npm, then run `npm ci`")
        cmd = [npm, "ci", "--no-audit", "--no-fund"]
        if not (REPO_ROOT / "package-lock.json").exists():
            cmd[1] = "install"
        done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise AnvilUnavailable(f"`npm ci` failed in {REPO_ROOT}: {' / '.join(tail)}")
        found = _repo_anvil()
        if found:
            return found
    raise AnvilUnavailable("anvil not found: run `npm ci` in the repository root")


def _repo_anvil() -> str | None:
    modules = REPO_ROOT / "node_modules"
    for path in sorted(glob.glob(str(modules / "@foundry-rs" / "anvil-*" / "bin" / "anvil"))):
        if os.access(path, os.X_OK):
            return path
    wrapper = modules / ".bin" / "anvil"
    return str(wrapper) if wrapper.exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One plain JSON-RPC call (for test setup; statetui's reader has its own client)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        doc = json.loads(resp.read())
    if doc.get("error"):
        raise RuntimeError(f"{method}: {doc['error']}")
    return doc["result"]


@dataclass
class Anvil:
    """A running anvil. `stop()` kills it by pid and waits for it."""

    proc: subprocess.Popen
    url: str
    port: int
    chain_id: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        return rpc(self.url, method, params)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "Anvil":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(chain_id: int = 137, *, binary: str | None = None, ready_timeout: float = 20.0) -> Anvil:
    """Start anvil on a free 127.0.0.1 port and return once it answers eth_chainId."""
    binary = binary or find_anvil()
    last = ""
    for _ in range(3):  # another process may take the free port before anvil binds it
        port = free_port()
        fd, log_name = tempfile.mkstemp(prefix="statetui-anvil-", suffix=".log")
        log = os.fdopen(fd, "wb")
        proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id), "--silent"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        node = Anvil(proc, f"http://127.0.0.1:{port}", port, chain_id, Path(log_name))
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if int(rpc(node.url, "eth_chainId", timeout=1.0), 16) == chain_id:
                    return node
            except (OSError, ValueError, RuntimeError):
                time.sleep(0.02)
        last = Path(log_name).read_text(errors="replace")[-300:].strip()
        node.stop()
    raise RuntimeError(f"anvil did not start: {last or 'no output'}")


# --- test contracts -------------------------------------------------------------------

@lru_cache(maxsize=1)
def bytecode() -> dict[str, str]:
    """Runtime bytecode of the test contracts, by contract name."""
    text = resources.files("statetui.core").joinpath("contracts/bytecode.json").read_text(encoding="utf-8")
    return {name: c["runtime"] for name, c in json.loads(text)["contracts"].items()}


def _keccak(data: bytes) -> bytes:
    from eth_hash.auto import keccak

    return keccak(data)


def _pad(value: int | str) -> bytes:
    if isinstance(value, str):
        value = int(value, 16)
    return value.to_bytes(32, "big")


def _hex32(value: int | bytes) -> str:
    if isinstance(value, bytes):
        value = int.from_bytes(value, "big")
    return "0x" + f"{value:064x}"


def erc20_balance_slot(holder: str) -> str:
    """Storage slot of balanceOf[holder] in TestERC20 (mapping at slot 0)."""
    return _hex32(_keccak(_pad(holder) + _pad(0)))


def erc1155_balance_slot(holder: str, token_id: int) -> str:
    """Storage slot of _balances[id][holder] in TestERC1155 (nested mapping at slot 0)."""
    inner = _keccak(_pad(token_id) + _pad(0))
    return _hex32(_keccak(_pad(holder) + inner))


def deploy_erc20(url: str, address: str, symbol: str | None = "TEST", decimals: int = 6) -> None:
    """Install TestERC20 at `address` with its symbol (slot 1, short string) and decimals (slot 2)."""
    rpc(url, "anvil_setCode", [address, bytecode()["TestERC20"]])
    if symbol is not None:
        raw = symbol.encode("utf-8")
        if len(raw) > 31:
            raise ValueError("symbol must fit a short string (31 bytes)")
        # Solidity short string: bytes left-aligned, length * 2 in the lowest byte.
        word = raw.ljust(31, b"\0") + bytes([len(raw) * 2])
        rpc(url, "anvil_setStorageAt", [address, _hex32(1), _hex32(word)])
    rpc(url, "anvil_setStorageAt", [address, _hex32(2), _hex32(decimals)])


def set_erc20_balance(url: str, token: str, holder: str, raw: int) -> None:
    rpc(url, "anvil_setStorageAt", [token, erc20_balance_slot(holder), _hex32(raw)])


def deploy_erc1155(url: str, address: str) -> None:
    rpc(url, "anvil_setCode", [address, bytecode()["TestERC1155"]])


def set_erc1155_balance(url: str, ctf: str, holder: str, token_id: int, raw: int) -> None:
    rpc(url, "anvil_setStorageAt", [ctf, erc1155_balance_slot(holder, token_id), _hex32(raw)])


def deploy_polymarket(url: str) -> None:
    """pUSD and USDC.e (6 decimals) and the conditional tokens contract at their real addresses."""
    from statetui.core.config import CTF, PUSD, USDC_E

    deploy_erc20(url, PUSD, "pUSD", 6)
    deploy_erc20(url, USDC_E, "USDC.e", 6)
    deploy_erc1155(url, CTF)


def mine(url: str, blocks: int = 1) -> None:
    rpc(url, "anvil_mine", [hex(blocks)])


@contextmanager
def polymarket_node(binary: str | None = None, chain_id: int = 137) -> Iterator[Anvil]:
    """A node with the Polymarket contracts deployed and one block mined on top, stopped on exit."""
    node = start_anvil(chain_id, binary=binary)
    try:
        deploy_polymarket(node.url)
        mine(node.url)
        yield node
    finally:
        node.stop()
