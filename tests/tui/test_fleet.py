"""The fleet screen: every bot of a config in one table, live, worst first; enter opens a
bot's dashboard and escape comes back. Real fleets (every state written through the
store, tests/tui/fleets.py), the real app under Pilot, real writes."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from textual.widgets import DataTable, Static

from statetui.core.config import Config
from statetui.core.fleet import Bot
from statetui.core.store import StateStore
from statetui.tui.app import StateTuiApp
from statetui.tui.messages import OpenBot
from statetui.tui.screens.dashboard import DashboardScreen
from statetui.tui.screens.fleet import FleetScreen

from tests.tui import fleets
from tests.tui.conftest import screen_text, wait_for, write_atomically

pytestmark = pytest.mark.anyio


def fleet_app(bots: list[Bot], **kw) -> StateTuiApp:
    return StateTuiApp(bots[0].config, fleet=bots, **kw)


async def fleet_ready(pilot) -> FleetScreen:
    """Every bot read once and the watcher set up."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FleetScreen), "the fleet screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.sweeps >= 1 and len(screen.seen) == len(screen.order), "every bot read")
    if screen.watch_enabled:
        await wait_for(pilot, lambda: screen.live and screen.caught_up, "the fleet watcher")
    await pilot.pause()
    return screen


def row_text(screen: FleetScreen, name: str) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(c) for c in table.get_row(name)]


def detail_text(screen: FleetScreen) -> str:
    return screen_text(screen.app).split("╭─", 1)[-1]


async def test_three_bots_worst_first_with_words(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        table = screen.query_one(DataTable)
        # Worst first: the unreadable one, the halted one, then the one with warnings.
        assert [k.value for k in table.rows] == ["gamma", "beta", "alpha"]
        beta = row_text(screen, "beta")
        assert beta[0] == "‼ HALT" and beta[1] == "beta"
        assert beta[2:5] == ["$200.97", "$386.97", "48.1≥30%"]  # past the threshold: ≥, not a colour
        assert beta[5] == "HALT"
        alpha = row_text(screen, "alpha")
        assert alpha[4] == "0.0<30%" and alpha[5] == "no"
        gamma = row_text(screen, "gamma")
        assert gamma[0] == "‼ ERROR"
        assert gamma[2:6] == ["?", "?", "?", "?"]  # unreadable: never a guessed figure
        head = str(screen.query_one("#fleet-head", Static).render())
        assert "3 bots" in head and "1 unreadable" in head and "1 halted" in head


async def test_corrupt_bot_shows_its_error_in_the_detail(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        assert screen.selected() == "gamma"  # the worst row is highlighted first
        text = detail_text(screen)
        assert "gamma · ‼ UNREADABLE" in text
        assert "truncated JSON" in text
        assert "cash, peak, drawdown, halted: the state does not load" in text
        # The halted bot's pane says why, with the check that fails.
        await pilot.press("down")
        await wait_for(pilot, lambda: "beta · ‼ HALTED" in detail_text(screen), "beta's detail")
        assert "peak-drawdown FAIL" in detail_text(screen)


async def test_a_row_follows_an_outside_write(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        state = bots[0].config.state
        doc = json.loads(state.read_bytes())
        doc["current_balance"] = 123.45
        write_atomically(state, json.dumps(doc, indent=2).encode())
        await wait_for(pilot, lambda: row_text(screen, "alpha")[2] == "$123.45", "alpha's new cash")
        # Its drawdown follows (peak 200.97): 38.6% is past the 30% threshold.
        assert row_text(screen, "alpha")[4] == "38.6≥30%"


async def test_a_store_write_halting_a_bot_moves_it_up(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fleet_ready(pilot)
        table = screen.query_one(DataTable)
        await pilot.press("down", "down")
        assert screen.selected() == "alpha"
        store = StateStore(bots[0].config.state, backup_dir=bots[0].config.backup_dir, auto_backup_interval=None)
        with store.transaction(reason="halt by hand") as s:
            s.halted, s.mode = True, "halted"
        await wait_for(pilot, lambda: row_text(screen, "alpha")[5] == "HALTED", "alpha halted")
        # Halted outranks beta's... equal rank: config order keeps alpha before beta.
        assert [k.value for k in table.rows] == ["gamma", "alpha", "beta"]
        assert screen.selected() == "alpha"  # the cursor stayed on its bot through the re-sort


async def test_enter_opens_the_bots_dashboard_and_escape_returns(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        assert app.ctx.state_view is None  # no bot's views are read while only the fleet shows
        await pilot.press("down")  # beta
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "beta's dashboard")
        assert app.config == bots[1].config and app.bot_name == "beta"
        await wait_for(pilot, lambda: app.ctx.state_view is not None and app.ctx.live, "beta's views")
        assert app.ctx.state_view.path == str(bots[1].config.state)
        assert "beta · dashboard" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the fleet")
        assert not app.bot_open and not app.ctx.live
        # Another bot: its own figures, none of beta's.
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.bot_name == "gamma", "gamma's dashboard")
        await wait_for(pilot, lambda: app.ctx.state_view is not None, "gamma's state")
        assert app.ctx.state_view.path == str(bots[2].config.state)
        assert app.ctx.state_view.error_kind == "corrupt"
        await pilot.pause(0.3)
        assert app.ctx.state_view.path == str(bots[2].config.state)  # nothing of beta's arrived late


async def test_dashboard_screens_return_to_the_bots_dashboard_not_the_fleet(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots, watch=False, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_ready(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "a dashboard")
        await pilot.press("b")
        await wait_for(pilot, lambda: not isinstance(app.screen, DashboardScreen), "the backups")
        app.action_open("dashboard")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "back on the dashboard")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")


async def test_start_bot_opens_its_dashboard_above_the_fleet(tmp_path):
    bots = fleets.three(tmp_path)
    app = StateTuiApp(bots[1].config, fleet=bots, start_bot="beta", watch=False, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.ctx.state_view is not None,
                       "beta's dashboard")
        assert app.ctx.state_view.path == str(bots[1].config.state)
        fleet = app.screen_stack[0]
        assert isinstance(fleet, FleetScreen) and fleet.updates == 0  # nothing read behind the dashboard
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is fleet and fleet.sweeps >= 1, "the fleet, read once shown")


async def test_one_bot_opens_on_its_dashboard(tmp_path):
    bots = [fleets.make_bot(tmp_path, "solo", "small")]
    app = fleet_app(bots, watch=False, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.ctx.state_view is not None, "the state")
        assert isinstance(app.screen, DashboardScreen) and len(app.screen_stack) == 1
        assert not app.screen.check_action("back", ())  # nothing under it


async def test_a_missing_folder_reads_as_unknown_then_live_once_created(tmp_path):
    bots = fleets.three(tmp_path)
    later = tmp_path / "later" / "state" / "trading_state.json"
    bots.append(Bot("later", Config(state=later, pid_file=tmp_path / "later" / "bot.pid")))
    app = fleet_app(bots)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        row = row_text(screen, "later")
        assert row[0] == "‼ ERROR" and row[2] == "?"
        later.parent.mkdir(parents=True)
        store = StateStore(later, auto_backup_interval=None)
        from statetui.core.model import default_state

        store.init(default_state(Decimal("75.00"), "2026-01-15T00:00:00Z"), reason="init")
        await wait_for(pilot, lambda: row_text(screen, "later")[2] == "$75.00", "the new bot's cash")


async def test_outside_text_in_a_name_is_shown_escaped(tmp_path):
    bots = fleets.three(tmp_path)
    odd = "[bold]x\x1b[31m"
    bots.append(fleets.make_bot(tmp_path, "odd", "small"))
    bots[-1] = Bot(odd, bots[-1].config)
    app = fleet_app(bots, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await fleet_ready(pilot)
        text = screen_text(app)
        assert "[bold]x\\x1b[31m" in text and "\x1b" not in text


async def test_fifty_bots_at_80x24_show_ten_and_answer_keys_while_reading(tmp_path):
    bots = fleets.many(tmp_path, 50)
    app = fleet_app(bots, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        text = screen_text(app)
        shown = [b.name for b in bots if f" {b.name} " in text]
        assert len(shown) >= 10, text
        assert text.index("bot-33") < text.index("bot-16") < text.index("bot-00")  # unreadable, halted, the rest
        # Every bot read again: the keys are answered while the reads go on. (Keys are sent
        # as the terminal sends them: pilot.press waits for the whole process to be idle.)
        before = screen.updates
        screen.refresh_all()
        for _ in range(3):
            app.simulate_key("down")
        while screen.table.cursor_row != 3:
            await asyncio.sleep(0.005)
        answered_at = screen.updates
        assert answered_at < before + len(bots), "the keys waited for the whole refresh"
        await wait_for(pilot, lambda: screen.updates >= before + len(bots), "the refresh")
        assert screen.selected() == "bot-01"  # the fourth row: the cursor stayed through the re-read


async def test_palette_on_the_fleet_offers_bots_not_repairs(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "fleet: open beta" in titles and "fleet: read all" in titles
        # No bot is open: nothing that acts on one (a repair would go to the first bot's file).
        assert not [t for t in titles if t.startswith(("repair:", "audit:", "state:", "chain:", "view:"))]
        # Help over the fleet pauses nothing: a read asked for now still happens.
        await pilot.press("question_mark")
        before = screen.updates
        screen.refresh_all()
        await wait_for(pilot, lambda: screen.updates >= before + len(bots), "a read under the help dialog")
        await pilot.press("escape")
        next(c for c in app.get_system_commands(screen) if c.title == "fleet: open gamma").callback()
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.bot_name == "gamma",
                       "gamma's dashboard from the palette")


async def test_y_copies_the_highlighted_bots_next_command(tmp_path):
    bots = fleets.three(tmp_path)
    app = fleet_app(bots, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_ready(pilot)
        await pilot.press("down")  # beta, halted on a false peak
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard == "statetui --bot beta repair recompute-peak", "the command copied")
        assert screen.selected() == "beta"


async def test_switching_between_two_running_bots(tmp_path, lock_holder):
    """Each bot's dashboard follows its own holder (a pidfd each): leaving one for the
    other releases the first's and the second is followed, switch after switch."""
    bots = fleets.three(tmp_path)[:2]
    holders = [lock_holder(b.config.pid_file) for b in bots]
    app = fleet_app(bots, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_ready(pilot)
        for round_ in range(3):
            for i, bot in enumerate(bots):
                app.post_message(OpenBot(bot.name))
                await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.bot_name == bot.name
                               and app.ctx.lock_view is not None and app.ctx.lock_view.running, f"{bot.name} running")
                assert app.ctx.lock_view.pid == holders[i].pid
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        # The bot shown now exits: its dashboard sees it (its pidfd is the one being watched).
        app.post_message(OpenBot(bots[1].name))
        await wait_for(pilot, lambda: app.bot_name == bots[1].name and app.ctx.lock_view is not None
                       and app.ctx.lock_view.running, "beta running")
        holders[1].stop()
        await wait_for(pilot, lambda: app.ctx.lock_view is not None and not app.ctx.lock_view.running,
                       "beta's exit seen", timeout=8)
