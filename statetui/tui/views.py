"""Keeping the shared context's views fresh, driven by events: inotify for the files, a
pidfd for the bot's exit, timers only for what is time-based (an age on screen changing
its label, a folder that does not exist yet). Reads run in thread workers; a refresh
asked for while one of the same kind runs runs once more after it (a flood of events
costs at most two reads). Mixed into the app (statetui.tui.console)."""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from typing import Any, Callable

from textual import work
from textual.worker import Worker, WorkerState

from statetui.tui.plain import notice
from statetui.tui import data
from statetui.tui.context import next_age_change
from statetui.tui.views_checks import PREFETCH_WAIT_S, ChecksAndChain

KINDS = ("state", "lock", "backups", "history")
HEAVY_BYTES = 1_000_000  # from this state size on, full reads take turns
MISSING_LOOK_S = 1.0  # a watched folder that does not exist yet: look again this often
LOCK_LOOK_S = 10.0  # a pid file nobody holds: who holds a lock is not a file change, look again
NO_PIDFD_POLL_S = 2.0  # a running bot where pidfd_open is missing (Linux < 5.3, not Linux)


class LiveViews(ChecksAndChain):
    """The app's half that reads: requests, events (the audit and the chain: ChecksAndChain)."""

    ctx: Any
    _prefetched: dict[str, Any]

    def _init_views(self, watch: bool, audit_on_start: bool, prefetched: dict[str, Any] | None) -> None:
        self._prefetched = dict(prefetched or {})
        self.watch_enabled = watch
        self.audit_on_start = audit_on_start
        self._heavy_lock = threading.Lock()
        self._busy_kinds: set[str] = set()
        self._again: set[str] = set()
        self._fresh_backups = False
        self._events = None  # events.FileEvents
        self._pidfd: tuple[int, int] | None = None  # (pid, fd)
        self._look_lock = None
        self._stop_watch: asyncio.Event | None = None
        self._tick_timer = None
        self._look_timer = None
        self._recheck_timer = None
        self._recheck_ids: set[str] = set()
        self._last_recheck = time.monotonic()
        self._started_background = False

    # --- reading -------------------------------------------------------------------------

    def request(self, kind: str, fresh: bool = False) -> None:
        """Refresh one kind of view in a thread worker, never two at once."""
        if not getattr(self, "bot_open", True):  # only the fleet is shown: it reads every bot itself
            return
        if kind == "backups" and fresh:
            self._fresh_backups = True
        if kind in self._busy_kinds:
            self._again.add(kind)
            return
        self._busy_kinds.add(kind)
        config = self.ctx.config
        fresh_backups, self._fresh_backups = self._fresh_backups, False if kind == "backups" else self._fresh_backups
        gather: Callable[[], Any] = {
            "state": lambda: self._heavy(data.gather_state, config),
            "lock": lambda: data.gather_lock(config),
            "backups": lambda: data.gather_backups(config, fresh=fresh_backups, whole=self.ctx.whole_backups),
            "history": lambda: data.gather_history(config),
        }[kind]
        early = self._prefetched.pop(kind, None)
        if early is not None and early.done():
            # Already here (the helper usually answers while Textual is imported): applied
            # now, so the screen composes with it and its first frame is the real one.
            self._early_done(self.ctx, kind, early, gather, None)
            return
        if early is not None:
            self._take_early(kind, early, gather)
            return
        self.run_worker(gather, name=kind, group=kind, thread=True, exit_on_error=False)

    def _take_early(self, kind: str, early: Any, gather: Callable[[], Any]) -> None:
        """A prefetched first view is applied on the event loop as soon as it arrives: no
        worker thread and no message in between (the first paint waits on it). If the
        helper failed, or says nothing for PREFETCH_WAIT_S, a worker reads it instead."""
        loop = asyncio.get_running_loop()
        taken = threading.Event()  # the answer or the timeout, whichever comes first
        ctx = self.ctx

        def arrived(future: Any) -> None:  # in the helper's reader thread, or here if already done
            if not taken.is_set():
                taken.set()
                loop.call_soon_threadsafe(self._early_done, ctx, kind, future, gather, timer)

        def late() -> None:
            if not taken.is_set():
                taken.set()
                self._early_done(ctx, kind, None, gather, None)

        timer = self.set_timer(PREFETCH_WAIT_S, late)
        early.add_done_callback(arrived)

    def _early_done(self, ctx: Any, kind: str, future: Any, gather: Callable[[], Any], timer: Any) -> None:
        if timer is not None:
            timer.stop()
        if ctx is not self.ctx:  # another bot is shown now (the fleet): its own reads are under way
            return
        if future is not None and future.exception() is None:
            self._apply(kind, future.result())
            self._finished(kind)
        else:
            self.run_worker(gather, name=kind, group=kind, thread=True, exit_on_error=False)

    def _heavy(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Reading a big state (a refresh, a check) one at a time: two parses of a 10 MB
        file at once would double the peak memory."""
        view = self.ctx.last_good or self.ctx.state_view
        if view is None or (view.size or 0) < HEAVY_BYTES:
            return fn(*args)
        with self._heavy_lock:
            return fn(*args)

    def refresh_all(self, fresh: bool = False) -> None:
        for kind in KINDS:
            self.request(kind, fresh=fresh)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self:
            return
        kind = worker.group
        if kind not in KINDS:
            self._worker_error(event)
            return
        if event.state == WorkerState.SUCCESS:
            self._apply(kind, worker.result)
        elif event.state == WorkerState.ERROR:
            self.notify(notice(f"{kind} refresh failed: {type(worker.error).__name__}: {worker.error}"), severity="error",
                        timeout=8, markup=False)
            failed = data.failed_view(kind, self.ctx.config, worker.error) if getattr(self.ctx, f"{kind}_view") is None else None
            if failed is not None:  # a first read failed: show why, and keep watching
                self._apply(kind, failed)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._finished(kind)

    def _finished(self, kind: str) -> None:
        self._busy_kinds.discard(kind)
        if kind in self._again:
            self._again.discard(kind)
            self.request(kind)


    def _apply(self, kind: str, view: Any) -> None:
        ctx = self.ctx
        if kind == "state":
            old = ctx.state_view
            was_bad = old is not None and not old.ok
            ctx.state_view = view
            ctx.state_updates += 1
            if old is not None and (old.sha256, old.error_kind) != (view.sha256, view.error_kind):
                ctx.state_changed_at = ctx.now()
                self._recheck("state")
            if view.ok:
                ctx.last_good = view
                if was_bad:
                    self.notify("the state file is readable again", title="recovered", timeout=6)
        elif kind == "lock":
            old = ctx.lock_view
            ctx.lock_view = view
            self._follow_bot(view)
            if old is not None and (old.running, old.pid) != (view.running, view.pid):
                self._recheck("lock")
        elif kind == "backups":
            old = ctx.backups_view
            ctx.backups_view = view
            if old is not None and old.key != view.key:
                self._recheck("backups")
        elif kind == "history":
            ctx.history_view = view
        ctx.changed.publish(kind)
        self._schedule_tick()
        if not self._started_background and all((ctx.state_view, ctx.lock_view, ctx.backups_view, ctx.history_view)):
            self._started_background = True
            self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """The watcher and the audit start once the dashboard is painted, so the first
        paint does not wait on them."""
        if self.watch_enabled:
            self._start_events()
        self._start_audit()

    # --- events --------------------------------------------------------------------------

    def _start_events(self) -> None:
        from statetui.tui.events import FileEvents

        try:
            self._events = FileEvents.open(self.ctx.config)
        except (OSError, ValueError, AttributeError):  # no inotify here (or no libc symbol for it)
            self._watch_fallback()
            return
        asyncio.get_running_loop().add_reader(self._events.fileno(), self._on_file_events)
        self.ctx.live = True
        self.ctx.changed.publish("live")
        self._look_for_missing()
        # A write between the first read and the watch being set up would go unseen: look
        # (a stat) and read again only what changed.
        self._catch_up()

    @work(thread=True, group="catch-up", exit_on_error=False)
    def _catch_up(self) -> None:
        views = {"state": self.ctx.state_view, "lock": self.ctx.lock_view, "backups": self.ctx.backups_view,
                 "history": self.ctx.history_view}
        changed = [k for k in KINDS if data.changed_since(k, views[k], self.ctx.config)]
        for kind in changed:
            self.call_from_thread(self.request, kind)

    def _on_file_events(self) -> None:
        kinds = self._events.read() if self._events is not None else set()
        if "journal" in kinds:
            kinds |= {"history", "state"}  # generation and "written through the store" come from the journal
        for kind in KINDS:
            if kind in kinds:
                self.request(kind)
        self._look_for_missing()

    def _look_for_missing(self) -> None:
        """A watched folder does not exist yet (no backups yet, a deleted state folder):
        look again every MISSING_LOOK_S until it does. The only poll, and only then."""
        if self._look_timer is not None:
            self._look_timer.stop()
            self._look_timer = None
        if self._events is None or not self._events.missing:
            return

        def look() -> None:
            self._look_timer = None
            events = self._events
            if events is None:  # closed since the timer was set (the app is stopping)
                return
            before = set(events.missing)
            events.watch()
            if self._events is not events:  # closed by what watch() set off
                return
            if events.missing != before:
                self.refresh_all()
            self._look_for_missing()

        self._look_timer = self.set_timer(MISSING_LOOK_S, look)

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch_fallback(self) -> None:
        """No inotify here: watchfiles (imported in a thread) watches the files instead."""
        await asyncio.get_running_loop().run_in_executor(None, importlib.import_module, "statetui.tui.watch")
        from statetui.tui.watch import watch_changes

        self._stop_watch = asyncio.Event()
        self.ctx.live = True
        self.ctx.changed.publish("live")
        self.set_timer(0.3, self.refresh_all)
        try:
            async for kinds in watch_changes(self.ctx.config, self._stop_watch):
                if "journal" in kinds:
                    kinds |= {"history", "state"}
                for kind in KINDS:
                    if kind in kinds:
                        self.request(kind)
        finally:
            self.ctx.live = False
            self.ctx.changed.publish("live")

    def _follow_bot(self, bot: Any) -> None:
        """A pidfd on the running bot: its exit is an event. A pid file nobody holds is
        looked at again now and then (a lock can be taken without writing the file)."""
        from statetui.tui.events import pidfd

        loop = asyncio.get_running_loop()
        pid = bot.pid if bot.running else None
        if self._pidfd is not None and self._pidfd[0] != pid:
            loop.remove_reader(self._pidfd[1])
            _close(self._pidfd[1])
            self._pidfd = None
        if self._look_lock is not None:
            self._look_lock.stop()
            self._look_lock = None
        if pid is not None and self._pidfd is None:
            fd = pidfd(pid)
            if fd is not None:
                self._pidfd = (pid, fd)
                loop.add_reader(fd, lambda: self.request("lock"))
                return
            self._look_lock = self.set_timer(NO_PIDFD_POLL_S, lambda: self.request("lock"))
        elif pid is None and bot.lock is not None and bot.lock.exists and self.watch_enabled:
            self._look_lock = self.set_timer(LOCK_LOOK_S, lambda: self.request("lock"))

    def _schedule_tick(self) -> None:
        """Redraw the panels that show ages when the first of their labels changes."""
        ages = self.ctx.ages_shown()
        if self._tick_timer is not None:
            self._tick_timer.stop()
            self._tick_timer = None
        if not ages:
            return
        delay = min(next_age_change(a) for a in ages)

        def tick() -> None:
            self._tick_timer = None
            self.ctx.changed.publish("tick")
            self._schedule_tick()

        self._tick_timer = self.set_timer(delay, tick)

    def _stop_events(self) -> None:
        if self._events is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._events.fileno())
            except (RuntimeError, ValueError):
                pass
            self._events.close()
            self._events = None
        if self._pidfd is not None:
            # Unregistered before it is closed: the fleet follows another bot next, whose
            # pidfd may get the same number (the loop would think it already watched).
            try:
                asyncio.get_running_loop().remove_reader(self._pidfd[1])
            except (RuntimeError, ValueError):
                pass
            _close(self._pidfd[1])
            self._pidfd = None
        if self._stop_watch is not None:
            self._stop_watch.set()


def _close(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass
