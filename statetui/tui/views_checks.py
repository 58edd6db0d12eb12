"""The console's audit and chain read, mixed into the app through statetui.tui.views:
the startup audit (its results from the prefetch helper), re-runs of the checks that
read a file once it changed, and the chain read; checks and the chain run in a
short-lived child (statetui.tui.offload)."""

from __future__ import annotations

import time
from typing import Any, Iterable

from textual import work
from textual.worker import Worker, WorkerState

from statetui.tui.context import STATE_CHECKS, AuditEntry
from statetui.tui.plain import notice

RECHECK_S = 1.0  # quiet time before the checks that read a changed file re-run
RECHECK_MAX_S = 10.0  # ... and at least this often while it keeps changing
# Which checks answer for which file: re-run when it changes.
CHECKS_FOR = {"state": STATE_CHECKS, "backups": ("backups",), "lock": ("process-safety",)}
PREFETCH_WAIT_S = 10.0  # a helper that says nothing for this long is given up on


class ChecksAndChain:
    ctx: Any
    audit_on_start: bool
    _prefetched: dict[str, Any]
    _recheck_timer: Any
    _recheck_ids: set[str]
    _last_recheck: float

    # --- the audit -------------------------------------------------------------------------

    def _start_audit(self) -> None:
        from statetui.audit.checks import MODULES

        ctx = self.ctx
        ctx.audit_ids = list(MODULES)
        early = self._prefetched.pop("audit", None)
        if not self.audit_on_start:
            ctx.changed.publish("audit")
            return
        ids = self.startup_checks()
        ctx.audit_running.update(ids)
        ctx.changed.publish("audit")  # once: the rows and which of them run, in one redraw
        self._first_audit(early, ids)

    def startup_checks(self) -> list[str]:
        """The local checks, and the chain check when it has nothing to read (it says so)."""
        from statetui.tui.prefetch import startup_check_ids

        return startup_check_ids(self.ctx.config)

    @work(thread=True, group="audit", exit_on_error=False)
    def _first_audit(self, early: Any, ids: list[str]) -> None:
        """The startup audit, run by the prefetch helper while the console started; in
        process when the helper could not (or says nothing)."""
        from statetui.audit.base import CheckResult

        results = None
        if early is not None:
            try:
                results = [CheckResult.from_dict(d) for d in early.result(timeout=PREFETCH_WAIT_S)]
            except Exception:
                results = None
        if results is None or {r.id for r in results} != set(ids):
            self.call_from_thread(self._clear_running, ids)
            self.call_from_thread(self.run_checks, ids)
            return
        self.call_from_thread(self.record_results, results)  # one redraw for them all

    def _clear_running(self, ids: Iterable[str]) -> None:
        self.ctx.audit_running.difference_update(ids)

    def run_checks(self, ids: Iterable[str]) -> None:
        ctx = self.ctx
        ids = [i for i in ids if i not in ctx.audit_running]
        if not ids:
            return
        ctx.audit_running.update(ids)
        ctx.changed.publish("audit")
        self._run_checks(ids)

    @work(thread=True, group="audit", exit_on_error=False)
    def _run_checks(self, ids: list[str]) -> None:
        """In a child process (statetui.tui.offload): the checks' memory goes with it."""
        from statetui.tui import offload

        done: set[str] = set()
        try:
            for result in offload.run_checks(self.ctx.config, ids, self.ctx.now(), witness=self.ctx.chain_witness):
                done.add(result.id)
                self.call_from_thread(self._check_done, result)
        except Exception as exc:  # the child died or hung up: say so, keep the console going
            for cid in ids:
                if cid not in done:
                    self.call_from_thread(self._check_failed, cid, exc)

    def _check_done(self, result: Any, publish: bool = True) -> None:
        ctx = self.ctx
        ctx.audit[result.id] = AuditEntry(result, ctx.now())
        ctx.audit_running.discard(result.id)
        if result.id == "chain-reconcile":
            from statetui.tui.chain_data import chain_of_check

            view = chain_of_check(result, ctx.config, ctx.now())
            if view is not None:
                ctx.chain_view = view
                ctx.changed.publish("chain")
        if publish:
            ctx.changed.publish("audit")

    def _check_failed(self, cid: str, exc: Exception) -> None:
        self.ctx.audit_running.discard(cid)
        self.notify(notice(f"{cid}: {exc}"), severity="error", markup=False)
        self.ctx.changed.publish("audit")

    def _recheck(self, kind: str) -> None:
        """A file changed: re-run the checks that read it once it has been quiet for
        RECHECK_S, or every RECHECK_MAX_S while writes keep coming."""
        ctx = self.ctx
        ids = [c for c in CHECKS_FOR.get(kind, ()) if c in ctx.audit]
        if not self.audit_on_start or not ids:
            return
        self._recheck_ids.update(ids)
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
        overdue = time.monotonic() - self._last_recheck >= RECHECK_MAX_S
        ctx.recheck_pending = True

        def go() -> None:
            self._recheck_timer = None
            ctx.recheck_pending = False
            self._last_recheck = time.monotonic()
            wanted, self._recheck_ids = sorted(self._recheck_ids), set()
            self.run_checks([c for c in ctx.audit_ids if c in wanted])

        self._recheck_timer = self.set_timer(0.05 if overdue else RECHECK_S, go)

    def record_results(self, results: Iterable[Any]) -> None:
        for r in results:
            self._check_done(r, publish=False)
        self.ctx.changed.publish("audit")

    # --- the chain -------------------------------------------------------------------------

    def read_chain(self) -> None:
        ctx = self.ctx
        if ctx.chain_busy:
            return
        ctx.chain_busy = True
        ctx.changed.publish("chain")
        view = ctx.last_good
        cash = view.derived.cash if view is not None and view.derived is not None else None
        tokens = list(view.position_tokens) if view is not None else []
        self._read_chain(cash, tokens)

    @work(thread=True, group="chain", exit_on_error=False)
    def _read_chain(self, cash, tokens) -> None:
        """In a child process: web3 never loads into the console."""
        from statetui.tui import offload

        view = offload.read_chain(self.ctx.config, cash, tokens, self.ctx.now(),
                                  progress=lambda done: self.call_from_thread(self._chain_progressed, done))
        self.call_from_thread(self._chain_done, view)

    def _chain_progressed(self, fraction: float) -> None:
        self.ctx.chain_progress = fraction
        self.ctx.changed.publish("chain")

    def _chain_done(self, view: Any) -> None:
        ctx = self.ctx
        ctx.chain_view = view
        ctx.chain_busy = False
        ctx.chain_progress = None
        ctx.changed.publish("chain")
        self._schedule_tick()
        if view.witness is not None:  # the peak check cites what the chain says
            ctx.chain_witness = view.witness
            self.run_checks([c for c in ("peak-drawdown",) if c in ctx.audit_ids])

    def _worker_error(self, event: Worker.StateChanged) -> None:
        w = event.worker
        if event.state == WorkerState.ERROR and w.group in ("audit", "chain", "watch", "bot"):
            if w.group == "audit":
                self.ctx.audit_running.clear()
            if w.group == "chain":
                self.ctx.chain_busy = False
                self.ctx.chain_progress = None
            self.notify(notice(f"{w.group}: {type(w.error).__name__}: {w.error}"), severity="error", timeout=8, markup=False)
            self.ctx.changed.publish(w.group)
