"""How paths are built and what library calls return, for values.py: joins (`/`,
os.path.join, Path(a, b)), concatenation, `%`, f-strings and `.format`; os.path and
pathlib helpers; open() and file objects; tempfile; os.getenv; lock constructors.

A mixin of `Values`: every method evaluates IR in a function of a module."""

from __future__ import annotations

import re

from statetui.audit.review import apis as A
from statetui.audit.review.apis import D, E, H, MK, S, SN, T, TXT, U
from statetui.audit.review.program import Module


_PERCENT = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrif]")
_BRACES = re.compile(r"\{[^{}]*\}")


def _split(tpl: str, placeholder: re.Pattern) -> tuple:
    """"{}_state.json" -> (None, "_state.json"): constants, and None for each placeholder."""
    out: list[str | None] = []
    pos = 0
    for mt in placeholder.finditer(tpl):
        if mt.start() > pos:
            out.append(tpl[pos:mt.start()])
        out.append(None)
        pos = mt.end()
    if pos < len(tpl):
        out.append(tpl[pos:])
    return tuple(out)


def _pp(k: frozenset) -> frozenset:
    """The parameter marks of a value (kept through derivations)."""
    return frozenset(a for a in k if type(a) is tuple and a[0] == "p")


def has_call(e: tuple) -> bool:
    """Whether an IR expression calls anything (uuid4(), os.getpid(), time.time()...)."""
    stack = [e]
    while stack:
        n = stack.pop()
        if n and n[0] == "c":
            return True
        stack.extend(x for x in n if type(x) is tuple)
    return False


def state_of(k: frozenset) -> str | None:
    """"S" when a value is the state path, "H" when it is only named like it and nothing
    concrete is known about it, None otherwise."""
    if S in k:
        return "S"
    if H in k and not any(a in _CONCRETE or (type(a) is tuple and a[0] == "o") for a in k):
        return "H"
    return None


_CONCRETE = frozenset({S, T, U, D})
_SAME_METHODS = {"resolve", "absolute", "expanduser", "as_posix", "__fspath__", "strip", "decode", "rstrip", "lstrip",
                 "encode"}
_PATH_METHODS = {"with_suffix", "with_name", "with_stem", "joinpath", "open", "fileno", "read_text", "read_bytes",
                 "read", "readlines", "acquire", "replace", "format", "get"}
# Library calls whose result the review tracks (anything else yields nothing but a source callee's value).
API_NAMES = (A.PATH_SAME | A.JOIN | A.DIRNAME | A.BASENAME | A.SPLITEXT | A.ENV_GET | A.OPEN | A.TEMPFILE | A.MKSTEMP
             | A.OS_OPEN | A.FDOPEN | A.FILE_LOCKS | A.THREAD_LOCKS | A.ASYNC_LOCKS | A.MP_LOCKS | A.STORE_CTORS)
API_METHODS = _SAME_METHODS | _PATH_METHODS


class PathOps:
    p: object
    st: A.StateName

    def _type(self, dotted: str, m: Module) -> frozenset:
        r = self.p.resolve(m, dotted)
        if r is not None and r[0] == "class":
            return frozenset({("i", r[1], r[2])})
        q = m.s.imports.get(dotted.split(".", 1)[0], "")
        full = q + dotted[len(dotted.split(".", 1)[0]):] if q else dotted
        return self._lock_kind(full)

    @staticmethod
    def _lock_kind(qn: str) -> frozenset:
        if qn in A.THREAD_LOCKS:
            return frozenset({A.LOCK_THREAD})
        if qn in A.ASYNC_LOCKS:
            return frozenset({A.LOCK_ASYNC})
        if qn in A.MP_LOCKS:
            return frozenset({A.LOCK_MP})
        return E

    def _join(self, left: frozenset, right: tuple, m: Module, g: int) -> frozenset:
        rk = self.kinds(right, m, g)
        pp = _pp(left) | _pp(rk)
        if rk & {S, SN}:
            return frozenset({S}) | pp
        if rk & {T, U}:
            return (rk & {T, U}) | pp
        if right[0] == "k" and type(right[1]) is str and D in left and A.looks_temp(right[1]):
            return frozenset({T}) | pp
        o = frozenset(a for a in rk if type(a) is tuple and a[0] == "o")
        if H in rk and not left & {S, T, U}:
            return frozenset({H}) | pp | o
        return o | pp if o else E

    def _derived(self, unique: bool) -> frozenset:
        return frozenset({U}) if unique else frozenset({T})

    def _concat(self, le: tuple, re_: tuple, m: Module, g: int) -> frozenset:
        lk, rk = self.kinds(le, m, g), self.kinds(re_, m, g)
        pp = _pp(lk) | _pp(rk)
        rs = re_[1] if re_[0] == "k" and type(re_[1]) is str else None
        if rs is not None and rs.endswith((".lock", ".pid")):
            return E
        if lk & {S, SN, T, U, H}:
            return self._derived(U in lk or has_call(re_)) | pp
        if rk & {S, SN}:
            return frozenset({S}) | pp
        if rk & {T, U}:
            return (rk & {T, U}) | pp
        ls = le[1] if le[0] == "k" and type(le[1]) is str else None
        if (rs is not None) != (ls is not None) and self.st.template((ls, rs) if ls is None or rs is None else ()):
            return frozenset({S}) | pp  # symbol + "_state.json"
        if D in lk and rs is not None and A.looks_temp(rs):
            return frozenset({T}) | pp
        return E

    def _percent(self, le: tuple, re_: tuple, m: Module, g: int) -> frozenset:
        tpl = le[1] if le[0] == "k" and type(le[1]) is str else None
        rk = self.kinds(re_, m, g)
        if tpl is not None and rk & {S, SN, H}:
            if tpl.strip() == "%s":
                return (rk & {S, H}) | _pp(rk)
            return self._derived(has_call(re_)) | _pp(rk)
        if tpl is not None and "%" in tpl and self.st.template(_split(tpl, _PERCENT)):
            return frozenset({S}) | _pp(rk)
        return self.st.const(tpl) if tpl is not None else E

    def _fstring(self, parts: tuple, m: Module, g: int) -> frozenset:
        vals = [(p, self.kinds(p, m, g)) for p in parts if p[0] != "k"]
        pp = E
        for _, k in vals:
            pp = pp | _pp(k)
        last = parts[-1] if parts else None
        tail = last[1] if last is not None and last[0] == "k" and type(last[1]) is str else ""
        stateish = [k for _, k in vals if k & {S, SN, H}]
        if not stateish and self.st.template(tuple(p[1] if p[0] == "k" and type(p[1]) is str else None
                                                   for p in parts)):
            return frozenset({S}) | pp
        if tail and not stateish:
            c = self.st.const(tail)
            if c:
                return c | pp
        if stateish:
            if len(vals) == 1 and not tail and last is not None and last[0] != "k":
                return (stateish[0] & {S, H} or frozenset({S})) | pp
            unique = any(has_call(p) or U in k for p, k in vals if not k & {S, SN, H})
            return self._derived(unique) | pp
        if any(D in k for _, k in vals) and A.looks_temp(tail):
            return self._derived(any(has_call(p) for p, _ in vals)) | pp
        derived = [k for _, k in vals if k & {T, U}]
        if derived:
            return self._derived(any(U in k for k in derived)) | pp
        return pp

    def _open(self, path: frozenset, mode: tuple | None, default: str = "r") -> frozenset:
        md = (mode[1] if mode[0] == "k" else None) if mode is not None else default
        writes = type(md) is str and any(c in md for c in "wax+")
        out = set()
        if state_of(path):
            out.add(A.HWS if writes else A.HRS)
        if path & {T, U}:
            out.add(A.HWT if (writes or md is None) else A.HRT)
        return frozenset(out)

    def _call(self, k: int, m: Module, g: int) -> frozenset:
        call = m.s.calls[k]
        args, kws = call[3], call[4]
        name = self.qn(m, k)

        def arg(i: int, kw: str | None = None) -> tuple | None:
            if len(args) > i and all(a[0] != "*" for a in args[: i + 1]):
                return args[i]
            if kw is not None:
                for n, v in kws:
                    if n == kw:
                        return v
            return None

        if name:
            if name in A.PATH_SAME or name in A.JOIN:
                if not args:
                    return E
                acc = self.kinds(args[0], m, g)
                if len(args) == 1:
                    return frozenset(a for a in acc if a in A.PATHS or type(a) is tuple and a[0] in ("o", "p")
                                     or a == TXT)
                for a in args[1:]:
                    acc = self._join(acc, a, m, g)
                return acc
            if name in A.DIRNAME:
                ak = self.kinds(arg(0), m, g)
                return (frozenset({D}) | _pp(ak)) if ak & {S, T, U, H} else E
            if name in A.BASENAME:
                ak = self.kinds(arg(0), m, g)
                return frozenset({SN}) if ak & {S, H} else E
            if name in A.SPLITEXT:
                ak = self.kinds(arg(0), m, g)
                return frozenset({T}) | _pp(ak) if ak & {S, H} else E
            if name in A.ENV_GET:
                key = arg(0)
                ks = key[1] if key is not None and key[0] == "k" and type(key[1]) is str else None
                dk = self.kinds(arg(1, "default"), m, g)
                hint = self.st.hint(ks) if ks else E
                if ks and (state_of(dk) or hint):
                    self.env_vars.add(ks)
                return dk | hint
            if name in A.OPEN:
                return self._open(self.kinds(arg(0, "file"), m, g), arg(1, "mode"))
            if name in A.TEMPFILE:
                return frozenset({A.HWT})
            if name in A.MKSTEMP:
                return frozenset({MK})
            if name in A.OS_OPEN:
                pk = self.kinds(arg(0, "path"), m, g)
                flags = A.flag_names(arg(1, "flags"))
                if "O_DIRECTORY" in flags or (D in pk and not pk & {S, T, U}):
                    return frozenset({A.FDD})
                out = set()
                if state_of(pk):
                    out.add(A.FDS)
                if pk & {T, U}:
                    out.add(A.FDT)
                return frozenset(out)
            if name in A.FDOPEN:
                fd = self.kinds(arg(0, "fd"), m, g)
                md = arg(1, "mode")
                w = md is not None and md[0] == "k" and type(md[1]) is str and any(c in md[1] for c in "wax+")
                out = set()
                if A.FDT in fd:
                    out.add(A.HWT if w else A.HRT)
                if A.FDS in fd:
                    out.add(A.HWS if w else A.HRS)
                return frozenset(out)
            if name in A.FILE_LOCKS:
                target = self.kinds(arg(0, "lock_file") or arg(0, "filename") or arg(0, "path"), m, g)
                return frozenset({A.LOCK_STATE if state_of(target) else A.LOCK_FILE})
            lk = self._lock_kind(name)
            if lk:
                return lk
            if name in A.STORE_CTORS:
                return frozenset({A.STORE})
        fn = call[2]
        if fn[0] == "a":
            got = self._method(fn[1], fn[2], args, arg, m, g)
            if got is not None:
                return got
        out = E
        for how, x, extra in self.callees(m, k, g):
            if how in ("init", "record"):
                out = out | frozenset({("i", extra[0], extra[1])})
            else:
                out = out | self.get(("R", x))
        return out

    def _method(self, base: tuple, meth: str, args: tuple, arg, m: Module, g: int) -> frozenset | None:
        """Path and file-object methods: None when `meth` is none of them."""
        if meth in _SAME_METHODS:
            bk = self.kinds(base, m, g)
            return frozenset(a for a in bk if a in A.PATHS or a == TXT or type(a) is tuple and a[0] in ("o", "p"))
        if meth in _PATH_METHODS:
            bk = self.kinds(base, m, g)
        else:
            return None
        pp = _pp(bk)
        if meth == "get":
            key = arg(0)
            ks = key[1] if key is not None and key[0] == "k" and type(key[1]) is str else None
            got = (self.get(("K", ks)) | self.st.hint(ks)) if ks else E
            return got | self.kinds(arg(1), m, g)
        if meth == "format":
            if base[0] == "k" and type(base[1]) is str:
                tpl = base[1]
                ak = E
                for a in args:
                    ak = ak | self.kinds(a, m, g)
                if ak & {S, SN, H}:
                    return (ak & {S, H}) if tpl.strip() == "{}" else self._derived(any(has_call(a) for a in args))
                if "{" in tpl and self.st.template(_split(tpl, _BRACES)):
                    return frozenset({S})
                return self.st.const(tpl)
            return E
        if meth in ("with_suffix", "with_name", "with_stem"):
            if not bk & {S, T, U, H}:
                return E
            a0 = arg(0)
            if a0 is None:
                return E
            if a0[0] == "k" and type(a0[1]) is str:
                s = a0[1]
                if s.endswith((".lock", ".pid")):
                    return E
                if meth == "with_name":
                    c = self.st.const(s)
                    return (c | pp) if c else self._derived(False) | pp
                return self._derived(U in bk) | pp
            ak = self.kinds(a0, m, g)
            if meth == "with_name" and (ak & {T, U} or any(type(a) is tuple and a[0] == "o" for a in ak)):
                return frozenset(a for a in ak if a in (T, U) or type(a) is tuple and a[0] == "o") | pp
            if meth == "with_name" and ak & {S}:
                return frozenset({S}) | pp
            return self._derived(True if has_call(a0) else U in bk) | pp
        if meth == "joinpath":
            acc = bk
            for a in args:
                acc = self._join(acc, a, m, g)
            return acc
        if meth == "open":
            return self._open(bk, arg(0, "mode")) if bk & {S, T, U, H} else E
        if meth == "fileno":
            out = set()
            if bk & {A.HWS, A.HRS}:
                out.add(A.FDS)
            if bk & {A.HWT, A.HRT}:
                out.add(A.FDT)
            return frozenset(out)
        if meth in ("read_text", "read_bytes"):
            return frozenset({TXT}) if state_of(bk) else E
        if meth in ("read", "readlines"):
            return frozenset({TXT}) if A.HRS in bk or A.HWS in bk else E
        if meth == "acquire":
            return bk & A.LOCKS
        if meth == "replace":
            return self._derived(False) | pp if len(args) == 2 and bk & {S, H} else E
        return E

