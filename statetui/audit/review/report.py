"""The review as a reviewer writes it: for each finding, what, where (file:line relative
to the bot's source root), why it matters, and the fix (in the recommendations)."""

from __future__ import annotations

from dataclasses import asdict

from statetui.audit.review.model import Hazard, Loader, Review, Writer

REC_STORE = ("Write the state through statetui.store.StateStore (temp file in the same folder + fsync + "
             "os.replace + folder fsync, locked, journaled), or do all four steps by hand")
REC_FSYNC = "Before the rename: f.flush(); os.fsync(f.fileno()). After it: fsync the folder (os.open(folder, os.O_RDONLY))"
REC_TEMP = ("Give the temp file a unique name in the state's folder (tempfile.mkstemp(dir=folder) or "
            "f\"{path}.{os.getpid()}.tmp\"), or hold a lock file around the save")
REC_LOCK = ("Hold an exclusive lock on a separate .lock file (filelock.FileLock or fcntl.flock) around every "
            "read-modify-write of the state, in every program that writes it")
REC_LOCK_FILE = ("Lock a separate .lock file, not the state file: os.replace gives the state a new inode, so a "
                 "lock on the old one protects nothing")
REC_RESET = ("On a corrupt state file never fall back to defaults: refuse to start with a clear error, or load "
             "the newest valid backup (statetui recover), and keep the corrupt file for inspection")
REC_RECOVER = ("Keep checksummed backups of the state (statetui backup) so a corrupt file can be replaced by the "
               "newest valid copy (statetui recover) instead of waiting for someone to edit JSON by hand")
REC_ONE_SAVE = "Make every change of one update in memory, then save once (one atomic write, or a store transaction)"
REC_UNLINK = "Never delete the state before writing it: write the new content to a temp file and os.replace it"
REC_CI = ("Add `concurrency: {group: bot-state, cancel-in-progress: false}` to the workflow, or keep the state "
          "out of git (an artifact, a bucket)")
REC_SOURCE = "Point --bot-source (or STATETUI_BOT_SOURCE) at the bot's source file or folder"


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


def render(r: Review, report, source_label: str) -> None:
    for p in r.problems:
        report.warn(f"{_where(p.file, p.line)}: {p.message}", file=p.file, line=p.line)
    store_writes = [s for s in r.store_uses if s.writes]
    if store_writes:
        s = store_writes[0]
        report.ok(f"writes go through statetui.store: atomic, durable, locked, journaled ({_where(s.file, s.line)})",
                  file=s.file, line=s.line)
    elif r.store_uses:
        s = r.store_uses[0]
        report.info(f"StateStore created at {_where(s.file, s.line)}, but no save/transaction call found",
                    file=s.file, line=s.line)
    several = len(r.writer_programs) > 1
    started = ", ".join(r.writer_launches)
    for w in r.writers:
        _writer(w, r, several, started, report)
    for h in r.hazards:
        _hazard(h, report)
    for ld in r.loaders:
        _loader(ld, r.state_name, report)
    _locks(r, several, report)
    if r.other_writers:
        shown = ", ".join(f"{_where(o.file, o.line)} ({o.target}, {o.api})" for o in r.other_writers[:4])
        more = len(r.other_writers) - 4
        report.info(f"{len(r.other_writers)} writer(s) of other JSON files, not the state: {shown}"
                    + (f" (+{more} more)" if more > 0 else ""))
    if not r.writers and not store_writes:
        report.warn(f"no state writer found in {source_label} for {r.state_name or 'the state file'} "
                    "(is bot_source right? is the state path the one the bot writes?)", file=source_label)
        report.recommend(REC_SOURCE)
    report.data = {
        "files": r.files, "lines": r.lines, "tests_skipped": r.tests_skipped, "state_name": r.state_name,
        "writers": [dict(asdict(w), locked=w.lock is not None,
                         lock_scope=w.lock.scope if w.lock is not None else None) for w in r.writers],
        "other_writers": [asdict(o) for o in r.other_writers],
        "loaders": [asdict(x) for x in r.loaders],
        "hazards": [asdict(h) for h in r.hazards],
        "locks": [asdict(x) for x in r.locks],
        "guards": [g.to_dict() for g in r.guards],
        "entry_points": r.entry_points, "writer_programs": r.writer_programs,
        "store_writes": len(store_writes),
    }


def _writer(w: Writer, r: Review, several: bool, started: str, report) -> None:
    where = w.where
    via = f" (through {w.via})" if w.via else ""
    guess = "" if w.resolved else " (the path is not resolved; it is named like the state file)"
    who = w.function
    if w.kind == "in-place":
        report.fail(f"{who} ({where}) writes the state file {r.state_name} in place with {w.api}{via}{guess}: a "
                    "crash, a kill or "
                    "a full disk mid-write leaves it truncated, and the next start reads broken JSON",
                    file=w.file, line=w.line)
        report.recommend(REC_STORE)
        return
    if w.kind == "ci-commit":
        report.info(f"{who} ({where}) commits the state file to git", file=w.file, line=w.line)
        return
    steps = ["temp"] + (["fsync"] if w.fsync_line else []) + [w.api] + (["folder fsync"] if w.dir_fsync_line else [])
    report.ok(f"{who} ({where}) writes the state file {r.state_name} atomically{via}: {' + '.join(steps)}{guess}",
              file=w.file, line=w.line)
    if w.source == "python" and not w.fsync_line:
        report.warn(f"{who} ({where}) renames the temp file over the state without an fsync first: after a power "
                    "loss the new state can be empty or partial", file=w.file, line=w.line)
        report.recommend(REC_FSYNC)
    if w.source == "python" and not w.dir_fsync_line:
        report.warn(f"{who} ({where}) does not fsync the folder after {w.api}: the rename itself can be lost on "
                    "power loss (lesser risk)", file=w.file, line=w.line)
        report.recommend(REC_FSYNC)
    if w.source != "python":
        report.warn(f"{who} ({where}) replaces the state with `{w.api}` without fsync: after a power loss the file "
                    "can be empty", file=w.file, line=w.line)
        report.recommend(REC_STORE)
    if w.temp_fixed:
        unguarded = w.lock is None or not w.lock.cross_process
        text = (f"{who} ({where}) always uses the same temp name ({w.temp}): two processes saving at once "
                "write into one temp file and one of them renames the other's half-written data over the state")
        if unguarded and len(w.entry_points) > 1:
            report.fail(text, file=w.file, line=w.line)
            report.recommend(REC_TEMP)
        elif unguarded:
            if several:
                text += f"; {', '.join(r.writer_programs)} write the state: if they save together"
            elif len(r.writer_launches) > 1:
                text += f"; the bot is started from {len(r.writer_launches)} places ({started}): if they run together"
            else:
                text += " (if a second copy of the bot ever runs)"
            report.warn(text, file=w.file, line=w.line)
            report.recommend(REC_TEMP)


def _hazard(h: Hazard, report) -> None:
    where = _where(h.file, h.line)
    if h.kind == "unlink-then-write":
        report.fail(f"{h.function} ({where}) {h.detail}: a crash in between leaves no state file at all, and the "
                    "bot starts from nothing", file=h.file, line=h.line)
        report.recommend(REC_UNLINK)
    elif h.kind == "split-save":
        report.warn(f"{h.function} ({where}) {h.detail}: a crash between them keeps half of the update on disk",
                    file=h.file, line=h.line)
        report.recommend(REC_ONE_SAVE)
    elif h.kind == "ci-commit":
        report.add(h.severity, f"{h.function} ({where}) {h.detail}", file=h.file, line=h.line)
        if h.severity != "INFO":
            report.recommend(REC_CI)
    else:
        report.add(h.severity, f"{h.function} ({where}): {h.detail}", file=h.file, line=h.line)
        report.recommend(REC_STORE)


def _loader(x: Loader, name: str, report) -> None:
    where = f"{x.file}:{x.line}"
    at = f" (handled in {x.handler})" if x.handler and not x.handler.endswith(f"({x.function})") else ""
    calls = f" (reading the state for {', '.join(x.called_at)})" if x.called_at else ""
    if x.on_corrupt == "reset":
        how = ("logs it and " if x.logged else "silently ") + x.what
        if x.read_only:
            report.warn(f"{x.function} ({where}){calls} shows defaults when the state file {name} is corrupt: it {how}{at}; "
                        "a reader that reports an empty book hides the incident", file=x.file, line=x.line)
            report.recommend(REC_RESET)
            return
        msg = (f"corrupt state → fresh defaults: {x.function} ({where}){calls}, when {name} is not valid JSON, "
               f"{how}{at}: a latched kill switch, open positions or the peak are forgotten and the bot trades on")
        if x.written_back:
            msg += f". Worse: {x.written_back} writes the defaults straight back over the corrupt file"
        report.fail(msg, file=x.file, line=x.line)
        report.recommend(REC_RESET)
    elif x.on_corrupt == "crash":
        report.warn(f"{x.function} ({where}){calls} stops on a corrupt state file {name} ({x.what}){at}: safe, but the "
                    "bot stays down until someone repairs the file", file=x.file, line=x.line)
        report.recommend(REC_RECOVER)
    elif x.on_corrupt == "backup":
        report.ok(f"{x.function} ({where}) falls back to a backup when the state file is corrupt ({x.what}){at}",
                  file=x.file, line=x.line)
    elif x.on_corrupt == "keep previous":
        report.ok(f"{x.function} ({where}) keeps the values already in memory when the state file is corrupt "
                  f"({x.what}){at}", file=x.file, line=x.line)
    else:
        report.info(f"{x.function} ({where}) {x.what} when the state file is corrupt{at}", file=x.file, line=x.line)


def _locks(r: Review, several: bool, report) -> None:
    py = [w for w in r.writers if w.source == "python"]
    if not py:
        return
    cross = [w for w in py if w.lock is not None and w.lock.cross_process]
    guards = [g for g in r.guards if g.kind != "pid file"]
    if not cross:
        first = py[0]
        who = f"{first.function} ({first.where})" + (f" and {len(py) - 1} other writer(s)" if len(py) > 1 else "")
        if several:
            report.warn(f"No lock across processes: {', '.join(r.writer_programs)} all write the state file "
                        f"{r.state_name} ({who}) and none holds a lock file: saves at the same moment lose updates",
                        file=first.file, line=first.line)
            report.recommend(REC_LOCK)
        elif not guards:
            report.warn(f"No file locking: {who} write{'s' if len(py) == 1 else ''} the state file {r.state_name} "
                        "without a lock, and nothing stops a second copy of the bot from writing it at the same "
                        "time (multiple processes could corrupt state)", file=first.file, line=first.line)
            report.recommend(REC_LOCK)
    by_lock: dict[tuple, list[str]] = {}
    for w in py:
        if w.lock is not None:
            by_lock.setdefault((w.lock.file, w.lock.line, w.lock.api, w.lock.scope), []).append(w.function)
    for (lf, ll, api, scope), names in by_lock.items():
        if len(py) > 1:
            report.info(f"{api} ({lf}:{ll}, {scope} lock) covers {len(set(names))} of {len({w.function for w in py})} "
                        f"writers of the state: {', '.join(sorted(set(names)))}", file=lf, line=ll)
    said = set()
    for w in py:
        lock = w.lock
        if lock is None:
            if cross:
                report.warn(f"{w.function} ({w.where}) writes the state without the lock that "
                            f"{cross[0].function} holds ({lock_where(cross[0])})", file=w.file, line=w.line)
                report.recommend(REC_LOCK)
            continue
        key = (w.function, lock.file, lock.line)
        if key in said:
            continue
        said.add(key)
        lw = f"{lock.file}:{lock.line}"
        if lock.scope == "state-file" and w.kind.startswith("atomic"):
            report.warn(f"the lock on the state file itself ({lock.api} at {lw}) is lost when {w.function} swaps "
                        "in a new inode with its rename", file=lock.file, line=lock.line)
            report.recommend(REC_LOCK_FILE)
        elif lock.cross_process:
            report.ok(f"{w.function} writes the state under a file lock ({lock.api} at {lw})", file=lock.file,
                      line=lock.line)
            if w.kind == "in-place":
                report.info(f"the lock at {lw} keeps writers apart but does not make the in-place write in "
                            f"{w.function} atomic", file=lock.file, line=lock.line)
        else:
            report.info(f"{w.function} writes under {lock.api} ({lw}), a {lock.scope} lock: it keeps "
                        f"{'threads' if lock.scope == 'thread' else 'tasks'} of one process apart, not other "
                        "processes", file=lock.file, line=lock.line)
    for x in r.unused_locks:
        writer = py[0].function
        report.info(f"{x.api} ({x.file}:{x.line}, {x.scope} lock) protects no write of the state: {writer} "
                    "writes without it", file=x.file, line=x.line)
    for g in r.guards:
        sev = "WARNING" if g.bypassed_by or g.kind == "pid file" else "OK"
        report.add(sev, g.message, file=g.file, line=g.line)


def lock_where(w: Writer) -> str:
    return f"{w.lock.file}:{w.lock.line}" if w.lock is not None else w.where
