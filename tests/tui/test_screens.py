"""Audit, journal, help and the command palette, by key presses; colour modes."""

from __future__ import annotations

import json

import pytest

from statetui.core.store import StateStore
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.audit import AuditScreen
from statetui.tui.screens.backups import BackupsScreen
from statetui.tui.dialogs import InputScreen
from statetui.tui.screens.help import HelpScreen
from statetui.tui.screens.journal import JournalScreen, matches
from statetui.tui.screens.recovery import RecoveryScreen
from statetui.tui.screens.repair import RepairScreen

from tests.tui.conftest import ready, screen_text, wait_for

pytestmark = pytest.mark.anyio


async def open_audit(pilot) -> AuditScreen:
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, AuditScreen), "the audit screen")
    return pilot.app.screen


async def test_audit_screen_runs_checks_exports_and_opens_the_repair(jan16, tmp_path):
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = await open_audit(pilot)
        table = screen.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == len(app.ctx.audit_ids) > 0, "every check listed")
        assert not app.ctx.audit  # nothing ran on its own
        while screen.selected() != "peak-drawdown":
            await pilot.press("down")
        await pilot.press("enter")  # run the highlighted check
        await wait_for(pilot, lambda: "peak-drawdown" in app.ctx.audit and not app.ctx.audit_running, "the check")
        assert set(app.ctx.audit) == {"peak-drawdown"}
        assert app.ctx.audit["peak-drawdown"].result.status.value == "FAIL"
        detail = screen.query_one("#table-text").render().plain  # the whole panel, scrolled or not
        assert detail.startswith("FAIL") and "Repairs: recompute-peak" in detail and "p opens the wizard" in detail

        await pilot.press("p")  # from the finding to the repair that fixes it
        await wait_for(pilot, lambda: isinstance(app.screen, RepairScreen), "the repair wizard")
        assert app.screen.repair_id == "recompute-peak"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "back on the audit screen")

        await pilot.press("r")  # run all (the chain check says it is not configured)
        await wait_for(pilot, lambda: len(app.ctx.audit) == len(app.ctx.audit_ids) and not app.ctx.audit_running, "every check")
        assert app.ctx.audit["chain-reconcile"].result.status.value == "SKIPPED"

        for key, name in (("x", "report.md"), ("X", "report.json")):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, InputScreen), "the export path")
            field = app.screen.query_one("Input")
            field.value = str(tmp_path / name)
            await pilot.press("enter")
            await wait_for(pilot, lambda: (tmp_path / name).exists(), f"{name} written")
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# State Management Audit Report") and "Peak Balance & Drawdown" in md
    report = json.loads((tmp_path / "report.json").read_text())
    assert {c["id"] for c in report["checks"]} == set(app.ctx.audit_ids)
    assert report["overall"] in ("FAIL", "CRITICAL")


async def test_journal_lists_every_write_and_filters(jan16):
    entries = StateStore(jan16.state).journal.scan().entries
    app = StateTuiApp(jan16, audit_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, JournalScreen), "the journal")
        table = app.screen.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == len(entries), "every entry")
        assert "drawdown halt" in screen_text(app)  # the newest entry is highlighted and shown
        await pilot.press("slash")
        for ch in "field:peak_balance":
            await pilot.press(ch if ch != ":" else "colon")
        wanted = [e for e in entries if "peak_balance" in e["changes"]]
        await wait_for(pilot, lambda: table.row_count == len(wanted), "the filtered entries")
        assert 0 < len(wanted) < len(entries)
        assert "mark-to-market peak update" in screen_text(app)


def test_journal_filter_words():
    e = {"reason": "trade win", "writer": "bot.py", "changes": {"current_balance": [1, 2]}}
    assert matches(e, "win") and matches(e, "field:current_balance") and matches(e, "bot trade")
    assert not matches(e, "field:peak_balance") and not matches(e, "loss") and not matches(e, "outside")


@pytest.mark.parametrize("key, screen_cls, words", [
    ("", None, "drawdown gauge"),
    ("a", AuditScreen, "exports the whole report"),
    ("b", BackupsScreen, "diffs the marked one"),
    ("l", JournalScreen, "field:peak_balance"),
    ("g", RecoveryScreen, "incident log"),
])
async def test_help_for_each_screen(healthy, key, screen_cls, words):
    app = StateTuiApp(healthy, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        if key:
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, screen_cls), screen_cls.__name__)
        under = app.screen
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = app.screen.query_one("#help-text").render().plain
        assert words in text.replace("\n", " ")
        assert "escape to dismiss" in app.screen.query_one("#help").border_subtitle
        assert "q  Quit" in text or "q Quit" in " ".join(text.split())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is under, "help closed")


async def test_command_palette_names_every_action_category_verb(healthy):
    from statetui.repair.runner import get_repair, repair_ids
    from statetui.tui.commands import commands_for

    app = StateTuiApp(healthy, audit_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        titles = [c.title for c in commands_for(app, app.screen)]
        assert all(": " in t for t in titles)
        for rid in repair_ids():
            assert f"repair: {get_repair(rid).title}" in titles
        for t in ("view: audit", "view: backups", "view: journal", "recovery: guided playbook", "audit: run all",
                  "chain: refresh", "bot: stop", "app: theme", "app: quit"):
            assert t in titles
        await pilot.press("a")  # a screen adds its own commands
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        assert "audit: export markdown" in [c.title for c in commands_for(app, app.screen)]
        await pilot.press("escape")
        # Through the palette by keys: "repair: restore a backup" opens the backup picker.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        for ch in "restore a backup":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen) and app.screen.pick, "the restore picker")


async def test_no_color_and_sixteen_colours(healthy, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")
    app = StateTuiApp(healthy, audit_on_start=False)
    assert app.no_color and app.theme == "ansi-dark"
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        # Status is words and characters, never colour alone.
        assert "via the store" in text and "all verify" in text and "drawdown" in text
        svg = app.export_screenshot()
    assert "#" in svg  # an SVG came out; NO_COLOR's monochrome filter drew it
