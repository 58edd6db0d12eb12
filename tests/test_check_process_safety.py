"""The `process-safety` check against real processes and real pid files: every status."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from statetui.audit.checks import process_safety  # noqa: F401  (registers the check)
from statetui.audit.base import REGISTRY, AuditContext, Status, run_check
from statetui.core import procinfo
from statetui.core.config import Config

from tests.test_pidlock import marker
from tests.test_pidlock import children, pid_file  # noqa: F401  (fixtures: real child processes, a pid path)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and flock")


def run(pid_file, **kw):
    result = run_check(REGISTRY["process-safety"], AuditContext(Config(pid_file=pid_file, **kw)))
    json.dumps(result.to_dict())  # the report must stay JSON-safe
    assert not any("the check itself failed" in f.message for f in result.findings), result.findings
    return result


def messages(result, severity=None):
    return [f.message for f in result.findings if severity is None or f.severity == severity]


def test_registered_with_its_title():
    assert REGISTRY["process-safety"].title == "Multi-Process Safety"


# --- PASS -----------------------------------------------------------------------------------

def test_pass_live_holder_one_process(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m)
    r = run(pid_file)  # no pattern: count by the lock holder's command line
    assert r.status is Status.PASS, r.findings
    assert r.repairs == []
    assert r.data["pidlock"]["pid"] == holder.pid and r.data["pidlock"]["holds_lock"] is True
    assert [p["pid"] for p in r.data["processes"]] == [holder.pid]
    ok = messages(r, "OK")
    assert any(f"pid {holder.pid}" in x and "holds the lock" in x for x in ok)
    assert any("One bot process running" in x for x in ok)
    assert r.summary.startswith("Bot running")
    assert any(f"kill {holder.pid}" in x for x in messages(r, "INFO"))


def test_pass_bot_that_forked_a_worker_counts_once(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m, FORK="1")
    r = run(pid_file, process_pattern=m)
    assert r.status is Status.PASS, r.findings
    assert [p["pid"] for p in r.data["processes"]] == [holder.pid]


def test_no_pid_file_and_no_bot_is_a_warning_without_a_guard(pid_file):
    # Defect 5 of issue 10: a pid file path nobody created is not a guard.
    r = run(pid_file, process_pattern=marker())
    assert r.status is Status.WARNING
    assert r.summary.startswith("No single-instance guard found")
    assert f"no pid file at {pid_file}: a pid file nobody created is not a guard" in r.summary
    assert any("Bot not currently running" in x for x in messages(r, "OK"))
    assert r.data["pidlock"]["exists"] is False and r.data["guards"]["found"] == []
    assert r.data["running"]["running"] is False and r.repairs == []
    assert any("PidLock" in x for x in r.recommendations)


def test_no_pid_file_without_pattern_explains_both_readings(pid_file):
    r = run(pid_file)
    assert r.status is Status.WARNING and "No single-instance guard" in r.summary
    assert any("not running, or it runs without a pid lock" in x for x in messages(r, "INFO"))
    assert r.data["running"]["running"] is None and r.data["running"]["refuses_writes"] is False
    assert any("Nothing identifies the bot's process" in x for x in messages(r, "INFO"))


def test_systemd_is_reported_either_way(pid_file):
    r = run(pid_file)
    sd = r.data["systemd"]
    if not sd["available"]:
        assert "systemd not available on this host" in messages(r, "INFO")[-1]
        assert r.status is not Status.SKIPPED  # the pid file and processes were still checked
    else:
        assert "unit" in sd


# --- WARNING --------------------------------------------------------------------------------

def test_warning_stale_after_kill9_offers_the_repair(children, pid_file):
    holder = children.holder(pid_file, marker())
    children.kill9(holder)
    r = run(pid_file)
    assert r.status is Status.WARNING
    assert r.repairs == ["clear-stale-lock"]
    assert "Stale pid lock" in r.summary and f"pid {holder.pid} is not running" in r.summary
    assert r.data["pidlock"]["stale"] is True and r.data["pidlock"]["alive"] is False


def test_warning_garbage_pid_file(pid_file):
    pid_file.write_text("hello\n")
    r = run(pid_file)
    assert r.status is Status.WARNING and r.repairs == ["clear-stale-lock"]
    assert "not a pid" in r.summary


def test_warning_pid_reuse_names_the_innocent_process(children, pid_file):
    w = children.waiter(marker())
    pid_file.write_text(f"{w.pid}\n")
    old = time.time() - 3600
    os.utime(pid_file, (old, old))
    r = run(pid_file)
    assert r.status is Status.WARNING and r.repairs == ["clear-stale-lock"]
    assert "reused" in r.summary
    assert any("do not kill it" in x for x in messages(r, "INFO"))


def test_warning_live_pid_without_a_lock_has_no_clear_repair(children, pid_file):
    w = children.waiter(marker())
    pid_file.write_text(f"{w.pid}\n")
    r = run(pid_file)
    assert r.status is Status.WARNING
    assert r.repairs == []  # it may be the bot: never offer to clear it
    assert "holds no lock" in r.summary


def test_warning_symlink_at_pid_path(tmp_path, pid_file):
    (tmp_path / "target").write_text("x")
    pid_file.symlink_to(tmp_path / "target")
    r = run(pid_file)
    assert r.status is Status.WARNING and "symlink" in r.summary and r.repairs == []
    assert (tmp_path / "target").read_text() == "x"


def test_warning_bot_running_without_pid_file(children, pid_file):
    m = marker()
    w = children.waiter(m)
    r = run(pid_file, process_pattern=m)
    assert r.status is Status.WARNING
    assert f"pid {w.pid}" in r.summary and "No pid file" in r.summary


# --- FAIL -----------------------------------------------------------------------------------

def test_fail_two_processes_match_the_pattern(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m)
    other = children.waiter(m)
    r = run(pid_file, process_pattern=m)
    assert r.status is Status.FAIL
    assert "2 bot processes running" in r.summary
    assert f"pid {holder.pid}" in r.summary and f"pid {other.pid}" in r.summary
    assert f"kill {other.pid}" in " ".join(r.recommendations)  # the one without the lock
    assert sorted(p["pid"] for p in r.data["processes"]) == sorted([holder.pid, other.pid])


def test_fail_without_pattern_uses_the_holders_command_line(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m)
    twin = children.holder(pid_file, m, NO_LOCK="1")  # same argv, started without taking the lock
    r = run(pid_file)
    assert r.status is Status.FAIL, r.findings
    assert "holder's command line" in r.summary
    assert f"kill {twin.pid}" in " ".join(r.recommendations)
    assert holder.pid in [p["pid"] for p in r.data["processes"]]


# --- SKIPPED and hosts without /proc ----------------------------------------------------------

def test_skipped_when_nothing_can_be_inspected(monkeypatch, tmp_path, pid_file):
    # Simulates a non-Linux host (no procfs, no systemd), which this CI machine cannot be.
    monkeypatch.setattr(procinfo, "PROC", tmp_path / "no-proc")
    monkeypatch.setattr(procinfo, "SYSTEMD_RUN_DIR", tmp_path / "no-systemd")
    r = run(pid_file)
    assert r.status is Status.SKIPPED
    assert "no /proc" in r.summary and str(pid_file) in r.summary


def test_without_proc_a_dead_pid_is_still_found_stale(monkeypatch, tmp_path, children, pid_file):
    w = children.waiter(marker())
    children.kill9(w)
    pid_file.write_text(f"{w.pid}\n")
    monkeypatch.setattr(procinfo, "PROC", tmp_path / "no-proc")
    r = run(pid_file)
    assert r.status is Status.WARNING and r.repairs == ["clear-stale-lock"]
    assert r.data["pidlock"]["locked"] is None  # /proc/locks could not be read
    assert any("Cannot list processes" in x for x in messages(r, "INFO"))


# --- single-instance guards (issue 10, defect 5) ----------------------------------------------

def test_a_held_pid_lock_is_a_guard_and_says_what_it_does_not_cover(children, pid_file):
    holder = children.holder(pid_file, marker())
    r = run(pid_file)
    found = r.data["guards"]["found"]
    assert [g["kind"] for g in found] == ["pid-lock"] and f"held by pid {holder.pid}" in found[0]["message"]
    assert "does not stop a copy started with another pid file" in found[0]["message"]
    assert not any("No single-instance guard" in x for x in messages(r))


def test_a_pid_file_whose_holder_deleted_it_is_no_guard(children, pid_file):
    holder = children.holder(pid_file, marker())
    pid_file.unlink()
    r = run(pid_file)
    assert r.status is Status.WARNING and r.data["running"]["running"] is True
    assert any(f"{pid_file} (deleted)" in x and "a second copy would start" in x for x in messages(r, "WARNING"))
    assert any("No single-instance guard" in x for x in messages(r, "WARNING"))
    assert any(f"kill {holder.pid}" in x for x in messages(r, "INFO"))


BOT = """import json
from statetui.pidlock import PidLock

STATE = "state/trading_state.json"


def save(state):
    with open(STATE, "w") as f:
        json.dump(state, f)


def main():
    with PidLock("/tmp/bot.pid"):
        save({"current_balance": 1.0})


if __name__ == "__main__":
    main()
"""


def bot_source(tmp_path, **files: str):
    src = tmp_path / "src"
    src.mkdir()
    for name, text in files.items():
        (src / f"{name}.py").write_text(text)
    return src


def test_a_guard_in_the_bots_code_counts_while_the_bot_is_stopped(tmp_path, pid_file):
    src = bot_source(tmp_path, main=BOT)
    r = run(pid_file, process_pattern=marker(), bot_source=src, state=src / "state" / "trading_state.json")
    assert r.status is Status.PASS, r.findings
    guard = next(f for f in r.findings if f.message.startswith("Single-instance guard (code)"))
    assert "PidLock" in guard.message and (guard.file, guard.line) == ("main.py", 13)


def test_a_guard_another_program_bypasses_is_a_warning(tmp_path, pid_file):
    tool = "from main import save\n\nif __name__ == '__main__':\n    save({'current_balance': 2.0})\n"
    src = bot_source(tmp_path, main=BOT, tool=tool)
    r = run(pid_file, process_pattern=marker(), bot_source=src, state=src / "state" / "trading_state.json")
    assert r.status is Status.WARNING
    assert any("bypassed" in x and "tool.py" in x for x in messages(r, "WARNING"))
    assert r.data["guards"]["found"][0]["bypassed_by"] == ["tool.py"]


def test_code_without_a_guard_is_a_warning(tmp_path, pid_file):
    src = bot_source(tmp_path, main=BOT.replace('    with PidLock("/tmp/bot.pid"):\n        save', '    save'))
    r = run(pid_file, process_pattern=marker(), bot_source=src, state=src / "state" / "trading_state.json")
    assert r.status is Status.WARNING and r.summary.startswith("No single-instance guard found")
    assert f"no single-instance guard in the code under {src}" in r.summary
