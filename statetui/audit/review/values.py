"""Path values: what each name, attribute, parameter and return value may hold, as small
sets of atoms (apis.py): the state path, a temp path derived from it, its folder, a file
object on it, another file, an instance of a class of the sources, a lock...

The value of the state path is followed through string constants and module constants
(across imports), `os.path.join` / `Path /` joins, f-strings, `%` and `.format`,
`os.getenv("X", default)`, settings objects (class attributes, dataclass and pydantic
fields set by keyword when the object is built), attributes set in `__init__` and read in
methods, function parameters (arguments at every call found, and defaults), and return
values. Instances are tracked too, so `self.store.save()` reaches `Store.save`.

Resolution is flow-insensitive (a name ever assigned the state path holds it everywhere in
its scope) and runs as a worklist: an assignment, return or call is evaluated again only
when something it read has grown. Atoms ("p", function, param) mark a value that came in
through that function's parameter; they live only in that function, so writers.py can
tell a generic helper (`write_json(path, data)`) from the code that chose the path."""

from __future__ import annotations

from collections import deque

from statetui.audit.review import apis as A
from statetui.audit.review.apis import D, E, H, MK, S, SN, T, U
from statetui.audit.review.pathops import API_METHODS, API_NAMES, PathOps, _pp, has_call, state_of  # noqa: F401
from statetui.audit.review.program import Module, Program

_OTHER_CAP = 6  # distinct other files kept per value


def params_in(k: frozenset, g: int) -> set[str]:
    return {a[2] for a in k if type(a) is tuple and a[0] == "p" and a[1] == g}


def others(k: frozenset) -> list[str]:
    return sorted(a[1] for a in k if type(a) is tuple and a[0] == "o")


class Values(PathOps):
    def __init__(self, prog: Program, state: A.StateName) -> None:
        self.p = prog
        self.st = state
        self.env: dict[tuple, frozenset] = {}
        self.deps: dict[tuple, set[int]] = {}
        self._reads: list | None = None
        self._scope: dict[tuple[int, str], tuple] = {}
        self._static: dict[tuple[int, int], list] = {}
        self._qn: dict[tuple[int, int], str] = {}
        self._done: dict[tuple[int, int], list] = {}
        self._reach: dict[tuple[int, int], bool] = {}
        self.solved = False
        self.env_vars: set[str] = set()  # environment variables that hold the state path
        self._queue: deque[int] = deque()
        self._queued: bytearray = bytearray()

    # --- environment ---------------------------------------------------------------------------
    def get(self, key: tuple) -> frozenset:
        if self._reads is not None:
            self._reads.append(key)
        return self.env.get(key, E)

    def add(self, key: tuple, k: frozenset) -> None:
        if not k:
            return
        if any(type(a) is tuple and a[0] == "p" for a in k):
            g = key[1] if key[0] == "L" else None
            k = frozenset(a for a in k if not (type(a) is tuple and a[0] == "p" and a[1] != g))
        old = self.env.get(key, E)
        if k <= old:
            return
        new = old | k
        if sum(1 for a in new if type(a) is tuple and a[0] == "o") > _OTHER_CAP:
            new = frozenset(a for a in new if not (type(a) is tuple and a[0] == "o")) | frozenset(
                sorted((a for a in new if type(a) is tuple and a[0] == "o"))[:_OTHER_CAP])
            if new == old:
                return
        self.env[key] = new
        for ev in self.deps.get(key, ()):
            if not self._queued[ev]:
                self._queued[ev] = 1
                self._queue.append(ev)
        if key[0] == "CA":
            self.add(("AA", key[3]), new)

    # --- calls ------------------------------------------------------------------------------------
    def qn(self, m: Module, k: int) -> str:
        key = (m.index, k)
        q = self._qn.get(key)
        if q is None:
            q = self._qn[key] = self.p.qualname(m, m.s.calls[k][2])
        return q

    def callees(self, m: Module, k: int, g: int) -> list[tuple[str, int, object]]:
        """Functions of the sources a call may run: by syntax, then through the instance
        or class its receiver holds. Remembered once the values are solved."""
        key = (m.index, k)
        done = self._done.get(key)
        if done is not None:
            return done
        out = self._callees(m, k, g, key)
        if self.solved:
            self._done[key] = out
        return out

    def _callees(self, m: Module, k: int, g: int, key: tuple[int, int]) -> list[tuple[str, int, object]]:
        st = self._static.get(key)
        if st is None:
            st = self._static[key] = self.p.static_callees(m, g, m.s.calls[k][2])
        fe = m.s.calls[k][2]
        if st or fe[0] != "a":
            if not st and fe == ("n", "cls"):
                cls = self.p.owner_class(g)
                if cls is not None:
                    return self.p._target(("class", m.index, cls))
            return st
        base = fe[1]
        if base[0] == "n" and base[1] in ("self", "cls"):
            return st
        out = []
        for a in self.kinds(base, m, g):
            if type(a) is tuple and a[0] in ("i", "C"):
                for x in self.p.method(a[1], a[2], fe[2], overrides=True):
                    dec = self.p.funcs[x][1].decos
                    static = any(d.endswith("staticmethod") for d in dec)
                    out.append(("call" if static or (a[0] == "C" and not any(d.endswith("classmethod") for d in dec))
                                else "bound", x, None))
            elif type(a) is tuple and a[0] == "M":
                out += self.p._target(self.p.resolve(self.p.mods[a[1]], fe[2]))
        return out

    # --- evaluation -------------------------------------------------------------------------------
    def kinds(self, e: tuple | None, m: Module, g: int) -> frozenset:
        if e is None:
            return E
        t = e[0]
        if t == "k":
            v = e[1]
            return self.st.const(v) if type(v) is str else E
        if t == "n":
            return self._name(e[1], m, g)
        if t == "a":
            return self._attr(e, m, g)
        if t == "c":
            return self._call(e[1], m, g)
        if t == "b":
            op = e[1]
            if op == "/":
                return self._join(self.kinds(e[2], m, g), e[3], m, g)
            if op == "+":
                return self._concat(e[2], e[3], m, g)
            if op == "%":
                return self._percent(e[2], e[3], m, g)
            return E
        if t == "f":
            return self._fstring(e[1], m, g)
        if t == "i":
            return self.kinds(e[1], m, g) | self.kinds(e[2], m, g)
        if t == "o" or t == "t":
            out = E
            for v in e[1]:
                out = out | self.kinds(v, m, g)
            return out
        if t == "s":
            return self._subscript(e, m, g)
        if t == "*" or t == "it":
            return frozenset(a for a in self.kinds(e[1], m, g) if a != MK)
        if t == "T":
            return self._type(e[1], m)
        return E

    def _scope_of(self, name: str, m: Module, g: int) -> tuple:
        key = (g, name)
        hit = self._scope.get(key)
        if hit is not None:
            return hit
        gi, f = g, self.p.funcs[g][1]
        out: tuple | None = None
        while not f.is_module:
            if name in f.locals and name not in f.globals:
                const = E
                if name in f.params:
                    const = frozenset({("p", gi, name)})
                    if name in f.ann:
                        const = const | self._type(f.ann[name], m)
                out = (("L", gi, name), const)
                break
            if f.parent is None:
                break
            gi, f = m.offset + f.parent, m.s.funcs[f.parent]
        if out is None:
            const = E
            gkey: tuple | None = ("G", m.index, name)
            if name in m.s.imports:
                r = self.p.resolve(m, name)
                gkey = None
                if r is not None:
                    if r[0] == "module":
                        const = frozenset({("M", r[1])})
                    elif r[0] == "class":
                        const = frozenset({("C", r[1], r[2])})
                    elif r[0] == "global":
                        gkey = ("G", r[1], r[2])
            elif name in m.s.classes:
                const, gkey = frozenset({("C", m.index, name)}), None
            out = (gkey, const)
        out = (out[0], out[1] | self.st.hint(name))
        self._scope[key] = out
        return out

    def _name(self, name: str, m: Module, g: int) -> frozenset:
        key, const = self._scope_of(name, m, g)
        return (self.get(key) | const) if key is not None else const

    def _class_attr(self, classes: list[tuple[int, str]], attr: str) -> frozenset:
        out = E
        for mi, cls in classes:
            for c in self.p.mro(mi, cls) + self.p.subclasses.get((mi, cls), []):
                out = out | self.get(("CA", c[0], c[1], attr))
        return out

    def _attr(self, e: tuple, m: Module, g: int) -> frozenset:
        base, attr = e[1], e[2]
        if attr in ("parent", "name", "stem", "parents"):
            bk = self.kinds(base, m, g)
            pp = _pp(bk)
            if attr in ("parent", "parents"):
                return (frozenset({D}) | pp) if bk & {S, T, U, H} else E
            if A.HWT in bk:
                return frozenset({U})
            return (frozenset({SN}) | pp) if bk & {S, H} else E
        hint = self.st.hint(attr)
        if base[0] == "n" and base[1] in ("self", "cls"):
            cls = self.p.owner_class(g)
            if cls is not None:
                got = self._class_attr([(m.index, cls)], attr)
                if got:
                    return got | hint
            return self.get(("A", attr)) | self.get(("AA", attr)) | hint
        bk = self.kinds(base, m, g)
        out, typed = E, False
        for a in bk:
            if type(a) is tuple:
                if a[0] in ("i", "C"):
                    typed = True
                    out = out | self._class_attr([(a[1], a[2])], attr)
                elif a[0] == "M":
                    typed = True
                    mod = self.p.mods[a[1]]
                    out = out | self._name(attr, mod, mod.offset)
        if not out:
            out = self.get(("A", attr)) | (E if typed else self.get(("AA", attr)))
        return out | hint

    def _subscript(self, e: tuple, m: Module, g: int) -> frozenset:
        base, key = e[1], e[2]
        if key[0] == "k":
            v = key[1]
            if type(v) is str:
                if base[0] in ("a", "n") and self.p.qualname(m, base) == "os.environ":
                    if self.st.hint(v) or self.st.words & set(A.name_tokens(v)):
                        self.env_vars.add(v)
                    return self.st.hint(v)
                return self.get(("K", v)) | self.st.hint(v) | self.st.const(v) & {S}
            if v in (0, 1):
                bk = self.kinds(base, m, g)
                if MK in bk:
                    return frozenset({A.FDT}) if v == 0 else frozenset({U})
                return bk & {T} if v == 0 else E
        return E

    # --- the worklist ------------------------------------------------------------------------------
    def solve(self, budget_factor: int = 60) -> None:
        events: list[tuple] = []
        for m in self.p.mods:
            off = m.offset
            for a in m.s.assigns:
                e = a[1]
                t = e[0]
                if t == "?" or t == "d" or (t == "k" and (type(e[1]) is not str or not self.st.const(e[1]))) or (
                        t == "c" and not self._may_yield(m, e[1], off + a[2])):
                    continue  # can hold nothing the review tracks
                events.append((0, m, a))
            for r in m.s.returns:
                events.append((1, m, r))
            for k, c in enumerate(m.s.calls):
                if (c[3] or c[4]) and self._may_reach_sources(m, k, off + c[1]):
                    events.append((2, m, (k, off + c[1])))
        self._queued = bytearray(b"\x01" * len(events))
        self._queue = deque(range(len(events)))
        budget = budget_factor * max(len(events), 1)
        queue, queued, deps, event = self._queue, self._queued, self.deps, self._event
        try:
            while queue and budget > 0:
                budget -= 1
                i = queue.popleft()
                queued[i] = 0
                reads = self._reads = []
                event(events[i])
                for key in set(reads):
                    d = deps.get(key)
                    if d is None:
                        deps[key] = [i]
                    else:
                        d.append(i)  # repeats are harmless: an event is queued once at a time
        finally:
            self._reads = None
        self.solved = True
        self.deps.clear()

    def _may_yield(self, m: Module, k: int, g: int) -> bool:
        """Whether a call's result can be anything the review tracks: a library call it
        knows (paths, files, locks), or a call that may run a function of the sources."""
        fe = m.s.calls[k][2]
        if fe[0] == "a" and fe[2] in API_METHODS:
            return True
        return self.qn(m, k) in API_NAMES or self._may_reach_sources(m, k, g)

    def _may_reach_sources(self, m: Module, k: int, g: int) -> bool:
        """False for calls that can never run a function of the sources (print(),
        logging.info(), self.x() with no such method): their arguments bind nothing."""
        key = (m.index, k)
        hit = self._reach.get(key)
        if hit is None:
            hit = self._reach[key] = self._reaches(m, k, g, key)
        return hit

    def _reaches(self, m: Module, k: int, g: int, key: tuple[int, int]) -> bool:
        st = self._static.get(key)
        if st is None:
            st = self._static[key] = self.p.static_callees(m, g, m.s.calls[k][2])
        if st:
            return True
        fe = m.s.calls[k][2]
        if fe[0] != "a":
            return fe == ("n", "cls")
        if fe[2] not in self.p.method_names and fe[2] not in self.p.top_names:
            return False  # no class (nor module) of the sources defines it
        base = fe[1]
        if base[0] == "n":
            if base[1] in ("self", "cls"):
                return False
            if base[1] in m.s.imports:  # an imported module or class: static_callees said it all
                return self.p.resolve(m, base[1]) is not None and self.p.resolve(m, base[1])[0] == "global"
        return True

    def _event(self, ev: tuple) -> None:
        t, m, x = ev
        if t == 0:
            key, value, fl, elt = x[0], x[1], x[2], x[3]
            g = m.offset + fl
            k = self.kinds(value, m, g)
            if elt is not None:
                k = (frozenset({A.FDT}) if elt == 0 else frozenset({U})) if MK in k else (
                    k if value[0] == "it" else E)
            if not k:
                return
            for gk in self._keys(key, m, g):
                self.add(gk, k)
        elif t == 1:
            g = m.offset + x[0]
            self.add(("R", g), self.kinds(x[1], m, g))
        else:
            self._bind(m, x[0], x[1])

    def _keys(self, key: tuple, m: Module, g: int) -> list[tuple]:
        kind = key[0]
        if kind == "G":
            return [("G", m.index, key[1])]
        if kind == "L":
            return [("L", m.offset + key[1], key[2])]
        if kind == "CA":
            return [("CA", m.index, key[1], key[2])]
        if kind == "K":
            return [key]
        out = []
        for a in self.kinds(key[2], m, g):
            if type(a) is tuple:
                if a[0] in ("i", "C"):
                    out.append(("CA", a[1], a[2], key[1]))
                elif a[0] == "M":
                    out.append(("G", a[1], key[1]))
        return out or [("A", key[1])]

    def _bind(self, m: Module, k: int, g: int) -> None:
        call = m.s.calls[k]
        args, kws = call[3], call[4]
        callees = self.callees(m, k, g)
        if not callees:
            return
        ak = [self.kinds(a, m, g) if a[0] != "*" else None for a in args]  # once, whatever the callees
        kk = [(n, self.kinds(v, m, g)) for n, v in kws if n]
        for how, x, extra in callees:
            if how == "record":
                mi, cls = extra
                fields = self.p.fields(mi, cls)
                for i, k_ in enumerate(ak):
                    if k_ is None or i >= len(fields):
                        break
                    self.add(("CA", mi, cls, fields[i]), k_)
                for n, k_ in kk:
                    self.add(("CA", mi, cls, n), k_)
                continue
            f = self.p.funcs[x][1]
            off = 1 if how in ("bound", "init") else 0
            for i, k_ in enumerate(ak):
                if k_ is None or i + off >= f.npos:
                    break
                self.add(("L", x, f.params[i + off]), k_)
            for n, k_ in kk:
                if n in f.params:
                    self.add(("L", x, n), k_)
