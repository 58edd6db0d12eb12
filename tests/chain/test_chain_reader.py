"""statetui.core.chain.read_chain against a real anvil node and real misbehaving loopback servers."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.core import chain
from statetui.core.chain import (
    BadAddressError,
    ChainNotConfiguredError,
    NoContractCodeError,
    RpcCallError,
    RpcResponseError,
    RpcTimeoutError,
    RpcUnreachableError,
    WrongChainError,
    read_chain,
)
from statetui.core.config import CTF, PUSD, USDC_E, Config
from statetui.core.errors import ChainError
from statetui.testing import anvil
from statetui.testing.anvil import free_port
from statetui.testing.loopback import ScriptedHttpServer, SilentServer, each_result, fixed

REPO = Path(__file__).resolve().parents[2]


# --- readings -----------------------------------------------------------------------

def test_reads_both_tokens_and_sums_them(chain_node):
    chain_node.set_cash(PUSD, 150_500_000)  # 150.50 pUSD
    chain_node.set_cash(USDC_E, 50_470_000)  # 50.47 USDC.e
    reading = read_chain(chain_node.config())

    assert reading.chain_id == 137
    assert reading.wallet == chain_node.wallet
    assert [(t.address, t.symbol, t.decimals, t.raw) for t in reading.tokens] == [
        (PUSD, "pUSD", 6, 150_500_000),
        (USDC_E, "USDC.e", 6, 50_470_000),
    ]
    assert [t.amount for t in reading.tokens] == [Decimal("150.5"), Decimal("50.47")]
    assert reading.cash == Decimal("200.97")
    doc = json.loads(json.dumps(reading.to_dict()))
    assert doc["cash"] == "200.970000" and doc["tokens"][0]["raw"] == "150500000"


def test_other_holders_balances_do_not_count(chain_node):
    chain_node.set_cash(PUSD, 5_000_000)
    chain_node.set_cash(PUSD, 999_000_000, holder="0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
    assert read_chain(chain_node.config()).cash == Decimal(5)


def test_reports_the_pinned_block_and_reads_at_it(chain_node):
    chain_node.set_cash(PUSD, 100_000_000)
    anvil.mine(chain_node.url)
    pinned = int(chain_node.node.rpc("eth_blockNumber"), 16)
    anvil.mine(chain_node.url)  # later blocks carry a later balance
    chain_node.set_cash(PUSD, 250_000_000)

    latest = read_chain(chain_node.config())
    assert latest.block_number == pinned + 1
    header = chain_node.node.rpc("eth_getBlockByNumber", [hex(latest.block_number), False])
    assert latest.block_time == int(header["timestamp"], 16)
    assert latest.tokens[0].raw == 250_000_000

    then = read_chain(chain_node.config(), block=pinned)
    assert then.block_number == pinned
    assert then.tokens[0].raw == 100_000_000


def test_decimals_are_read_from_chain_and_cached(chain_node):
    token = "0x1234567890AbcdEF1234567890aBcdef12345678"
    anvil.deploy_erc20(chain_node.url, token, "WETH", 18)
    chain_node.set_cash(token, 3 * 10**18 + 25 * 10**16)
    cfg = chain_node.config(tokens=[token])

    first = read_chain(cfg)
    assert (first.tokens[0].decimals, first.tokens[0].symbol, first.cash) == (18, "WETH", Decimal("3.25"))
    # decimals() is read once per (rpc, token): a later change on chain is not re-read ...
    anvil.rpc(chain_node.url, "anvil_setStorageAt", [token, "0x" + f"{2:064x}", "0x" + f"{6:064x}"])
    assert read_chain(cfg).tokens[0].decimals == 18
    # ... until the cache is cleared.
    chain.clear_token_cache()
    assert read_chain(cfg).tokens[0].decimals == 6


def test_symbol_is_none_when_unreadable(chain_node):
    token = "0x00000000000000000000000000000000DeaDBeef"
    anvil.deploy_erc20(chain_node.url, token, symbol=None, decimals=6)
    chain_node.set_cash(token, 1_000_000)
    reading = read_chain(chain_node.config(tokens=[token]))
    assert reading.tokens[0].symbol is None and reading.cash == Decimal(1)


def test_reads_erc1155_positions(chain_node):
    big_id = 2**255 + 12345  # Polymarket token ids are full-width uint256
    chain_node.set_position(big_id, 42_000_000)
    chain_node.set_position(7, 1)
    chain_node.set_position(8, 5, holder="0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
    reading = read_chain(chain_node.config(), [big_id, 7, 8])
    assert reading.positions == {big_id: 42_000_000, 7: 1, 8: 0}
    assert reading.to_dict()["positions"][str(big_id)] == "42000000"


def test_many_positions_span_several_batches(chain_node):
    ids = list(range(1, 251))
    for i in (1, 120, 250):
        chain_node.set_position(i, i * 10)
    reading = read_chain(chain_node.config(), ids)
    assert len(reading.positions) == 250
    assert {i: b for i, b in reading.positions.items() if b} == {1: 10, 120: 1200, 250: 2500}


def test_not_configured(chain_node):
    with pytest.raises(ChainNotConfiguredError, match="chain not configured"):
        read_chain(Config(rpc_url=chain_node.url, wallet=None))


# --- the chain itself is wrong or gone -------------------------------------------------------

def test_wrong_chain_id(start_node):
    node = start_node(chain_id=1)
    with pytest.raises(WrongChainError) as info:
        read_chain(Config(rpc_url=node.url, wallet=anvil_wallet()))
    err = info.value
    assert (err.expected, err.got) == (137, 1)
    assert "expected 137" in str(err) and "chain id 1," in str(err)


def test_rpc_down_mid_session(start_node):
    node = start_node()
    cfg = Config(rpc_url=node.url, wallet=anvil_wallet(), rpc_timeout=2.0)
    assert read_chain(cfg).chain_id == 137  # leaves a kept-alive connection in the pool
    node.stop()  # SIGKILL by pid
    with pytest.raises(RpcUnreachableError, match="unreachable: connection refused"):
        read_chain(cfg)


def test_nothing_listening():
    cfg = Config(rpc_url=f"http://127.0.0.1:{free_port()}", wallet=anvil_wallet(), rpc_timeout=2.0)
    with pytest.raises(RpcUnreachableError) as info:
        read_chain(cfg)
    assert str(info.value) == f"RPC {cfg.rpc_url} unreachable: connection refused"


def test_timeout_is_reported_once_without_retries():
    with SilentServer() as server:
        cfg = Config(rpc_url=server.url, wallet=anvil_wallet(), rpc_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RpcTimeoutError, match=r"timed out: no answer to .* within 0.5 s"):
            read_chain(cfg)
        took = time.monotonic() - started
    # No silent retry: one connection, and the hang costs one timeout, not several.
    assert server.accepted == 1
    assert took < 3 * cfg.rpc_timeout


def test_token_without_code(chain_node):
    empty = "0x000000000000000000000000000000000000bEEF"
    cfg = chain_node.config(tokens=[PUSD, empty])
    with pytest.raises(NoContractCodeError) as info:
        read_chain(cfg)
    assert info.value.address == empty
    assert str(info.value).startswith(f"no contract code at token {empty} at block ")


def test_ctf_without_code(chain_node):
    anvil.rpc(chain_node.url, "anvil_setCode", [CTF, "0x"])
    with pytest.raises(NoContractCodeError, match="conditional tokens contract"):
        read_chain(chain_node.config(), [1])


# --- addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "wallet, what",
    [
        ("0x123", "malformed"),
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "malformed"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ", "malformed"),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "not checksummed (EIP-55): write it as 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "fails its EIP-55 checksum"),
    ],
)
def test_bad_wallet_is_refused_before_any_network(wallet, what):
    if what == "malformed":  # the configuration itself refuses it (issue 11: exit 2, naming the key)
        from statetui.core.errors import ConfigError

        with pytest.raises(ConfigError, match="wallet = .*expected an address: 0x followed by 40 hex digits"):
            Config(rpc_url=f"http://127.0.0.1:{free_port()}", wallet=wallet)
        return
    cfg = Config(rpc_url=f"http://127.0.0.1:{free_port()}", wallet=wallet)  # nothing listens there
    with pytest.raises(BadAddressError) as info:
        read_chain(cfg)
    assert info.value.what == "wallet"
    assert str(info.value).startswith("wallet address ") and what in str(info.value)


def test_bad_token_address_names_the_token():
    cfg = Config(rpc_url=f"http://127.0.0.1:{free_port()}", wallet=anvil_wallet(), tokens=[PUSD, USDC_E.lower()])
    with pytest.raises(BadAddressError, match=f"token address {USDC_E.lower()} is not checksummed") as info:
        read_chain(cfg)
    assert info.value.what == "token"


def test_checksums_agree_with_eth_utils():
    from eth_utils import to_checksum_address as reference

    rng = random.Random(4)
    for _ in range(200):
        raw = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        assert chain.to_checksum_address(raw) == reference(raw)


# --- the RPC answers nonsense --------------------------------------------------------------------

def test_non_numeric_result():
    with ScriptedHttpServer(each_result("banana")) as server:
        with pytest.raises(RpcResponseError) as info:
            read_chain(Config(rpc_url=server.url, wallet=anvil_wallet()))
    assert str(info.value) == f"RPC {server.url} sent a malformed answer to eth_chainId: 'banana' is not a hex number"


def test_non_json_body():
    with ScriptedHttpServer(fixed(200, b"<html>rate limited</html>")) as server:
        with pytest.raises(RpcResponseError, match="not JSON: '<html>rate limited</html>'"):
            read_chain(Config(rpc_url=server.url, wallet=anvil_wallet()))


def test_json_rpc_error_object():
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32005, "message": "limit exceeded"}}).encode()
    with ScriptedHttpServer(fixed(200, body)) as server:
        with pytest.raises(RpcCallError, match=r"refused .*: limit exceeded \(code -32005\)"):
            read_chain(Config(rpc_url=server.url, wallet=anvil_wallet()))


def test_http_error_status():
    with ScriptedHttpServer(fixed(503, b"{}")) as server:
        with pytest.raises(RpcCallError, match="answered HTTP 503"):
            read_chain(Config(rpc_url=server.url, wallet=anvil_wallet()))


def test_basic_auth_from_url_is_sent():
    with ScriptedHttpServer(each_result("0x89")) as server:
        url = server.url.replace("http://", "http://alice:s3cret@")
        with pytest.raises(ChainError):  # "0x89" is no block header; the first request is what counts
            read_chain(Config(rpc_url=url, wallet=anvil_wallet()))
    import base64

    assert server.requests[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()


# --- redaction ------------------------------------------------------------------------------------

SECRETS = ("hunter2pass", "AbCdEf0123456789XyZkEy", "qs9Secret77")


def secret_url(port: int) -> str:
    return f"http://bob:{SECRETS[0]}@127.0.0.1:{port}/v2/{SECRETS[1]}?apikey={SECRETS[2]}"


def assert_redacted(err: BaseException) -> None:
    for text in (str(err), repr(err), *map(str, err.args)):
        for secret in SECRETS:
            assert secret not in text, text
    assert "***" in str(err)


def test_credentials_never_appear_in_errors(start_node):
    errors: list[ChainError] = []

    def capture(cfg: Config) -> None:
        with pytest.raises(ChainError) as info:
            read_chain(cfg)
        errors.append(info.value)

    wallet = anvil_wallet()
    capture(Config(rpc_url=secret_url(free_port()), wallet=wallet))  # unreachable
    with SilentServer() as server:
        capture(Config(rpc_url=secret_url(server.port), wallet=wallet, rpc_timeout=0.3))  # timeout
    with ScriptedHttpServer(each_result("banana")) as server:
        capture(Config(rpc_url=secret_url(server.port), wallet=wallet))  # malformed
    echo = f"Cannot POST /v2/{SECRETS[1]}?apikey={SECRETS[2]}".encode()  # a server echoing the path back
    with ScriptedHttpServer(fixed(200, echo)) as server:
        capture(Config(rpc_url=secret_url(server.port), wallet=wallet))  # not JSON, echoes the key
    node = start_node(chain_id=1)
    with ScriptedHttpServer(each_result("0x1")) as server:
        capture(Config(rpc_url=secret_url(server.port), wallet=wallet))  # wrong chain id
    capture(Config(rpc_url=secret_url(node.port), wallet=wallet))  # anvil's HTTP 404 for the path

    kinds = [type(e) for e in errors]
    assert kinds == [RpcUnreachableError, RpcTimeoutError, RpcResponseError, RpcResponseError, WrongChainError,
                     RpcCallError]
    for err in errors:
        assert_redacted(err)


def test_reading_shows_the_url_redacted(chain_node):
    reading = read_chain(chain_node.config())
    assert reading.rpc_url == chain_node.url  # nothing secret in a bare loopback URL
    assert chain.ChainReading(rpc_url="x", chain_id=1, block_number=0, block_time=0, wallet="w").to_dict()["cash"] == "0"


# --- packaging ------------------------------------------------------------------------------------

def test_importing_the_reader_does_not_import_web3():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import statetui.core.chain"],
                         capture_output=True, text=True, cwd=REPO, check=True)
    modules = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert "statetui.core.chain" in modules
    assert not [m for m in modules if m.split(".")[0] in ("web3", "eth_hash", "eth_utils", "Crypto")]


def test_committed_bytecode_matches_the_sources():
    if not (REPO / "node_modules" / "solc").exists():
        pytest.skip("solc-js not installed (npm ci)")
    done = subprocess.run(["bash", "scripts/compile_contracts.sh", "--check"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def anvil_wallet() -> str:
    return "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
