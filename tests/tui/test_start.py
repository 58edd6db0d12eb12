"""Starting the console: no web3 import, a 10 MB state loads without blocking the UI,
and a clean exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from statetui.tui.app import StateTuiApp
from statetui.tui.screens.help import HelpScreen
from statetui.tui.widgets.panels import BalancesPanel

from tests.tui.conftest import ready, wait_for

pytestmark = pytest.mark.anyio


def test_console_start_does_not_import_web3(jan16):
    """In a fresh interpreter: the CLI entry point's imports, then the app up to its first
    complete dashboard (state, lock, backups, journal and the local audit). Neither web3
    nor pydantic (the console's memory budget, issue 15) is imported; then the file changes
    and is read in-process: still no pydantic."""
    script = textwrap.dedent(f"""
        import asyncio, json, sys
        import statetui.cli
        statetui.cli.build_parser()
        from statetui.core.config import Config
        from statetui.tui import prefetch

        async def main():
            # As run_app does: the first views are read in a thread while Textual is imported.
            cfg = Config(state={str(jan16.state)!r}, pid_file={str(jan16.pid_file)!r})
            early = prefetch.start(cfg)
            from statetui.tui.app import StateTuiApp
            app = StateTuiApp(cfg, prefetched=early)
            async with app.run_test(size=(80, 24)) as pilot:
                while not (app.ctx.state_view and app.ctx.lock_view and app.ctx.backups_view and app.ctx.history_view
                           and app.ctx.audit and not app.ctx.audit_running):
                    await pilot.pause(0.05)
                cash = app.screen.query_one("BalancesPanel").render().plain
                used = not app._prefetched  # every prefetched view was taken
                at_rest = "pydantic" in sys.modules
                doc = json.loads(cfg.state.read_text())
                doc["current_balance"] = 123.45
                cfg.state.write_text(json.dumps(doc))
                app.request("state")
                while "123.45" not in app.screen.query_one("BalancesPanel").render().plain:
                    await pilot.pause(0.05)
            print(json.dumps({{"web3": sorted(m for m in sys.modules if m == "web3" or m.startswith("web3.")),
                               "cash": "cash (current_balance) 200.97" in cash, "prefetch used": used,
                               "pydantic": [at_rest, "pydantic" in sys.modules]}}))

        asyncio.run(main())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"web3": [], "cash": True, "prefetch used": True, "pydantic": [False, False]}


def test_the_helpers_startup_checks_yield_the_cpu_to_the_console(jan16):
    """The prefetch helper gathers the first views at the console's priority, then runs the
    startup checks 10 steps nicer: on a busy machine the console's own start goes first."""
    script = textwrap.dedent(f"""
        import json, os, time
        from statetui.core.config import Config
        from statetui.tui import prefetch

        cfg = Config(state={str(jan16.state)!r}, pid_file={str(jan16.pid_file)!r})
        early = prefetch.start(cfg)
        helper = int(open(f"/proc/self/task/{{os.getpid()}}/children").read().split()[0])

        def nice(pid):
            return int(open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[16])

        early["backups"].result(timeout=30)
        seen = set()
        while not early["audit"].done():
            try:
                seen.add(nice(helper))
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.002)
        early["audit"].result(timeout=30)
        print(json.dumps({{"console": nice(os.getpid()), "helper during the checks": sorted(seen)}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # (the first look may come a moment before the helper lowers its priority)
    assert max(result["helper during the checks"]) == result["console"] + 10, result


def big_state(path, megabytes: float = 10.0) -> dict:
    """A state whose positions list makes the file about `megabytes` MB."""
    pos = {"token_id": "1" * 70, "market": "will-something-happen-" + "x" * 40, "outcome": "Yes", "size": 12.5,
           "avg_price": 0.43, "current_price": 0.51, "opened_at": "2026-01-15T10:00:00Z"}
    one = len(json.dumps(pos, indent=2)) + 8
    n = int(megabytes * 1e6 / one)
    doc = {"current_balance": 200.97, "peak_balance": 250.0, "mode": "normal", "halted": False,
           "positions": [dict(pos, token_id=str(10**69 + i)) for i in range(n)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return doc


async def test_ten_megabyte_state_keeps_the_ui_working(tmp_path):
    from statetui.core.config import Config

    cfg = Config(state=tmp_path / "state" / "trading_state.json", pid_file=tmp_path / "bot.pid")
    doc = big_state(cfg.state)
    assert cfg.state.stat().st_size > 9_500_000
    app = StateTuiApp(cfg, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        # Keys are handled while the file loads in its worker thread.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help during the load")
        await pilot.press("escape")
        await ready(pilot, audit=False)
        text = app.screen.query_one(BalancesPanel).render().plain
        assert "cash (current_balance) 200.97" in text and f"positions {len(doc['positions'])}" in text


def test_quit_exits_cleanly_with_code_zero(healthy):
    import asyncio

    async def run() -> int | None:
        app = StateTuiApp(healthy)
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            await pilot.press("q")
            await pilot.pause()
        return app.return_code

    assert asyncio.run(run()) == 0


def digest_tree(root) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


async def test_looking_around_writes_nothing(jan16):
    """The console writes only when a repair is confirmed: opening every screen, running
    every local check and reading the chain panel leaves every file as it was."""
    root = jan16.state.parent.parent
    before = digest_tree(root)
    app = StateTuiApp(jan16)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key in ("a", "r", "escape", "b", "escape", "j", "escape", "c", "question_mark", "escape"):
            await pilot.press(key)
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: not app.ctx.audit_running and app.ctx.chain_view is not None, "the checks and the chain panel")
        await pilot.press("p")
        await pilot.pause(0.1)
        await pilot.press("escape")
    assert digest_tree(root) == before
