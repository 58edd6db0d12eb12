"""Screens, opened by name so bindings and the command palette share one path."""

from __future__ import annotations

from typing import Any

from textual.app import App


def _screen_class(name: str):
    if name == "audit":
        from statetui.tui.screens.audit import AuditScreen as cls
    elif name == "backups":
        from statetui.tui.screens.backups import BackupsScreen as cls
    elif name == "journal":
        from statetui.tui.screens.journal import JournalScreen as cls
    elif name == "recovery":
        from statetui.tui.screens.recovery import RecoveryScreen as cls
    else:
        raise ValueError(f"unknown screen {name!r}")
    return cls


def open_screen(app: App, name: str, *args: Any) -> None:
    """Go to a screen: the dashboard is the bottom of the stack; another screen already
    open is brought back (popping what is above it) instead of being opened twice."""
    from textual.screen import ModalScreen

    if isinstance(app.screen, ModalScreen):
        return
    if name == "dashboard":
        while len(app.screen_stack) > 1:
            app.pop_screen()
        return
    cls = _screen_class(name)
    stack = app.screen_stack
    for i, screen in enumerate(stack):
        if type(screen) is cls and not getattr(screen, "pick", False):
            for _ in range(len(stack) - 1 - i):
                app.pop_screen()
            return
    app.push_screen(cls(*args))
