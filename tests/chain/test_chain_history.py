"""The chain as the witness, on a real anvil: histories built from real transactions at
the real Polymarket addresses, read back through eth_getLogs and balanceOf, directly
and through a proxy that limits like the hosted providers do. One node per module."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.core.chainhist import abi, logscan
from statetui.core.chainhist import ADJUST_FLOWS, RAW, read_positions, scan_cash_history
from statetui.core.chainhist.blocks import block_times, first_block_at_or_after
from statetui.core.chainhist.cash import open_rpc
from statetui.core.config import PUSD, USDC_E, Config
from statetui.testing import anvil
from statetui.testing.chainhist import OWNER, USDC, History, deploy
from statetui.testing.rpcproxy import STYLES, LimitingProxy

REPO = Path(__file__).resolve().parents[2]
FALSE_PEAK = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
GENUINE = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
FLOWS = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
MIGRATED = "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"
TAMPERED = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture(scope="module")
def world(anvil_binary):
    node = anvil.start_anvil(137, binary=anvil_binary)
    try:
        deploy(node.url)
        facts = {}
        # Jan 16 pattern: $1,000 in, $400 of positions bought; the bot then counted their
        # value as profit. On chain, cash never rose above the deposit.
        a = History(node.url, FALSE_PEAK)
        facts["false_deposit"] = a.deposit(1000 * USDC)
        won, lost, open_ = a.market(1), a.market(2), a.market(3)
        a.buy(won, "yes", 586 * USDC, 300 * USDC)
        a.buy(open_, "yes", 100 * USDC, 100 * USDC)
        a.resolve(won, "yes")
        facts["markets"] = (won, lost, open_)
        # A real peak: $1,000 in, a trade that made $186 (cash $1,186), then a loss to $600.
        b = History(node.url, GENUINE)
        b.deposit(1000 * USDC)
        b.buy(won, "yes", 200 * USDC, 100 * USDC)
        facts["genuine_peak"] = b.sell(won, "yes", 200 * USDC, 286 * USDC)
        b.buy(lost, "yes", 586 * USDC, 586 * USDC)
        b.resolve(lost, "no")
        b.redeem(lost)  # pays nothing: the loss is realized on chain
        b.redeem(won)  # nothing held: a zero redemption
        # Flows: the mark follows deposits and withdrawals.
        c = History(node.url, FLOWS)
        c.deposit(1000 * USDC)
        c.buy(open_, "no", 100 * USDC, 100 * USDC)
        facts["flows_peak"] = c.sell(open_, "no", 100 * USDC, 300 * USDC)  # cash 1,200
        facts["withdrawal"] = c.withdraw(500 * USDC)  # 700
        c.deposit(300 * USDC, token=USDC_E)  # 1,000
        # USDC.e -> pUSD: no loss, no flow.
        d = History(node.url, MIGRATED)
        d.deposit(500 * USDC, token=USDC_E)
        facts["migration"] = d.migrate(500 * USDC)
        # A balance that moved without a Transfer event: the rebuild must say so.
        e = History(node.url, TAMPERED)
        e.deposit(100 * USDC)
        anvil.set_erc20_balance(node.url, PUSD, TAMPERED, 150 * USDC)
        anvil.mine(node.url, 70)  # anvil finalizes head - 64: the history above is final (cacheable)
        facts["node"] = node
        yield facts
    finally:
        node.stop()


def cfg(world, wallet, url=None, **kw) -> Config:
    return Config(rpc_url=url or world["node"].url, wallet=wallet, rpc_timeout=10.0, **kw)


def block_of(world, tx: str) -> int:
    return int(world["node"].rpc("eth_getTransactionReceipt", [tx])["blockNumber"], 16)


def test_false_peak_and_genuine_loss_end_at_the_same_cash(world, tmp_path):
    false = scan_cash_history(cfg(world, FALSE_PEAK), cache_dir=tmp_path)
    genuine = scan_cash_history(cfg(world, GENUINE), cache_dir=tmp_path)
    assert false.cash == genuine.cash == Decimal(600)
    assert false.consistent and genuine.consistent
    assert false.checked_blocks and genuine.checked_blocks  # anvil serves historic balanceOf: checked, agreed

    hwm = false.high_water_mark()
    assert hwm.value == Decimal(1000) and hwm.tx == world["false_deposit"]
    assert hwm.block == block_of(world, world["false_deposit"]) and hwm.time is not None
    peak = genuine.high_water_mark()
    assert peak.value == Decimal(1186) and peak.cash_at_peak == Decimal(1186)
    assert (peak.block, peak.tx) == (block_of(world, world["genuine_peak"]), world["genuine_peak"])
    assert peak.time == block_times(open_rpc(cfg(world, GENUINE))[0], [peak.block])[peak.block]


def test_deposits_raise_and_withdrawals_lower_the_mark(world, tmp_path):
    h = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    assert h.cash == Decimal(1000)
    assert [(t.kind, t.amount) for t in h.flows] == [("deposit", 1000), ("withdrawal", -500), ("deposit", 300)]
    adjusted, raw = h.high_water_mark(ADJUST_FLOWS), h.high_water_mark(RAW)
    assert adjusted.value == Decimal(1000) and adjusted.flows_since == Decimal(-200)  # 1,200 - 500 + 300
    assert raw.value == Decimal(1200)
    assert adjusted.tx == raw.tx == world["flows_peak"]
    with pytest.raises(ValueError):
        h.high_water_mark("max")
    doc = json.loads(json.dumps(h.to_dict(policy=RAW)))
    assert doc["high_water_mark"]["policy"] == "raw" and doc["flows"]["withdrawals"] == "500.000000"


def test_a_collateral_migration_is_neither_a_loss_nor_a_flow(world, tmp_path):
    h = scan_cash_history(cfg(world, MIGRATED), cache_dir=tmp_path)
    assert [p.cash for p in h.points] == [0, 500, 500]
    migration = [t for t in h.transfers if t.tx == world["migration"]]
    assert sorted((t.token, t.amount, t.kind) for t in migration) == [
        (USDC_E, Decimal(-500), "migration"), (PUSD, Decimal(500), "migration")]
    assert [t.amount for t in h.flows] == [Decimal(500)]
    assert h.high_water_mark().value == Decimal(500)


def test_a_balance_moved_without_transfers_is_reported(world, tmp_path):
    h = scan_cash_history(cfg(world, TAMPERED), cache_dir=tmp_path)
    assert h.cash == Decimal(150)
    assert not h.consistent
    assert any(m.rebuilt == Decimal(50) and "opening" in m.what for m in h.mismatches)


def test_positions_resolutions_and_redemptions(world, tmp_path):
    won, lost, open_ = world["markets"]
    a = read_positions(cfg(world, FALSE_PEAK), cache_dir=tmp_path)
    by_id = {p.token_id: p for p in a.positions}
    assert by_id[won["yes"]].resolved and by_id[won["yes"]].value == Decimal(586)
    assert by_id[open_["yes"]].resolved is False and by_id[open_["yes"]].value is None
    assert a.unredeemed_total == Decimal(586) and a.unredeemed_markets == 1
    assert a.summary() == "unredeemed: $586.00 in 1 resolved market"

    b = read_positions(cfg(world, GENUINE), cache_dir=tmp_path)
    assert b.positions == [] and b.unredeemed_total == 0
    assert sorted((r.condition, r.payout) for r in b.redemptions) == sorted(
        [(lost["condition"], Decimal(0)), (won["condition"], Decimal(0))])


@pytest.fixture
def quick_backoff(monkeypatch):
    """Backoff without a provider-named wait starts at 10 ms here (0.25 s in real use)."""
    monkeypatch.setattr(logscan, "BASE_WAIT", 0.01)


@pytest.mark.parametrize("style", STYLES)
def test_a_limited_provider_gives_the_same_history(world, style, tmp_path, quick_backoff):
    direct = scan_cash_history(cfg(world, GENUINE), use_cache=False)
    with LimitingProxy(world["node"].url, style=style, max_range=16, max_results=2, rate_every=5) as proxy:
        limited = scan_cash_history(cfg(world, GENUINE, url=proxy.url), cache_dir=tmp_path)
    assert proxy.refused["range"] and proxy.refused["rate"]
    assert limited.points == direct.points and limited.transfers == direct.transfers
    assert limited.high_water_mark() == direct.high_water_mark()
    assert limited.scan["splits"] > 0 and limited.scan["rate_limited"] > 0


def test_positions_through_a_limited_provider(world, quick_backoff):
    with LimitingProxy(world["node"].url, style="quicknode", max_range=16, rate_every=5) as proxy:
        positions = read_positions(cfg(world, FALSE_PEAK, url=proxy.url), use_cache=False)
    assert proxy.refused["range"] and proxy.refused["rate"]
    assert positions.unredeemed_total == Decimal(586) and positions.unredeemed_markets == 1


def test_result_caps_are_split_around(world):
    direct = scan_cash_history(cfg(world, GENUINE), use_cache=False)
    with LimitingProxy(world["node"].url, style="infura", max_results=1) as proxy:
        limited = scan_cash_history(cfg(world, GENUINE, url=proxy.url), use_cache=False)
    assert proxy.refused["results"] > 0
    assert limited.points == direct.points


def test_a_resumed_scan_reads_only_new_blocks(world, tmp_path):
    node = world["node"]
    snapshot = node.rpc("evm_snapshot")
    try:
        with LimitingProxy(node.url) as proxy:
            first = scan_cash_history(cfg(world, FLOWS, url=proxy.url), cache_dir=tmp_path)
            final_then = int(node.rpc("eth_getBlockByNumber", ["finalized", False])["number"], 16)
            History(node.url, FLOWS).deposit(7 * USDC)
            proxy.reset_counts()
            second = scan_cash_history(cfg(world, FLOWS, url=proxy.url), cache_dir=tmp_path)
        assert proxy.get_logs and all(a > final_then for a, _ in proxy.get_logs)
        assert len(proxy.get_logs) <= 4  # two filters, over the newly final blocks and the unfinal tail
        assert second.cash == first.cash + 7
        assert second.points == scan_cash_history(cfg(world, FLOWS), use_cache=False).points
        assert second.scan["blocks_from_cache"] >= final_then
    finally:
        node.rpc("evm_revert", [snapshot])


def test_a_damaged_cache_is_reread_not_trusted(world, tmp_path):
    scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    files = sorted(tmp_path.rglob("erc20-*.jsonl"))
    assert files
    target = files[0]
    lines = target.read_text().splitlines()
    lines[1] = re.sub(r'"a":(\d+)', lambda m: f'"a":{int(m.group(1)) + 1}', lines[1], count=1)  # not what was hashed
    target.write_text("\n".join(lines) + "\n")
    again = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    assert any("checksum" in n for n in again.notes)
    assert again.points == scan_cash_history(cfg(world, FLOWS), use_cache=False).points
    with target.open("ab") as f:
        f.write(b'{"a": 1, "b"')  # a torn append
    third = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    assert any("cut short" in n for n in third.notes) and third.points == again.points


def test_start_points(world, tmp_path):
    rpc = open_rpc(cfg(world, FLOWS)).rpc
    full = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    later = full.points[2].block
    part = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path, from_block=later)
    assert part.start_block == later and part.start_reason == "from-block"
    assert part.opening_cash == full.points[1].cash and part.cash == full.cash
    assert part.covers(part.start_time) and not part.covers(part.start_time - 1)
    assert full.covers(0)  # from the first transfer in, with nothing held before it: all time
    when = block_times(rpc, [later])[later]
    first = first_block_at_or_after(rpc, when, full.pinned_block)
    assert first <= later and block_times(rpc, [first])[first] >= when
    assert first == 0 or block_times(rpc, [first - 1])[first - 1] < when
    by_date = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path, since=when)
    assert by_date.start_block == first and by_date.start_reason == "since"
    assert read_positions(cfg(world, FLOWS), since=when, use_cache=False).start_block == first


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statetui", "chain-history", *args], capture_output=True, text=True,
                          timeout=60, cwd=REPO)


def test_cli_json_text_and_errors(world, tmp_path):
    url = world["node"].url
    r = _cli("--rpc-url", url, "--wallet", GENUINE, "--cache-dir", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["high_water_mark"]["value"] == "1186.000000" and doc["cash"] == "600.000000"
    assert doc["positions"]["unredeemed_total"] == "0"
    r = _cli("--rpc-url", url, "--wallet", FALSE_PEAK, "--cache-dir", str(tmp_path))
    assert r.returncode == 0 and "unredeemed: $586.00 in 1 resolved market" in r.stdout
    assert "high-water mark   $1,000.00" in r.stdout and world["false_deposit"] in r.stdout
    r = _cli("--rpc-url", url, "--wallet", TAMPERED, "--cache-dir", str(tmp_path), "--no-positions")
    assert r.returncode == 1 and "MISMATCH" in r.stdout
    r = _cli("--rpc-url", url, "--wallet", GENUINE, "--since", "someday")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "since" in r.stderr
    secret = "https://127.0.0.1:1/v2/Zk3pQ9sXw2LmN8rT5vB7yH4jD6fG1aC0"
    r = _cli("--rpc-url", secret, "--wallet", GENUINE)
    assert r.returncode == 4 and r.stderr.count("\n") == 1 and "Zk3pQ9" not in r.stderr + r.stdout


def test_a_server_sending_garbage_logs_gets_one_line(world):
    from statetui.core.chain import RpcResponseError
    from statetui.testing.loopback import ScriptedHttpServer

    def reply(request):
        calls = request if isinstance(request, list) else [request]
        out = []
        for c in calls:
            result = {"eth_chainId": "0x89", "eth_blockNumber": "0x10", "eth_getBlockByNumber": {"number": "0x8"},
                      "eth_call": "0x" + "6".rjust(64, "0"),  # decimals()
                      "eth_getLogs": [{"blockNumber": "0x3", "logIndex": "0x0", "transactionHash": "0x1",
                                       "address": PUSD, "data": "0xnothex" + "0" * 60,
                                       "topics": [abi.TRANSFER, abi.topic(OWNER), abi.topic(GENUINE)]}]}[c["method"]]
            out.append({"jsonrpc": "2.0", "id": c["id"], "result": result})
        return 200, json.dumps(out).encode()

    with ScriptedHttpServer(reply) as server:
        with pytest.raises(RpcResponseError) as err:
            scan_cash_history(cfg(world, GENUINE, url=server.url), use_cache=False, from_block=0)
    assert "\n" not in str(err.value) and "not hex" in str(err.value)


def test_a_node_without_historic_state_skips_the_cross_check_and_says_so(world):
    direct = scan_cash_history(cfg(world, GENUINE), use_cache=False)
    with LimitingProxy(world["node"].url, state_window=8) as proxy:
        pruned = scan_cash_history(cfg(world, GENUINE, url=proxy.url), use_cache=False)
    assert pruned.points == direct.points and pruned.consistent
    assert pruned.checked_blocks == [] and direct.checked_blocks
    assert any("not an archive node" in n for n in pruned.notes)


def test_a_warm_scan_resumes_from_its_checkpoint(world, tmp_path):
    cold = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    assert cold.scan["resumed_from"] is None and list(tmp_path.rglob("walk-*.json"))
    warm = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
    assert warm.scan["resumed_from"] is not None and warm.scan["calls"] <= 2  # only the unfinal tail was read
    assert warm.high_water_mark() == cold.high_water_mark() and warm.cash == cold.cash
    assert warm.points == cold.points == scan_cash_history(cfg(world, FLOWS), use_cache=False).points
    assert warm.sparkline_values() == [p.cash for p in cold.points]  # drawn from the checkpoint's samples
    assert [t.amount for t in warm.flows] == [t.amount for t in cold.flows] and warm.transfers == cold.transfers
    assert warm.checked_blocks == cold.checked_blocks and warm.covers_all_time


def test_a_checkpoint_of_another_chain_is_dropped(world, tmp_path):
    """A reorg deeper than finality, or another node behind the same URL: the block the
    checkpoint ends at has another hash now, so the cache is read again from the chain."""
    node = world["node"]
    snapshot = node.rpc("evm_snapshot")
    try:
        History(node.url, FLOWS).deposit(5 * USDC)
        anvil.mine(node.url, 70)
        scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
        node.rpc("evm_revert", [snapshot])
        snapshot = node.rpc("evm_snapshot")  # a snapshot is used up by its revert
        History(node.url, FLOWS).deposit(9 * USDC)  # another history over the same block numbers
        anvil.mine(node.url, 71)
        again = scan_cash_history(cfg(world, FLOWS), cache_dir=tmp_path)
        assert any("another chain or before a reorg" in n for n in again.notes)
        fresh = scan_cash_history(cfg(world, FLOWS), use_cache=False)
        assert again.points == fresh.points and again.cash == fresh.cash and again.consistent
    finally:
        node.rpc("evm_revert", [snapshot])
