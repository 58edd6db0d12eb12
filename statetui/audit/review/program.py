"""All summaries linked into one program: global function ids, what an imported name is,
classes with their bases, and the callees a call reaches by its syntax alone (the ones
that depend on values, `obj.method()` on an instance, are added by values.py).

A function's global id is its module's offset plus its index in that module."""

from __future__ import annotations

from dataclasses import dataclass

from statetui.audit.review.summary import Func, Summary

# Decorators and bases that make a class a record: calling it sets its fields.
_RECORD_DECOS = {"dataclass", "dataclasses.dataclass", "attr.s", "attrs.define", "define", "frozen", "attr.define"}
_RECORD_BASES = {"BaseModel", "BaseSettings", "NamedTuple", "TypedDict", "Struct"}


@dataclass
class Module:
    index: int
    rel: str  # path relative to the bot's source root (for messages)
    name: str  # dotted module name
    s: Summary
    offset: int  # global id of its first function (its module-level code)
    is_package: bool = False


class Program:
    def __init__(self, modules: list[tuple[str, str, Summary]]) -> None:
        self.mods: list[Module] = []
        self.funcs: list[tuple[Module, Func]] = []
        for rel, name, s in modules:
            m = Module(len(self.mods), rel, name, s, len(self.funcs), rel.endswith("__init__.py"))
            self.mods.append(m)
            self.funcs.extend((m, f) for f in s.funcs)
        self._by_suffix: dict[str, list[Module]] = {}
        for m in self.mods:
            parts = m.name.split(".")
            for i in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[i:]), []).append(m)
        self.methods: dict[tuple[int, str], dict[str, int]] = {}  # (module, class) -> name -> gfid
        self.top: list[dict[str, int]] = [{} for _ in self.mods]  # module -> top-level function gfids
        self.nested: dict[int, dict[str, int]] = {}  # gfid -> functions defined inside it
        self.subclasses: dict[tuple[int, str], list[tuple[int, str]]] = {}
        for m in self.mods:
            for i, f in enumerate(m.s.funcs):
                g = m.offset + i
                if f.is_module:
                    continue
                if f.cls is not None:
                    self.methods.setdefault((m.index, f.cls), {})[f.name] = g
                elif f.parent is None:
                    self.top[m.index][f.name] = g
                else:
                    self.nested.setdefault(m.offset + f.parent, {})[f.name] = g
        self._import_cache: dict[tuple[int, str], tuple | None] = {}
        self.method_names = {n for meths in self.methods.values() for n in meths}
        self.top_names = {n for t in self.top for n in t} | {n for m in self.mods for n in m.s.classes}
        self._mro: dict[tuple[int, str], list[tuple[int, str]]] = {}
        self.bases: dict[tuple[int, str], list[tuple[int, str]]] = {}
        for m in self.mods:
            for cname, k in m.s.classes.items():
                found = []
                for b in k.bases:
                    r = self.resolve(m, b)
                    if r is not None and r[0] == "class":
                        found.append((r[1], r[2]))
                self.bases[(m.index, cname)] = found
                for b in found:
                    self.subclasses.setdefault(b, []).append((m.index, cname))

    # --- names ------------------------------------------------------------------------------
    def modules_named(self, dotted: str, frm: Module | None = None, strip: bool = True) -> list[Module]:
        """Modules an import string names: exact or by suffix (a `src/` layout imports
        `bot.config` for src/bot/config.py), relative imports resolved against `frm`."""
        if dotted.startswith(".") and frm is not None:
            level = len(dotted) - len(dotted.lstrip("."))
            pkg = frm.name.split(".")
            if not frm.is_package:
                pkg = pkg[:-1]
            pkg = pkg[: len(pkg) - (level - 1)] if level > 1 else pkg
            rest = dotted.lstrip(".")
            dotted = ".".join(pkg + ([rest] if rest else []))
        hit = self._by_suffix.get(dotted)
        if hit or not strip:
            return hit or []
        parts = dotted.split(".")
        for i in range(1, len(parts)):  # `pkg.mod` imported while the root is pkg itself
            hit = self._by_suffix.get(".".join(parts[i:]))
            if hit:
                return hit
        return []

    def resolve(self, m: Module, dotted: str) -> tuple | None:
        """What a (dotted) name used in module m refers to, following its imports:
        ("module", mi) | ("class", mi, name) | ("func", gfid) | ("global", mi, name) | None."""
        key = (m.index, dotted)
        if key in self._import_cache:
            return self._import_cache[key]
        self._import_cache[key] = None  # cycles
        out = self._resolve(m, dotted)
        self._import_cache[key] = out
        return out

    def _resolve(self, m: Module, dotted: str) -> tuple | None:
        head, _, rest = dotted.partition(".")
        s = m.s
        if head in s.classes and not rest:
            return ("class", m.index, head)
        if head in self.top[m.index] and not rest:
            return ("func", self.top[m.index][head])
        target = s.imports.get(head)
        if target is None:
            return ("global", m.index, head) if not rest else None
        full = f"{target}.{rest}" if rest else target
        mods = self.modules_named(full, m, strip=False)
        if mods:
            return ("module", mods[0].index)
        modpart, _, name = full.rpartition(".")
        for other in self.modules_named(modpart, m) if modpart else ():
            if other is m:
                continue
            if name in other.s.classes:
                return ("class", other.index, name)
            if name in self.top[other.index]:
                return ("func", self.top[other.index][name])
            if name in other.s.imports:
                return self.resolve(other, name)
            return ("global", other.index, name)
        mods = self.modules_named(full, m)
        return ("module", mods[0].index) if mods else None

    def qualname(self, m: Module, e: tuple) -> str:
        """`os.path.join` for ("a", ("a", ("n", "os"), "path"), "join"), through imports
        (`from os import replace` -> "os.replace"); "" when not a dotted name."""
        parts = []
        while e[0] == "a":
            parts.append(e[2])
            e = e[1]
        if e[0] != "n":
            return ""
        head = e[1]
        parts.append(m.s.imports.get(head, head).lstrip("."))
        return ".".join(reversed(parts))

    # --- classes -------------------------------------------------------------------------
    def mro(self, mi: int, cls: str) -> list[tuple[int, str]]:
        hit = self._mro.get((mi, cls))
        if hit is None:
            hit = self._mro[(mi, cls)] = self._mro_of(mi, cls)
        return hit

    def _mro_of(self, mi: int, cls: str) -> list[tuple[int, str]]:
        out, stack = [], [(mi, cls)]
        while stack and len(out) < 20:
            c = stack.pop(0)
            if c in out:
                continue
            out.append(c)
            stack.extend(self.bases.get(c, ()))
        return out

    def method(self, mi: int, cls: str, name: str, overrides: bool = False) -> list[int]:
        """The method `name` of a class (first along its bases), plus, with `overrides`, the
        subclasses' versions (`self.save()` in a base class may run a subclass's save)."""
        out = []
        for c in self.mro(mi, cls):
            g = self.methods.get(c, {}).get(name)
            if g is not None:
                out.append(g)
                break
        if overrides:
            for sub in self.subclasses.get((mi, cls), ()):
                g = self.methods.get(sub, {}).get(name)
                if g is not None and g not in out:
                    out.append(g)
        return out

    def is_record(self, mi: int, cls: str) -> bool:
        k = self.mods[mi].s.classes.get(cls)
        if k is None:
            return False
        if any(d in _RECORD_DECOS or d.rsplit(".", 1)[-1] == "dataclass" for d in k.decos):
            return True
        return any(b.rsplit(".", 1)[-1] in _RECORD_BASES for b in k.bases) or any(
            self.is_record(*b) for b in self.bases.get((mi, cls), ()))

    def fields(self, mi: int, cls: str) -> list[str]:
        out: list[str] = []
        for c in reversed(self.mro(mi, cls)):
            k = self.mods[c[0]].s.classes.get(c[1])
            if k is not None:
                out += [f for f in k.fields if f not in out]
        return out

    def constructor(self, mi: int, cls: str) -> tuple[str, object] | None:
        """("init", gfid) when the class (or a base) defines __init__; ("record", (mi, cls))
        for a dataclass-like class whose call sets its fields; None otherwise."""
        init = self.method(mi, cls, "__init__")
        if init:
            return ("init", init[0])
        if self.is_record(mi, cls):
            return ("record", (mi, cls))
        return None

    # --- functions -------------------------------------------------------------------------
    def owner_class(self, g: int) -> str | None:
        m, f = self.funcs[g]
        while f is not None:
            if f.cls is not None:
                return f.cls
            f = m.s.funcs[f.parent] if f.parent is not None else None
        return None

    def display(self, g: int) -> str:
        m, f = self.funcs[g]
        if not m.rel.endswith((".py", ".pyw")):
            return f"Python run by {m.rel.rsplit('/', 1)[-1]}"
        if f.name == "<main>":
            return "the __main__ block"
        return "module-level code" if f.is_module else f.qual

    def static_callees(self, m: Module, g: int, fe: tuple) -> list[tuple[str, int, object]]:
        """Callees known from the call's syntax: [(how, gfid or -1, extra)], how being
        "call", "bound" (the first parameter is the instance), "init" or "record"."""
        t = fe[0]
        if t == "n":
            name = fe[1]
            fn = self.funcs[g][1]
            cur: Func | None = fn
            gi = g
            while cur is not None and not cur.is_module:  # functions nested in enclosing ones
                hit = self.nested.get(gi, {}).get(name)
                if hit is not None:
                    return [("call", hit, None)]
                if cur.parent is None:
                    break
                gi = m.offset + cur.parent
                cur = m.s.funcs[cur.parent]
            out = self._target(self.resolve(m, name))
            if name in m.s.imports and (name in self.top[m.index] or name in m.s.classes):
                # defined here and imported (a fallback in `except ImportError:`): either may run
                imported = self.modules_named(m.s.imports[name].rpartition(".")[0], m)
                for other in imported[:1]:
                    if other is not m:
                        out = out + self._target(self.resolve(other, m.s.imports[name].rpartition(".")[2]))
            return out
        if t == "a":
            base, attr = fe[1], fe[2]
            if base[0] == "n":
                if base[1] in ("self", "cls"):
                    cls = self.owner_class(g)
                    if cls is not None:
                        return [("bound", x, None) for x in self.method(m.index, cls, attr, overrides=True)]
                    return []
                r = self.resolve(m, base[1])
                if r is None:
                    return []
                if r[0] == "module":
                    mi = r[1]
                    if attr in self.top[mi]:
                        return [("call", self.top[mi][attr], None)]
                    if attr in self.mods[mi].s.classes:
                        return self._target(("class", mi, attr))
                    return []
                if r[0] == "class":
                    return [("call", x, None) for x in self.method(r[1], r[2], attr)]
                return []
            if base[0] == "c":  # super().method(...)
                call = m.s.calls[base[1]]
                if call[2] == ("n", "super"):
                    cls = self.owner_class(g)
                    if cls is not None:
                        out = []
                        for b in self.bases.get((m.index, cls), ()):
                            out += [("bound", x, None) for x in self.method(b[0], b[1], attr)]
                        return out
        return []

    def _target(self, r: tuple | None) -> list[tuple[str, int, object]]:
        if r is None:
            return []
        if r[0] == "func":
            return [("call", r[1], None)]
        if r[0] == "class":
            c = self.constructor(r[1], r[2])
            if c is None:
                return []
            if c[0] == "init":
                return [("init", c[1], (r[1], r[2]))]
            return [("record", -1, c[1])]
        return []
