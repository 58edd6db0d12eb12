"""What a new user does after `statetui demo`: the console opens on the staged Jan 16
incident with a real simulated bot and chain; the guided recovery alone fixes it: it
stops the bot (and notices by itself), recomputes the peak, starts the bot again (which
then trades calmly), and writes the incident log under the user's state directory."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from statetui.core import procinfo
from statetui.core.store import StateStore
from statetui.demo.chain import pyevm_available
from statetui.demo.run import Demo
from statetui.tui.console import StateTuiApp
from statetui.tui.dialogs import ConfirmScreen
from statetui.tui.screens.recovery import RecoveryScreen
from statetui.tui.screens.repair import RepairScreen

from tests.tui.conftest import WAIT_S, ready, screen_text, wait_for
from tests.tui.test_recovery import checked
from tests.tui.test_repairs import confirm_and_apply

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(not pyevm_available(), reason="needs py-evm (the demo's chain)")]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    d = Demo(None, "py-evm", "jan16", out=io.StringIO())
    try:
        d.start()
        yield d
    finally:
        d.close()


def halted(state: Path) -> bool:
    try:
        return bool(StateStore(state).load().halted)
    except Exception:
        return False


async def step(pilot, screen: RecoveryScreen, sid: str):
    await pilot.press("n")
    return await checked(pilot, screen, sid)


async def test_the_demo_incident_fixed_with_the_guided_recovery_alone(demo, tmp_path):
    sb = demo.sandbox
    first_bot = demo.bot.pid
    deadline = time.monotonic() + WAIT_S
    while not halted(sb.state) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert halted(sb.state), "the staged Jan 16 incident within seconds"

    app = StateTuiApp(sb.config())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "DEMO · staged jan16" in text and "HALTED" in text  # labelled as staged
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoveryScreen) and app.screen.book is not None, "recovery")
        screen = app.screen
        r = await checked(pilot, screen, "bot-stopped")
        assert r.status == "FAIL" and r.action == "stop-bot" and r.offers == []
        assert "DEMO: this incident was staged" in screen_text(app)

        await pilot.press("f")  # stop the bot: asked first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        # Noticed by itself (no key pressed): the step passes; the bot was our child and is reaped.
        await wait_for(pilot, lambda: screen.book.progress.results.get("bot-stopped") is not None
                       and screen.book.progress.results["bot-stopped"].status == "PASS", "the stopped bot")
        assert not procinfo.pid_alive(first_bot)  # gone, not <defunct>

        assert (await step(pilot, screen, "state-readable")).status == "PASS"
        await step(pilot, screen, "snapshot")
        await pilot.press("d")  # done by hand: recorded as such
        assert (await step(pilot, screen, "backups")).status == "PASS"
        chain = await step(pilot, screen, "chain")
        assert chain.status in ("PASS", "WARNING"), chain.summary  # cash matches the demo chain
        peak = await step(pilot, screen, "peak")
        assert [o["repair"] for o in peak.offers] == ["recompute-peak"]
        await pilot.press("f")
        await confirm_and_apply(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and not isinstance(app.screen, RepairScreen), "the playbook")
        assert (await checked(pilot, screen, "peak")).status == "PASS"
        audit = await step(pilot, screen, "audit")
        assert audit.status in ("PASS", "WARNING"), [(c["id"], c["status"]) for c in audit.checks]

        start = await step(pilot, screen, "start-bot")
        assert start.status == "PENDING" and start.action == "start-bot"
        assert "statetui.demo.bot --config" in start.command  # how to start it, shown once
        assert screen_text(app).count("statetui.demo.bot") == 1
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.book.progress.results.get("start-bot") is not None
                       and screen.book.progress.results["start-bot"].status == "PASS", "the bot running again")
        await pilot.press("e")
        await wait_for(pilot, lambda: screen.book.progress.log is not None, "the incident log")
        log = Path(screen.book.progress.log)
        assert app.ctx.incident_logs == [str(log)]  # printed when the console exits

        # The restarted bot trades calmly: the fix holds (it used to halt again 15 s later).
        gen = StateStore(sb.state).journal.last()["generation"]
        await wait_for(pilot, lambda: StateStore(sb.state).journal.last()["generation"] >= gen + 2, "two trades")
        assert not halted(sb.state)
    assert log.parent == tmp_path / "xdg" / "statetui" / "incidents" and log.name.endswith("-demo.md")
    text = log.read_text()
    for needle in ("**Demo:**", "stop bot: ok", "repair recompute-peak: ok", "start bot: ok", "marked done"):
        assert needle in text, needle


async def test_a_bot_that_takes_its_lock_while_its_step_is_checked_is_noticed(demo, monkeypatch):
    """The race CI met: the check after `f` read "not running" just before the bot took its
    lock, and the lock's change arrived while that check still ran. The check is made to
    lose that race every time here: it answers only once the bot holds its lock."""
    from statetui.core.pidlock import inspect_pidlock
    from statetui.tui import playbook as pb

    sb = demo.sandbox
    demo.bot.terminate()
    demo.bot.wait(timeout=WAIT_S)
    probe = pb._PROBES["start-bot"]
    calls: list[str] = []

    def stale_after_start(config, situation, now):
        result = probe(config, situation, now)
        calls.append(result.status)
        if len(calls) == 2:  # the check that follows the start: it read the world too early
            deadline = time.monotonic() + WAIT_S
            while not inspect_pidlock(config.pid_file).running and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # the lock's change reaches the console while this check runs
        return result

    monkeypatch.setitem(pb._PROBES, "start-bot", stale_after_start)
    app = StateTuiApp(sb.config())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoveryScreen) and app.screen.book is not None, "recovery")
        screen = app.screen
        await checked(pilot, screen, "bot-stopped")
        await pilot.press("G", "enter")
        assert (await checked(pilot, screen, "start-bot")).action == "start-bot"
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: getattr(screen.book.progress.results.get("start-bot"), "status", None) == "PASS",
                       "the bot running again, noticed by itself")
    assert calls[:2] == ["PENDING", "PENDING"] and calls[2:] and calls[-1] == "PASS"
