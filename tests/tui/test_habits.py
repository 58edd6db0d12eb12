"""The habits of the tools operators already use: j/k and g/G in every list, / filter and
column sort, y copies (OSC 52, through Textual's clipboard), v shows a cut-off value
whole, the theme picker, keys remapped from the config file, and stopping the bot from
the console behind a confirmation."""

from __future__ import annotations

import pytest

from statetui.core.config import Config
from statetui.tui.app import check_console_config
from statetui.tui.console import StateTuiApp
from statetui.tui.dialogs import ConfirmScreen, DetailScreen
from statetui.tui.screens.audit import AuditScreen
from statetui.tui.screens.backups import BackupsScreen
from statetui.tui.screens.journal import JournalScreen
from statetui.tui.screens.recovery import RecoveryScreen

from tests.tui.conftest import ready, screen_text, wait_for

pytestmark = pytest.mark.anyio


async def test_lists_move_with_j_k_g_G_and_sort_and_filter(jan16):
    app = StateTuiApp(jan16)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        screen = app.screen
        ids = list(app.ctx.audit_ids)
        assert screen.selected() == ids[0]
        await pilot.press("j", "j")
        assert screen.selected() == ids[2]
        await pilot.press("k")
        assert screen.selected() == ids[1]
        await pilot.press("G")
        assert screen.selected() == ids[-1]
        await pilot.press("g")
        assert screen.selected() == ids[0]

        await pilot.press("s")  # sort by the first column: status, best first
        order = [k.value for k in screen.table.rows]
        ranks = [app.ctx.audit[c].result.status.rank for c in order]
        assert ranks == sorted(ranks) and order != ids
        await pilot.press("S")  # reversed: the worst first
        assert [k.value for k in screen.table.rows][0] == "peak-drawdown"

        await pilot.press("slash")
        for ch in "fail":  # the status word, the check id or its summary
            await pilot.press(ch)
        await wait_for(pilot, lambda: screen.table.row_count == 1, "the filtered rows")
        assert screen.selected() == "peak-drawdown"
        await pilot.press("escape")  # clears the filter first, stays on the screen
        assert screen.table.row_count == len(ids) and app.screen is screen

        await pilot.press("escape")
        await pilot.press("g")  # on the dashboard g is the guided recovery; in its list, g/G move
        await wait_for(pilot, lambda: isinstance(app.screen, RecoveryScreen) and app.screen.book is not None, "recovery")
        steps = app.screen.query_one("#steps")
        await pilot.press("G")
        assert steps.highlighted == steps.option_count - 1
        await pilot.press("g")
        assert steps.highlighted == 0


async def test_y_copies_the_selection_and_v_shows_it_whole(jan16):
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen) and app.screen.selected(), "backups")
        name = app.screen.selected()
        drawn = _plain_cells(app.screen.table)
        assert "daily" in drawn and name[-13:-5] in drawn and name not in drawn  # the table cuts the name...
        await pilot.press("y")
        assert app.clipboard == name  # ...but copied whole (Textual writes it as OSC 52 to the terminal)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the whole row")
        assert dict(app.screen.items)["name"] == name
        assert name in screen_text(app)  # ...and shown whole, in one piece
        await pilot.press("escape", "escape", "l")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen) and app.screen.table.row_count, "journal")
        await pilot.press("y")
        assert app.clipboard == "11"  # the newest entry's generation (it took no backup)

        await pilot.press("escape", "y")  # the dashboard: the bot is not running, so the state's path
        assert app.clipboard == str(jan16.state)


async def test_keys_from_the_config_file_and_the_theme(jan16):
    cfg = Config(state=jan16.state, backup_dir=jan16.backup_dir, pid_file=jan16.pid_file,
                 keys={"journal": "J", "recovery": "R"}, theme="nord")
    check_console_config(cfg)
    app = StateTuiApp(cfg, audit_on_start=False)
    assert app.theme == "nord"
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert "J Journal" in screen_text(app) and "l Journal" not in screen_text(app)
        await pilot.press("J")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen), "the journal on its new key")
        await pilot.press("escape", "T")  # the Textual theme picker
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the theme picker")


def test_an_unknown_key_id_or_theme_is_one_line(jan16):
    from statetui.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[console.keys\] unknown binding 'jurnal' \(known: .*journal"):
        check_console_config(Config(state=jan16.state, keys={"jurnal": "J"}))
    with pytest.raises(ConfigError, match="theme 'neon' is not a Textual theme"):
        check_console_config(Config(state=jan16.state, theme="neon"))


async def test_stop_the_bot_from_the_console_after_a_confirmation(healthy, lock_holder):
    holder = lock_holder(healthy.pid_file)
    app = StateTuiApp(healthy, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.ctx.lock_view.running, "the running bot")
        assert f"kill {holder.pid}" in screen_text(app)
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("n")  # not confirmed: nothing is sent
        assert holder.proc.poll() is None
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: holder.proc.poll() is not None, "SIGTERM to the lock holder")
        assert holder.proc.returncode == -15
        await wait_for(pilot, lambda: not app.ctx.lock_view.running, "the lock panel says so by itself")
        assert "RUNNING" not in screen_text(app)


def _plain_cells(table) -> str:
    """What the table draws (its rows, cut to the columns' widths)."""
    return "\n".join(s.text for s in table.render_lines(table.region.reset_offset))
