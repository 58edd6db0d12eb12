"""Redaction by construction: distinct secrets planted in every credential position of the
RPC URL (user, password, short path segments, segments with `. + = %`, query keys and
values, the fragment), then every output surface grepped for each of them: the CLI's text,
JSON and Markdown for every verb, its errors (a server that quotes the path back, one that
is unreachable), the console's screens (Pilot), the journal, backups, reports, the incident
log, and a bot whose command line carries the URL."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from statetui.core.config import PUSD, Config
from statetui.testing import anvil, scenarios
from tests.hostile.harness import cli, cli_proc, judge
from tests.hostile.rpc import WALLET, Forwarder

pytestmark = pytest.mark.anyio

SECRETS = {
    "user": "usr7Secret", "password": "pw9Secret", "segment": "sk3", "short": "AbCd.E+f=G%41h",
    "query_value": "qv5Secret", "query_short": "q1x", "query_key": "qk8Secret", "fragment": "fr4Secret",
}
NEEDLES = sorted({s for v in SECRETS.values() for s in (v, unquote(v))} | {
    base64.b64encode(f"{SECRETS['user']}:{SECRETS['password']}".encode()).decode()})


def secret_url(port: int) -> str:
    s = SECRETS
    return (f"http://{s['user']}:{s['password']}@127.0.0.1:{port}/v2/{s['segment']}/{s['short']}"
            f"?apikey={s['query_value']}&id={s['query_short']}&{s['query_key']}=1#{s['fragment']}")


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def grep_tree(root: Path) -> list[str]:
    found = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            text = p.read_bytes().decode("utf-8", "replace")
            found += [f"{p}: {n}" for n in leaks(text)]
    return found


@pytest.fixture
def funded(anvil_node):
    snap = anvil_node.rpc("evm_snapshot")
    anvil.set_erc20_balance(anvil_node.url, PUSD, WALLET, 250_000_000)  # the state says 200.97: a reconcile to do
    yield anvil_node
    anvil_node.rpc("evm_revert", [snap])


def _env(sc: scenarios.Scenario, url: str) -> dict[str, str]:
    return {"STATETUI_STATE": str(sc.state), "STATETUI_BACKUP_DIR": str(sc.backups),
            "STATETUI_PID_FILE": str(sc.root / "bot.pid"), "STATETUI_RPC_URL": url,
            "STATETUI_WALLET": WALLET, "STATETUI_TOKENS": PUSD}


def test_no_cli_output_and_no_file_holds_a_credential(funded, tmp_path, hostile_rpc):
    sc = scenarios.jan16(tmp_path / "bot")
    problems: list[str] = []
    runs = 0
    with Forwarder(funded.url) as fwd:
        env = _env(sc, secret_url(fwd.port))
        report = tmp_path / "bot" / "audit.md"
        for argv in (["config"], ["config", "--json"], ["show"], ["show", "--json"], ["backups"], ["backups", "--json"],
                     ["verify"], ["journal"], ["journal", "--json"], ["repair"], ["repair", "recompute-peak"],
                     ["repair", "reconcile", "--json"], ["restore", "latest", "--plan"], ["reconcile"],
                     ["reconcile", "--json"], ["audit"], ["audit", "--json"], ["audit", "--format", "md"],
                     ["audit", "--format", "md", "--output", str(report)], ["audit", "--json", "--output", str(report) + ".json"],
                     ["reconcile", "--apply", "--yes", "--json"], ["journal", "--json", "-n", "0"], ["show", "--json"],
                     ["backup"], ["prune", "--dry-run"], ["audit", "--check", "chain-reconcile"]):
            res = cli(argv, tmp_path, env)
            runs += 1
            problems += [f"{argv}: {p}" for p in judge(res, {0, 1, 2, 3, 4}, error_line=None, secrets=NEEDLES)]
        assert fwd.paths and SECRETS["segment"] in fwd.paths[0]  # the credentials did reach the provider
        # The real command, once, for the verbs that show the URL.
        for argv in (["config", "--json"], ["reconcile"], ["audit", "--check", "chain-reconcile", "--json"]):
            res = cli_proc(argv, tmp_path, env)
            runs += 1
            problems += [f"subprocess {argv}: {p}" for p in judge(res, {0, 1, 2}, error_line=None, secrets=NEEDLES)]
    assert json.loads(sc.state.read_text())["current_balance"] == 250.0  # the reconcile did happen
    journal = sc.state.with_name("trading_state.journal.jsonl").read_text()
    assert '"rpc_url":"http://127.0.0.1:' in journal and "/***" in journal
    problems += grep_tree(tmp_path / "bot")
    # Errors: unreachable, a server quoting the path (and the Authorization header) back, the wrong chain.
    from tests.hostile.rpc import HostileRpc  # noqa: F401

    closed = secret_url(anvil.free_port())
    for mode, arg, url in (("echo", 404, None), ("echo", 200, None), ("honest-with", {"chain_id": 1}, None),
                           ("honest", None, closed)):
        hostile_rpc.set(mode, arg)
        e = _env(sc, url or secret_url(hostile_rpc.port))
        for argv in (["reconcile"], ["reconcile", "--json"], ["audit", "--check", "chain-reconcile", "--format", "md"],
                     ["audit", "--check", "chain-reconcile", "--json"]):
            res = cli(argv, tmp_path, e)
            runs += 1
            problems += [f"{mode} {argv}: {p}" for p in judge(res, {2, 4}, error_line=None, secrets=NEEDLES)]
    assert runs >= 40
    assert not problems, "\n".join(problems)


def test_a_bot_command_line_with_the_url_is_shown_redacted(tmp_path):
    sc = scenarios.jan16(tmp_path / "bot")
    url = secret_url(8545)
    code = ("import sys, time\nfrom statetui.pidlock import PidLock\nlock = PidLock(sys.argv[1]).acquire()\n"
            "print('locked', flush=True)\ntime.sleep(600)\n")
    bot = subprocess.Popen([sys.executable, "-c", code, str(sc.root / "bot.pid"), "--rpc-url", url],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert bot.stdout.readline().strip() == "locked"
        env = _env(sc, url)
        problems = []
        for argv in (["repair", "recompute-peak", "--apply", "--yes"], ["repair", "recompute-peak", "--json"],
                     ["audit", "--check", "process-safety"], ["audit", "--check", "process-safety", "--json"],
                     ["restore", "latest", "--yes"]):
            res = cli(argv, tmp_path, env)
            problems += [f"{argv}: {p}" for p in judge(res, {0, 1, 2, 3, 5}, error_line=None, secrets=NEEDLES)]
            assert "127.0.0.1:8545/***" in res.out + res.err or "process-safety" in argv[-1] or "--json" in argv
        assert not problems, "\n".join(problems)
    finally:
        bot.kill()
        bot.wait(timeout=30)
        bot.stdout.close()


async def test_no_console_screen_and_no_incident_log_holds_a_credential(funded, tmp_path, hostile_rpc):
    from statetui.tui.app import StateTuiApp
    from statetui.tui.playbook import STEPS, evaluate
    from statetui.tui.progress import Playbook
    from tests.tui.conftest import ready, screen_text, wait_for

    sc = scenarios.jan16(tmp_path / "bot")
    seen: list[str] = []
    with Forwarder(funded.url) as fwd:
        cfg = Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid", rpc_url=secret_url(fwd.port),
                     wallet=WALLET, tokens=[PUSD])
        app = StateTuiApp(cfg)
        async with app.run_test(size=(160, 50)) as pilot:
            await ready(pilot, audit=False)
            await pilot.press("c")  # read the chain
            await wait_for(pilot, lambda: app.ctx.chain_view is not None and not app.ctx.chain_busy, "the chain reading")
            seen.append(screen_text(app))
            app.run_checks(["chain-reconcile"])
            await wait_for(pilot, lambda: "chain-reconcile" in app.ctx.audit, "the chain check")
            await pilot.press("a")
            seen.append(screen_text(app))
            await pilot.press("escape")
            app.open_repair("reconcile")
            await wait_for(pilot, lambda: "evidence" in screen_text(app) or "rpc" in screen_text(app).lower(), "the plan")
            seen.append(screen_text(app))
        # Guided recovery, every step evaluated, and its incident log.
        book = Playbook(cfg)
        for step in STEPS:
            book.record(step.id, evaluate(step.id, cfg))
        log = book.finish()
        assert log is not None and log.exists()
        seen.append(log.read_text())
        # An unreachable secret URL: the error the console shows.
        bad = Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid",
                     rpc_url=secret_url(anvil.free_port()), wallet=WALLET, tokens=[PUSD])
        app = StateTuiApp(bad, audit_on_start=False)
        async with app.run_test(size=(160, 50)) as pilot:
            await ready(pilot, audit=False)
            await pilot.press("c")
            await wait_for(pilot, lambda: app.ctx.chain_view is not None and app.ctx.chain_view.error, "the chain error")
            seen.append(screen_text(app))
            assert "127.0.0.1" in screen_text(app)
    text = "\n".join(seen)
    assert "127.0.0.1" in text
    assert leaks(text) == [], leaks(text)
    assert grep_tree(tmp_path / "bot") == []
