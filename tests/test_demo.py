"""`statetui demo` run headless as a real process: the simulated bot writes, the chain
holds the wallet's cash, the Jan 16 incident halts the bot, the guided recovery (stop
the bot, recompute the peak) reaches a passing audit, and nothing is left behind."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.core import procinfo
from statetui.core.chain import close_connections, read_chain
from statetui.core.config import PUSD, USDC_E, Config, load_config
from statetui.core.store import StateStore
from statetui.demo.chain import pyevm_available, set_wallet, start_chain
from statetui.demo.sandbox import WALLET, trigger_incident
from statetui.repair.runner import apply_plan, plan_repair
from statetui.testing import anvil
from tests.conftest import run_cli

WAIT_S = 30.0  # generous upper bound for events that take 1-5 s (a slow CI machine)


def _anvil_or_skip() -> None:
    try:
        anvil.find_anvil()
    except anvil.AnvilUnavailable as exc:
        pytest.skip(f"needs anvil: {exc}")


class DemoProcess:
    """`statetui demo --headless` in its own process, its stdout read line by line."""

    def __init__(self, tmp_path: Path, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
        env["TMPDIR"] = str(tmp_path)  # the temporary sandbox lands here, where the test can see it
        self.proc = subprocess.Popen([sys.executable, "-m", "statetui", "demo", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, prefix: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r}; saw {self.seen}; stderr {self._stderr()}")

    def _stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None else "(running)"

    def ready(self) -> dict:
        sandbox = self.wait_line("demo sandbox: ").split(": ", 1)[1].split(" (", 1)[0]
        self.wait_line("demo config: ")
        return json.loads((Path(sandbox) / "demo.json").read_text())

    def finish(self, sig: int | None = None) -> int:
        if sig is not None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def assert_gone(manifest: dict) -> None:
    for pid in (manifest["bot"]["pid"], manifest["chain"]["pid"], manifest["demo_pid"]):
        assert not procinfo.pid_alive(pid), f"pid {pid} is still running"


def generation(state: Path) -> int:
    last = StateStore(state).journal.last()
    return last["generation"] if last else 0


@pytest.fixture
def demo(tmp_path):
    started: list[DemoProcess] = []

    def start(*args: str) -> DemoProcess:
        d = DemoProcess(tmp_path, *args)
        started.append(d)
        return d

    yield start
    for d in started:
        d.kill()
        close_connections()


def test_demo_bot_trades_chain_matches_incident_on_trigger_and_ctrl_c_cleans_up(demo, tmp_path):
    d = demo("--headless", "300", "--incident", "none")
    m = d.ready()
    sandbox, state = Path(m["sandbox"]), Path(m["state"])
    assert m["temporary"] and sandbox.parent == tmp_path
    config = load_config({}, env={}, config_file=m["config"])
    assert (config.state, config.pid_file, config.rpc_url, config.wallet) == (
        state, sandbox / "bot.pid", m["chain"]["url"], WALLET)
    assert m["chain"]["kind"] == ("py-evm" if pyevm_available() else "anvil")

    # The bot is a separate process holding the lock, and it writes through the store.
    assert m["bot"]["pid"] != m["demo_pid"] and procinfo.pid_alive(m["bot"]["pid"])
    start = generation(state)
    wait_for(lambda: generation(state) >= start + 2, "two trades")
    entry = StateStore(state).journal.last()
    assert entry["reason"] in ("trade win", "trade loss") and entry["writer"] == "demo-bot"
    assert {"current_balance", "total_trades", "last_updated"} <= set(entry["changes"])

    # The chain holds the wallet's cash: the reader sees what the state says (re-read when a trade lands between).
    def agree():
        before = StateStore(state).load().money("current_balance")
        reading = read_chain(config)
        after = StateStore(state).load().money("current_balance")
        return (before, reading) if before == after else None

    cash, reading = wait_for(agree, "a reading between two trades")
    assert abs(reading.cash - cash) <= Decimal(1)
    assert reading.block_number >= 2 and [t.address for t in reading.tokens] == [PUSD, USDC_E]
    # The check reads the state, then the chain: a trade may land in between; one run between two trades passes.
    wait_for(lambda: run_cli("audit", "--check", "chain-reconcile", "--config", m["config"]).returncode == 0,
             "a chain-reconcile run between two trades")

    # The console's key press: the trigger file.
    trigger_incident(config)
    halted = wait_for(lambda: (s := StateStore(state).load()).halted and s, "the incident's halt")
    assert halted.mode == "halted" and halted.halt_reason.startswith("drawdown ")
    assert run_cli("audit", "--check", "peak-drawdown", "--config", m["config"]).returncode == 2
    assert procinfo.pid_alive(m["bot"]["pid"])  # halted, but still running and holding its lock

    assert d.finish(signal.SIGINT) == 130  # Ctrl-C
    assert_gone(m)
    assert not sandbox.exists()
    assert any(line.startswith("demo: stopped bot pid") for line in d.seen), d.seen


def test_jan16_by_default_and_guided_recovery_reach_a_passing_audit(demo, tmp_path):
    d = demo("--headless", "300")  # no --incident: the Jan 16 incident, labelled as staged
    m = d.ready()
    assert m["staged"] == ["jan16"]
    assert any(line.startswith("demo incident (staged, not real): Jan 16 false peak") for line in d.seen), d.seen
    state, config_file = Path(m["state"]), m["config"]
    config = load_config({}, env={}, config_file=config_file)
    wait_for(lambda: StateStore(state).load().halted, "the jan16 halt")
    s = StateStore(state).load()
    assert s.peak_balance == pytest.approx(s.current_balance + 186.0)
    res = run_cli("audit", "--check", "peak-drawdown", "--json", "--config", config_file)
    assert res.returncode == 2
    assert "FALSE DRAWDOWN HALT" in res.stdout

    # Step 1: the repair refuses while the bot runs, and names the stop command.
    plan = plan_repair("recompute-peak", config)
    assert plan.blocked and plan.stop_command == m["bot"]["stop"] == f"kill {m['bot']['pid']}"
    subprocess.run(plan.stop_command, shell=True, check=True)
    wait_for(lambda: not procinfo.pid_alive(m["bot"]["pid"]), "the bot to stop")

    # Step 2: recompute the peak from realized cash; the halt goes with it.
    plan = plan_repair("recompute-peak", config)
    assert plan.can_apply, plan.render()
    outcome = apply_plan(plan, config)
    assert outcome.ok and all(r.status.value == "PASS" for r in outcome.verify), [r.summary for r in outcome.verify]
    s = StateStore(state).load()
    assert (s.halted, s.mode) == (False, "normal") and s.peak_balance >= s.current_balance

    # Step 3: a clean audit, local and against the chain (the demo bot takes its PidLock in code:
    # the persistence review finds that guard even with the bot stopped).
    res = run_cli("audit", "--local", "--config", config_file)
    assert res.returncode == 0, res.stdout
    assert run_cli("audit", "--config", config_file).returncode == 0

    assert d.finish(signal.SIGTERM) == 128 + signal.SIGTERM
    assert_gone(m)
    assert not Path(m["sandbox"]).exists()


def test_kept_dir_on_anvil_timer_exit_and_reuse(demo, tmp_path):
    _anvil_or_skip()
    keep = tmp_path / "sandbox"
    d = demo("--headless", "2", "--dir", str(keep), "--chain", "anvil")
    m = d.ready()
    assert m["chain"]["kind"] == "anvil" and m["chain"]["pid"] != m["demo_pid"]
    assert d.finish() == 0  # the headless timer ran out
    assert_gone(m)
    assert (keep / "state" / "trading_state.json").exists() and not (keep / "bot.pid").exists()
    first = generation(keep / "state" / "trading_state.json")

    d = demo("--headless", "1", "--dir", str(keep))
    m2 = d.ready()
    assert m2["sandbox"] == m["sandbox"]
    assert d.finish() == 0
    assert generation(keep / "state" / "trading_state.json") >= first  # reused, not re-created
    assert_gone(m2)


def test_a_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("a user's file")
    res = run_cli("demo", "--headless", "1", "--dir", str(tmp_path))
    assert res.returncode == 4
    assert res.stderr.strip() == (f"statetui: error: {tmp_path}: not empty and holds no demo sandbox; "
                                  "choose a new or empty folder for --dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


@pytest.mark.parametrize("kind", ["py-evm", "anvil"])
def test_demo_chain_serves_the_reader(kind):
    if kind == "anvil":
        _anvil_or_skip()
    elif not pyevm_available():
        pytest.skip("py-evm not installed")
    token_id = 71321045679252212594626385532706912750332728571942532289631379312455583992563
    chain = start_chain(kind, WALLET, Decimal("200.97"), {token_id: 120_000_000})
    try:
        config = Config(rpc_url=chain.url, wallet=WALLET)
        first = read_chain(config, [token_id])
        assert first.cash == Decimal("200.97") and first.positions == {token_id: 120_000_000}
        assert [(t.symbol, t.amount) for t in first.tokens] == [("pUSD", Decimal("150.5")), ("USDC.e", Decimal("50.47"))]

        set_wallet(chain.url, WALLET, Decimal("12.34"), {token_id: 0})
        now = read_chain(config, [token_id])
        assert now.block_number == first.block_number + 1 and now.block_time >= first.block_time
        assert now.cash == Decimal("12.34") and now.positions == {token_id: 0}
        assert [t.amount for t in now.tokens] == [Decimal(0), Decimal("12.34")]  # legacy USDC.e is spent last
        if kind == "py-evm":  # anvil_setStorageAt rewrites the latest block's state in place; py-evm keeps history
            assert read_chain(config, [token_id], block=first.block_number).cash == Decimal("200.97")
    finally:
        close_connections()
        chain.stop()
    if kind == "anvil":
        assert not procinfo.pid_alive(chain.pid)


def test_each_incident_is_staged_on_request_and_a_killed_bot_is_reaped(demo, tmp_path):
    d = demo("--headless", "300", "--incident", "none")
    m = d.ready()
    state, config = Path(m["state"]), load_config({}, env={}, config_file=m["config"])
    start = generation(state)
    wait_for(lambda: generation(state) >= start + 1, "a trade")

    # The wallet loses $40 outside the bot: the chain check fails and offers reconcile.
    trigger_incident(config, "mismatch")
    res = wait_for(lambda: (r := run_cli("audit", "--check", "chain-reconcile", "--config", m["config"])).returncode == 2 and r,
                   "the mismatch")
    assert "reconcile" in res.stdout
    assert json.loads((Path(m["sandbox"]) / "demo.json").read_text())["staged"] == ["mismatch"]

    # A writer without atomic replace cut off mid-write: half a JSON file; the bot refuses to trade on it.
    trigger_incident(config, "corrupt")
    wait_for(lambda: run_cli("show", "--config", m["config"]).returncode == 4, "the corrupt file")
    assert procinfo.pid_alive(m["bot"]["pid"])

    # kill -9: the pid file stays behind, nobody holds the lock, and the demo reaps its child at once.
    trigger_incident(config, "stale-lock")
    wait_for(lambda: not procinfo.pid_alive(m["bot"]["pid"]), "the bot to die")
    from statetui.core.pidlock import inspect_pidlock

    status = inspect_pidlock(config.pid_file)
    assert status.exists and status.stale
    assert d.finish(signal.SIGTERM) == 128 + signal.SIGTERM
    assert_gone(m)


def test_the_calm_bot_never_halts_over_a_simulated_hour():
    """The strategy itself, tick after tick (1-2 s apart) for an hour, over many seeds:
    stakes fit the drawdown headroom, so the halt never trips and cash never goes negative."""
    import random
    from types import SimpleNamespace

    from statetui.demo.bot import SOFT_LIMIT, apply_trade, next_trade

    class State(SimpleNamespace):
        def money(self, name):
            v = getattr(self, name)
            return None if v is None else Decimal(str(v))

    worst = 0.0
    for seed in range(20):
        rng = random.Random(seed)
        s = State(current_balance=200.97, peak_balance=200.97, daily_pnl=0.0, total_trades=0, total_wins=0,
                  consecutive_wins=0, consecutive_losses=0, mode="normal", halted=False, halt_reason=None)
        clock, trades = 0.0, 0
        while clock < 3600:
            clock += rng.uniform(1.0, 2.0)
            t = next_trade(rng, s.current_balance, s.peak_balance)
            if t is None:
                continue
            apply_trade(s, t)
            trades += 1
            assert not s.halted and s.mode != "halted", (seed, trades, s)
            assert s.current_balance > 0
            worst = max(worst, (s.peak_balance - s.current_balance) / s.peak_balance)
        assert trades > 1500  # it really trades, it does not just sit out
    assert 0.05 < worst <= SOFT_LIMIT  # real drawdowns happen, none comes near the 30% halt
