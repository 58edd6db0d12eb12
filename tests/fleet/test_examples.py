"""The fleet examples are real commands: the daily reconcile-and-audit timer, the cron lines,
the metrics service."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from statetui.cli import build_parser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _parse(command: str):
    return build_parser().parse_args(shlex.split(command))  # a bad flag exits: the test fails


def test_daily_reconcile_and_audit_timer_and_metrics_service():
    unit = (EXAMPLES / "systemd" / "statetui-daily@.service").read_text()
    commands = re.findall(r"^ExecStart=-?/usr/local/bin/statetui (.+)$", unit, re.M)
    parsed = [_parse(c.replace("%i", "alpha")) for c in commands]
    assert [(a.verb, a.bot) for a in parsed] == [("reconcile", "alpha"), ("audit", "alpha")]
    assert not parsed[0].apply  # a timer never applies a reconcile unattended
    assert "OnCalendar=*-*-* 00:45:00" in (EXAMPLES / "systemd" / "statetui-daily@.timer").read_text()
    (metrics,) = re.findall(r"^ExecStart=/usr/local/bin/statetui (.+)$",
                            (EXAMPLES / "systemd" / "statetui-metrics.service").read_text(), re.M)
    args = _parse(metrics)
    assert args.verb == "metrics" and args.listen == "127.0.0.1:9464" and args.read_only


def test_cron_lines_for_the_fleet():
    lines = [line for line in (EXAMPLES / "cron").read_text().splitlines() if "--bot alpha" in line or " metrics " in line]
    verbs = {_parse(re.sub(r"^[\d*]+ [\d*]+ [\d*]+ [\d*]+ [\d*]+\s+statetui ", "", line)).verb for line in lines}
    assert verbs == {"reconcile", "audit", "metrics"}


def test_readme_fleet_config_loads(tmp_path):
    from statetui.core.fleet import load_fleet

    readme = (EXAMPLES.parent / "README.md").read_text()
    block = readme.split("## Several bots in one config", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    (tmp_path / "config.toml").write_text(block)
    alpha, momentum = load_fleet({}, env={}, config_file=tmp_path / "config.toml")
    assert alpha.config.chain_configured and not momentum.config.chain_configured
    assert momentum.config.fields == {"cash": "account.bankroll", "peak": "account.high_water"}
    assert str(alpha.config.notify[0]) == "tgram://***" and momentum.config.notify == alpha.config.notify
