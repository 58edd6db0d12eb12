"""SVG snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Deterministic: fixed sandbox paths, pinned journal times and pids, backup names and
mtimes, and a fixed clock for the app (tests/tui/frozen.py); check durations, the one
measured figure on screen, are zeroed. Update with `pytest tests/tui --snapshot-update`
after a deliberate change, and look at the SVGs before committing them."""

from __future__ import annotations

import os
import re

import pytest

from statetui.testing import scenarios
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.audit import AuditScreen
from statetui.tui.screens.backups import BackupsScreen
from statetui.tui.screens.journal import JournalScreen
from statetui.tui.screens.recovery import RecoveryScreen
from statetui.tui.screens.repair import RepairScreen

from tests.tui import frozen
from tests.tui.conftest import ready, wait_for
from tests.tui.test_repairs import confirm_and_apply, pick

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _one_at_a_time_on_this_machine():
    """The sandboxes live at a fixed path (it is on screen); another checkout's suite
    running at the same time would rebuild them under us: take turns (flock)."""
    import fcntl

    with open(frozen.ROOT.parent / "statetui-snap.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def app_for(name: str, build=scenarios.jan16) -> StateTuiApp:
    return StateTuiApp(frozen.sandbox(name, build), now=frozen.clock)


async def settle(pilot) -> None:
    await ready(pilot)
    app = pilot.app
    for entry in app.ctx.audit.values():
        entry.result.duration_ms = 0.0
    app.ctx.changed.publish("audit")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_jan16(snap_compare, size):
    assert snap_compare(app_for(f"dash-jan16-{size[0]}"), terminal_size=size, run_before=settle)


# Other bots' schemas (tests/schemas.py): nested fields with a kill switch and a peak of
# unknown basis; EUR with an equity peak and a halt mode; cash summed over symbols, no peak.
FOREIGN = [("nested-account", False), ("eur", True), ("per-symbol", False)]


@pytest.mark.parametrize("name,halted", FOREIGN, ids=[n for n, _ in FOREIGN])
def test_dashboard_foreign_schema(snap_compare, name, halted):
    from tests.tui.test_foreign_schemas import foreign_bot

    app = StateTuiApp(frozen.sandbox(f"foreign-{name}", foreign_bot(name, halted)), now=frozen.clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_dashboard_healthy(snap_compare):
    assert snap_compare(app_for("dash-healthy", scenarios.healthy), terminal_size=(80, 24), run_before=settle)


def test_dashboard_file_corrupt(snap_compare):
    async def corrupt(pilot) -> None:
        await settle(pilot)
        app = pilot.app
        path = app.config.state
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 2)  # the closing brace never made it
        when = frozen.FIXED_NOW - 5
        os.utime(path, (when, when))
        await wait_for(pilot, lambda: app.ctx.state_view.error_kind == "corrupt" and app.ctx.state_view.mtime == when,
                       "the truncated file on screen")
        # The checks that read the file re-run a second after it changes: wait for them.
        await wait_for(pilot, lambda: app.ctx.audit["state-file"].result.status.value != "PASS" and not app.ctx.audit_running,
                       "the state-file check re-run")
        await settle(pilot)

    assert snap_compare(app_for("dash-corrupt"), terminal_size=(80, 24), run_before=corrupt)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_audit_results(snap_compare, size):
    async def audit(pilot) -> None:
        await settle(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, AuditScreen), "the audit screen")
        screen = pilot.app.screen
        while screen.selected() != "peak-drawdown":
            await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app_for(f"audit-{size[0]}"), terminal_size=size, run_before=audit)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_repair_plan_diff(snap_compare, size):
    async def plan(pilot) -> None:
        await settle(pilot)
        await pilot.press("p")
        await pick(pilot, "recompute-peak")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RepairScreen) and not pilot.app.screen.busy, "the plan")

    assert snap_compare(app_for(f"repair-{size[0]}"), terminal_size=size, run_before=plan)


def test_guided_recovery(snap_compare):
    async def recovery(pilot) -> None:
        await settle(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecoveryScreen) and pilot.app.screen.book
                       and "bot-stopped" in pilot.app.screen.book.progress.results and not pilot.app.screen.checking
                       and pilot.app.screen.query_one("#steps").has_focus, "the first step checked")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app_for("recovery"), terminal_size=(80, 24), run_before=recovery)


def test_backups(snap_compare):
    async def backups(pilot) -> None:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, BackupsScreen), "the backups screen")
        await wait_for(pilot, lambda: "Diff:" in pilot.app.screen.query_one("#table-text").render().plain, "the preview")

    assert snap_compare(app_for("backups"), terminal_size=(120, 40), run_before=backups)


def test_journal(snap_compare):
    async def journal(pilot) -> None:
        await settle(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, JournalScreen)
                       and pilot.app.screen.query_one("DataTable").row_count > 0, "the journal")

    assert snap_compare(app_for("journal"), terminal_size=(120, 40), run_before=journal)


def test_repair_result_undo_at_80_columns(snap_compare):
    """The undo command is wrapped between its words only (a pasted block still runs),
    never inside the backup's name."""
    async def result(pilot) -> None:
        await settle(pilot)
        await pilot.press("p")
        await pick(pilot, "recompute-peak")
        wizard = await confirm_and_apply(pilot)
        for r in wizard.outcome.verify:
            r.duration_ms = 0.0
        # The backup was taken now: its name carries the real time; pin it like every other time on screen.
        o = wizard.outcome
        stamp = re.search(r"\d{8}T\d{6}\.\d{6}Z", o.backup).group(0)
        o.backup, o.undo = o.backup.replace(stamp, "20260116T020000.000000Z"), o.undo.replace(stamp, "20260116T020000.000000Z")
        wizard._redraw()
        await pilot.pause()

    assert snap_compare(app_for("result-80"), terminal_size=(80, 24), run_before=result)


def test_backup_row_whole_at_80_columns(snap_compare):
    """v: every value of the highlighted backup whole, the name cut in the table included."""
    async def whole(pilot) -> None:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, BackupsScreen), "the backups screen")
        await pilot.press("v")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "DetailScreen", "the detail view")

    assert snap_compare(app_for("whole-80"), terminal_size=(80, 24), run_before=whole)
