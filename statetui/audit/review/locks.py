"""Locks judged by what they cover: which writers of the state hold a lock, whether that
lock excludes other processes (a lock file: filelock, portalocker, fcntl.flock) or only
other threads or tasks of the same process (threading, asyncio), locks that protect no
writer, and the single-instance guards that keep a second copy of the bot from running,
with the programs (entry points) that reach a writer without taking them.

For the process-safety check:

    find_single_instance_guards(root: Path, state_path: Path | None = None) -> list[Guard]

`Guard` (statetui.audit.review.model) has: `file` (relative to `root`), `line`, `kind`
("pidlock", "flock", "O_EXCL pid file", "filelock", "pid file" for a plain pid file that
guards nothing, "systemd"), `function`, `detail`, `protects` (entry points that take it),
`bypassed_by` (entry points that reach a writer of the state without taking it; None when
no state path is given, since then it cannot be told), `message` (a reviewer's sentence:
what, where, why it matters, the fix). `Guard.to_dict()` gives JSON. Never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from statetui.audit.review.graph import Graph
from statetui.audit.review.model import Guard, LockInfo
from statetui.audit.review.ops import Facts, Take
from statetui.audit.review.shell import ShellFacts
from statetui.audit.review.values import Values
from statetui.audit.review.writers import Site


@dataclass
class Entry:
    label: str  # "main.py", "live-paper-bot (console script)"
    roots: set[int]
    reach: set[int]
    units: set[str]  # systemd units that start it
    launches: list[str] = field(default_factory=list)  # "file:line" of scripts/units/Dockerfiles that start it


def entry_points(v: Values, graph: Graph, sf: ShellFacts) -> dict[str, Entry]:
    """Programs: modules run as scripts (`if __name__ == "__main__":`, __main__.py), console
    scripts, and modules started by scripts, units, Dockerfiles and Procfiles. One entry
    per module, labelled by its path (and its console scripts' names)."""
    p = v.p
    by_mod: dict[int, Entry] = {}
    names: dict[int, list[str]] = {}

    def entry(mi: int) -> Entry:
        e = by_mod.get(mi)
        if e is None:
            m = p.mods[mi]
            e = by_mod[mi] = Entry(m.rel, {m.offset + i for i in range(len(m.s.funcs))}, set(), set())
        return e

    for m in p.mods:
        if m.s.main_line is not None or m.rel.endswith("__main__.py"):
            entry(m.index)
    scripts: dict[str, int] = {}
    for name, target in sf.console_scripts.items():
        mod = target.partition(":")[0]
        for m in p.modules_named(mod)[:1]:
            entry(m.index)
            names.setdefault(m.index, []).append(name)
            scripts[name] = m.index
    by_rel = {m.rel: m for m in p.mods}
    for la in sf.launches:
        mi = None
        if la.path:
            parts = [x for x in la.path.split("/") if x not in ("", ".")]
            base = la.file.rsplit("/", 1)[0] + "/" if "/" in la.file else ""
            m = by_rel.get(base + "/".join(parts))
            for i in range(len(parts)):  # /opt/bot/app/main.py -> app/main.py, main.py
                m = m or by_rel.get("/".join(parts[i:]))
            mi = m.index if m is not None else None
        elif la.module:
            mods = p.modules_named(la.module)
            mi = mods[0].index if mods else None
        elif la.command:
            mi = scripts.get(la.command)
        if mi is not None:
            e = entry(mi)
            e.launches.append(f"{la.file}:{la.line}")
            if la.unit:
                e.units.add(la.unit)
    out = {}
    for mi, e in by_mod.items():
        if mi in names:
            e.label = f"{e.label} (console script {', '.join(sorted(names[mi]))})"
        e.reach = graph.reach(e.roots)
        out[e.label] = e
    return out


def protection(v: Values, fx: Facts, graph: Graph, site: Site, memo: dict) -> Take | None:
    """The lock held around a write: taken around it in its function or in the helper that
    writes, returned held by a function called before it, or held around every call."""
    op = site.op
    for g, line, m, ctx in ((op.g, op.line, op.m, op.m.s.calls[op.k][5]),
                            (site.g, site.writer.line, site.m, site.ctx)):
        t = _held_at(v, fx, graph, g, line, m, ctx)
        if t is not None:
            return t
    return _by_callers(v, fx, graph, site.g, memo, frozenset())


def _held_at(v: Values, fx: Facts, graph: Graph, g: int, line: int, m, ctx: int) -> Take | None:
    for wid in m.s.ctxs[ctx][2]:
        t = fx.with_locks.get((m.index, wid))
        if t is not None:
            return t
    for t in fx.takes.get(g, ()):  # flock()/acquire() in the function (a with-lock counts where it encloses)
        if not t.api.startswith("with "):
            return t
    for k in graph.calls_of.get(g, ()):
        c = m.s.calls[k]
        if c[0] <= line:
            for _h, x, _e in v.callees(m, k, g):
                held = [t for t in fx.takes.get(x, ()) if t.held and x not in fx.unlocks]
                if held:
                    return held[0]
    return None


def _by_callers(v: Values, fx: Facts, graph: Graph, g: int, memo: dict, seen: frozenset) -> Take | None:
    if g in memo:
        return memo[g]
    if g in seen or len(seen) > 6:
        return None
    sites = graph.callers.get(g)
    first = None
    for m, k, g2, _ in sites or ():
        t = _held_at(v, fx, graph, g2, m.s.calls[k][0], m, m.s.calls[k][5]) or _by_callers(
            v, fx, graph, g2, memo, seen | {g})
        if t is None:
            first = None
            break
        first = first or t
    memo[g] = first
    return first


def lock_info(v: Values, t: Take) -> LockInfo:
    m, _ = v.p.funcs[t.g]
    return LockInfo(m.rel, t.line, v.p.display(t.g), t.api, t.scope)


def judge_guards(v: Values, fx: Facts, sf: ShellFacts, entries: dict[str, Entry],
                 writer_funcs: set[int], state_known: bool) -> list[Guard]:
    writing = sorted(e.label for e in entries.values() if e.reach & writer_funcs)
    out = []
    for g, line, kind, api in fx.guards:
        m, _ = v.p.funcs[g]
        protects = sorted(e.label for e in entries.values() if g in e.reach)
        out.append(_guard(m.rel, line, kind, v.p.display(g), api, protects, writing, state_known))
    for unit, line, template in sf.units:
        if template:
            continue
        protects = sorted(e.label for e in entries.values() if unit in e.units)
        out.append(_guard(unit, line, "systemd", None, f"systemd unit {unit.rsplit('/', 1)[-1]}", protects,
                          writing, state_known))
    return out


def _guard(rel: str, line: int | None, kind: str, function: str | None, api: str, protects: list[str],
           writing: list[str], state_known: bool) -> Guard:
    bypass = None
    if state_known:  # a guard of a program that never writes the state is bypassed by nobody in particular
        bypass = sorted(set(writing) - set(protects)) if set(writing) & set(protects) else []
    where = f"{rel}:{line}" if line else rel
    if kind == "pid file":
        msg = (f"{where}: a pid file written with open(..., 'w') ({function}) is not a guard: two copies "
               "started together both write it, and a stale one after a crash is trusted or ignored. Use "
               "statetui.pidlock.PidLock (flock held for the process's life) instead")
    elif kind == "systemd":
        msg = (f"{where}: systemd runs one instance of this unit"
               + (f" ({', '.join(protects)})" if protects else "")
               + "; a copy started by hand or by another unit is not stopped by it")
    else:
        msg = (f"{where}: single-instance guard ({kind}, {api}) in {function}"
               + (f", taken by {', '.join(protects)}" if protects else ""))
    if bypass:
        msg += (f". {', '.join(bypass)} write{'s' if len(bypass) == 1 else ''} the state without taking it: "
                "hold the same lock there too, or route those writes through the bot")
    return Guard(rel, line, kind, function, api, protects, bypass, msg)


def find_single_instance_guards(root: Path, state_path: Path | None = None) -> list[Guard]:
    """The bot's single-instance guards (see the module docstring). Never raises: a bot
    that cannot be read gives []."""
    from statetui.audit.review import review

    try:
        r = review(Path(root), Path(state_path) if state_path is not None else None)
    except Exception:  # the process-safety check must get an answer, not a traceback
        return []
    return list(r.guards)
