"""The guided recovery, walked by key presses on the Jan 16 desync to a passing audit;
its progress survives quitting and reopening; the incident log is written at the end."""

from __future__ import annotations

import json

import pytest

from statetui.tui import playbook as pb
from statetui.tui import progress
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.recovery import RecoveryScreen
from statetui.tui.screens.repair import RepairScreen

from tests.tui.conftest import ready, screen_text, wait_for
from tests.tui.test_repairs import confirm_and_apply

pytestmark = pytest.mark.anyio


async def open_recovery(pilot) -> RecoveryScreen:
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecoveryScreen) and pilot.app.screen.book is not None,
                   "the playbook")
    return pilot.app.screen


async def checked(pilot, screen: RecoveryScreen, step: str) -> pb.StepResult:
    await wait_for(pilot, lambda: screen.step_id == step and screen.checking is None
                   and step in screen.book.progress.results, f"step {step} checked")
    return screen.book.progress.results[step]


async def fix(pilot, screen: RecoveryScreen, step: str) -> None:
    await pilot.press("f")
    await confirm_and_apply(pilot)
    await pilot.press("enter")  # close the wizard's result
    await wait_for(pilot, lambda: pilot.app.screen is screen, "back on the playbook")
    await wait_for(pilot, lambda: any(a.get("step") == step for a in screen.book.progress.actions), "the action recorded")


async def test_walk_the_jan16_incident_to_a_passing_audit(jan16):
    progress_file = jan16.state.parent / progress.PROGRESS_NAME
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = await open_recovery(pilot)
        assert (await checked(pilot, screen, "bot-stopped")).status == "PASS"
        await pilot.press("n")
        assert (await checked(pilot, screen, "state-readable")).status == "PASS"
        await pilot.press("n")
        snap = await checked(pilot, screen, "snapshot")
        assert snap.status == "PENDING" and snap.suggested == "backup-now"
        await pilot.press("n")  # not settled: refused, still on the snapshot step
        assert screen.step_id == "snapshot"
        await fix(pilot, screen, "snapshot")
        assert (await checked(pilot, screen, "snapshot")).status == "PASS"
        await pilot.press("n")
        assert pb.passes((await checked(pilot, screen, "backups")).status)
    # Quit in the middle of the incident: progress is on disk.
    saved = json.loads(progress_file.read_text())
    assert saved["current"] == pb.STEP_IDS.index("backups")
    assert saved["results"]["snapshot"]["status"] == "PASS"

    app = StateTuiApp(jan16, audit_on_start=False)  # reopened
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = await open_recovery(pilot)
        assert screen.step_id == "backups"
        assert screen.book.progress.status("snapshot") == "PASS"
        assert "snapshot taken" in json.dumps(screen.book.progress.results["snapshot"].to_dict())
        await pilot.press("n")
        chain = await checked(pilot, screen, "chain")
        assert chain.status == "SKIPPED"  # no chain configured: said, not hidden
        await pilot.press("n")
        peak = await checked(pilot, screen, "peak")
        assert not pb.passes(peak.status) or peak.suggested == "recompute-peak"
        assert peak.suggested == "recompute-peak"
        assert "186.00" in screen_text(app) or "386.97" in screen_text(app)
        await fix(pilot, screen, "peak")
        assert (await checked(pilot, screen, "peak")).status == "PASS"
        await pilot.press("n")
        audit = await checked(pilot, screen, "audit")
        statuses = {c["id"]: c["status"] for c in audit.checks}
        assert pb.passes(audit.status), statuses
        assert statuses["chain-reconcile"] == "SKIPPED"
        assert all(s in ("PASS", "WARNING", "SKIPPED") for s in statuses.values())
        assert app.ctx.audit["peak-drawdown"].result.status.value == "PASS"  # shared with the dashboard
        await pilot.press("n")
        start = await checked(pilot, screen, "start-bot")
        assert start.status == "PENDING"
        await pilot.press("d")  # started by hand
        await pilot.press("e")
        await wait_for(pilot, lambda: screen.book.progress.log is not None, "the incident log")
        log = screen.book.progress.log
    doc = json.loads(jan16.state.read_bytes())
    assert doc["current_balance"] == 200.97 and doc["peak_balance"] == 200.97
    assert doc["halted"] is False and doc["mode"] == "normal"
    text = open(log, encoding="utf-8").read()
    assert text.startswith("# Incident log")
    assert "repair recompute-peak: ok" in text and "repair backup-now: ok" in text
    assert "| 7 | Full audit | PASS" in text or "| 7 | Full audit | WARNING" in text
    assert "undo: `statetui restore" in text


async def test_a_failed_step_offers_its_fix_and_the_stop_command(jan16, lock_holder):
    holder = lock_holder(jan16.pid_file)
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = await open_recovery(pilot)
        r = await checked(pilot, screen, "bot-stopped")
        assert r.status == "FAIL" and r.command == f"kill {holder.pid}" and r.action == "stop-bot"
        # The command is printed once; clear-stale-lock is not offered while the bot holds its lock.
        assert screen_text(app).count(f"kill {holder.pid}") == 1
        assert r.offers == [] and "clear-stale-lock" not in screen_text(app)
        await pilot.press("n")
        assert screen.step_id == "bot-stopped"  # cannot move on while the bot runs
        holder.stop()  # kill -9: the pid file stays behind, nobody holds its lock
        # Noticed without a key press: the bot's exit is an event (pidfd), the step re-checks itself.
        await wait_for(pilot, lambda: screen.book.progress.results["bot-stopped"].status == "WARNING", "the re-check")
        r = screen.book.progress.results["bot-stopped"]
        assert r.suggested == "clear-stale-lock" and [o["repair"] for o in r.offers] == ["clear-stale-lock"]
        await fix(pilot, screen, "bot-stopped")
        assert (await checked(pilot, screen, "bot-stopped")).status == "PASS"
        assert not jan16.pid_file.exists() and not isinstance(app.screen, RepairScreen)
