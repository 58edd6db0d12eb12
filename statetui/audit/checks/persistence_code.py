"""The `persistence-code` check: how the bot's own source writes, locks and loads the
state file. The analysis lives in statetui.audit.persistence_ast; this turns it into
findings. Code is not data, so no repair is offered."""

from __future__ import annotations

import os
from pathlib import Path

from typing import TYPE_CHECKING

from statetui.audit.base import AuditContext, Report, register

if TYPE_CHECKING:  # the analyser is imported when the check runs (it may run in a forked child)
    from statetui.audit.persistence_ast import Analysis, Writer

DEFAULT_STATE_NAME = "trading_state.json"

REC_STORE = ("Use statetui.store.StateStore for every write: temp file + fsync + os.replace + "
             "directory fsync, locked, journaled")
REC_LOCK = ("Hold an exclusive lock on a separate .lock file (filelock.FileLock or fcntl.flock) "
            "around every read-modify-write of the state")
REC_LOCK_FILE = ("Lock a separate .lock file, not the state file: os.replace gives the state a new "
                 "inode, so a lock on the old one protects nothing")
REC_LOAD = ("Catch json.JSONDecodeError (and OSError) around state loading; fall back to the newest "
            "valid backup instead of crashing")
REC_SOURCE = "Point --bot-source (or STATETUI_BOT_SOURCE) at the bot's source file or folder"


@register("persistence-code", "Code Review - State Persistence", cpu_heavy=True)
def check(ctx: AuditContext, report: Report) -> None:
    from statetui.audit.persistence_ast import analyze_sources, collect_sources

    source = ctx.config.bot_source
    if source is None:
        report.skip("bot source not configured (--bot-source / STATETUI_BOT_SOURCE)")
        return
    source = Path(source)
    if not os.path.lexists(source):
        report.fail(f"bot source not found: {source}", file=str(source))
        report.recommend(REC_SOURCE)
        return
    files, problems = collect_sources(source)
    names = {DEFAULT_STATE_NAME, Path(ctx.config.state).name}
    root = source if source.is_dir() else source.parent
    analysis = analyze_sources(files, names, root=root)
    analysis.problems[:0] = problems
    _render(analysis, source, root, report)


def _rel(path: str, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path


def _render(a: Analysis, source: Path, root: Path, report: Report) -> None:
    def at(file: str, line: int | None) -> str:
        return f"{_rel(file, root)}:{line}" if line else _rel(file, root)

    for p in a.problems:
        report.warn(f"{at(p.file, p.line)}: {p.message}", file=p.file, line=p.line)

    store_writes = [s for s in a.store_uses if s.writes]
    if store_writes:
        s = store_writes[0]
        report.ok("writes go through statetui.store: atomic, durable, locked, journaled "
                  f"({at(s.file, s.line)})", file=s.file, line=s.line)
    elif a.store_uses:
        s = a.store_uses[0]
        report.info(f"StateStore created at {at(s.file, s.line)}, but no save/transaction call found",
                    file=s.file, line=s.line)

    for w in a.writers:
        _render_writer(w, at, report)

    if a.writers:
        _render_locking(a, at, report)

    for load in a.loads:
        if load.guarded:
            who = "every caller of it catches" if load.by_callers else "catches"
            report.ok(f"state load in {load.function} ({at(load.file, load.line)}): {who} JSONDecodeError",
                      file=load.file, line=load.line)
        else:
            report.warn(f"{load.api} of the state in {load.function} is not guarded against JSONDecodeError: "
                        "a corrupt file crashes the bot on startup", file=load.file, line=load.line)
            report.recommend(REC_LOAD)

    if not a.writers and not store_writes:
        report.warn(f"no state writer found in {source} (is bot_source right?)", file=str(source))
        report.recommend(REC_SOURCE)

    report.data = {
        "files": a.files,
        "lines": a.lines,
        "writers": [
            {"file": w.file, "line": w.line, "function": w.function, "kind": w.kind, "api": w.api,
             "fsync_line": w.fsync_line, "dir_fsync_line": w.dir_fsync_line,
             "locked": w.lock is not None}
            for w in a.writers
        ],
        "loads": [{"file": x.file, "line": x.line, "function": x.function, "guarded": x.guarded} for x in a.loads],
        "locks": [{"file": x.file, "line": x.line, "api": x.api, "on_state": x.on_state} for x in a.locks],
        "store_writes": len(store_writes),
    }


def _render_writer(w: Writer, at, report: Report) -> None:
    where = at(w.file, w.line)
    if w.kind == "in-place":
        report.fail(f"{w.function} writes state in place with {w.api}: a crash mid-write leaves partial JSON",
                    file=w.file, line=w.line)
        report.recommend(REC_STORE)
        return
    steps = ["temp"] + (["fsync"] if w.fsync_line else []) + [w.api] + (["dir fsync"] if w.dir_fsync_line else [])
    report.ok(f"atomic write in {w.function} ({where}): {' + '.join(steps)}", file=w.file, line=w.line)
    if not w.fsync_line:
        report.warn(f"{w.function} renames the temp file over the state without an fsync first: "
                    "after a power loss the new state can be empty or partial", file=w.file, line=w.line)
    if not w.dir_fsync_line:
        report.warn(f"{w.function} does not fsync the directory after {w.api}: the rename itself can be "
                    "lost on power loss (lesser risk)", file=w.file, line=w.line)
    if not (w.fsync_line and w.dir_fsync_line):
        report.recommend(REC_STORE)


def _render_locking(a: Analysis, at, report: Report) -> None:
    if not a.has_locking:
        report.warn("No file locking: multiple processes could corrupt state")
        report.recommend(REC_LOCK)
        return
    said: set[tuple] = set()
    for w in a.writers:
        lock = w.lock
        if lock is None:
            report.warn(f"{w.function} writes the state without holding a file lock", file=w.file, line=w.line)
            report.recommend(REC_LOCK)
            continue
        key = (w.function, lock.file, lock.line)
        if key in said:
            continue
        said.add(key)
        lock_at = at(lock.file, lock.line)
        if lock.on_state and w.kind == "atomic":
            report.warn(f"the lock on the state file itself ({lock.api} at {lock_at}) is lost when {w.function} "
                        f"swaps in a new inode with {w.api}", file=lock.file, line=lock.line)
            report.recommend(REC_LOCK_FILE)
        else:
            report.ok(f"{w.function} writes under a file lock ({lock.api} at {lock_at})", file=lock.file, line=lock.line)
            if w.kind == "in-place":
                report.info(f"the lock at {lock_at} keeps writers apart but does not make the in-place "
                            f"write in {w.function} atomic", file=lock.file, line=lock.line)
