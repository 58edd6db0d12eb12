"""The dashboard: the truth at a glance, live, and what it says when the file goes bad."""

from __future__ import annotations

import json
import re

import pytest

from statetui.tui.app import StateTuiApp
from statetui.tui.widgets.bars import AlertBanner, TopBar
from statetui.tui.widgets.panels import BalancesPanel, FilePanel, LockPanel

from tests.tui.conftest import ready, screen_text, wait_for, write_atomically

pytestmark = pytest.mark.anyio


def plain(widget) -> str:
    return widget.render().plain


async def test_jan16_dashboard_shows_the_desync(jan16):
    app = StateTuiApp(jan16)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        balances = plain(app.screen.query_one(BalancesPanel))
        # Each money row names the role and the bot's own field (issue 12), values aligned.
        assert "cash (current_balance) 200.97" in balances and re.search(r"peak \(peak_balance\) +386\.97", balances)
        assert "48.1%/30%" in balances and "HALT" in balances
        assert "positions 2 worth 186.00" in balances
        assert "HALTED" in plain(app.screen.query_one(TopBar))
        assert app.ctx.audit["peak-drawdown"].result.status.value == "FAIL"
        assert app.screen.has_class("-compact")
        text = screen_text(app)
        assert "FAIL peak-drawdown" in text
        assert "not running · no pid file" in text


async def test_wide_layout_at_120_columns(healthy):
    app = StateTuiApp(healthy)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert app.screen.has_class("-wide")
        assert "/state/trading_state.json" in plain(app.screen.query_one(FilePanel))
        assert "/state/trading_state.json" in plain(app.screen.query_one(TopBar))


async def test_live_update_from_another_process(healthy):
    app = StateTuiApp(healthy)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        doc = json.loads(healthy.state.read_bytes())
        for cash in (123.45, 98.76, 250.01):
            doc["current_balance"] = cash
            write_atomically(healthy.state, json.dumps(doc, indent=2).encode())
            await wait_for(pilot, lambda: f"cash (current_balance) {cash:.2f}" in plain(app.screen.query_one(BalancesPanel)),
                           f"cash {cash} on screen")
        # Written by another process, not through the store: the panel says so.
        assert "OUTSIDE the store" in plain(app.screen.query_one(FilePanel))


async def test_bad_file_while_open_then_recovery(healthy):
    app = StateTuiApp(healthy)
    good = healthy.state.read_bytes()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        banner = app.screen.query_one(AlertBanner)
        balances = app.screen.query_one(BalancesPanel)
        cash = f"cash (current_balance) {json.loads(good)['current_balance']:.2f}"
        # The banner and the dimmed balances follow the same view, set when it arrives (not
        # when a panel is next painted: that race made this test flaky). Checked right after
        # every state view the dashboard applies, so a lag fails every run, not one in thirty.
        disagree: list[str] = []

        def same_view(kind: str) -> None:
            if kind == "state" and banner.has_class("-shown") != balances.has_class("stale"):
                disagree.append(f"banner {banner.has_class('-shown')}, stale {balances.has_class('stale')}")

        app.ctx.changed.subscribe(app.screen, same_view, immediate=True)  # after the screen's own on_data

        # Truncated mid-write (a partial file: the last brace never made it).
        with open(healthy.state, "r+b") as f:
            f.truncate(len(good.rstrip()) - 1)
        await wait_for(pilot, lambda: banner.has_class("-shown"), "the alert on truncation")
        assert "STATE FILE CORRUPT" in plain(banner) and "truncated JSON" in plain(banner)
        assert "r restore a backup" in plain(banner)
        assert balances.has_class("stale") and cash in plain(balances) and "LAST GOOD" in balances.border_title

        # Restored: the alert goes and the values are live again.
        write_atomically(healthy.state, good)
        await wait_for(pilot, lambda: not banner.has_class("-shown"), "recovery after restore")
        assert not balances.has_class("stale") and cash in plain(balances)

        # Corrupt bytes in place.
        healthy.state.write_bytes(b'{"current_balance": 12.5, "peak_balance": \x00\x01}')
        await wait_for(pilot, lambda: banner.has_class("-shown"), "the alert on corruption")
        assert "CORRUPT" in plain(app.screen.query_one(TopBar))

        # Deleted.
        healthy.state.unlink()
        await wait_for(pilot, lambda: "STATE FILE MISSING" in plain(banner), "the alert on deletion")
        assert "MISSING" in plain(app.screen.query_one(FilePanel))

        # Back again.
        write_atomically(healthy.state, good)
        await wait_for(pilot, lambda: not banner.has_class("-shown"), "recovery after the file returns")
        assert cash in plain(balances) and not balances.has_class("stale")
        assert app.ctx.state_updates >= 5 and disagree == []


async def test_lock_panel_shows_a_live_holder(healthy, lock_holder):
    holder = lock_holder(healthy.pid_file)
    app = StateTuiApp(healthy)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, audit=False)
        await wait_for(pilot, lambda: app.ctx.lock_view.lock.running, "the lock holder")
        text = plain(app.screen.query_one(LockPanel))
        assert "RUNNING" in text and f"pid {holder.pid}" in text and "holds lock" in text
        assert f"stop: kill {holder.pid}" in text


async def test_lock_panel_shows_a_bot_seen_without_its_lock(healthy, tmp_path):
    """A bot seen only by its command line (process_pattern), no pid lock: the panel says it
    may be running and that repairs are refused (may_be_running, what every repair obeys),
    never "not running"; ctrl+k is offered to stop it."""
    from statetui.testing.botsigns import bot_sign

    with bot_sign("pattern-without-lock", tmp_path / "sign", healthy.state) as sign:
        app = StateTuiApp(healthy.model_copy(update=sign.config))
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot, audit=False)
            text = plain(app.screen.query_one(LockPanel))
            assert "RUNNING?" in text and "repairs refused" in text and "not running" not in text, text
            assert f"kill {sign.pid}" in text and app.ctx.bot_running
            await pilot.press("ctrl+k")  # stopping it is offered, behind a confirmation naming what was seen
            await wait_for(pilot, lambda: f"Stop the bot (pid {sign.pid})?" in screen_text(app), "the confirmation")
            assert "process_pattern" in screen_text(app), screen_text(app)
            await pilot.press("n")
