"""statetui metrics: the families issue 16 lists, parsed by prometheus_client's parser and
checked by promtool; --textfile atomic; scrapes never write."""

from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run_cli
from tests.fleet.fleetkit import fleet_config
from tests.fleet.prom import RULE_TESTS, RULES, MetricsServer, binary

FAMILIES = {"statetui_up", "statetui_cash", "statetui_peak", "statetui_drawdown_ratio", "statetui_halted",
            "statetui_state_age_seconds", "statetui_peak_age_seconds", "statetui_check_status",
            "statetui_backup_age_seconds", "statetui_bot_running", "statetui_chain_mismatch"}


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _fleet(tmp_path):
    return fleet_config(tmp_path, {"alpha": {"cash": 60, "peak": 100, "halted": True},
                                   "beta": {"cash": 100, "peak": 100},
                                   "gamma": {"state": False}})


def test_metrics_text_parses_with_every_family_and_the_right_values(tmp_path):
    r = run_cli("--config", str(_fleet(tmp_path)), "metrics")
    assert r.returncode == 0, r.stderr
    names = {f.name for f in text_string_to_metric_families(r.stdout)}
    assert names == FAMILIES
    got = samples(r.stdout)
    bot = lambda name: (("bot", name),)  # noqa: E731
    assert got[("statetui_up", bot("alpha"))] == 1 and got[("statetui_up", bot("gamma"))] == 0
    assert got[("statetui_halted", bot("alpha"))] == 1 and got[("statetui_halted", bot("beta"))] == 0
    assert got[("statetui_cash", bot("alpha"))] == 60 and got[("statetui_peak", bot("alpha"))] == 100
    assert abs(got[("statetui_drawdown_ratio", bot("alpha"))] - 0.4) < 1e-9
    assert ("statetui_halted", bot("gamma")) not in got  # unknown is absent, never a guessed 0
    assert ("statetui_chain_mismatch", bot("alpha")) not in got  # no chain configured
    assert got[("statetui_check_status", (("bot", "gamma"), ("check", "state-file")))] == 3
    assert 0 <= got[("statetui_backup_age_seconds", bot("beta"))] < 600


def test_promtool_accepts_our_metrics_and_rules(tmp_path):
    promtool = binary("promtool")
    r = run_cli("--config", str(_fleet(tmp_path)), "metrics")
    check = subprocess.run([promtool, "check", "metrics"], input=r.stdout, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    rules = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert rules.returncode == 0 and "SUCCESS" in rules.stdout, rules.stdout + rules.stderr
    tests = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120,
                           cwd=RULE_TESTS.parent)
    assert tests.returncode == 0 and "SUCCESS" in tests.stdout, tests.stdout + tests.stderr


def test_every_shipped_alert_has_a_firing_unit_test():
    import yaml

    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    tested = {t["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
              for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert {"StatetuiBotHalted", "StatetuiStateUnreadable", "StatetuiFalseDrawdown", "StatetuiChainMismatch",
            "StatetuiPeakStale", "StatetuiNoRecentBackup", "StatetuiStateNotWritten", "StatetuiBotDown"} <= alerts
    assert alerts == tested


def test_textfile_is_written_atomically_and_refuses_a_link(tmp_path):
    config = _fleet(tmp_path)
    out = tmp_path / "statetui.prom"
    out.write_text("old\n")
    r = run_cli("--config", str(config), "metrics", "--textfile", str(out))
    assert r.returncode == 0, r.stderr
    assert 'statetui_halted{bot="alpha"} 1.0' in out.read_text()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".statetui.prom") or p.endswith(".tmp")]
    link = tmp_path / "link.prom"
    link.symlink_to(tmp_path / "elsewhere.prom")
    r = run_cli("--config", str(config), "metrics", "--textfile", str(link))
    assert r.returncode == 4 and "link" in r.stderr, r.stderr
    assert not (tmp_path / "elsewhere.prom").exists() and r.stderr.count("\n") == 1


def test_bad_listen_address_is_a_usage_error(tmp_path):
    r = run_cli("--config", str(_fleet(tmp_path)), "metrics", "--listen", "nowhere")
    assert r.returncode == 2 and "expected HOST:PORT" in r.stderr and "Traceback" not in r.stderr


def _tree(root) -> dict[str, str]:
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            with open(path, "rb") as f:
                found[path] = f"{st.st_mtime_ns}:{hashlib.sha256(f.read()).hexdigest()}"
    return found


def test_scrapes_never_write(tmp_path):
    config = _fleet(tmp_path)
    before = _tree(tmp_path)
    server = MetricsServer("--config", str(config))
    try:
        for _ in range(3):
            with urllib.request.urlopen(server.url, timeout=30) as resp:
                body = resp.read().decode()
            assert 'statetui_up{bot="alpha"} 1.0' in body
    finally:
        assert server.stop() == 0
    assert _tree(tmp_path) == before


def test_a_served_scrape_sees_a_write_at_once(tmp_path):
    from statetui.core.store import StateStore

    config = _fleet(tmp_path)
    server = MetricsServer("--config", str(config))
    try:
        def scrape():
            with urllib.request.urlopen(server.url, timeout=30) as resp:
                return samples(resp.read().decode())

        first = scrape()
        assert first[("statetui_halted", (("bot", "beta"),))] == 0
        with StateStore(tmp_path / "beta" / "state.json", auto_backup_interval=None).transaction("halt") as state:
            state.halted = True
            state.current_balance = 40.0
        second = scrape()  # the cached status is not reused: beta's files changed
        assert second[("statetui_halted", (("bot", "beta"),))] == 1
        assert second[("statetui_cash", (("bot", "beta"),))] == 40
        assert second[("statetui_state_age_seconds", (("bot", "alpha"),))] >= first[("statetui_state_age_seconds", (("bot", "alpha"),))]
    finally:
        assert server.stop() == 0
