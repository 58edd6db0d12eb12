"""The peak is judged only on evidence independent of the file: histories written through
the store's own API (a false peak and a genuine loss that end in the same file), the
no-evidence and own-snapshot cases, and what each repair may then do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statetui.audit.base import AuditContext, Status
from statetui.audit.engine import run_audit
from statetui.core.config import Config
from statetui.core.store import StateStore
from statetui.repair.runner import RepairRefused, apply_plan, plan_repair
from statetui.testing.states import left_by_a_stopped_bot
from tests.conftest import run_cli

START = {"current_balance": 150.0, "peak_balance": 150.0, "mode": "normal", "halted": False, "halt_reason": None,
         "total_trades": 0, "positions": []}
# Both histories end in this very file: cash 200.97, peak 386.97, halted for the drawdown.
END = {"current_balance": 200.97, "peak_balance": 386.97, "mode": "halted", "halted": True,
       "halt_reason": "drawdown 48.1% >= 30%"}


def sandbox(tmp_path: Path) -> tuple[StateStore, Config]:
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True)
    store = StateStore(state, auto_backup_interval=None, writer="bot.py")
    return store, Config(state=state, pid_file=tmp_path / "bot.pid")


def trade(store: StateStore, cash: float, reason: str = "trade") -> None:
    with store.transaction(reason=reason) as s:
        s.current_balance = cash
        s.total_trades += 1
        s.peak_balance = max(s.peak_balance, cash)


def false_peak(tmp_path: Path) -> tuple[StateStore, Config]:
    """Cash never passed 210.00; the peak was set to cash + unredeemed positions."""
    store, cfg = sandbox(tmp_path)
    store.init(START)
    for cash in (170.0, 210.0, 195.5, 200.97):
        trade(store, cash)
    with store.transaction(reason="mark-to-market peak") as s:
        s.peak_balance = 386.97
    with store.transaction(reason="drawdown halt") as s:
        s.mode, s.halted, s.halt_reason = END["mode"], END["halted"], END["halt_reason"]
    return store, cfg


def genuine_loss(tmp_path: Path) -> tuple[StateStore, Config]:
    """Cash really reached 386.97, then the bot lost it."""
    store, cfg = sandbox(tmp_path)
    store.init(START)
    for cash in (250.0, 386.97, 300.0, 200.97):
        trade(store, cash)
    with store.transaction(reason="drawdown halt") as s:
        s.mode, s.halted, s.halt_reason = END["mode"], END["halted"], END["halt_reason"]
    return store, cfg


def no_evidence(tmp_path: Path) -> tuple[Path, Config]:
    """The Jan 16 file as a bot that does not use the store leaves it: no journal, no backups."""
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({**START, **END, "total_trades": 4}, indent=2))
    left_by_a_stopped_bot(state)  # a fresh write outside the store would be a running bot's
    return state, Config(state=state, pid_file=tmp_path / "bot.pid")


def peak_check(cfg: Config):
    return run_audit(AuditContext(cfg), ["peak-drawdown"])[0]


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_both_histories_end_in_the_same_file(tmp_path):
    a, _ = false_peak(tmp_path / "a")
    b, _ = genuine_loss(tmp_path / "b")
    assert json.loads(a.path.read_text()) == json.loads(b.path.read_text())


def test_a_false_peak_is_fixed_to_the_highest_realized_cash_the_journal_covers(tmp_path):
    store, cfg = false_peak(tmp_path)
    r = peak_check(cfg)
    assert r.status == Status.FAIL
    msgs = " | ".join(f.message for f in r.findings)
    assert "FALSE PEAK" in msgs and "mark-to-market peak" in msgs and "FALSE DRAWDOWN HALT" in msgs
    plan = plan_repair("recompute-peak", cfg)
    assert plan.changes[0] == ("peak_balance", 386.97, 210.0)
    assert {("halted", True, False), ("mode", "halted", "normal"), ("halt_reason", END["halt_reason"], None)} <= set(plan.changes)
    assert plan.halt_fields == {"halted", "mode", "halt_reason"}
    assert "clears the halt" in plan.render()
    out = apply_plan(plan, cfg)
    doc = json.loads(store.path.read_text())
    assert doc["peak_balance"] == 210.0 and doc["halted"] is False and doc["mode"] == "normal"
    assert {r.id: r.status for r in out.verify}["peak-drawdown"] == Status.PASS


def test_a_genuine_loss_keeps_its_peak_and_its_halt(tmp_path):
    store, cfg = genuine_loss(tmp_path)
    r = peak_check(cfg)
    assert r.status == Status.PASS, [f.message for f in r.findings]
    msgs = " | ".join(f.message for f in r.findings)
    assert "was really reached" in msgs and "the halt is genuine" in msgs
    before = files(store.path.parent)
    plan = plan_repair("recompute-peak", cfg)
    assert plan.nothing_to_do and not plan.changes
    assert any("the halt is genuine" in n for n in plan.notes)
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", "--state", str(cfg.state), "--pid-file", str(cfg.pid_file))
    assert res.returncode == 0 and "nothing to do" in res.stdout
    assert files(store.path.parent) == before


def test_no_evidence_cannot_tell_and_recompute_refuses(tmp_path):
    state, cfg = no_evidence(tmp_path)
    r = peak_check(cfg)
    assert r.status == Status.WARNING
    msgs = " | ".join(f.message for f in r.findings)
    assert "cannot tell whether the peak 386.97 is true" in msgs and "no journal, no backups" in msgs
    assert "FALSE" not in msgs
    assert any("set-peak" in rec for rec in r.recommendations)
    before = files(state.parent)
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", "--state", str(state), "--pid-file", str(cfg.pid_file))
    assert res.returncode == 5, res.stdout + res.stderr
    assert "no independent evidence covers the peak's origin" in res.stderr
    assert files(state.parent) == before  # byte-identical: nothing written, no lock or journal created


def test_a_snapshot_of_the_judged_file_is_not_evidence(tmp_path):
    """Defect 2: one backup of the Jan 16 file made its cash "the highest realized cash"."""
    state, cfg = no_evidence(tmp_path)
    StateStore(state).backup(reason="manual")
    r = peak_check(cfg)
    assert r.status == Status.WARNING
    assert not any("FALSE" in f.message for f in r.findings)
    assert any("cannot tell" in f.message and "oldest backup" in f.message for f in r.findings)
    with pytest.raises(RepairRefused):
        apply_plan(plan_repair("recompute-peak", cfg), cfg)


def test_a_backup_that_shows_the_peak_reached_makes_the_halt_genuine(tmp_path):
    state, cfg = no_evidence(tmp_path)
    doc = json.loads(state.read_text())
    state.write_text(json.dumps({**doc, "current_balance": 386.97, "halted": False, "mode": "normal"}))
    StateStore(state).backup(reason="daily")
    state.write_text(json.dumps(doc))
    r = peak_check(cfg)
    assert any("was really reached" in f.message for f in r.findings)
    assert not any("FALSE" in f.message for f in r.findings)


def test_set_peak_is_the_manual_way_and_journals_the_reason(tmp_path):
    state, cfg = no_evidence(tmp_path)
    plan = plan_repair("set-peak", cfg, value="250.00", reason="broker statement: the true high was 250")
    assert plan.can_apply and plan.changes[0] == ("peak_balance", 386.97, 250.0)
    assert plan.halt_fields  # 200.97 vs 250: 19.6% < 30%: the drawdown halt goes, on its own lines
    apply_plan(plan, cfg)
    entry = StateStore(state).journal.last()
    assert entry["reason"] == "repair set-peak (manual): broker statement: the true high was 250"
    assert entry["evidence"]["manual"] is True and entry["evidence"]["value"] == "250.00"


def test_a_plan_hint_reproduces_the_same_plan(tmp_path):
    store, cfg = false_peak(tmp_path)
    store.backup(reason="daily")
    older = store.backups.list()[0]
    trade(store, 205.0)
    res = run_cli("restore", older.name, "--plan", "--state", str(cfg.state), "--pid-file", str(cfg.pid_file))
    hint = next(line for line in res.stdout.splitlines() if line.startswith("to apply: "))[len("to apply: "):]
    assert older.name in hint and older.sha256[:16] in hint
    args = hint.split()[1:]
    again = run_cli(*args[:-1], "--state", str(cfg.state), "--pid-file", str(cfg.pid_file))
    assert again.returncode == 0 and f"restore {older.name}" in again.stdout
