"""The console app. It keeps the latest views of the state, lock, backups, journal, chain
and audit, refreshes them in thread workers, and watches the state file's directory.
(statetui.tui.app is the light entry point: it starts reading the state before this
module, and Textual, are imported.)

Refreshes never overlap: a request while one of the same kind runs marks it dirty, and
it runs once more when the current one ends (a flood of file events costs at most two
reads, and the newest file always gets read). Screens subscribe to `changed`."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from statetui.core.config import Config
from statetui.tui import data
from statetui.tui.plain import notice

KINDS = ("state", "lock", "backups", "history")
LOCK_POLL_S = 2.0
BACKUPS_POLL_S = 30.0
TICK_S = 1.0
RECHECK_S = 1.0  # quiet time before the state checks re-run
RECHECK_MAX_S = 10.0  # ... and at least this often while the file keeps changing
HEAVY_BYTES = 1_000_000  # from this state size on, full reads take turns
PREFETCH_WAIT_S = 10.0  # a helper that says nothing for this long is given up on
STATE_CHECKS = ("state-file", "peak-drawdown")  # re-run when the file changes


@dataclass
class AuditEntry:
    result: Any  # CheckResult
    ran_at: float


class StateTuiApp(App[int]):
    CSS_PATH = "statetui.tcss"
    TITLE = "statetui"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-compact"), (110, "-wide")]
    BINDINGS = [
        # q, ? and a are the screens' (statetui.tui.screens.base), so the footer lists them after each screen's own keys.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("ctrl+p", "command_palette", "cmds", show=False, priority=True, key_display="^p", id="palette"),
    ]

    def __init__(self, config: Config, *, now: Callable[[], float] | None = None, watch: bool = True,
                 audit_on_start: bool = True, poll: bool = True, theme: str | None = None,
                 prefetched: dict[str, Any] | None = None):
        """`prefetched`: kind -> concurrent.futures.Future of a first view, started before
        Textual was imported (statetui.tui.prefetch); used once, in place of a first read."""
        super().__init__()
        self._prefetched = dict(prefetched or {})
        self._heavy_lock = threading.Lock()
        self.config = config
        self.now = now or time.time
        self.watch_enabled = watch
        self.audit_on_start = audit_on_start
        self.poll_enabled = poll
        self.changed: Signal[str] = Signal(self, "changed")
        self.state_view: data.StateView | None = None
        self.last_good: data.StateView | None = None
        self.lock_view: data.LockView | None = None
        self.backups_view: data.BackupsView | None = None
        self.history_view: data.HistoryView | None = None
        self.chain_view: data.ChainView | None = None
        self.chain_busy = False
        self.chain_progress: float | None = None  # the history scan's progress while it runs
        self.chain_witness: Any = None  # passed to the peak check once the chain was read
        self.audit: dict[str, AuditEntry] = {}
        self.audit_ids: list[str] = []
        self.audit_running: set[str] = set()
        self.live = False
        self.state_updates = 0  # how many state views were applied (tests and benchmarks wait on it)
        self.state_changed_at: float | None = None  # when the file last changed (sha or error)
        self._recheck_timer = None
        self._last_recheck = time.monotonic()
        self._busy_kinds: set[str] = set()
        self._again: set[str] = set()
        self._stop_watch: asyncio.Event | None = None
        self._started_background = False
        if theme:
            self.theme = theme
        elif _few_colours():
            self.theme = "ansi-dark"

    # --- screens ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from statetui.tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def action_open(self, name: str, *args: Any) -> None:
        from statetui.tui.screens import open_screen

        open_screen(self, name, *args)

    def action_help(self) -> None:
        from statetui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def open_repair(self, repair_id: str, on_done: Callable[[Any], None] | None = None, **params: Any) -> None:
        """Every repair goes through the same wizard; restore-backup without a backup picks one first."""
        from statetui.tui.screens.backups import BackupsScreen
        from statetui.tui.screens.repair import RepairScreen

        if repair_id == "restore-backup" and "backup" not in params:
            self.push_screen(BackupsScreen(pick=True, on_done=on_done))
            return
        self.push_screen(RepairScreen(repair_id, params), on_done)

    # --- start and stop -----------------------------------------------------------------

    def on_mount(self) -> None:
        for kind in KINDS:
            self.request(kind)
        if self.poll_enabled:
            self.set_interval(LOCK_POLL_S, lambda: self.request("lock"))
            self.set_interval(BACKUPS_POLL_S, lambda: self.request("backups"))
            self.set_interval(TICK_S, lambda: self.changed.publish("tick"))
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)  # the SSH session went away
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def on_unmount(self) -> None:
        if self._stop_watch is not None:
            self._stop_watch.set()

    # --- refreshing ------------------------------------------------------------------------

    def request(self, kind: str) -> None:
        """Refresh one kind of view in a thread worker, never two at once."""
        if kind in self._busy_kinds:
            self._again.add(kind)
            return
        self._busy_kinds.add(kind)
        gather = {
            "state": lambda: self._heavy(data.gather_state, self.config),
            "lock": lambda: data.gather_lock(self.config),
            "backups": lambda: data.gather_backups(self.config),
            "history": lambda: data.gather_history(self.config),
        }[kind]
        early = self._prefetched.pop(kind, None)
        fn = gather if early is None else (lambda: _first(early, gather))
        self.run_worker(fn, name=kind, group=kind, thread=True, exit_on_error=False)

    def _heavy(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Reading a big state (a refresh, a check) one at a time: two parses of a 10 MB
        file at once would double the peak memory. A small file is not serialised, so a
        check running never delays a live update."""
        view = self.last_good or self.state_view
        if view is None or (view.size or 0) < HEAVY_BYTES:
            return fn(*args)
        with self._heavy_lock:
            return fn(*args)

    def refresh_all(self) -> None:
        for kind in KINDS:
            self.request(kind)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        kind = worker.group
        if worker.node is not self:
            return
        if kind not in KINDS:
            self._handle_worker_error(event)
            return
        if event.state == WorkerState.SUCCESS:
            self._apply(kind, worker.result)
        elif event.state == WorkerState.ERROR:
            self.notify(notice(f"{kind} refresh failed: {type(worker.error).__name__}: {worker.error}"), severity="error",
                        timeout=8, markup=False)
            failed = data.failed_view(kind, self.config, worker.error) if getattr(self, f"{kind}_view") is None else None
            if failed is not None:  # a first read failed: show why, and keep watching
                self._apply(kind, failed)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._busy_kinds.discard(kind)
            if kind in self._again:
                self._again.discard(kind)
                self.request(kind)

    def _apply(self, kind: str, view: Any) -> None:
        if kind == "state":
            old = self.state_view
            was_bad = old is not None and not old.ok
            self.state_view = view
            self.state_updates += 1
            if old is not None and (old.sha256, old.error_kind) != (view.sha256, view.error_kind):
                self.state_changed_at = self.now()
                self._schedule_recheck()
            if view.ok:
                self.last_good = view
                if was_bad:
                    self.notify("the state file is readable again", title="recovered", timeout=6)
        elif kind == "lock":
            self.lock_view = view
        elif kind == "backups":
            self.backups_view = view
        elif kind == "history":
            self.history_view = view
        self.changed.publish(kind)
        if not self._started_background and all((self.state_view, self.lock_view, self.backups_view, self.history_view)):
            self._started_background = True
            self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """The watcher and the audit start once the dashboard is painted, so the first
        paint does not wait on importing them (or share the CPU with the checks)."""
        if self.watch_enabled:
            self._watch()
        self._load_check_ids()

    # --- the watcher -----------------------------------------------------------------

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch(self) -> None:
        # watchfiles and anyio are imported in a thread, not on the event loop.
        await asyncio.get_running_loop().run_in_executor(None, importlib.import_module, "statetui.tui.watch")
        from statetui.tui.watch import watch_changes

        self._stop_watch = asyncio.Event()
        self.live = True
        self.changed.publish("live")
        # A write between the first read and the watch being set up would go unseen: read again.
        self.set_timer(0.3, lambda: self.request("state"))
        try:
            async for kinds in watch_changes(self.config, self._stop_watch):
                if "state" in kinds:
                    self.request("state")
                if "journal" in kinds:
                    self.request("history")
                    self.request("state")  # generation and "written through the store" come from the journal
                if "backups" in kinds:
                    self.request("backups")
        finally:
            self.live = False
            self.changed.publish("live")

    # --- audit -----------------------------------------------------------------------

    @work(thread=True, group="check-ids", exit_on_error=False)
    def _load_check_ids(self) -> None:
        from statetui.audit.checks import load
        from statetui.audit.engine import all_check_ids

        load()  # the registry (titles, which checks are local) is read on the UI thread later
        ids = all_check_ids()
        self.call_from_thread(self._set_check_ids, ids)

    def _set_check_ids(self, ids: list[str]) -> None:
        self.audit_ids = ids
        self.changed.publish("audit")
        if self.audit_on_start:
            self.run_checks(self.local_check_ids())

    def local_check_ids(self) -> list[str]:
        from statetui.audit.base import REGISTRY

        return [i for i in self.audit_ids if i in REGISTRY and REGISTRY[i].local] or []

    def run_checks(self, ids: Iterable[str]) -> None:
        ids = [i for i in ids if i not in self.audit_running]
        if not ids:
            return
        self.audit_running.update(ids)
        self.changed.publish("audit")
        self._run_checks(ids)

    @work(thread=True, group="audit", exit_on_error=False)
    def _run_checks(self, ids: list[str]) -> None:
        from statetui.audit.base import AuditContext
        from statetui.audit.engine import run_audit

        # The console reads the chain only in its chain worker (c): checks get what it found.
        ctx = AuditContext(self.config, now=self.now(), network=False)
        if self.chain_witness is not None:
            ctx.cache["chain_witness"] = self.chain_witness
        for cid in ids:
            try:
                results = self._heavy(run_audit, ctx, [cid])
            except Exception as exc:  # an unknown id: say so on screen, keep going
                self.call_from_thread(self._check_failed, cid, exc)
                continue
            self.call_from_thread(self._check_done, results[0])

    def _check_done(self, result: Any) -> None:
        self.audit[result.id] = AuditEntry(result, self.now())
        self.audit_running.discard(result.id)
        self.changed.publish("audit")

    def _check_failed(self, cid: str, exc: Exception) -> None:
        self.audit_running.discard(cid)
        self.notify(notice(f"{cid}: {exc}"), severity="error", markup=False)
        self.changed.publish("audit")

    def _schedule_recheck(self) -> None:
        """The file changed: re-run the checks that read it once it has been quiet for
        RECHECK_S, or every RECHECK_MAX_S while writes keep coming (checks running at
        every write would compete with the live refresh)."""
        if not self.audit_on_start:
            return
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
        overdue = time.monotonic() - self._last_recheck >= RECHECK_MAX_S

        def go() -> None:
            self._recheck_timer = None
            self._last_recheck = time.monotonic()
            self.run_checks([c for c in STATE_CHECKS if c in self.audit_ids])

        self._recheck_timer = self.set_timer(0.05 if overdue else RECHECK_S, go)

    def record_results(self, results: Iterable[Any]) -> None:
        """Results run elsewhere (a repair's verify step) update the audit summary too."""
        for r in results:
            self.audit[r.id] = AuditEntry(r, self.now())
        self.changed.publish("audit")

    def audit_overall(self) -> str | None:
        from statetui.audit.base import overall

        results = [e.result for e in self.audit.values()]
        return overall(results).value if results else None

    # --- chain -----------------------------------------------------------------------

    def action_chain(self) -> None:
        if self.chain_busy:
            return
        self.chain_busy = True
        self.changed.publish("chain")
        view = self.last_good
        cash = view.derived.cash if view is not None and view.derived is not None else None
        tokens = list(view.position_tokens) if view is not None else []
        self._read_chain(cash, tokens)

    @work(thread=True, group="chain", exit_on_error=False)
    def _read_chain(self, cash, tokens) -> None:
        shown = [0.0]

        def progress(p: Any) -> None:  # a long history scan: a bar, redrawn at most 5 times a second
            if time.monotonic() - shown[0] >= 0.2:
                shown[0] = time.monotonic()
                self.call_from_thread(self._chain_progressed, p.fraction)

        view = data.gather_chain(self.config, cash, tokens, self.now(), progress=progress)
        self.call_from_thread(self._chain_done, view)

    def _chain_progressed(self, fraction: float) -> None:
        self.chain_progress = fraction
        self.changed.publish("chain")

    def _chain_done(self, view: data.ChainView) -> None:
        self.chain_view = view
        self.chain_busy = False
        self.chain_progress = None
        self.changed.publish("chain")
        if view.witness is not None:
            self.chain_witness = view.witness
            self.run_checks([c for c in ("peak-drawdown",) if c in self.audit_ids])

    # --- errors from any worker --------------------------------------------------------

    def _handle_worker_error(self, event: Worker.StateChanged) -> None:
        w = event.worker
        if event.state == WorkerState.ERROR and w.group in ("audit", "chain", "check-ids", "watch"):
            if w.group == "audit":
                self.audit_running.clear()
            if w.group == "chain":
                self.chain_busy = False
            self.notify(notice(f"{w.group}: {type(w.error).__name__}: {w.error}"), severity="error", timeout=8, markup=False)
            self.changed.publish(w.group)

    # --- command palette: every action as "category: verb" ----------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from statetui.tui.commands import commands_for

        yield from commands_for(self, screen)


def _first(early: Any, gather: Callable[[], Any]) -> Any:
    """A prefetched first view, or a fresh read when the prefetch failed or hangs."""
    try:
        return early.result(timeout=PREFETCH_WAIT_S)
    except Exception:
        return gather()


def _few_colours() -> bool:
    """A terminal that says it has 16 colours (TERM=linux, xterm, screen...) gets the ANSI
    theme, whose colours are the terminal's own."""
    if os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return False
    term = os.environ.get("TERM", "")
    return bool(term) and "256" not in term and "direct" not in term and "truecolor" not in term
