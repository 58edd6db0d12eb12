"""`statetui demo`: sandbox, chain, simulated bot, then the console; on the way out,
whatever happened (quit, Ctrl-C, SIGTERM, SIGHUP, the terminal closing, the console
crashing), stop the bot and the chain and remove the temporary sandbox.

The bot and an anvil chain are registered with statetui.tui.children: reaped as soon as
they exit (never <defunct>), stopped first when the terminal is lost."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from statetui.core import procinfo
from statetui.core.money import fmt_money
from statetui.demo.chain import DemoChain, start_chain
from statetui.demo.sandbox import (
    INCIDENTS,
    DemoError,
    Sandbox,
    create_sandbox,
    remove_sandbox,
    write_config,
    write_manifest,
)
from statetui.tui import children

BOT_READY_S = 15.0
STOP_GRACE_S = 5.0


class Demo:
    def __init__(self, directory: str | None = None, chain_kind: str = "auto", incident: str | None = "jan16",
                 out=None):
        self.directory = directory
        self.chain_kind = chain_kind
        self.incident = incident if incident != "none" else None
        self.out = out or sys.stdout
        self.sandbox: Sandbox | None = None
        self.chain: DemoChain | None = None
        self.bot: subprocess.Popen | None = None
        self._closed = False

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # --- start -------------------------------------------------------------------

    def start(self) -> None:
        from statetui.core.figures import position_token_ids
        from statetui.core.store import StateStore

        # The hook first, and the folder known as soon as it exists: a terminal lost while the
        # sandbox is being filled removes it too.
        children.on_exit(self._on_lost_terminal)
        sb = self.sandbox = create_sandbox(self.directory, created=lambda made: setattr(self, "sandbox", made))
        self.say(f"demo sandbox: {sb.root}" + (" (temporary: removed on exit)" if sb.temporary else " (kept)"))
        state = StateStore(sb.state, backup_dir=sb.backups).load()
        cash = state.money("current_balance") or 0
        held = {}
        for pos in _items(state.positions):  # a kept sandbox may list positions the wallet holds
            ids = position_token_ids([pos])
            if ids and ids[0] < 2**256 and _shares(pos):
                held[ids[0]] = _shares(pos)
        self.chain = start_chain(self.chain_kind, sb.wallet, cash, held)
        if self.chain.proc is not None:
            children.adopt(self.chain.proc)
        self.say(f"demo chain: {self.chain.kind} at {self.chain.url} (chain id 137, pid {self.chain.pid}); "
                 f"wallet {sb.wallet} holds ${fmt_money(cash)}")
        write_config(sb, self.chain.url)
        self.bot = self.start_bot()
        write_manifest(sb, self.manifest())
        self.say(f"demo bot: pid {self.bot.pid} holds {sb.pid_file} (stop it with: kill {self.bot.pid}); log {sb.bot_log}")
        if self.incident:
            title, story = next((t, s) for i, t, s in INCIDENTS if i == self.incident)
            self.say(f"demo incident (staged, not real): {title}: {story}; within seconds of the first trades")
        else:
            self.say("demo: a calm bot (no incident); D in the console stages one")
        self.say(f"demo config: {sb.config_path} (try: statetui --config {sb.config_path} audit)")

    def start_bot(self) -> subprocess.Popen:
        sb = self.sandbox
        assert sb is not None and self.chain is not None
        cmd = bot_command(sb, self.chain.url, self.incident)
        with open(sb.bot_log, "ab") as log:
            # Own session: the terminal's Ctrl-C reaches the demo, which stops the bot itself.
            # Registered: reaped the moment it exits, stopped first if the terminal goes.
            proc = children.spawn(cmd, stdout=log, cwd=sb.root)
        deadline = time.monotonic() + BOT_READY_S
        from statetui.core.pidlock import inspect_pidlock

        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = sb.bot_log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise DemoError(f"the simulated bot exited at start (code {proc.returncode}): {tail[0]}")
            status = inspect_pidlock(sb.pid_file)
            if status.running and status.holder_pid == proc.pid:
                return proc
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        raise DemoError(f"the simulated bot did not take its pid lock {sb.pid_file} within {BOT_READY_S:g} s")

    def manifest(self) -> dict[str, Any]:
        sb, chain, bot = self.sandbox, self.chain, self.bot
        assert sb is not None and chain is not None and bot is not None
        return {
            "demo_pid": os.getpid(),
            "sandbox": str(sb.root),
            "temporary": sb.temporary,
            "config": str(sb.config_path),
            "state": str(sb.state),
            "wallet": sb.wallet,
            "chain": {"kind": chain.kind, "url": chain.url, "pid": chain.pid},
            "bot": {"pid": bot.pid, "stop": f"kill {bot.pid}", "log": str(sb.bot_log),
                    "start": bot_command(sb, chain.url, None)},
            "incident_triggers": str(sb.root),
            "staged": [self.incident] if self.incident else [],
        }

    # --- stop --------------------------------------------------------------------

    def _on_lost_terminal(self) -> None:
        """The terminal went away: the children (the bot, anvil) are stopped already, a
        py-evm chain ends with this process; the temporary sandbox goes (quietly: nobody
        is there to read it)."""
        self._closed = True
        if self.sandbox is not None:
            remove_sandbox(self.sandbox)

    def close(self) -> None:
        """Idempotent: stop the bot, stop the chain, remove a temporary sandbox."""
        if self._closed:
            return
        self._closed = True
        children.remove_hook(self._on_lost_terminal)
        done = []
        if self.sandbox is not None:
            stopped = self.stop_bots()
            if stopped:
                done.append("stopped bot pid " + ", ".join(map(str, stopped)))
        if self.chain is not None:
            from statetui.core.chain import close_connections

            close_connections()
            self.chain.stop()
            done.append(f"stopped the {self.chain.kind} chain")
        if self.sandbox is not None and remove_sandbox(self.sandbox):
            done.append(f"removed {self.sandbox.root}")
        elif self.sandbox is not None:
            done.append(f"kept {self.sandbox.root}")
        if done:
            try:
                self.say("demo: " + "; ".join(done))
            except (OSError, ValueError):
                pass  # stdout already closed (a terminal that went away)

    def stop_bots(self) -> list[int]:
        """Every bot we started (the first, one the console restarted), and a demo bot
        someone restarted by hand on this sandbox (it holds the lock)."""
        from statetui.core.pidlock import inspect_pidlock

        chain_pid = self.chain.pid if self.chain is not None else None
        stopped = [pid for pid in children.terminate_all(STOP_GRACE_S) if pid != chain_pid]
        sb = self.sandbox
        assert sb is not None
        holder = inspect_pidlock(sb.pid_file).holder_pid
        argv = procinfo.cmdline_argv(holder) if holder else None
        if holder and argv and "statetui.demo.bot" in argv and str(sb.state) in argv:
            stop_pid(holder)
            stopped.append(holder)
        return stopped

    def wait(self, seconds: float) -> None:
        """Headless: keep everything running for `seconds` (or until a signal)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def bot_command(sb: Sandbox, rpc_url: str, incident: str | None) -> list[str]:
    """The simulated bot on this sandbox: everything it needs is in the sandbox's config
    (written first), so the command that restarts it is short enough to read."""
    cmd = [sys.executable, "-m", "statetui.demo.bot", "--config", str(sb.config_path)]
    return cmd + (["--incident", incident] if incident else [])


def stop_pid(pid: int, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds (for a process that is not our child)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not procinfo.pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _items(positions: Any) -> list[Any]:
    return list(positions.values()) if isinstance(positions, dict) else list(positions or [])


def _shares(pos: Any) -> int:
    """Raw ERC-1155 shares (6 decimals) a listed position still holds on chain: open or
    resolved-unredeemed positions keep their shares until redeemed."""
    if not isinstance(pos, dict) or str(pos.get("status", "")).lower() in ("redeemed", "closed", "sold"):
        return 0
    size = pos.get("size") or pos.get("shares")
    return int(round(float(size) * 10**6)) if isinstance(size, (int, float)) and not isinstance(size, bool) else 0


def run_demo(args) -> int:
    demo = Demo(getattr(args, "dir", None), getattr(args, "chain", None) or "auto", getattr(args, "incident", None) or "jan16")
    atexit.register(demo.close)  # a last resort; the finally below is the normal path
    # SIGHUP/SIGTERM at any moment (the terminal lost, a kill): the bot and anvil are stopped,
    # the sandbox removed, and the process leaves at once (statetui.tui.children).
    previous = children.install_signal_guard()
    try:
        demo.start()
        assert demo.sandbox is not None
        if getattr(args, "headless", None) is not None:
            demo.say(f"demo: headless for {args.headless:g} s")
            demo.wait(args.headless)
            return 0
        config = demo.sandbox.config()
        try:
            from statetui.tui.app import run_app
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("statetui.tui"):
                raise DemoError("the console is not part of this install (statetui.tui missing)") from None
            raise
        result = run_app(config)
        return result if isinstance(result, int) else 0
    except KeyboardInterrupt:
        return 130
    finally:
        demo.close()
        children.restore_signals(previous)
