"""The console app: it owns the shared context (statetui.tui.context), keeps its views
fresh (statetui.tui.views), and routes what screens ask for (statetui.tui.messages):
opening screens and repairs, refreshing, running checks, reading the chain, stopping or
starting the bot, staging a demo incident, copying. Screens never import it.

(statetui.tui.app is the light entry point: it starts reading the state before this
module, and Textual, are imported.)"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from typing import Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.signal import Signal

from statetui.core.config import Config
from statetui.tui.plain import notice
from statetui.tui import children, messages as m
from statetui.tui.context import ConsoleContext, demo_of
from statetui.tui.fleet_nav import FleetNav
from statetui.tui.views import LiveViews


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


class StateTuiApp(FleetNav, LiveViews, App[int]):
    CSS_PATH = "statetui.tcss"
    TITLE = "statetui"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-compact"), (110, "-wide")]
    BINDINGS = [
        # q, ? and the rest are the screens' (statetui.tui.screens.base), so the footer lists them after each screen's own keys.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True, key_display="^p", id="palette"),
    ]

    def __init__(self, config: Config, *, now: Callable[[], float] | None = None, watch: bool = True,
                 audit_on_start: bool = True, theme: str | None = None, prefetched: dict[str, Any] | None = None,
                 fleet: list[Any] | None = None, start_bot: str | None = None):
        """`prefetched`: kind -> concurrent.futures.Future of a first view (and "audit": the
        startup audit's results), started before Textual was imported (statetui.tui.prefetch).
        `fleet`: every bot of the config (statetui.core.fleet.Bot); with more than one, the
        console opens on the fleet screen, or on `start_bot`'s dashboard above it, and
        `config` is that bot's (statetui.tui.fleet_nav)."""
        super().__init__()
        self.config = config
        self.ctx = ConsoleContext(config, now)
        self.now = self.ctx.now
        self.ctx.changed = Signal(self, "changed")
        self.ctx.demo = demo_of(config)
        self._init_views(watch, audit_on_start, prefetched)
        self._init_fleet(fleet, start_bot)
        self._hangup = None
        chosen = theme or config.theme
        if chosen:
            self.theme = chosen
        elif _few_colours():
            self.theme = "ansi-dark"

    # --- screens ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from statetui.tui.screens.dashboard import DashboardScreen

        if self.has_fleet:
            return self.fleet_screen()
        return DashboardScreen()

    def _reset_bot(self, config: Config) -> None:
        """Follow another bot (statetui.tui.fleet_nav): a new context, its views from scratch."""
        old = self.ctx
        self.config = config
        self.ctx = ConsoleContext(config, self.now)
        self.ctx.changed = changed = old.changed  # the same signal: subscribers stay subscribed
        self.ctx.incident_logs = old.incident_logs  # printed on the way out, whichever bot they were for
        self._init_views(self.watch_enabled, self.audit_on_start, None)
        changed.publish("all")
        self.refresh_all()

    def _stop_bot_views(self) -> None:
        """Stop following the bot's files and timers (its workers are cancelled by the caller)."""
        self._stop_events()
        for name in ("_tick_timer", "_look_timer", "_recheck_timer", "_look_lock"):
            timer = getattr(self, name, None)
            if timer is not None:
                timer.stop()
                setattr(self, name, None)
        self.ctx.live = False

    def open_screen(self, name: str) -> None:
        """Go to a screen: the dashboard is the bottom of the stack; another screen already
        open is brought back (popping what is above it) instead of being opened twice."""
        if isinstance(self.screen, ModalScreen):
            return
        if name == "dashboard":
            from statetui.tui.screens.dashboard import DashboardScreen

            # The dashboard is the bottom of the stack, or just above the fleet screen.
            while len(self.screen_stack) > 1 and not isinstance(self.screen, DashboardScreen):
                self.pop_screen()
            return
        cls = _screen_class(name)
        stack = self.screen_stack
        for i, screen in enumerate(stack):
            if type(screen) is cls and not getattr(screen, "pick", False):
                for _ in range(len(stack) - 1 - i):
                    self.pop_screen()
                return
        self.push_screen(cls())

    def action_open(self, name: str) -> None:
        self.open_screen(name)

    def action_help(self) -> None:
        from statetui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def open_repair(self, repair_id: str, on_done: Callable[[Any], None] | None = None, **params: Any) -> None:
        """Every repair goes through the same wizard; restore-backup without a backup picks
        one first; init-state asks for the starting cash (never a silent $0.00)."""
        if repair_id == "init-state" and params.get("balance") is None:
            self._ask_balance(on_done)
            return
        if repair_id == "restore-backup" and "backup" not in params:
            cls = _screen_class("backups")
            self.push_screen(cls(pick=True, on_done=on_done))
            return
        from statetui.tui.screens.repair import RepairScreen

        self.push_screen(RepairScreen(repair_id, params), on_done)

    def _ask_balance(self, on_done: Callable[[Any], None] | None) -> None:
        from decimal import Decimal, InvalidOperation

        from statetui.tui.dialogs import InputScreen

        def answer(text: str | None) -> None:
            if text is None:
                if on_done is not None:
                    on_done(None)
                return
            try:
                amount = Decimal(text.replace("$", "").replace(",", ""))
                if not amount.is_finite() or amount < 0:
                    raise InvalidOperation
            except InvalidOperation:
                self.notify(notice(f"{text!r}: expected an amount like 200.00 (0 only if the bot really holds no cash)"),
                            severity="error", markup=False)
                if on_done is not None:
                    on_done(None)
                return
            self.open_repair("init-state", on_done, balance=str(amount))

        self.push_screen(InputScreen("New state: starting cash", "", "the bot's cash now, e.g. 200.00 (reconcile "
                                     "it with the chain afterwards; 0 only if it really holds none):"), answer)

    # --- routing what screens ask for --------------------------------------------------

    def on_open(self, message: m.Open) -> None:
        self.open_screen(message.name)

    def on_open_repair(self, message: m.OpenRepair) -> None:
        self.open_repair(message.repair_id, message.on_done, **message.params)

    def on_pick_repair(self, message: m.PickRepair) -> None:
        from statetui.repair.runner import get_repair, repair_ids
        from statetui.tui.dialogs import PickScreen

        known = repair_ids()
        ids = [i for i in (message.ids or known) if i in known]
        if not ids:
            self.notify("no repair for this in this build", severity="warning")
        elif len(ids) == 1:
            self.open_repair(ids[0], message.on_done)
        else:
            self.push_screen(PickScreen("Repairs", [(rid, f"{get_repair(rid).title}  ({rid})") for rid in ids]),
                             lambda rid: self.open_repair(rid, message.on_done) if rid else None)

    def on_refresh(self, message: m.Refresh) -> None:
        for kind in message.kinds:
            self.request(kind, fresh=message.fresh)

    def on_run_checks(self, message: m.RunChecks) -> None:
        ids = message.ids
        if ids is None:
            wanted = self.startup_checks()
        elif ids == ("*",):
            wanted = list(self.ctx.audit_ids)
        else:
            wanted = list(ids)
        self.run_checks(wanted)

    def on_record_results(self, message: m.RecordResults) -> None:
        self.record_results(message.results)

    def on_read_chain(self, message: m.ReadChain) -> None:
        self.read_chain()

    def action_chain(self) -> None:
        self.read_chain()

    def on_incident_logged(self, message: m.IncidentLogged) -> None:
        if message.path not in self.ctx.incident_logs:
            self.ctx.incident_logs.append(message.path)

    def on_copy(self, message: m.Copy) -> None:
        self.copy_to_clipboard(message.text)
        shown = message.text if len(message.text) <= 60 else message.text[:57] + "…"
        self.notify(notice(shown), title=f"copied {message.what}".strip(), timeout=4, markup=False)

    # --- the bot ------------------------------------------------------------------------

    def on_stop_bot(self, message: m.StopBot) -> None:
        from statetui.tui.dialogs import ConfirmScreen

        ctx = self.ctx
        bot = ctx.lock_view
        done = message.on_done or (lambda _o: None)
        if ctx.config.read_only:
            self.notify("read-only: the console does not stop the bot", severity="warning")
            done(None)
            return
        if bot is None or not bot.running:  # None: cannot tell (never "not running" on a guess)
            self.notify(notice(bot.evidence if bot is not None and bot.running is None else "the bot is not running"),
                        timeout=6, markup=False)
            done(None)
            return
        if not bot.unit and bot.pid is None:
            self.notify(notice(f"{bot.evidence}: no pid to signal; stop it the way it was started"), severity="warning",
                        markup=False)
            done(None)
            return
        how = f"systemctl stop {bot.unit}" if bot.unit else f"SIGTERM to pid {bot.pid}, then wait up to 10 s"
        seen = (f"pid {bot.pid} holds {ctx.config.pid_file}: {(bot.cmdline or '?')[:200]}"
                if bot.lock is not None and bot.lock.running else bot.deciding[:300])  # (it names the pid and command)
        detail = f"{seen}\n\nHow: {how}. The bot should save its state on the way out; nothing stronger is sent."

        def answer(yes: bool | None) -> None:
            if not yes:
                done(None)
                return
            ctx.stopping_bot = True
            ctx.changed.publish("lock")
            self._stop_bot(bot, done)

        self.push_screen(ConfirmScreen(f"Stop the bot (pid {bot.pid})?", detail, yes="stop it"), answer)

    @work(thread=True, group="bot", exit_on_error=False)
    def _stop_bot(self, seen: Any, done: Callable[[Any], None]) -> None:
        from statetui.tui.botstatus import stop_bot

        outcome = stop_bot(self.ctx.config, seen)
        self.call_from_thread(self._bot_done, outcome, done)

    def _bot_done(self, outcome: Any, done: Callable[[Any], None]) -> None:
        self.ctx.stopping_bot = False
        self.request("lock")
        self.ctx.changed.publish("lock")
        if outcome is not None and not outcome.ok:
            self.notify(notice(outcome.message), severity="error", timeout=10, markup=False)
        done(outcome)

    def on_start_bot(self, message: m.StartBot) -> None:
        from statetui.tui.botstatus import start_command
        from statetui.tui.dialogs import ConfirmScreen

        ctx = self.ctx
        done = message.on_done or (lambda _o: None)
        demo = ctx.demo
        unit = ctx.lock_view.unit if ctx.lock_view is not None else None
        command = start_command(ctx.config, demo.start if demo else None, unit)
        if command is None or ctx.config.read_only:
            self.notify("no known way to start this bot from here: start it the usual way", severity="warning")
            done(None)
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                done(None)
                return
            if demo is not None:
                from statetui.tui.botstatus import start_bot

                # On the main thread: the demo bot's parent-death signal follows the thread that starts it.
                self._bot_done(start_bot(ctx.config, demo.start, demo.log, str(demo.root)), done)
            else:
                self._start_unit(unit, done)

        self.push_screen(ConfirmScreen("Start the bot?", f"runs: {command}", yes="start it"), answer)

    @work(thread=True, group="bot", exit_on_error=False)
    def _start_unit(self, unit: str | None, done: Callable[[Any], None]) -> None:
        from statetui.tui.botstatus import start_bot

        self.call_from_thread(self._bot_done, start_bot(self.ctx.config, unit=unit), done)

    def on_stage_incident(self, message: m.StageIncident) -> None:
        demo = self.ctx.demo
        if demo is None:
            self.notify("incidents are staged only in `statetui demo`", severity="warning")
            return
        if message.incident is None:
            from statetui.tui.dialogs import PickScreen

            options = [(i.id, f"{i.title}: {i.story}") for i in demo.incidents]
            self.push_screen(PickScreen("Stage an incident (demo)", options),
                             lambda choice: self.post_message(m.StageIncident(choice)) if choice else None)
            return
        from statetui.demo.sandbox import DemoError, trigger_incident

        try:
            trigger_incident(self.ctx.config, message.incident)
        except DemoError as exc:
            self.notify(notice(exc), severity="error", markup=False)
            return
        demo.staged.append(message.incident)
        self.ctx.changed.publish("demo")
        title = next((i.title for i in demo.incidents if i.id == message.incident), message.incident)
        self.notify("the simulated bot stages it within seconds; g opens the guided recovery", title=f"staged: {title}",
                    timeout=8)

    # --- start and stop -----------------------------------------------------------------

    def on_mount(self) -> None:
        self.call_after_refresh(_collect_from_now_on)  # after the first frame, whichever screen it shows
        keys = dict(getattr(self.config, "keys", None) or {})
        if keys:
            self.set_keymap(keys)
        if self.has_fleet and self.bot_open:  # --bot NAME: that bot's dashboard, the fleet under it
            from statetui.tui.screens.dashboard import DashboardScreen

            self.push_screen(DashboardScreen())
        for kind in ("state", "lock", "backups", "history"):
            self.request(kind)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, children.lost_terminal, 128 + sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        if self.is_headless:
            return
        from statetui.tui.events import HangupWatch

        self._hangup = HangupWatch.open()  # the pty closing without a signal (or with SIGHUP ignored)
        if self._hangup is not None:
            loop.add_reader(self._hangup.fileno(), lambda: children.lost_terminal(128 + signal.SIGHUP))

    def on_unmount(self) -> None:
        self._stop_events()
        if self._hangup is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._hangup.fileno())
            except (RuntimeError, ValueError):
                pass
            self._hangup.close()

    # --- command palette: every action as "category: verb" ----------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from statetui.tui.commands import commands_for

        yield from commands_for(self, screen)


def _collect_from_now_on() -> None:
    """After the first frame, the collector the CLI held off (statetui.cli.main) runs again."""
    if not gc.isenabled():
        gc.freeze()  # what the start built lives as long as the console: never scanned again
        gc.enable()


def _few_colours() -> bool:
    """A terminal that says it has 16 colours (TERM=linux, xterm, screen...) gets the ANSI
    theme, whose colours are the terminal's own."""
    if os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return False
    term = os.environ.get("TERM", "")
    return bool(term) and "256" not in term and "direct" not in term and "truecolor" not in term
