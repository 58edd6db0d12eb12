"""The command palette (ctrl+p): every action as "category: verb", offered by context.

Commands call the same actions the keys do, so the palette and the keys never drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from statetui.tui.app import StateTuiApp


def commands_for(app: "StateTuiApp", screen: Screen) -> Iterable[SystemCommand]:
    from statetui.repair.base import REPAIRS
    from statetui.repair.runner import repair_ids

    yield SystemCommand("view: dashboard", "the live overview", lambda: app.action_open("dashboard"))
    yield SystemCommand("view: audit", "every check, findings, run and export", lambda: app.action_open("audit"))
    yield SystemCommand("view: backups", "browse, verify, diff, restore", lambda: app.action_open("backups"))
    yield SystemCommand("view: journal", "every write through the store, with a filter", lambda: app.action_open("journal"))
    yield SystemCommand("recovery: guided playbook", "the incident walkthrough, step by step", lambda: app.action_open("recovery"))
    yield SystemCommand("audit: run all", "run every check (the chain check reads the RPC)", lambda: app.run_checks(app.audit_ids))
    yield SystemCommand("audit: run local checks", "every check that needs no network", lambda: app.run_checks(app.local_check_ids()))
    yield SystemCommand("audit: export markdown", "write the report as Markdown", lambda: _export(app, "md"))
    yield SystemCommand("audit: export json", "write the report as JSON", lambda: _export(app, "json"))
    yield SystemCommand("chain: refresh", "read the wallet's cash at one block, in the background", app.action_chain)
    yield SystemCommand("state: refresh", "read the file, lock, backups and journal again", app.refresh_all)
    for rid in repair_ids():
        repair = REPAIRS[rid]
        yield SystemCommand(f"repair: {repair.title}", f"{rid}: preconditions, plan, confirm, apply, verify",
                            lambda rid=rid: app.open_repair(rid))
    from statetui.tui.screens.backups import BackupsScreen

    if isinstance(screen, BackupsScreen):
        yield SystemCommand("backups: mark for diff", "mark the highlighted backup", screen.action_mark)
        yield SystemCommand("backups: diff marked", "diff the marked backup against the highlighted one", screen.action_diff)
        yield SystemCommand("backups: verify all", "check every backup's checksum and content", screen.action_verify)
    from statetui.tui.screens.journal import JournalScreen

    if isinstance(screen, JournalScreen):
        yield SystemCommand("journal: filter", "filter by reason, writer, field:NAME", screen.action_filter)
    from statetui.tui.screens.recovery import RecoveryScreen

    if isinstance(screen, RecoveryScreen):
        yield SystemCommand("recovery: check step", "answer this step's question now", screen.action_check)
        yield SystemCommand("recovery: fix step", "open the repair this step offers", screen.action_fix)
        yield SystemCommand("recovery: next step", "move on once the step passed", screen.action_next)
        yield SystemCommand("recovery: mark done", "record the step as done by hand", lambda: screen.action_mark("done"))
        yield SystemCommand("recovery: skip step", "record the step as skipped", lambda: screen.action_mark("skipped"))
        yield SystemCommand("recovery: end and write log", "write the incident log", screen.action_finish)
    yield SystemCommand("app: help", "help for the current screen", app.action_help)
    yield SystemCommand("app: quit", "leave the console (nothing is running in the background)", app.exit)


def _export(app: "StateTuiApp", fmt_name: str) -> None:
    from statetui.tui.screens.audit import AuditScreen

    app.action_open("audit")

    def go() -> None:
        if isinstance(app.screen, AuditScreen):
            app.screen.action_export(fmt_name)

    app.call_later(go)
