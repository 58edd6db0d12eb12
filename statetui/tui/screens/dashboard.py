"""The first screen: the truth at a glance, kept live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from statetui.tui import fmt
from statetui.tui.messages import (Open, OpenRepair, PickRepair, ReadChain, Refresh, RunChecks, ShowFleet, StageIncident,
                                   StopBot)
from statetui.tui.screens.base import BaseScreen, PaletteCommand, screen_keys
from statetui.tui.widgets.bars import AlertBanner, TopBar
from statetui.tui.widgets.chain_panel import ChainPanel
from statetui.tui.widgets.panels import (
    AuditPanel,
    BackupsPanel,
    BalancesPanel,
    FilePanel,
    HistoryPanel,
    LockPanel,
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
_ALL = (BalancesPanel, FilePanel, HistoryPanel, LockPanel, BackupsPanel, AuditPanel, ChainPanel)


class DashboardScreen(BaseScreen):
    NAME = "dashboard"
    HELP = """\
The dashboard shows the bot's state file as it is on disk now, and keeps it live:
the folders of the state file, its backups and the bot's pid file are watched, so a
write by the bot (or anyone) shows within a fraction of a second.

Balances: cash, peak and the drawdown gauge against the halt threshold (HALT when
at or past it). Bot & lock: who holds the bot's pid lock, and how to stop it (ctrl+k
stops it for you, after a confirmation). State file: last write, and whether it came
through the store (journaled) or from outside. Backups: the newest one and whether
every backup verifies. Audit: each check's latest status (f5 reads everything again
and re-runs the local checks). Chain: the wallet's real cash at one block (press c;
never read on its own). History: cash and peak over the journal, the latest writes.

When the file is missing, partial or invalid, a banner says so, the last good values
stay on screen dimmed, and the next step is offered: g the guided recovery, r restore
a backup, i create a new state. The journal moved from j to l (j/k move in every
list); v shows every value whole, y copies the stop command (or the state's path)."""

    # 80 columns: a b l g p c f5 ? q fit the footer; the rest is in help and the palette.
    BINDINGS = screen_keys(
        Binding("a", "open('audit')", "Audit", id="audit"),
        Binding("b", "open('backups')", "Backups", id="backups"),
        Binding("l", "open('journal')", "Journal", id="journal"),
        Binding("g", "open('recovery')", "Recover", id="recovery"),
        Binding("p", "repairs", "Repair", id="repairs"),
        Binding("c", "chain", "Chain", id="chain"),
        Binding("f5", "refresh", "Reload", id="refresh"),
        Binding("r", "restore", "Restore", id="restore", show=False),
        Binding("i", "init", "Init state", id="init", show=False),
        Binding("ctrl+k", "stop_bot", "Stop bot", id="stop-bot", show=False),
        Binding("D", "stage", "Stage incident", id="demo-incident", show=False),
    )

    def compose(self) -> ComposeResult:
        yield TopBar("dashboard")
        yield AlertBanner()
        # Two columns that stack their panels; History and Audit take what is left and
        # scroll inside their border, so the screen itself never needs a scrollbar.
        with Horizontal(id="dash"):
            with Vertical(classes="dash-col", id="dash-left"):
                yield BalancesPanel(id="balances")
                yield FilePanel(id="file")
            with Vertical(classes="dash-col", id="dash-right"):
                yield LockPanel(id="lock")
                yield BackupsPanel(id="backups")

    def on_mount(self) -> None:
        # The first frame holds the figures (balances, file, lock, backups); the scrolling
        # panels, the chain and the footer (a widget per key) are mounted right after it.
        self.call_after_refresh(self._mount_rest)

    async def _mount_rest(self) -> None:
        self.query_one("#dash-left").mount(HistoryPanel(id="history"))
        self.query_one("#dash-right").mount(AuditPanel(id="audit"), ChainPanel(id="chain"))
        from statetui.tui.widgets.footer import ConsoleFooter  # Textual's Footer: after the first frame

        await self.mount(ConsoleFooter())
        self.refresh_bindings()  # the footer lists the keys when the bindings signal reaches it

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("state", "backups", "all", "tick"):
            self.query_one(AlertBanner).update_view()
        classes = _PANELS_FOR.get(kind, _ALL)
        for cls in classes:
            for panel in self.query(cls):
                panel.update_view()
        if kind in ("state", "lock", "all"):
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ctx = self.ctx
        view = ctx.state_view
        if action == "back":  # back to the fleet; with one bot, nothing is under the dashboard
            return bool(getattr(self.app, "has_fleet", False))
        if action == "init":
            # Offered only when there is no file: init never overwrites one.
            return view is not None and not view.exists
        if action == "stop_bot":
            return True if ctx.bot_running and not ctx.config.read_only else None
        if action == "stage":
            return ctx.demo is not None
        return True

    def action_open(self, name: str) -> None:
        self.post_message(Open(name))

    def action_back(self) -> None:
        self.post_message(ShowFleet())

    def action_restore(self) -> None:
        self.post_message(OpenRepair("restore-backup"))

    def action_init(self) -> None:
        self.post_message(OpenRepair("init-state"))

    def action_refresh(self) -> None:
        self.post_message(Refresh(fresh=True))
        self.post_message(RunChecks(None))

    def action_chain(self) -> None:
        self.post_message(ReadChain())

    def action_repairs(self) -> None:
        self.post_message(PickRepair())

    def action_stop_bot(self) -> None:
        self.post_message(StopBot())

    def action_stage(self) -> None:
        self.post_message(StageIncident())

    # --- copy and view whole -------------------------------------------------------------

    def copy_value(self) -> tuple[str, str] | None:
        bot = self.ctx.lock_view
        if bot is not None and bot.running and bot.stop_command:
            return bot.stop_command, "the stop command"
        return str(self.ctx.config.state), "the state file's path"

    def detail_items(self) -> list[tuple[str, str]]:
        ctx = self.ctx
        items = [("state file", str(ctx.config.state))]
        v = ctx.state_view
        if v is not None:
            if v.error:
                items.append(("error", v.error))
            if v.last_entry:
                e = v.last_entry
                items.append(("last write", f"#{e.get('generation')} {e.get('ts')} by {e.get('writer')}[{e.get('pid')}]: "
                                            f"{e.get('reason', '')}"))
            if v.values and v.values.get("halt_reason"):
                items.append(("halt reason", str(v.values["halt_reason"])))
            for p in v.problems:
                items.append((f"{p.severity.lower()} ({p.field})", p.message))
        bot = ctx.lock_view
        if bot is not None:
            items.append(("pid file", str(bot.lock.path)))
            items.append(("bot", bot.evidence))
            if bot.lock.cmdline:
                items.append(("bot command line", bot.lock.cmdline))
            if bot.stop_command:
                items.append(("stop command", bot.stop_command))
        bv = ctx.backups_view
        if bv is not None:
            items.append(("backups folder", bv.dir))
            if bv.newest is not None:
                items.append(("newest backup", bv.newest.name))
        if ctx.history_view is not None:
            items.append(("journal", ctx.history_view.journal))
        cv = ctx.chain_view
        if cv is not None:
            items.append(("chain", cv.error or f"block {cv.block_number}: {fmt.money(cv.cash)} ({cv.rpc})"))
        for cid in ctx.audit_ids:
            entry = ctx.audit.get(cid)
            if entry is not None:
                items.append((f"audit {cid}", f"{entry.result.status.value}: {entry.result.summary}"))
        return items

    def palette(self) -> list[PaletteCommand]:
        out = [PaletteCommand("bot: stop", "systemctl stop UNIT, else SIGTERM to the lock holder (asks first)",
                              self.action_stop_bot)]
        if self.ctx.demo is not None:
            out.append(PaletteCommand("demo: stage an incident", "false peak, corrupt file, stale lock, chain mismatch",
                                      self.action_stage))
        return out
