"""Every repair through the one runner the faces share: plan -> apply -> verify."""

import json

import pytest

from statetui.core.config import Config
from statetui.repair.runner import RepairRefused, apply_plan, plan_repair, repair_ids
from statetui.testing import scenarios


def cfg(sc, tmp_path, **kw):
    return Config(state=sc.state, backup_dir=sc.backups, pid_file=tmp_path / "bot.pid", **kw)


def test_every_repair_is_registered():
    assert set(repair_ids()) >= {"restore-backup", "reconcile", "recompute-peak", "init-state",
                                 "clear-stale-lock", "backup-now", "prune-backups"}


def test_recompute_peak_fixes_jan16_and_says_how_to_undo(tmp_path):
    sc = scenarios.jan16(tmp_path)
    c = cfg(sc, tmp_path)
    plan = plan_repair("recompute-peak", c)
    assert ("peak_balance", 386.97, 200.97) in plan.changes
    assert ("halted", True, False) in plan.changes and ("mode", "halted", "normal") in plan.changes
    out = apply_plan(plan, c)
    doc = json.loads(sc.state.read_text())
    assert doc["peak_balance"] == 200.97 and doc["halted"] is False and doc["halt_reason"] is None
    assert all(r.status.value == "PASS" for r in out.verify), [(r.id, r.summary) for r in out.verify]
    undo = out.backup
    assert undo and json.loads((sc.backups / undo).read_text())["peak_balance"] == 386.97
    assert sc.store.journal.last()["reason"] == "repair recompute-peak"
    assert plan_repair("recompute-peak", c).nothing_to_do


def test_recompute_peak_ignores_cash_a_reconcile_proved_wrong(tmp_path):
    sc = scenarios.healthy(tmp_path)
    with sc.store.transaction(reason="bad sync") as s:  # the state claimed cash it never had
        s.current_balance = s.peak_balance = 386.97
    sc.store.backup(reason="daily")
    with sc.store.transaction(reason="reconcile", backup="pre-reconcile") as s:
        s.current_balance = 200.97
    plan = plan_repair("recompute-peak", cfg(sc, tmp_path))
    assert ("peak_balance", 386.97, 200.97) in plan.changes


def test_apply_refuses_when_the_state_changed_since_the_plan(tmp_path):
    sc = scenarios.jan16(tmp_path)
    c = cfg(sc, tmp_path)
    plan = plan_repair("recompute-peak", c)
    with sc.store.transaction(reason="bot wrote meanwhile") as s:
        s.peak_balance = 390.0
    with pytest.raises(Exception, match="changed since the plan"):
        apply_plan(plan, c)


def test_restore_backup_plan_diff_and_apply(tmp_path):
    sc = scenarios.jan16(tmp_path)
    c = cfg(sc, tmp_path)
    older = sc.store.backups.list()[0]
    plan = plan_repair("restore-backup", c, backup=older.name)
    backup_doc = json.loads(older.path.read_text())
    assert ("peak_balance", 386.97, backup_doc["peak_balance"]) in plan.changes
    assert ("halted", True, False) in plan.changes
    out = apply_plan(plan, c)
    assert sc.state.read_bytes() == older.path.read_bytes()
    assert out.undo.startswith("statetui restore ") and (sc.backups / out.backup).exists()


def test_init_state_only_where_nothing_exists(tmp_path):
    c = Config(state=tmp_path / "s" / "trading_state.json", pid_file=tmp_path / "bot.pid")
    plan = plan_repair("init-state", c, balance="200.97")
    assert plan.can_apply and ("current_balance", None, 200.97) in plan.changes
    apply_plan(plan, c)
    assert json.loads(c.state.read_text())["current_balance"] == 200.97
    again = plan_repair("init-state", c)
    assert again.blocked and "already exists" in again.blocked


def test_backup_now_and_prune(tmp_path):
    sc = scenarios.healthy(tmp_path, backups_ages_h=(24 * 40, 24 * 35))
    c = cfg(sc, tmp_path, keep_min=1)
    out = apply_plan(plan_repair("backup-now", c), c)
    assert (sc.backups / out.backup).exists()
    plan = plan_repair("prune-backups", c)
    assert len(plan.changes) == 2
    apply_plan(plan, c)
    assert [b.name for b in sc.store.backups.list()] == [out.backup]


def test_clear_stale_lock_only_when_stale(tmp_path, lock_holder):
    sc = scenarios.healthy(tmp_path)
    c = cfg(sc, tmp_path)
    holder = lock_holder(c.pid_file)
    plan = plan_repair("clear-stale-lock", c)
    assert plan.blocked and "not stale" in plan.blocked
    holder.stop()
    c.pid_file.write_text(f"{holder.pid}\n")  # a crashed bot's leftover
    plan = plan_repair("clear-stale-lock", c)
    assert plan.can_apply
    apply_plan(plan, c)
    assert not c.pid_file.exists()


def test_writes_refused_while_the_bot_holds_its_lock(tmp_path, lock_holder):
    sc = scenarios.jan16(tmp_path)
    c = cfg(sc, tmp_path)
    bot = lock_holder(c.pid_file)
    before = sc.state.read_bytes()
    for rid, params in (("recompute-peak", {}), ("restore-backup", {"backup": "latest"})):
        plan = plan_repair(rid, c, **params)
        assert plan.blocked and plan.stop_command == f"kill {bot.pid}"
    plan.preconditions = [p for p in plan.preconditions if p.ok]  # a face that ignored the refusal...
    with pytest.raises(RepairRefused) as refused:  # ...still cannot write: apply plans again
        apply_plan(plan, c)
    assert refused.value.exit_code == 5
    assert sc.state.read_bytes() == before
    assert plan_repair("backup-now", c).can_apply  # backups never touch the state
