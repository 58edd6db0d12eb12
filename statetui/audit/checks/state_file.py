"""state-file: exists, readable, parses, well-typed, sane, and who wrote it last."""

from __future__ import annotations

import os

from statetui.audit.base import AuditContext, Report, register
from statetui.core.errors import StateLoadError, StateMissingError
from statetui.core.figures import figures, sanity_problems
from statetui.core.roles import roles_for
from statetui.core.store import StateStore

# A bot cannot start on these; a wrong type at least still parses.
_UNUSABLE = {"missing", "permission", "empty", "corrupt", "not-regular"}


def store_for(ctx: AuditContext) -> StateStore:
    c = ctx.config
    return StateStore.for_config(c, auto_backup_interval=None)


def sandbox_root() -> str | None:
    """Where sandboxes go: a RAM-backed /dev/shm when there is one (the scenarios test the
    store's logic, not the disk, and an audit should not wear a VPS disk), else the default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def backups_summary(ctx: AuditContext, store: StateStore):
    """The live backups' summary (statetui.core.backup_summary: counts, the newest and failing
    ones, the evidence values), made once per audit run and shared by the checks that need it:
    its cost does not grow with the number of backups while the summary describes the folder."""
    key = ("backups", str(store.backups.dir))
    if key not in ctx.cache:
        from statetui.core.backup_summary import summarize

        ctx.cache[key] = summarize(store.backups)
    return ctx.cache[key]


@register("state-file", "State File Existence")
def check(ctx: AuditContext, report: Report) -> None:
    store = store_for(ctx)
    status = store.status(model=False)  # one read; checked as the model would, without pydantic
    report.data["file"] = status.to_dict()
    if status.error is not None:
        _load_failed(store, status.error, report, backups_summary(ctx, store).good > 0)
        return
    doc = status.document
    if doc is None:  # it vanished between the stat and the read: as the store's load would say
        _load_failed(store, StateMissingError(f"{store.path}: state file not found", str(store.path)), report,
                     verified_backups(ctx, store))
        return
    roles = roles_for(ctx.config, doc)
    mapped = [r for r, b in roles.bindings.items() if b.path]
    report.ok(f"State file parses: {len(doc)} fields; roles mapped: {', '.join(mapped) or 'none'} "
              "(statetui fields shows which field plays which role)", file=str(store.path))
    f = figures(doc, roles, ctx.config.halt_threshold)
    report.data["derived"] = f.to_dict()
    report.data["roles"] = roles.values(doc)
    problems = sanity_problems(doc, roles, ctx.config.halt_threshold, raw=status.raw)
    for p in problems:
        report.add(p.severity, p.message)
        if p.role in ("peak", "halted"):
            report.repair("recompute-peak")
    if not problems:
        report.ok("every mapped role has the right type and a sane value")
    if any(p.role == "peak" for p in problems):
        report.recommend("The peak must never be below the figure it tracks: recompute it from evidence")
    if any(p.role == "halted" for p in problems):
        report.recommend("Drawdown is at or past the halt threshold: halt the bot, or correct the peak if it is wrong")
    for role in ("cash", "peak"):
        if not roles.mapped(role):
            report.info(f"no {role} role: {roles.hints.get(role, 'statetui fields')}")
    _writer(status, report)
    if report.worst().rank == 0:
        from statetui.core.money import fmt_money

        dd = f", drawdown {f.drawdown * 100:.1f}%" if f.drawdown is not None else ""
        halted = {True: "halted", False: "not halted", None: "no halt flag"}[f.halted]
        report.summary = f"state file OK: cash {fmt_money(f.cash)}, peak {fmt_money(f.peak)}{dd}, {halted}"
    ours, theirs = status.stray_temp_files, status.bot_temp_files
    if ours:
        report.warn(f"{len(ours)} leftover temp file(s) of statetui's store beside the state ({', '.join(ours[:3])}): "
                    "a writer was killed mid-save; the next save through the store removes them")
    if theirs:
        report.warn(f"{len(theirs)} temp file(s) of the bot's own writer beside the state ({', '.join(theirs[:3])}): "
                    "it was killed mid-save, or is saving now; compare with the state before removing by hand")


def _load_failed(store: StateStore, err: StateLoadError, report: Report, has_backup: bool) -> None:
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
