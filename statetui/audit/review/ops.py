"""What each call does to the state file, once the path values are known: the facts the
writers, loaders and locks stages judge. One pass over every call of every module."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from statetui.audit.review import apis as A
from statetui.audit.review.program import Module
from statetui.audit.review.values import Values, others, state_of


@dataclass
class Take:
    """A lock taken: by `with`, acquire() or flock()."""

    g: int
    line: int
    api: str
    scope: str  # "file" | "state-file" | "thread" | "async" | "multiprocessing"
    held: bool = False  # taken outside a with-block: may still be held when the function returns
    nonblocking: bool = False
    name: str | None = None  # the variable or attribute that holds the lock (`_lock` of self._lock)


def _pidish(text: str) -> bool:
    """A pid file's name: PID_FILE, self.pidfile, "bot.pid" (not "rapid_trades.json")."""
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower()) if w]
    return any(w in ("pid", "pidfile", "pidpath") for w in words)


def _tail(e: tuple | None) -> str | None:
    if e is None:
        return None
    if e[0] == "a":
        return e[2]
    if e[0] == "n":
        return e[1]
    return None


@dataclass
class Op:
    g: int
    line: int
    api: str
    m: Module
    k: int  # the call's index in m
    target: frozenset = frozenset()  # the path written / read / renamed onto
    source: frozenset = frozenset()  # a rename's source


@dataclass
class Facts:
    inplace: dict[int, list[Op]] = field(default_factory=dict)
    renames: dict[int, list[Op]] = field(default_factory=dict)
    temps: dict[int, list[int]] = field(default_factory=dict)  # lines that write a temp file
    fsyncs: dict[int, list[int]] = field(default_factory=dict)
    dirsyncs: dict[int, list[int]] = field(default_factory=dict)
    unlinks: dict[int, list[Op]] = field(default_factory=dict)
    handle_writes: dict[int, list[int]] = field(default_factory=dict)  # json.dump / f.write into the open state
    exists: dict[int, list[int]] = field(default_factory=dict)  # lines that test the state exists
    other_writes: list[Op] = field(default_factory=list)  # writes of other JSON files
    loads: list[Op] = field(default_factory=list)
    takes: dict[int, list[Take]] = field(default_factory=dict)
    unlocks: set[int] = field(default_factory=set)
    lock_objects: list[Take] = field(default_factory=list)  # lock objects created
    with_locks: dict[tuple[int, int], Take] = field(default_factory=dict)  # (module, with id) -> lock
    store_uses: list[tuple[int, int, str, bool]] = field(default_factory=list)  # (g, line, api, writes)
    guards: list[tuple[int, int, str, str]] = field(default_factory=list)  # (g, line, kind, api)


def _scope(k: frozenset) -> str | None:
    for atom, scope in ((A.LOCK_FILE, "file"), (A.LOCK_STATE, "state-file"), (A.LOCK_MP, "multiprocessing"),
                        (A.LOCK_THREAD, "thread"), (A.LOCK_ASYNC, "async")):
        if atom in k:
            return scope
    return None


def render(e: tuple | None, m: Module, limit: int = 48) -> str:
    """IR back to short source text, for messages."""
    s = _render(e, m, 0) if e is not None else "?"
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _render(e: tuple, m: Module, depth: int) -> str:
    if depth > 6:
        return "…"
    t = e[0]
    if t == "k":
        return repr(e[1])
    if t == "n":
        return e[1]
    if t == "a":
        return f"{_render(e[1], m, depth + 1)}.{e[2]}"
    if t == "c":
        c = m.s.calls[e[1]]
        args = ", ".join(_render(a, m, depth + 1) for a in c[3][:3])
        return f"{_render(c[2], m, depth + 1)}({args}{', …' if len(c[3]) > 3 or c[4] else ''})"
    if t == "b":
        return f"{_render(e[2], m, depth + 1)} {e[1]} {_render(e[3], m, depth + 1)}"
    if t == "f":
        return 'f"' + "".join(p[1] if p[0] == "k" and type(p[1]) is str else "{" + _render(p, m, depth + 1) + "}"
                              for p in e[1]) + '"'
    if t == "s":
        return f"{_render(e[1], m, depth + 1)}[{_render(e[2], m, depth + 1)}]"
    if t == "d":
        return "{}" if not e[1] else "{" + ", ".join(f"{k!r}: {_render(x, m, depth + 1)}" for k, x in e[1][:2]) + (
            ", …}" if len(e[1]) > 2 else "}")
    if t == "t":
        return "[" + ", ".join(_render(x, m, depth + 1) for x in e[1][:3]) + (", …]" if len(e[1]) > 3 else "]")
    return "…"


def scan(v: Values) -> Facts:
    fx = Facts()
    for m in v.p.mods:
        for k, call in enumerate(m.s.calls):
            _classify(v, fx, m, k, call)
    pending = []
    for m in v.p.mods:
        for fl, e, line, wid, _ctx in m.s.withs:
            g = m.offset + fl
            scope = _scope(v.kinds(e, m, g))
            if scope is not None:
                t = Take(g, line, f"with {render(e, m)}", scope, name=_tail(e))
                fx.takes.setdefault(g, []).append(t)
                fx.with_locks[(m.index, wid)] = t
            elif e[0] == "c":
                pending.append((m, g, e, wid))
    for m, g, e, wid in pending:  # `with my_lock():` where my_lock takes a lock (a context manager)
        for _how, x, _ in v.callees(m, e[1], g):
            inner = fx.takes.get(x)
            if inner:
                fx.takes.setdefault(g, []).append(inner[0])
                fx.with_locks[(m.index, wid)] = inner[0]
                break
    return fx


_NAMES = (A.OPEN | A.ATOMIC_LIBS | A.OS_OPEN | A.TEMPFILE | A.MKSTEMP | A.COPY | A.RENAME | A.UNLINK | A.FSYNC | A.FLOCK | A.PIDLOCKS
          | A.FILE_LOCKS | A.THREAD_LOCKS | A.ASYNC_LOCKS | A.MP_LOCKS | A.JSON_LOAD | A.JSON_LOADS | A.STORE_CTORS
          | {"os.path.exists", "os.path.isfile", "os.access", "json.dump", "ujson.dump", "simplejson.dump"})
_METHODS = ({"open", "write_text", "write_bytes", "replace", "rename", "unlink", "exists", "is_file", "write",
             "writelines", "truncate", "acquire", "release", "to_json"} | A.MODEL_LOADS | A.STORE_WRITES)


def _classify(v: Values, fx: Facts, m: Module, k: int, call: tuple) -> None:
    fe = call[2]
    meth = fe[2] if fe[0] == "a" else None
    if meth not in _METHODS:
        name = v.qn(m, k)
        if name not in _NAMES:
            return  # most calls: nothing to do with files or locks
    else:
        name = v.qn(m, k)
    line, fl, args, kws = call[0], call[1], call[3], call[4]
    g = m.offset + fl

    def arg(i: int, kw: str | None = None) -> tuple | None:
        if len(args) > i and all(a[0] != "*" for a in args[: i + 1]):
            return args[i]
        if kw is not None:
            for n, x in kws:
                if n == kw:
                    return x
        return None

    def kinds(e: tuple | None) -> frozenset:
        return v.kinds(e, m, g) if e is not None else frozenset()

    def write(path: frozenset, api: str) -> None:
        if state_of(path):
            fx.inplace.setdefault(g, []).append(Op(g, line, api, m, k, path))
        if path & A.DERIVED:
            fx.temps.setdefault(g, []).append(line)
        elif any(o.endswith(".json") for o in others(path)):
            fx.other_writes.append(Op(g, line, api, m, k, path))

    if name in A.OPEN or (meth == "open" and name not in A.OS_OPEN):
        path = kinds(arg(0, "file")) if name in A.OPEN else kinds(fe[1])
        mode_e = arg(1, "mode") if name in A.OPEN else arg(0, "mode")
        mode = (mode_e[1] if mode_e[0] == "k" else None) if mode_e is not None else "r"
        if type(mode) is str and any(ch in mode for ch in "wax+"):
            write(path, f'{"open" if name in A.OPEN else "Path.open"}(..., "{mode}")')
            target = arg(0, "file") if name in A.OPEN else fe[1]
            if "w" in mode and not state_of(path) and target is not None and _pidish(render(target, m)):
                fx.guards.append((g, line, "pid file", f'open({render(target, m)}, "w")'))
        elif mode is None and path & A.DERIVED:
            fx.temps.setdefault(g, []).append(line)
        return
    if name in A.ATOMIC_LIBS:
        path = kinds(arg(0, "path"))
        if state_of(path):
            fx.renames.setdefault(g, []).append(Op(g, line, name, m, k, path, frozenset({A.U})))
        return
    if meth == "to_json" and args:
        write(kinds(arg(0, "path_or_buf")), "DataFrame.to_json")
        return
    if meth in ("write_text", "write_bytes") and name not in A.STORE_CTORS:
        base = kinds(fe[1])
        if A.STORE in base:
            fx.store_uses.append((g, line, f"StateStore.{meth}", True))
        else:
            write(base, f"Path.{meth}")
        return
    if name in A.OS_OPEN:
        flags = A.flag_names(arg(1, "flags"))
        path = kinds(arg(0, "path"))
        if {"O_CREAT", "O_EXCL"} <= flags and not state_of(path):
            fx.guards.append((g, line, "O_EXCL pid file", "os.open(..., O_CREAT | O_EXCL)"))
        if flags & A.WRITE_FLAGS:
            write(path, "os.open(..., O_WRONLY)")
        return
    if name in A.TEMPFILE or name in A.MKSTEMP:
        fx.temps.setdefault(g, []).append(line)
        return
    if name in A.COPY:
        write(kinds(arg(1, "dst")), name)
        return
    if name in A.RENAME or (meth in ("replace", "rename") and len(args) == 1 and not kws):
        if name in A.RENAME:
            src, dst, api = kinds(arg(0, "src")), kinds(arg(1, "dst")), name
        else:
            src, dst, api = kinds(fe[1]), kinds(args[0]), f"Path.{meth}"
        if state_of(dst):
            fx.renames.setdefault(g, []).append(Op(g, line, api, m, k, dst, src))
        elif any(o.endswith(".json") for o in others(dst)):
            fx.other_writes.append(Op(g, line, api, m, k, dst, src))
        return
    if name in A.UNLINK or meth == "unlink":
        path = kinds(arg(0, "path")) if name in A.UNLINK else kinds(fe[1])
        if state_of(path):
            fx.unlinks.setdefault(g, []).append(Op(g, line, name or "Path.unlink", m, k, path))
        return
    if name in ("os.path.exists", "os.path.isfile", "os.access") or meth in ("exists", "is_file"):
        path = kinds(arg(0)) if name else kinds(fe[1])
        if state_of(path):
            fx.exists.setdefault(g, []).append(line)
        return
    if name in A.FSYNC:
        fk = kinds(arg(0, "fd"))
        if A.FDD in fk:
            fx.dirsyncs.setdefault(g, []).append(line)
        elif not (fk & {A.FDS, A.HWS, A.HRS}) or fk & {A.FDT, A.HWT}:
            fx.fsyncs.setdefault(g, []).append(line)  # the temp file, or a descriptor we cannot trace
        return
    if name in A.FLOCK:
        op = A.flag_names(arg(1))
        if op and op <= {"LOCK_UN", "LK_UNLCK"}:
            fx.unlocks.add(g)
            return
        target = kinds(arg(0))
        on_state = bool(target & {A.FDS, A.HWS, A.HRS})
        t = Take(g, line, name, "state-file" if on_state else "file", held=not m.s.ctxs[call[5]][2],
                 nonblocking="LOCK_NB" in op)
        fx.takes.setdefault(g, []).append(t)
        if t.nonblocking and not on_state:
            fx.guards.append((g, line, "flock", f"{name}(..., LOCK_EX | LOCK_NB)"))
        return
    if name in A.PIDLOCKS:
        fx.guards.append((g, line, "pidlock", name))
        return
    if name in A.FILE_LOCKS or v._lock_kind(name):
        scope = _scope(v.kinds(("c", k), m, g)) or "file"
        holder = next((a[0] for a in m.s.assigns if a[1] == ("c", k)), None)
        if holder is not None:
            fx.lock_objects.append(Take(g, line, name, scope, name=holder[-1] if holder[0] != "A" else holder[1]))
        return
    if name in ("json.dump", "ujson.dump", "simplejson.dump") or meth in ("write", "writelines", "truncate"):
        target = kinds(arg(1, "fp")) if name else kinds(fe[1])
        if A.HWS in target:
            fx.handle_writes.setdefault(g, []).append(line)
        return
    if name in A.JSON_LOAD:
        if kinds(arg(0, "fp")) & {A.HRS, A.HWS}:
            fx.loads.append(Op(g, line, name, m, k))
        return
    if name in A.JSON_LOADS or (meth in A.MODEL_LOADS and name not in A.JSON_LOAD):
        src = kinds(arg(0))
        if A.TXT in src or (meth == "parse_file" and state_of(src)):
            fx.loads.append(Op(g, line, name or meth, m, k))
        return
    if name in A.STORE_CTORS:
        fx.store_uses.append((g, line, "StateStore", False))
        return
    if meth is not None:
        base = kinds(fe[1])
        if meth == "acquire" and base & A.LOCKS:
            scope = _scope(base) or "file"
            nb = any(n in ("blocking", "timeout") for n, _ in kws) or bool(args)
            t = Take(g, line, f"{render(fe[1], m)}.acquire", scope, held=not m.s.ctxs[call[5]][2], nonblocking=nb,
                     name=_tail(fe[1]))
            fx.takes.setdefault(g, []).append(t)
            if scope == "file" and nb and v.p.funcs[g][1].name in ("main", "<module>", "run", "start"):
                fx.guards.append((g, line, "filelock", t.api))
        elif meth == "release" and base & A.LOCKS:
            fx.unlocks.add(g)
        elif meth in A.STORE_WRITES and A.STORE in base:
            fx.store_uses.append((g, line, f"StateStore.{meth}", True))
