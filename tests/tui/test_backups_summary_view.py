"""The dashboard's backups come from the backups' summary (statetui.core.backup_summary): the
count, "all verify" and the newest without one object per backup; the backups screen still
lists every backup, and a backup taken while the console watches shows up on both."""

from __future__ import annotations

import pytest

from statetui.core.store import StateStore
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.backups import BackupsScreen

from tests.tui.conftest import ready, screen_text, wait_for

pytestmark = pytest.mark.anyio


async def test_dashboard_reads_the_summary_and_the_screen_lists_every_backup(healthy):
    store = StateStore(healthy.state, backup_dir=healthy.backup_dir, auto_backup_interval=None)
    for _ in range(6):
        store.backup("hourly")
    store.backups.list(verify=True, full=True, save_index=True)
    total = len(store.backups.list(verify=False))
    app = StateTuiApp(healthy, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        bv = app.ctx.backups_view
        assert bv.summary is not None and bv.count == total > len(bv.infos), "the dashboard listed every backup"
        assert f"{total} backup(s) · all verify" in screen_text(app)

        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen) and app.screen.table.row_count == total,
                       "every backup on the backups screen")
        store.backup("manual")  # taken while the screen is open: the store keeps the summary current
        await wait_for(pilot, lambda: app.screen.table.row_count == total + 1, "the new backup listed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BackupsScreen), "the dashboard again")
        assert not app.ctx.whole_backups
        store.backup("manual")
        await wait_for(pilot, lambda: app.ctx.backups_view.summary is not None and app.ctx.backups_view.count == total + 2,
                       "the dashboard back on the summary, with both new backups")
        await wait_for(pilot, lambda: f"{total + 2} backup(s) · all verify" in screen_text(app), "the count on screen")
