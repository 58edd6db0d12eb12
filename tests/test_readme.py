"""The README's commands and integration example cannot rot: they are executed here."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_gives_exactly_two_setup_commands_and_ci_runs_the_test_one():
    block = README.split("## Try it: two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(commands) == 2
    assert "statetui demo" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci.replace("python3 -m pip install -q", "python3 -m pip install")


def test_integration_example_runs(tmp_path):
    code = README.split("## Integrating the store into a bot", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    pid_file = tmp_path / "bot.pid"
    code = code.replace("/tmp/polymarket-bot.pid", str(pid_file))
    subprocess.run([sys.executable, "-m", "statetui", "init", "--balance", "100", "--state",
                    "state/trading_state.json"], cwd=tmp_path, check=True, capture_output=True)
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    state = json.loads((tmp_path / "state" / "trading_state.json").read_text())
    assert state["current_balance"] == 112.5 and state["peak_balance"] == 112.5 and state["total_wins"] == 1
    last = (tmp_path / "state" / "trading_state.journal.jsonl").read_text().splitlines()[-1]
    assert json.loads(last)["reason"] == "trade win"
    assert not pid_file.exists()  # the lock file is removed on a clean exit


def test_integration_example_recovers_a_corrupt_file(tmp_path):
    code = README.split("## Integrating the store into a bot", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    code = code.replace("/tmp/polymarket-bot.pid", str(tmp_path / "bot.pid"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "statetui", *a, "--state", "state/trading_state.json"],  # noqa: E731
                                    cwd=tmp_path, check=True, capture_output=True)
    run("init", "--balance", "100")
    run("backup")
    (tmp_path / "state" / "trading_state.json").write_text('{"current_balance": 10')  # a partial write
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert re.search(r"recovered from corrupt: restored backup trading_state\.\S+\.manual\.", res.stdout)
    assert json.loads((tmp_path / "state" / "trading_state.json").read_text())["current_balance"] == 112.5


def test_cron_and_systemd_examples_parse_as_real_commands():
    import shlex

    from statetui.cli import build_parser

    text = (ROOT / "examples" / "cron").read_text() + "\n".join(
        p.read_text() for p in (ROOT / "examples" / "systemd").iterdir())
    commands = re.findall(r"(?:^|&&|ExecStart(?:Post)?=)\s*(?:/usr/local/bin/)?statetui ([^|&\n]+)", text, re.M)
    verbs = set()
    for command in commands:
        args = build_parser().parse_args(shlex.split(command))  # exits (fails the test) on a bad flag
        verbs.add(args.verb)
    assert {"backup", "prune", "audit"} <= verbs


def test_config_example_parses_console_section_included(tmp_path):
    from statetui.core.config import load_config
    from statetui.tui.app import check_console_config

    toml = README.split("```toml", 1)[1].split("```", 1)[0]
    wallet = "0x" + "5a" * 20  # the README's placeholder is not an address: the config refuses it
    path = tmp_path / "config.toml"
    path.write_text(toml.replace("0xYourFunderProxyOrSafe", wallet))
    cfg = load_config({}, env={}, config_file=path)
    assert cfg.theme == "nord" and cfg.keys == {"journal": "J"} and cfg.wallet == wallet
    check_console_config(cfg)  # a real theme, a real binding id
