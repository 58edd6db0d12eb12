"""A restore plan binds to exactly the backup it showed (path and sha256), and restoring over
a damaged file keeps that file as quarantine, not as a failing backup (issue 10: 6, 7, 8)."""

from __future__ import annotations

import json
from pathlib import Path

from statetui.core.store import StateStore
from statetui.repair.runner import RepairRefused, apply_plan, plan_repair
from statetui.testing.states import left_by_a_stopped_bot
from statetui.core.config import Config
from tests.conftest import run_cli


def sandbox(tmp_path: Path, cash: float = 100.0) -> tuple[StateStore, Config]:
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True)
    store = StateStore(state, auto_backup_interval=None)
    store.init({"current_balance": cash, "peak_balance": cash})
    return store, Config(state=state, pid_file=tmp_path / "bot.pid")


def cli(cfg: Config, *args: str):
    return run_cli(*args, "--state", str(cfg.state), "--pid-file", str(cfg.pid_file))


def test_a_backup_outside_the_folder_is_restored_from_that_path_not_a_same_named_file(tmp_path):
    """Defect 6: the plan showed 100 -> 999 from /other/..., apply wrote the 50.0 of a
    same-named file beside the state."""
    store, cfg = sandbox(tmp_path)
    other = tmp_path / "other" / "trading_state.json.backup"
    other.parent.mkdir()
    other.write_text(json.dumps({"current_balance": 999.0, "peak_balance": 999.0}))
    (cfg.state.parent / "trading_state.json.backup").write_text(json.dumps({"current_balance": 50.0, "peak_balance": 50.0}))
    res = cli(cfg, "restore", str(other), "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "999" in res.stdout
    assert json.loads(cfg.state.read_text())["current_balance"] == 999.0


def test_a_backup_changed_between_plan_and_apply_is_refused(tmp_path):
    store, cfg = sandbox(tmp_path)
    other = tmp_path / "other" / "saved.json"
    other.parent.mkdir()
    other.write_text(json.dumps({"current_balance": 999.0}))
    plan = plan_repair("restore-backup", cfg, backup=str(other))
    assert plan.can_apply
    other.write_text(json.dumps({"current_balance": 1.0}))  # tampered after the plan was shown
    before = cfg.state.read_bytes()
    try:
        apply_plan(plan, cfg)
        raise AssertionError("a tampered backup was applied")
    except RepairRefused as exc:
        assert exc.exit_code == 4 and "content changed since the plan" in str(exc)
    assert cfg.state.read_bytes() == before
    # the hint's sha256 pins it on the command line too
    res = cli(cfg, "repair", "restore-backup", "--backup", str(other), "--sha256", plan.params["sha256"], "--apply", "--yes")
    assert res.returncode == 4 and cfg.state.read_bytes() == before


def test_latest_is_pinned_in_the_hint(tmp_path):
    """Defect 7: `restore NAME --plan` hinted a command that planned the newest backup."""
    store, cfg = sandbox(tmp_path)
    first = store.backup(reason="one")
    with store.transaction(reason="trade") as s:
        s.current_balance = 120.0
    store.backup(reason="two")
    with store.transaction(reason="trade") as s:
        s.current_balance = 130.0
    res = cli(cfg, "restore", first.name, "--plan")
    assert f"--backup {first.name}" in res.stdout and "--sha256" in res.stdout
    res = cli(cfg, "repair", "restore-backup", "--backup", "latest")
    assert "latest" not in res.stdout.split("to apply:")[1]  # pinned to the name it resolved


def test_restoring_over_a_damaged_file_keeps_it_as_quarantine_and_the_undo_works(tmp_path):
    """Defect 8: two backups of the corrupt bytes (verify then exited 4), an undo refused."""
    store, cfg = sandbox(tmp_path)
    good = store.backup(reason="daily")
    damaged = b'{"current_balance": 12,, oops'
    cfg.state.write_bytes(damaged)
    left_by_a_stopped_bot(cfg.state)  # damaged by a bot that has since stopped (a fresh write would refuse)
    res = cli(cfg, "restore", good.name, "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(cfg.state.read_text())["current_balance"] == 100.0
    quarantine = [p for p in cfg.state.parent.iterdir() if ".corrupt-" in p.name]
    assert len(quarantine) == 1 and quarantine[0].read_bytes() == damaged
    assert [b.name for b in store.backups.list(verify=False) if b.kind == "statetui"] == [good.name]
    assert cli(cfg, "verify").returncode == 0
    listed = cli(cfg, "backups").stdout
    assert "damaged" in listed and quarantine[0].name in listed
    undo = next(line.split("undo: ", 1)[1] for line in res.stdout.splitlines() if "undo: " in line)
    assert undo == f"statetui restore {quarantine[0].name}"
    res = cli(cfg, *undo.split()[1:], "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert cfg.state.read_bytes() == damaged  # the undo puts back exactly what was there


def test_a_verify_check_that_could_not_run_is_not_a_pass(tmp_path):
    """Defect 9: a verify step reported PASS for a check that had nothing to check. A bot that
    keeps no peak: after a restore, peak-drawdown cannot run, so the restore is NOT verified
    (exit 1), while the state-file check that did run passes."""
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True)
    store = StateStore(state, auto_backup_interval=None)
    store.init({"kill_switch": True, "kill_switch_reason": "manual", "symbols": ["BTC"]})
    good = store.backup(reason="daily")
    store.save({"kill_switch": False, "kill_switch_reason": None, "symbols": ["BTC"]}, reason="trade")
    left_by_a_stopped_bot(state)
    cfg = Config(state=state, pid_file=tmp_path / "bot.pid")
    res = cli(cfg, "restore", good.name, "--yes")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "verify state-file: PASS" in res.stdout
    line = next(l for l in res.stdout.splitlines() if "verify peak-drawdown" in l)
    assert "SKIPPED" in line and "NOT verified" in line and "PASS" not in line
    assert json.loads(state.read_text())["kill_switch"] is True
