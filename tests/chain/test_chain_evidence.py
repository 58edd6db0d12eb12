"""Issue 14's Done-when on a real anvil: a Jan 16-style state with no journal and no backups
is diagnosed from the chain alone (a false peak fixed with the chain's figure, a genuine
loss kept halted, the audit citing the block and tx), and the bot's startup reconciliation
corrects, journals, fails closed when the RPC is down and continues when allowed.

One node for the module: two wallets whose histories end at the same cash ($200.97), one
whose cash never passed $250 (the peak counted $186 of unredeemed winnings) and one whose
cash really reached $386.97 before the loss."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.testing.states import left_by_a_stopped_bot

from statetui.audit.base import AuditContext, Status
from statetui.audit.engine import run_audit
from statetui.core.chainhist.witness import read_witness
from statetui.core.config import PUSD, Config
from statetui.core.evidence import CANNOT_TELL, FALSE, GENUINE, judge_peak
from statetui.core.roles import roles_for
from statetui.reconcile import CORRECTED, MATCHED, UNREADABLE, StartupChainError, on_startup
from statetui.repair.runner import apply_plan, plan_repair
from statetui.store import StateStore
from statetui.testing import anvil
from statetui.testing.chainhist import USDC, History, deploy
from statetui.testing.rpcproxy import LimitingProxy
from tests.conftest import run_cli

FALSE_PEAK = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
GENUINE_LOSS = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
JAN16 = {"current_balance": 200.97, "peak_balance": 386.97, "starting_balance": 250.0, "mode": "halted",
         "halted": True, "halt_reason": "drawdown 48.1% >= 30%", "total_trades": 4, "positions": []}


@pytest.fixture(scope="module")
def world(anvil_binary):
    node = anvil.start_anvil(137, binary=anvil_binary)
    try:
        deploy(node.url)
        facts = {"node": node}
        a = History(node.url, FALSE_PEAK)
        facts["false_deposit"] = a.deposit(250 * USDC)
        won = a.market(1)
        a.buy(won, "yes", 186 * USDC, 4903 * USDC // 100)  # cash 200.97; 186 shares that win, never redeemed
        a.resolve(won, "yes")
        b = History(node.url, GENUINE_LOSS)
        b.deposit(200 * USDC)
        up, down = b.market(2), b.market(3)
        b.buy(up, "yes", 100 * USDC, 100 * USDC)
        facts["genuine_peak"] = b.sell(up, "yes", 100 * USDC, 28697 * USDC // 100)  # cash 386.97: the real peak
        b.buy(down, "yes", 186 * USDC, 186 * USDC)  # cash 200.97
        b.resolve(down, "no")
        b.redeem(down)  # pays nothing: the loss is realized
        anvil.mine(node.url, 70)  # final (cacheable) history
        facts["block_of"] = {tx: int(node.rpc("eth_getTransactionReceipt", [tx])["blockNumber"], 16)
                             for tx in (facts["false_deposit"], facts["genuine_peak"])}
        yield facts
    finally:
        node.stop()


def jan16(tmp_path: Path, world, wallet: str, url: str | None = None, **extra) -> Config:
    """The Jan 16 file as a bot that never used the store leaves it: no journal, no backups."""
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(JAN16, indent=2))
    left_by_a_stopped_bot(state)  # written by hand minutes ago is a running bot's write
    return Config(state=state, pid_file=tmp_path / "bot.pid", rpc_url=url or world["node"].url, wallet=wallet,
                  rpc_timeout=5.0, chain_cache_dir=tmp_path / "cache", **extra)


def cli_flags(cfg: Config) -> list[str]:
    return ["--state", str(cfg.state), "--pid-file", str(cfg.pid_file), "--rpc-url", cfg.rpc_url.reveal(), "--wallet", cfg.wallet]


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_audit_calls_the_false_halt_and_cites_where_cash_really_peaked(world, tmp_path):
    cfg = jan16(tmp_path, world, FALSE_PEAK)
    env = {"STATETUI_CHAIN_CACHE_DIR": str(cfg.chain_cache_dir)}
    res = run_cli("audit", "--check", "peak-drawdown", "--format", "json", *cli_flags(cfg), env=env)
    assert res.returncode == 2, res.stdout + res.stderr
    check = json.loads(res.stdout)["checks"][0]
    text = " | ".join(f["message"] for f in check["findings"])
    deposit = world["false_deposit"]
    assert "FALSE DRAWDOWN HALT" in text and "250.00" in text
    assert f"block {world['block_of'][deposit]}" in text and deposit in text
    assert check["data"]["peak_verdict"]["chain_tx"] == deposit
    curve = check["data"]["chain_curve"]
    assert curve["state_peak"] == "386.97" and Decimal(curve["high_water_mark"]) == 250 and len(curve["values"]) >= 3
    md = run_cli("audit", "--check", "peak-drawdown", "--format", "md", *cli_flags(cfg), env=env)
    assert "chain cash" in md.stdout and "state peak $386.97" in md.stdout  # the sparkline beside the peak


def test_chain_reconcile_shows_the_unredeemed_winnings(world, tmp_path):
    r = run_audit(AuditContext(jan16(tmp_path, world, FALSE_PEAK)), ["chain-reconcile"])[0]
    assert r.status == Status.PASS and r.summary.endswith("unredeemed: $186.00 in 1 resolved market")
    assert r.data["unredeemed"]["total"] == "186.000000" and r.data["unredeemed"]["markets"] == 1


def test_recompute_peak_fixes_the_false_peak_with_the_chain_figure(world, tmp_path):
    cfg = jan16(tmp_path, world, FALSE_PEAK)
    plan = plan_repair("recompute-peak", cfg)
    assert not plan.blocked, plan.render()
    assert plan.changes[0] == ("peak_balance", 386.97, 250.0)
    assert {("halted", True, False), ("mode", "halted", "normal")} <= set(plan.changes)
    deposit = world["false_deposit"]
    assert plan.evidence["chain_tx"] == deposit and plan.evidence["chain_block"] == world["block_of"][deposit]
    out = apply_plan(plan, cfg)
    doc = json.loads(cfg.state.read_text())
    assert doc["peak_balance"] == 250.0 and doc["halted"] is False and doc["current_balance"] == 200.97
    entry = StateStore(cfg.state).journal.last()
    assert entry["reason"] == "repair recompute-peak" and entry["evidence"]["chain_tx"] == deposit
    assert {r.id: r.status for r in out.verify}["peak-drawdown"] == Status.PASS  # the chain now calls it genuine


def test_a_genuine_loss_stays_halted(world, tmp_path):
    cfg = jan16(tmp_path, world, GENUINE_LOSS)
    r = run_audit(AuditContext(cfg), ["peak-drawdown"])[0]
    text = " | ".join(f.message for f in r.findings)
    assert r.status == Status.WARNING and not any(f.severity == "FAIL" for f in r.findings), text  # warns: no journal
    assert "was really reached" in text and "the halt is genuine" in text and world["genuine_peak"] in text
    before = files(cfg.state.parent)
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", *cli_flags(cfg),
                  env={"STATETUI_CHAIN_CACHE_DIR": str(cfg.chain_cache_dir)})
    assert res.returncode == 0 and "nothing to do" in res.stdout, res.stdout + res.stderr
    assert files(cfg.state.parent) == before


def test_local_audits_never_touch_the_network(world, tmp_path):
    with LimitingProxy(world["node"].url) as proxy:
        cfg = jan16(tmp_path, world, FALSE_PEAK, url=proxy.url)
        res = run_cli("audit", "--local", "--check", "peak-drawdown", *cli_flags(cfg))
        assert proxy.requests == 0
    assert res.returncode == 1 and "cannot tell" in res.stdout and "FALSE" not in res.stdout


def test_recompute_peak_refuses_when_the_chain_is_down(world, tmp_path):
    cfg = jan16(tmp_path, world, FALSE_PEAK, url="http://user:Zk3pQ9sXw2Lm@127.0.0.1:9/rpc")
    before = files(cfg.state.parent)
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", *cli_flags(cfg))
    assert res.returncode == 4, res.stdout + res.stderr
    assert "could not be read" in res.stdout + res.stderr and "Zk3pQ9" not in res.stdout + res.stderr
    assert files(cfg.state.parent) == before


def test_the_chain_judges_only_what_it_covers(world, tmp_path):
    cfg = jan16(tmp_path, world, FALSE_PEAK)
    doc, witness = JAN16, read_witness(cfg, cache_dir=cfg.chain_cache_dir)
    roles = roles_for(cfg, doc)
    assert witness.all_time and judge_peak(doc, roles, [], [], witness).verdict == FALSE
    late = read_witness(Config(**{**cfg.__dict__, "history_from_block": witness.block + 1}))
    verdict = judge_peak(doc, roles, [], [], late)
    assert verdict.verdict == CANNOT_TELL and "starts at block" in verdict.chain_note
    other = judge_peak({**doc, "current_balance": 150.0}, roles, [], [], witness)  # not the wallet's money
    assert other.verdict == CANNOT_TELL and "not the same money" in other.chain_note
    equity = roles_for(Config(fields={"peak_basis": "equity", "equity": "current_balance"}), doc)
    assert "equity" in judge_peak(doc, equity, [], [], witness).chain_note
    genuine = read_witness(jan16(tmp_path / "g", world, GENUINE_LOSS))
    assert judge_peak(doc, roles, [], [], genuine).verdict == GENUINE


# --- the bot's startup reconciliation ----------------------------------------------------------


def bot_store(tmp_path: Path, cash: float) -> StateStore:
    store = StateStore(tmp_path / "bot" / "trading_state.json", model=dict, writer="bot.py")
    store.init({"current_balance": cash, "peak_balance": 386.97, "halted": False, "positions": []})
    return store


def test_startup_reconcile_corrects_and_journals(world, tmp_path, caplog):
    store = bot_store(tmp_path, 386.97)
    secret = world["node"].url.replace("http://", "http://bot:Zk3pQ9sXw2Lm@")
    with caplog.at_level(logging.WARNING, logger="statetui.reconcile"):
        result = on_startup(store, {"rpc_url": secret, "wallet": FALSE_PEAK})
    assert result.status == CORRECTED and result.chain_cash == Decimal("200.97")
    assert result.changes == {"current_balance": [386.97, 200.97]}
    assert json.loads(store.path.read_text())["current_balance"] == 200.97
    entry = store.journal.last()
    assert entry["reason"] == "startup reconcile" and entry["generation"] == result.generation
    assert entry["evidence"]["block_number"] == result.block and entry["evidence"]["state_cash"] == "386.97"
    assert "Zk3pQ9" not in json.dumps(entry) and entry["evidence"]["rpc_url"] == world["node"].url  # user:password dropped
    assert any("correcting" in r.message for r in caplog.records)
    assert store.backups.list()  # the state before the correction was kept
    again = on_startup(store, {"rpc_url": world["node"].url, "wallet": FALSE_PEAK})
    assert again.status == MATCHED and store.journal.last()["generation"] == result.generation


def test_startup_reconcile_fails_closed_when_the_rpc_is_down(tmp_path):
    store = bot_store(tmp_path, 386.97)
    before = files(store.path.parent)
    down = {"rpc_url": "http://127.0.0.1:9", "wallet": FALSE_PEAK}
    with pytest.raises(StartupChainError) as err:
        on_startup(store, down)
    assert "cannot be read" in str(err.value) and files(store.path.parent) == before
    allowed = on_startup(store, down, allow_unreadable_chain=True)
    assert allowed.status == UNREADABLE and not allowed.chain_read and allowed.error
    assert files(store.path.parent) == before
