"""The console reads the journal from its end and pages backwards (issue 18): the journal
screen opens on the newest page, `o` reads the next older one across sealed segments, and
the history panel shows the newest entries without reading the whole history."""

from __future__ import annotations

import pytest

from statetui.core.segments import list_segments
from statetui.core.store import StateStore
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.journal import JournalScreen
from tests.tui.conftest import ready, wait_for

pytestmark = pytest.mark.anyio


async def test_journal_screen_pages_backwards_across_segments(jan16, monkeypatch):
    store = StateStore(jan16.state, auto_backup_interval=None, writer="bot.py")
    store.journal.rotate_bytes = 1500
    for i in range(25):
        with store.transaction(reason=f"trade {i}") as s:
            s.total_trades = (s.total_trades or 0) + 1
    gens = [e["generation"] for e in store.journal.scan().entries]
    assert len(list_segments(store.journal.path)) >= 2 and len(gens) > 25
    monkeypatch.setattr(JournalScreen, "PAGE", 10)  # a small page: the same code as 500
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("l")  # the journal (j/k move in lists)
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen), "the journal")
        screen = app.screen
        table = screen.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 10, "the newest page")
        assert [e["generation"] for e in screen.entries] == gens[-10:] and screen.more
        await pilot.press("o")
        await wait_for(pilot, lambda: table.row_count == 20, "the next older page")
        assert [e["generation"] for e in screen.entries] == gens[-20:]
        for _ in range(5):
            if not screen.more:
                break
            n = table.row_count
            await pilot.press("o")
            await wait_for(pilot, lambda: table.row_count > n, "an older page")
        assert [e["generation"] for e in screen.entries] == gens and not screen.more
