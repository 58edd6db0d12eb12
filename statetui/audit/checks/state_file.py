"""state-file: exists, readable, parses, well-typed, sane, and who wrote it last."""

from __future__ import annotations

import os

from statetui.audit.base import AuditContext, Report, register
from statetui.core.errors import StateLoadError
from statetui.core.model import TradingState, derive, sanity_problems
from statetui.core.store import StateStore

# A bot cannot start on these; a wrong type at least still parses.
_UNUSABLE = {"missing", "permission", "empty", "corrupt", "not-regular"}


def store_for(ctx: AuditContext) -> StateStore:
    c = ctx.config
    return StateStore(c.state, backup_dir=c.backup_dir, auto_backup_interval=None)


def sandbox_root() -> str | None:
    """Where sandboxes go: a RAM-backed /dev/shm when there is one (the scenarios test the
    store's logic, not the disk, and an audit should not wear a VPS disk), else the default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def verified_backups(ctx: AuditContext, store: StateStore) -> list:
    """The live backups, verified once per audit run and shared by the checks that need them."""
    key = ("backups", str(store.backups.dir))
    if key not in ctx.cache:
        ctx.cache[key] = store.backups.list(verify=True)
    return ctx.cache[key]


@register("state-file", "State File Existence")
def check(ctx: AuditContext, report: Report) -> None:
    store = store_for(ctx)
    status = store.status()
    report.data["file"] = status.to_dict()
    if status.error is not None:
        _load_failed(store, status.error, report, verified_backups(ctx, store))
        return
    state = store.load()
    fields = state.to_document()
    known = [k for k in fields if k in TradingState.model_fields]
    report.ok(f"State file parses: {len(fields)} fields ({len(known)} known, {len(fields) - len(known)} kept as the bot wrote them)",
              file=str(store.path))
    d = derive(state, ctx.config.halt_threshold)
    report.data["derived"] = d.to_dict()
    problems = sanity_problems(state, ctx.config.halt_threshold)
    for p in problems:
        report.add(p.severity, p.message)
        if p.field == "peak_balance" or p.field == "mode":
            report.repair("recompute-peak")
    if not problems:
        report.ok("every known field has the right type and a sane value")
    if any(p.field == "peak_balance" for p in problems):
        report.recommend("peak_balance must never be below current_balance: recompute it from realized cash")
    if any(p.field == "mode" for p in problems):
        report.recommend("Drawdown is at or past the halt threshold: halt the bot, or correct the peak if it is wrong")
    _writer(status, report)
    if report.worst().rank == 0:
        from statetui.core.money import fmt_money

        dd = f", drawdown {d.drawdown * 100:.1f}%" if d.drawdown is not None else ""
        report.summary = f"state file OK: cash {fmt_money(d.cash)}, peak {fmt_money(d.peak)}{dd}, mode {state.mode or '—'}"
    if status.stray_temp_files:
        report.warn(f"{len(status.stray_temp_files)} leftover temp file(s) beside the state ({', '.join(status.stray_temp_files[:3])}): "
                    "a writer was killed mid-save; the next save through the store removes them")


def _load_failed(store: StateStore, err: StateLoadError, report: Report, backups: list) -> None:
    has_backup = any(b.ok for b in backups)
    if err.kind == "missing":
        report.fail(f"State file not found: {store.path}")
        report.critical("Bot cannot operate without state file")
        report.recommend("Create default state file with initial values (statetui init), or restore a backup")
        report.repair("restore-backup" if has_backup else "init-state")
        if has_backup:
            report.repair("init-state")
        return
    severity = "CRITICAL" if err.kind in _UNUSABLE else "FAIL"
    report.add(severity, str(err), file=str(store.path))
    if err.kind in _UNUSABLE:
        report.critical("Bot cannot load its state: it will crash or start from wrong values")
    if err.kind == "permission":
        report.recommend(f"Fix the file's owner/mode so the bot's user can read it (ls -l {store.path})")
        return
    report.recommend("Restore the newest backup that verifies; the bad file is kept (backed up first)")
    report.repair("restore-backup")


def _writer(status, report: Report) -> None:
    if status.written_by_store is None:
        report.info("no journal beside the state: writes are not going through statetui.store "
                    "(no record of who changed what, or why)")
        report.recommend("Write the state through statetui.store.StateStore (atomic, locked, journaled)")
    elif status.written_by_store:
        report.ok(f"last write came through the store (generation {status.generation}, "
                  f"reason {status.last_entry.get('reason')!r})")
    else:
        report.warn("the file on disk was last written OUTSIDE the store (its sha256 differs from the journal's last entry)")
        report.recommend("Find the other writer (persistence-code check); every write must go through the store")
