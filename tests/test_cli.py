"""The headless CLI as cron and a tired human use it: exit codes, JSON, one-line errors."""

import json
import os

import pytest

from tests.conftest import run_cli
from statetui.testing import scenarios
from statetui.testing.states import left_by_a_stopped_bot


def env_for(tmp_path, **extra):
    return {"STATETUI_PID_FILE": str(tmp_path / "bot.pid"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **extra}


def test_audit_on_an_empty_directory_reproduces_the_reference_verdict(tmp_path):
    res = run_cli("audit", "--format", "json", cwd=tmp_path, env=env_for(tmp_path))
    assert res.returncode == 3, res.stderr
    report = json.loads(res.stdout)
    assert report["overall"] == "CRITICAL"
    state_file = next(c for c in report["checks"] if c["id"] == "state-file")
    assert state_file["status"] == "CRITICAL"
    assert {"id", "title", "status", "summary", "findings", "recommendations", "repairs"} <= set(state_file)
    assert {"severity", "message", "file", "line"} <= set(state_file["findings"][0])
    assert [c["id"] for c in report["checks"]] == [
        "state-file", "persistence-code", "peak-drawdown", "recovery", "process-safety", "backups", "chain-reconcile"]


def test_audit_markdown_keeps_the_reference_shape(tmp_path):
    out = tmp_path / "report.md"
    res = run_cli("audit", "--format", "md", "--output", str(out), cwd=tmp_path, env=env_for(tmp_path))
    assert res.returncode == 3
    text = out.read_text(encoding="utf-8")
    for heading in ("# State Management Audit Report", "## Executive Summary", "**Overall Assessment:** 🔴 CRITICAL",
                    "## Detailed Audit Findings", "### State File Existence", "## Priority Action Items",
                    "### 🔴 Critical (Immediate)", "### 🟡 Important (Within 1 Week)", "**END OF REPORT**"):
        assert heading in text


def test_audit_exit_codes_follow_the_worst_status(tmp_path):
    sc = scenarios.jan16(tmp_path)
    env = env_for(tmp_path, STATETUI_STATE=str(sc.state))
    assert run_cli("audit", "--check", "peak-drawdown", env=env).returncode == 2
    assert run_cli("audit", "--check", "state-file", env=env).returncode == 0
    res = run_cli("audit", "--check", "peak-drawdown", "--check", "state-file", "--json", env=env)
    assert [c["id"] for c in json.loads(res.stdout)["checks"]] == ["peak-drawdown", "state-file"]
    assert run_cli("audit", "--check", "nope", env=env).returncode == 2  # a usage error (issue 11)


def test_state_flag_before_or_after_the_verb_and_env(tmp_path):
    sc = scenarios.healthy(tmp_path)
    env = env_for(tmp_path)
    a = run_cli("--state", str(sc.state), "show", "--json", env=env)
    b = run_cli("show", "--json", "--state", str(sc.state), env=env)
    c = run_cli("show", "--json", env={**env, "STATETUI_STATE": str(sc.state)})
    assert a.returncode == b.returncode == c.returncode == 0
    assert json.loads(a.stdout)["state"] == json.loads(b.stdout)["state"] == json.loads(c.stdout)["state"]
    assert json.loads(a.stdout)["state"]["current_balance"] == 200.97


def test_init_show_backup_backups_verify_restore_cycle(tmp_path):
    env = env_for(tmp_path, STATETUI_STATE=str(tmp_path / "s" / "trading_state.json"))
    bare = run_cli("init", env=env)  # no silent $0.00: the cash is asked for
    assert bare.returncode == 2 and "one of the arguments --balance --zero is required" in bare.stderr
    assert not (tmp_path / "s").exists()
    # the real command: the journal names the process that wrote (statetui, never __main__.py)
    assert run_cli("init", "--balance", "200.97", env=env, process=True).returncode == 0
    again = run_cli("init", "--zero", env=env)
    assert again.returncode == 4 and "refusing to overwrite" in again.stderr
    shown = run_cli("show", env=env).stdout
    assert "200.97" in shown and "halted   no (" in shown and "running)" not in shown
    assert "bot      no sign of the bot running: no pid file" in shown  # may_be_running, never a guess
    assert "written  by statetui (pid " in shown and "through the store: init" in shown  # never `-` or __main__.py
    first = json.loads(run_cli("backup", "--json", env=env).stdout)
    listed = json.loads(run_cli("backups", "--json", env=env).stdout)["backups"]
    assert [b["name"] for b in listed] == [first["name"]] and listed[0]["checksum"] == "ok"
    assert run_cli("verify", env=env).returncode == 0
    state = tmp_path / "s" / "trading_state.json"
    state.write_text(state.read_text().replace("200.97", "386.97", 1))
    fresh = run_cli("restore", first["name"], "--plan", env=env)  # written outside the store just now
    assert fresh.returncode == 5 and "outside statetui's store" in fresh.stdout
    left_by_a_stopped_bot(state)  # ... the same edit an hour old: whoever made it is gone
    plan = run_cli("restore", first["name"], "--plan", env=env)
    assert plan.returncode == 0 and "current_balance: 386.97 → 200.97" in plan.stdout
    no_tty = run_cli("restore", first["name"], env=env)
    assert no_tty.returncode == 5 and "not confirmed" in no_tty.stderr
    assert json.loads(state.read_text())["current_balance"] == 386.97
    done = run_cli("restore", first["name"], "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(state.read_text())["current_balance"] == 200.97
    assert "undo: statetui restore" in done.stdout


def test_verify_fails_on_a_tampered_backup(tmp_path):
    sc = scenarios.healthy(tmp_path)
    b = sc.store.backups.list()[0]
    b.path.write_bytes(b.path.read_bytes().replace(b"150.0", b"150.5"))
    res = run_cli("verify", "--state", str(sc.state), env=env_for(tmp_path))
    assert res.returncode == 4 and "1 bad" in res.stdout
    # the error itself goes to stderr, one line naming the backup (issue 11: not on stdout)
    assert res.stderr.count("\n") == 1 and "checksum mismatch" in res.stderr and b.name in res.stderr


@pytest.mark.parametrize("content,needle", [
    (None, "state file not found"),
    ("", "file is empty"),
    ('{"current_balance": 1', "truncated JSON"),
    ('{"halted": "yes"}', "field halted: expected true or false"),
    ("[1, 2]", "top level is a JSON array"),
])
def test_bad_input_gives_one_line_and_no_traceback(tmp_path, content, needle):
    state = tmp_path / "trading_state.json"
    if content is not None:
        state.write_text(content)
    res = run_cli("show", "--state", str(state), env=env_for(tmp_path))
    assert res.returncode == 4
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("statetui: error:") and str(state) in lines[0]
    assert needle in lines[0] and "Traceback" not in res.stderr


def test_bad_config_file_is_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("state = [")
    res = run_cli("config", "--config", str(cfg), env=env_for(tmp_path))
    assert res.returncode == 2 and "invalid TOML" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_config_precedence_file_env_flags_and_redaction(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('state = "from_file.json"\nhalt_threshold = 25\n[chain]\nrpc_url = "https://user:pw@rpc.example/v2/abcdefghijklmnopqrstuvwxyz"\nwallet = "0x0000000000000000000000000000000000000001"\n')
    env = env_for(tmp_path, STATETUI_CONFIG=str(cfg), STATETUI_HALT_THRESHOLD="0.2")
    data = json.loads(run_cli("config", "--json", env=env).stdout)
    assert data["state"] == str(tmp_path / "from_file.json")
    assert data["halt_threshold"] == "0.2"
    assert "pw" not in data["rpc_url"] and "abcdefghijklmnop" not in data["rpc_url"]
    data = json.loads(run_cli("config", "--json", "--state", "x.json", env=env).stdout)
    assert data["state"] == "x.json"


def test_repair_refuses_while_the_bot_holds_its_lock(tmp_path, lock_holder):
    sc = scenarios.jan16(tmp_path)
    bot = lock_holder(tmp_path / "bot.pid")
    before = sc.state.read_bytes()
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", "--state", str(sc.state), env=env_for(tmp_path))
    assert res.returncode == 5
    assert f"kill {bot.pid}" in res.stderr and f"pid {bot.pid}" in res.stderr and "holds the lock" in res.stderr
    assert sc.state.read_bytes() == before
    bot.stop()
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", "--state", str(sc.state), env=env_for(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(sc.state.read_text())["peak_balance"] == 200.97
    assert run_cli("audit", "--check", "peak-drawdown", "--state", str(sc.state), env=env_for(tmp_path)).returncode == 0


def test_read_only_refuses_writes(tmp_path):
    sc = scenarios.jan16(tmp_path)
    res = run_cli("repair", "recompute-peak", "--apply", "--yes", "--read-only", "--state", str(sc.state), env=env_for(tmp_path))
    assert res.returncode == 5 and "read-only" in res.stderr
    assert run_cli("backup", "--read-only", "--state", str(sc.state), env=env_for(tmp_path)).returncode == 5
