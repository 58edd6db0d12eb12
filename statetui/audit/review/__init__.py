"""The persistence review: how a bot's own code writes, loads and locks its state file.

    review(source, state_path, include_tests=False) -> Review   (model.py)

One module per concern, in the order they run:

- sources.py   which files; parallel parsing; the cache (path, size, mtime)
- summary.py   what is kept of a file (small tuples, no AST)
- extract.py   one file's statements -> a summary; exprs.py: its expressions -> IR
- shell.py     scripts, CI workflows, units: Python they run, launches, state writes
- program.py   summaries linked: imports, classes, syntactic callees
- values.py    path values: where the state path flows (the worklist);
  pathops.py: how paths are built, what library calls return
- ops.py       what each call does to the state file
- graph.py     call graph and what each program reaches
- writers.py   writers and their kinds, unlink-then-write, split saves
- loaders.py   what a loader does with a corrupt file
- locks.py     lock coverage, single-instance guards (`find_single_instance_guards`)
- report.py    findings worded for a reviewer

Never imports Textual or pydantic; never raises for bad input (unreadable or broken files
become problems)."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

from statetui.audit.review import sources
from statetui.audit.review.model import Problem, Review

_reviews: dict[tuple, Review] = {}
_reviews_lock = threading.Lock()


def clear_cache() -> None:
    """Forget parsed files and finished reviews (benchmarks measure a cold review)."""
    sources.clear_cache()
    with _reviews_lock:
        _reviews.clear()


def _modname(rel: str) -> str:
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.rsplit(".", 1)[0].split("/")
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(p for p in parts if p) or "__init__"


def _stamp(paths: list[str]) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((p, -1, -1))
    return tuple(out)


def review(source: Path, state_path: Path | None, include_tests: bool = False) -> Review:
    """Review the bot source at `source` (a folder or one file) for the state file at
    `state_path` (None: no state known; writers and loaders cannot be told)."""
    src = os.path.abspath(source)
    root = src if os.path.isdir(src) else os.path.dirname(src)
    col = sources.collect(src, include_tests)
    key = (src, str(state_path), include_tests, _stamp(col.py + [p for p, _ in col.text]))
    with _reviews_lock:
        hit = _reviews.get(key)
    if hit is not None:
        return hit
    enabled = gc.isenabled()
    gc.disable()  # summaries and value sets are acyclic: collecting while they grow only costs time
    try:
        out = _review(src, root, state_path, col)
    finally:
        if enabled:
            gc.enable()
    with _reviews_lock:
        if len(_reviews) >= 8:
            _reviews.pop(next(iter(_reviews)))
        _reviews[key] = out
    return out


def _review(src: str, root: str, state_path: Path | None, col: sources.Collected) -> Review:
    from statetui.audit.review import apis, graph, loaders, locks, ops, shell, values, writers
    from statetui.audit.review.extract import extract
    from statetui.audit.review.program import Program

    def rel(p: str) -> str:
        r = os.path.relpath(p, root)
        return r.replace(os.sep, "/") if not r.startswith("..") else p

    st = apis.StateName(str(state_path) if state_path is not None else "\0")
    r = Review(rel(src) if os.path.isdir(src) else rel(src), st.name if state_path is not None else "",
               tests_skipped=col.tests_skipped, problems=list(col.problems))
    modules = []
    for p, (s, problem) in sources.summaries(col.py).items():
        if s is None or problem:
            line = s.problem[0] if s is not None and s.problem else None
            r.problems.append(Problem(rel(p), line, problem or "cannot read"))
            if s is not None:
                r.files += 1
                r.lines += s.lines
            continue
        r.files += 1
        r.lines += s.lines
        modules.append((rel(p), _modname(rel(p)), s))
    texts = []
    for p, kind in col.text:
        try:
            with open(p, "rb") as f:
                texts.append(shell.TextFile(rel(p), kind, f.read(sources.MAX_FILE_BYTES).decode("utf-8", "replace")))
        except OSError as exc:
            r.problems.append(Problem(rel(p), None, f"cannot read: {exc.strerror or exc}"))
    for i, (script, code) in enumerate(shell.snippets(texts)):
        s = extract(script, code.encode())
        if s.problem is None:
            modules.append((script, f"{_modname(script)}__py{i}", s))
    modules.sort(key=lambda x: x[0])
    prog = Program(modules)
    v = values.Values(prog, st)
    v.solve()
    fx = ops.scan(v)
    g = graph.Graph(v)
    sites, hazards, other = writers.find_writers(v, fx, g)
    r.loaders = loaders.find_loaders(v, fx, g, sites)
    sf = shell.launches(texts)
    entries = locks.entry_points(v, g, sf)
    memo: dict = {}
    used: set[str | None] = set()
    writer_funcs = {s.g for s in sites} | {s.op.g for s in sites}
    for s in sites:
        t = locks.protection(v, fx, g, s, memo)
        if t is not None:
            s.writer.lock = locks.lock_info(v, t)
            used.add(t.name)
        s.writer.entry_points = sorted(e.label for e in entries.values() if s.g in e.reach or s.op.g in e.reach)
    r.writers = [s.writer for s in sites]
    sw, sh = shell.state_writes(texts, st.name, v.env_vars, st.name in col.names) if state_path else ([], [])
    r.writers += sw
    r.hazards = hazards + sh
    r.other_writers = other
    r.locks = sorted({(x.file, x.line): x for x in (locks.lock_info(v, t) for ts in fx.takes.values()
                                                    for t in ts)}.values(), key=lambda x: (x.file, x.line))
    # locks that protect no writer, kept when they sit beside the state's code (same class or module)
    near_state = {(prog.funcs[x][0].index, prog.owner_class(x)) for x in writer_funcs}
    near_state |= {(prog.funcs[op.g][0].index, prog.owner_class(op.g)) for op in fx.loads}
    unused = [t for t in fx.lock_objects if t.name not in used and (
        (prog.funcs[t.g][0].index, prog.owner_class(t.g)) in near_state
        or (prog.funcs[t.g][1].is_module and any(mi == prog.funcs[t.g][0].index for mi, _c in near_state)))]
    r.unused_locks = sorted({(x.file, x.line): x for x in (locks.lock_info(v, t) for t in unused)}.values(),
                            key=lambda x: (x.file, x.line))
    r.guards = locks.judge_guards(v, fx, sf, entries, writer_funcs, state_path is not None)
    from statetui.audit.review.model import StoreUse

    r.store_uses = [StoreUse(prog.funcs[gx][0].rel, line, prog.display(gx), api, w) for gx, line, api, w in fx.store_uses]
    r.entry_points = sorted(entries)
    r.writer_programs = sorted(e.label for e in entries.values() if e.reach & writer_funcs)
    r.writer_launches = sorted({x for e in entries.values() if e.reach & writer_funcs for x in e.launches})
    r.state_env_vars = sorted(v.env_vars)
    return r
