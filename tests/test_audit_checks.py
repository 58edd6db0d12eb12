"""state-file, peak-drawdown, recovery and backups: every status reached on real fixtures."""

import json
import os
import subprocess
import time

import pytest

from statetui.audit.base import AuditContext, Status
from statetui.audit.engine import run_audit
from statetui.core.config import Config
from statetui.core.store import StateStore
from statetui.testing import scenarios


def run(config, check_id, now=None):
    ctx = AuditContext(config) if now is None else AuditContext(config, now=now)
    return run_audit(ctx, [check_id])[0]


def cfg_for(sc, tmp_path):
    return Config(state=sc.state, backup_dir=sc.backups, pid_file=tmp_path / "bot.pid")


def write_state(sandbox, doc):
    sandbox.state.write_text(json.dumps(doc, indent=2))


# --- state-file ----------------------------------------------------------------

def test_state_file_missing_is_critical_and_offers_init(sandbox):
    r = run(sandbox, "state-file")
    assert r.status == Status.CRITICAL
    assert any("State file not found" in f.message for f in r.findings)
    assert any(f.message == "Bot cannot operate without state file" for f in r.findings)
    assert r.repairs == ["init-state"]


def test_state_file_healthy_passes(tmp_path):
    sc = scenarios.healthy(tmp_path)
    r = run(cfg_for(sc, tmp_path), "state-file")
    assert r.status == Status.PASS, r.findings
    assert any("last write came through the store" in f.message for f in r.findings)


@pytest.mark.parametrize("content,status,kind", [
    ("", Status.CRITICAL, "empty"),
    ('{"current_balance": 20', Status.CRITICAL, "truncated"),
    ('{"current_balance": "20"}', Status.FAIL, "expected a JSON number"),
])
def test_state_file_broken(sandbox, content, status, kind):
    sandbox.state.write_text(content)
    r = run(sandbox, "state-file")
    assert r.status == status
    assert any(kind in f.message for f in r.findings)
    assert "restore-backup" in r.repairs


@pytest.mark.parametrize("doc,needle", [
    ({"current_balance": -5.0, "peak_balance": 10.0}, "cash (current_balance) is negative"),
    ({"total_trades": 3, "total_wins": 5}, "wins (total_wins) (5) > trades (total_trades) (3)"),
    ({"current_balance": 100.0, "peak_balance": 90.0}, "peak (peak_balance) 90.0 < cash (current_balance) 100.0"),
    ({"current_balance": 60.0, "peak_balance": 100.0, "mode": "normal", "halted": False}, "at or past the halt threshold"),
])
def test_state_file_insane_values_fail(sandbox, doc, needle):
    write_state(sandbox, doc)
    r = run(sandbox, "state-file")
    assert r.status == Status.FAIL
    assert any(needle in f.message for f in r.findings), [f.message for f in r.findings]


def test_state_file_outside_writer_warns(tmp_path):
    sc = scenarios.healthy(tmp_path)
    doc = json.loads(sc.state.read_text())
    doc["mode"] = "yolo"
    sc.state.write_text(json.dumps(doc))
    r = run(cfg_for(sc, tmp_path), "state-file")
    assert r.status == Status.WARNING
    msgs = " | ".join(f.message for f in r.findings)
    assert "OUTSIDE the store" in msgs


def test_state_file_other_schema_with_two_cash_candidates_maps_none(sandbox):
    """Two fields both look like cash: neither is guessed, and the check says how to map it."""
    write_state(sandbox, {"balance_usdc": 12.0, "open_orders": [], "current_balance": 12.0})
    r = run(sandbox, "state-file")
    assert r.status == Status.PASS
    msgs = " | ".join(f.message for f in r.findings)
    assert "3 fields" in msgs and "ambiguous: balance_usdc, current_balance" in msgs and "fields.cash" in msgs


# --- peak-drawdown -------------------------------------------------------------

def test_peak_drawdown_jan16_desync_is_flagged(tmp_path):
    sc = scenarios.jan16(tmp_path)
    r = run(cfg_for(sc, tmp_path), "peak-drawdown")
    assert r.status == Status.FAIL
    msgs = " | ".join(f.message for f in r.findings)
    assert "FALSE PEAK: the peak was raised to 386.97" in msgs
    assert "by bot.py (mark-to-market peak update) while cash was 200.97" in msgs
    assert "the highest cash the evidence covers is 200.97" in msgs
    assert "equals cash 200.97 + open position value 186" in msgs
    assert "FALSE DRAWDOWN HALT" in msgs
    assert r.repairs == ["recompute-peak"]


def test_peak_drawdown_healthy_passes(tmp_path):
    sc = scenarios.healthy(tmp_path)
    r = run(cfg_for(sc, tmp_path), "peak-drawdown")
    assert r.status == Status.PASS, [f.message for f in r.findings]


def test_peak_drawdown_skipped_for_a_bot_without_peak(sandbox):
    write_state(sandbox, {"balance_usdc": 12.0})
    r = run(sandbox, "peak-drawdown")
    assert r.status == Status.SKIPPED and "keeps no peak" in r.summary


def test_peak_drawdown_without_journal_warns(sandbox):
    write_state(sandbox, {"current_balance": 90.0, "peak_balance": 100.0})
    r = run(sandbox, "peak-drawdown")
    assert r.status == Status.WARNING
    assert any("not logged with a reason" in f.message for f in r.findings)


def test_peak_drawdown_stale_peak_warns(tmp_path):
    sc = scenarios.healthy(tmp_path)
    with sc.store.transaction(reason="trade loss") as s:
        s.current_balance -= 1.0
        s.total_trades += 1
    r = run(cfg_for(sc, tmp_path), "peak-drawdown", now=time.time() + 9 * 86400)
    assert r.status == Status.WARNING
    assert any("unchanged for 9.0 days" in f.message for f in r.findings)


def test_peak_drawdown_past_threshold_not_halted_fails(sandbox):
    write_state(sandbox, {"current_balance": 60.0, "peak_balance": 100.0, "halted": False})
    r = run(sandbox, "peak-drawdown")
    assert r.status == Status.FAIL
    assert any("at or past the halt threshold 30%" in f.message for f in r.findings)


# --- recovery --------------------------------------------------------------------

def test_recovery_with_backups_passes_and_leaves_live_file_alone(tmp_path):
    sc = scenarios.healthy(tmp_path)
    before = sc.state.read_bytes()
    listing = sorted(os.listdir(sc.state.parent))
    r = run(cfg_for(sc, tmp_path), "recovery")
    assert r.status == Status.PASS, [f.message for f in r.findings]
    assert sum("recovered from backup" in f.message for f in r.findings) == 3
    assert sc.state.read_bytes() == before and sorted(os.listdir(sc.state.parent)) == listing


def test_recovery_without_backups_warns(sandbox):
    write_state(sandbox, {"current_balance": 1.0})
    r = run(sandbox, "recovery")
    assert r.status == Status.WARNING
    assert any("recovery refused" in f.message and "never silent defaults" in f.message for f in r.findings)
    assert "backup-now" in r.repairs


# --- backups ---------------------------------------------------------------------

def test_backups_none_warns(sandbox):
    write_state(sandbox, {"current_balance": 1.0})
    r = run(sandbox, "backups")
    assert r.status == Status.WARNING
    assert any("No backup files detected" in f.message for f in r.findings)
    assert any("No automated backup system detected" in f.message for f in r.findings)


def test_backups_healthy_passes(tmp_path):
    sc = scenarios.healthy(tmp_path, backups_ages_h=(1.0, 25.0))
    sc.store.auto_backup_interval = 1  # a store making automatic backups counts as automation
    time.sleep(1.1)
    with sc.store.transaction(reason="t") as s:
        s.total_trades += 1
    r = run(cfg_for(sc, tmp_path), "backups")
    assert r.status == Status.PASS, [f.message for f in r.findings]
    assert any("restore test" in f.message for f in r.findings)


def test_backups_bad_checksum_fails(tmp_path):
    sc = scenarios.healthy(tmp_path)
    newest = sc.store.backups.list()[0]
    newest.path.write_text(newest.path.read_text().replace("150.0", "151.0"))
    r = run(cfg_for(sc, tmp_path), "backups")
    assert r.status == Status.FAIL
    assert any("checksum mismatch" in f.message and f.file == str(newest.path) for f in r.findings)


def test_backups_old_and_unpruned_warn(tmp_path):
    sc = scenarios.healthy(tmp_path, backups_ages_h=(30.0, 24 * 40))
    cfg = cfg_for(sc, tmp_path)
    cfg.keep_min = 1
    r = run(cfg, "backups")
    assert r.status == Status.WARNING
    msgs = " | ".join(f.message for f in r.findings)
    assert "newest backup is 30.0 h old" in msgs and "older than 30 days not pruned" in msgs
    assert {"backup-now", "prune-backups"} <= set(r.repairs)


def test_backups_state_not_gitignored_warns(tmp_path):
    sc = scenarios.healthy(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    r = run(cfg_for(sc, tmp_path), "backups")
    assert any("NOT ignored" in f.message for f in r.findings)
    (tmp_path / ".gitignore").write_text("state/\n")
    r = run(cfg_for(sc, tmp_path), "backups")
    assert any("State files gitignored" in f.message for f in r.findings)


def test_a_check_that_raises_becomes_a_finding(sandbox):
    from statetui.audit.base import Check, run_check

    def broken(ctx, report):
        raise KeyError("boom")

    r = run_check(Check("x", "X", broken), AuditContext(sandbox))
    assert r.status == Status.FAIL and "KeyError" in r.findings[0].message and r.findings[0].line
