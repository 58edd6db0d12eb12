"""The command palette (ctrl+p): every action as "category: verb", offered by context.

Commands post the same messages the keys do, so the palette and the keys never drift.
A screen adds its own commands through `palette()`; nothing here imports a screen."""

from __future__ import annotations

from typing import Any, Iterable

from textual.app import SystemCommand
from textual.screen import Screen

from statetui.tui import messages as m


def commands_for(app: Any, screen: Screen) -> Iterable[SystemCommand]:
    if getattr(screen, "NAME", "") == "fleet":  # no bot is open: nothing here may act on one
        for c in screen.palette():  # type: ignore[attr-defined]
            yield SystemCommand(c.title, c.help, c.run)
        yield SystemCommand("app: help", "help for the fleet screen", app.action_help)
        yield SystemCommand("app: quit", "leave the console", app.exit)
        return
    from statetui.repair.runner import get_repair, repair_ids

    post = app.post_message
    yield SystemCommand("view: dashboard", "the live overview", lambda: post(m.Open("dashboard")))
    yield SystemCommand("view: audit", "every check, findings, run and export", lambda: post(m.Open("audit")))
    yield SystemCommand("view: backups", "browse, verify, diff, restore", lambda: post(m.Open("backups")))
    yield SystemCommand("view: journal", "every write through the store, with a filter (l)", lambda: post(m.Open("journal")))
    yield SystemCommand("recovery: guided playbook", "the incident walkthrough, step by step", lambda: post(m.Open("recovery")))
    yield SystemCommand("audit: run all", "run every check (the chain check reads the RPC)", lambda: post(m.RunChecks(("*",))))
    yield SystemCommand("audit: run local checks", "every check that needs no network", lambda: post(m.RunChecks(None)))
    yield SystemCommand("chain: refresh", "read the wallet's cash at one block, in the background", lambda: post(m.ReadChain()))
    yield SystemCommand("state: refresh", "read the file, lock, backups (verified again) and journal", lambda: post(m.Refresh(fresh=True)))
    for rid in repair_ids():
        yield SystemCommand(f"repair: {get_repair(rid).title}", f"{rid}: preconditions, plan, confirm, apply, verify",
                            lambda rid=rid: post(m.OpenRepair(rid)))
    for c in getattr(screen, "palette", lambda: [])():
        yield SystemCommand(c.title, c.help, c.run)
    yield SystemCommand("app: theme", "pick a colour theme (T)", app.action_change_theme)
    yield SystemCommand("app: help", "help for the current screen", app.action_help)
    yield SystemCommand("app: quit", "leave the console (nothing it started keeps running)", app.exit)
