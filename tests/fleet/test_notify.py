"""Notifications through Apprise's json:// to a real loopback HTTP server."""

from __future__ import annotations

import json

import pytest

from statetui.core.notify import should_send

from tests.conftest import run_cli
from tests.fleet.prom import free_port
from tests.fleet.fleetkit import Receiver, fleet_config


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_audit_failure_is_notified_once_then_on_change(tmp_path, receiver):
    config = fleet_config(tmp_path, {"alpha": {}, "beta": {"state": False}})
    args = ("--config", str(config), "--bot", "beta", "audit", "--local", "--notify", receiver.url)
    r = run_cli(*args)
    assert r.returncode == 3, r.stderr  # CRITICAL: the state file is missing; notifying changes nothing
    assert len(receiver.received) == 1
    sent = receiver.received[0]["json"]
    assert sent["title"] == "statetui: beta audit CRITICAL" and sent["type"] == "failure"
    body = sent["message"].splitlines()
    assert body[0] == f"bot: beta ({tmp_path / 'beta' / 'state.json'})"
    assert body[1].startswith("audit: CRITICAL - ")
    assert "- state-file CRITICAL: Bot cannot operate without state file" in body
    assert body[-1] == "next step: statetui --bot beta repair init-state"
    r = run_cli(*args)  # the same status again: notify_on = "change" (the default) stays quiet
    assert r.returncode == 3 and len(receiver.received) == 1
    assert run_cli("--config", str(config), "--bot", "beta", "init", "--balance", "50").returncode == 0
    r = run_cli(*args)
    assert r.returncode in (0, 1) and len(receiver.received) == 2
    assert "(was CRITICAL)" in receiver.received[1]["json"]["message"]


def test_a_failing_notifier_warns_redacted_and_keeps_the_exit_code(tmp_path):
    config = fleet_config(tmp_path, {"beta": {"state": False}})
    dead = f"json://hookuser:SECRETPASS@127.0.0.1:{free_port()}/SECRETPATH"
    r = run_cli("--config", str(config), "audit", "--local", "--notify", dead)
    assert r.returncode == 3
    warnings = [line for line in r.stderr.splitlines() if line.startswith("statetui: warning: notify json://***")]
    assert len(warnings) == 1, r.stderr
    assert "SECRETPASS" not in r.stderr and "SECRETPATH" not in r.stderr and "hookuser" not in r.stderr


def test_config_notify_per_bot_always_on_backup(tmp_path, receiver):
    config = fleet_config(tmp_path, {"alpha": {"extra": [f'notify = ["{receiver.url}"]', 'notify_on = "always"']},
                                     "beta": {}})
    r = run_cli("--config", str(config), "--bot", "alpha", "backup")
    assert r.returncode == 0, r.stderr
    r = run_cli("--config", str(config), "--bot", "beta", "backup")  # beta has no notify
    assert r.returncode == 0, r.stderr
    assert len(receiver.received) == 1
    sent = receiver.received[0]["json"]
    assert sent["title"] == "statetui: alpha backup OK" and "backup written: " in sent["message"]
    r = run_cli("--config", str(config), "--bot", "alpha", "config", "--json")
    assert json.loads(r.stdout)["notify"] == ["json://***"] and str(receiver.port) not in r.stdout


def test_bad_notify_url_is_a_usage_error_before_any_work(tmp_path):
    config = fleet_config(tmp_path, {"alpha": {}})
    before = sorted(p.name for p in (tmp_path / "alpha" / "backups").iterdir())
    r = run_cli("--config", str(config), "backup", "--notify", "not a url")
    assert r.returncode == 2 and r.stderr.startswith("statetui: error: --notify") and r.stderr.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "alpha" / "backups").iterdir()) == before


@pytest.mark.parametrize("mode, previous, status, sent", [
    ("change", None, "OK", False), ("change", None, "FAIL", True), ("change", "FAIL", "FAIL", False),
    ("change", "FAIL", "OK", True), ("change", "WARNING", "FAIL", True),
    ("failure", "FAIL", "FAIL", True), ("failure", "FAIL", "OK", True), ("failure", "OK", "OK", False),
    ("failure", None, "OK", False), ("always", "OK", "OK", True),
])
def test_when_a_notification_is_sent(mode, previous, status, sent):
    assert should_send(mode, previous, status) is sent


def test_an_audit_of_one_check_is_not_compared_with_the_full_audit(tmp_path, receiver):
    config = fleet_config(tmp_path, {"alpha": {}})
    r = run_cli("--config", str(config), "audit", "--local", "--notify", receiver.url)
    assert r.returncode == 1 and len(receiver.received) == 1  # WARNING (no guard, no automation): the first failure
    r = run_cli("--config", str(config), "audit", "--check", "state-file", "--notify", receiver.url)
    assert r.returncode == 0 and len(receiver.received) == 1  # PASS, but no "recovered": it is another audit


def test_a_failed_offsite_backup_is_notified_and_keeps_its_exit_code(tmp_path, receiver):
    config = fleet_config(tmp_path, {"alpha": {}})
    r = run_cli("--config", str(config), "backup", "--offsite", "--notify", receiver.url)
    assert r.returncode == 2 and "off-site backups are not configured" in r.stderr  # no [offsite]: a usage error
    (sent,) = [m["json"] for m in receiver.received]
    assert sent["title"] == "statetui: alpha backup ERROR"
    assert "off-site backups are not configured" in sent["message"] and sent["type"] == "failure"
