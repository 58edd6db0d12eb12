"""The first screen: the truth at a glance, kept live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer

from statetui.tui.screens.base import BaseScreen
from statetui.tui.widgets.bars import AlertBanner, TopBar
from statetui.tui.widgets.panels import (
    AuditPanel,
    BackupsPanel,
    BalancesPanel,
    ChainPanel,
    FilePanel,
    HistoryPanel,
    LockPanel,
    Panel,
)

# Which panels a change of each kind redraws.
_PANELS_FOR = {
    "state": (BalancesPanel, FilePanel, ChainPanel),
    "lock": (LockPanel,),
    "backups": (BackupsPanel,),
    "history": (HistoryPanel, ChainPanel),
    "audit": (AuditPanel,),
    "chain": (ChainPanel,),
    "tick": (FilePanel, BackupsPanel, LockPanel, ChainPanel),
}


class DashboardScreen(BaseScreen):
    NAME = "dashboard"
    HELP = """\
The dashboard shows the bot's state file as it is on disk now, and keeps it live:
the state file's folder is watched, so a write by the bot (or anyone) shows within
a fraction of a second.

Balances: cash, peak and the drawdown gauge against the halt threshold (HALT when
at or past it). Bot & lock: who holds the bot's pid lock, and how to stop it.
State file: last write, and whether it came through the store (journaled) or from
outside. Backups: the newest one and whether every backup verifies. Chain: the
wallet's real cash at one block (press c; never read on its own). History: cash and
peak over the journal, and the latest writes. Audit: each check's latest status.

When the file is missing, partial or invalid, a banner says so, the last good values
stay on screen dimmed, and the next step is offered: r restore a backup, i create a
default state, g the guided recovery."""

    # Footer room at 80 columns is tight: c (chain), i (init) and F5 are in help and the palette.
    BINDINGS = [
        Binding("a", "app.open('audit')", "Audit", id="audit"),
        Binding("b", "app.open('backups')", "Backups", id="backups"),
        Binding("j", "app.open('journal')", "Journal", id="journal"),
        Binding("g", "app.open('recovery')", "Recover", id="recovery"),
        Binding("c", "app.chain", "Read chain", id="chain", show=False),
        Binding("r", "restore", "Restore", id="restore"),
        Binding("i", "init", "Init state", id="init", show=False),
        Binding("p", "repairs", "Repair", id="repairs"),
        Binding("f5", "refresh", "Refresh all", id="refresh", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar("dashboard")
        yield AlertBanner()
        # Two columns that stack their panels (heights differ; a grid would pad them).
        with VerticalScroll(id="dash-scroll"):
            with Horizontal(id="dash"):
                with Vertical(classes="dash-col", id="dash-left"):
                    yield BalancesPanel(id="balances")
                    yield FilePanel(id="file")
                    yield HistoryPanel(id="history")
                with Vertical(classes="dash-col", id="dash-right"):
                    yield LockPanel(id="lock")
                    yield BackupsPanel(id="backups")
                    yield AuditPanel(id="audit")
                    yield ChainPanel(id="chain")
        yield Footer(compact=True)

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("state", "backups", "all", "tick"):
            self.query_one(AlertBanner).update_view()
        classes = _PANELS_FOR.get(kind)
        for panel in self.query(Panel):
            if classes is None or isinstance(panel, classes):
                panel.update_view()
        if kind in ("state", "all"):
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.sapp.state_view
        if action == "back":
            return False  # nothing under the dashboard
        if action == "init":
            # Offered only when there is no file: init never overwrites one.
            return view is not None and not view.exists
        return True

    def action_restore(self) -> None:
        self.sapp.open_repair("restore-backup")

    def action_init(self) -> None:
        self.sapp.open_repair("init-state")

    def action_refresh(self) -> None:
        self.sapp.refresh_all()

    def action_repairs(self) -> None:
        from statetui.tui.screens.dialogs import pick_repair

        pick_repair(self.sapp)
