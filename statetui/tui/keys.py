"""Every key binding's id: what `[console.keys]` in the config file can remap."""

from __future__ import annotations


def binding_ids() -> set[str]:
    from statetui.tui.console import StateTuiApp
    from statetui.tui.dialogs import ConfirmScreen, DetailScreen, InputScreen, PickScreen
    from statetui.tui.screens.audit import AuditScreen
    from statetui.tui.screens.backups import BackupsScreen
    from statetui.tui.screens.base import BaseScreen
    from statetui.tui.screens.table import TableScreen
    from statetui.tui.screens.dashboard import DashboardScreen
    from statetui.tui.screens.help import HelpScreen
    from statetui.tui.screens.journal import JournalScreen
    from statetui.tui.screens.recovery import RecoveryScreen
    from statetui.tui.screens.repair import RepairScreen
    from statetui.tui.widgets.tables import VimOptionList, VimTable

    ids: set[str] = set()
    for cls in (StateTuiApp, BaseScreen, TableScreen, DashboardScreen, AuditScreen, BackupsScreen, JournalScreen,
                RecoveryScreen, RepairScreen, HelpScreen, ConfirmScreen, PickScreen, InputScreen, DetailScreen,
                VimTable, VimOptionList):
        for b in cls.BINDINGS:
            bid = getattr(b, "id", None)
            if bid:
                ids.add(bid)
    return ids
