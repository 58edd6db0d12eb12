"""Loaders of the state file, judged by what happens when the file is corrupt: the bot
crashes (refuses to start), falls back to a backup, resets to defaults (silently or after a
log line), keeps the previous in-memory value, or skips it.

Catching the exception says nothing by itself: what the handler does decides. The
exception is followed out of the loading function to its callers (up to four calls) when
nothing handles it there or the handler raises again."""

from __future__ import annotations

import re

from statetui.audit.review import apis as A
from statetui.audit.review.summary import H_CONTINUE, H_RAISE, H_RERAISE
from statetui.audit.review.graph import Graph
from statetui.audit.review.model import Loader
from statetui.audit.review.ops import Facts, Op, render
from statetui.audit.review.program import Module
from statetui.audit.review.values import Values, state_of
from statetui.audit.review.writers import Site, lift

_BACKUP = re.compile(r"backup|bak\b|_bak|restore|recover|fallback|previous|last_good|snapshot", re.I)
# Worst first: the outcome reported when callers disagree.
_ORDER = ["reset", "crash", "skip", "keep previous", "backup"]


def _mentions(e: tuple, x: tuple, m: Module) -> bool:
    """Whether IR `e` uses `x` (a name or a call), looking into the calls it makes."""
    stack, seen = [e], 0
    while stack and seen < 400:
        n = stack.pop()
        seen += 1
        if n == x:
            return True
        if len(n) == 2 and n[0] == "c" and type(n[1]) is int:
            c = m.s.calls[n[1]]
            stack.append(c[2])
            stack.extend(c[3])
            stack.extend(v for _, v in c[4])
            continue
        stack.extend(y for y in n if type(y) is tuple)
    return False


def _error_value(e: tuple) -> bool:
    """An error response rather than a state: `{"error": ...}, 500`, a tuple, an error dict."""
    if e[0] == "t":
        return True
    return e[0] == "d" and any(k in ("error", "detail", "message", "status") for k, _ in e[1])


class Outcome:
    __slots__ = ("kind", "logged", "where", "what", "g", "m", "line", "loader_level")

    def __init__(self, kind: str, what: str, g: int | None = None, m: Module | None = None,
                 line: int | None = None, logged: bool = False, loader_level: bool = True) -> None:
        self.kind, self.what, self.g, self.m, self.line = kind, what, g, m, line
        self.logged, self.loader_level = logged, loader_level
        self.where = f"{m.rel}:{line}" if m is not None and line else None


class Judge:
    def __init__(self, v: Values, fx: Facts, graph: Graph, sites: list[Site]) -> None:
        self.v, self.fx, self.graph = v, fx, graph
        self.writer_funcs = ({s.g for s in sites} | {s.op.g for s in sites}
                             | {g for g, _l, _a, w in fx.store_uses if w})
        self.near = graph.ancestors(self.writer_funcs, 1)
        self._in_handler: dict[int, dict[tuple, list[int]]] = {}

    # --- handlers --------------------------------------------------------------------------
    def _handler_calls(self, m: Module, hid: tuple) -> list[int]:
        idx = self._in_handler.get(m.index)
        if idx is None:
            idx = self._in_handler[m.index] = {}
            for k, c in enumerate(m.s.calls):
                for h in m.s.ctxs[c[5]][1]:
                    idx.setdefault(h, []).append(k)
        return idx.get(hid, [])

    def _find_handler(self, m: Module, ctx: int, names: set[str]) -> tuple | None:
        for tid in reversed(m.s.ctxs[ctx][0]):
            for h in m.s.tries[tid][2]:
                types = h[0]
                if not types or set(types) & names:
                    return h
        return None

    def classify(self, g: int, m: Module, ctx: int, names: set[str], depth: int,
                 site: tuple[Module, int] | None, raised: str | None = None) -> Outcome:
        """What happens to a corrupt file read at `ctx` of function g (a loader when `site`
        is None, else a caller whose call `site` reaches the loader)."""
        h = self._find_handler(m, ctx, names)
        if h is not None:
            out = self._handler(g, m, h, site)
            if out is not None:
                return out
            # the handler raises: follow the new exception up
            new = sorted({t for t in (self.v.qn(m, k).rsplit(".", 1)[-1] for k in self._handler_calls(m, h[3]))
                          if t and t[0].isupper()})
            names = (names if H_RERAISE in h[2] else set()) | set(new) | A.CATCH_ALL
            raised = raised or (f"raises {new[0]}" if new else "re-raises the error")
        if depth >= 7:
            return Outcome("crash", f"{raised or 'JSONDecodeError propagates'} (not followed further)", g, m)
        callers = self.graph.callers.get(g, [])
        outs = [self.classify(g2, m2, m2.s.calls[k2][5], names, depth + 1, (m2, k2), raised)
                for m2, k2, g2, _how in callers[:12]]
        if not outs:
            what = f"{raised}, which nothing catches" if raised else "JSONDecodeError is not caught"
            return Outcome("crash", what + ": the bot stops", g, m, h[1] if h is not None else None)
        # worst outcome first; among crashes, the one where nothing catches it (the bot stops)
        return min(outs, key=lambda o: (_ORDER.index(o.kind), "the bot stops" not in o.what))

    def _handler(self, g: int, m: Module, h: tuple, site: tuple[Module, int] | None) -> Outcome | None:
        types, hline, flags, hid = h
        v = self.v
        calls = self._handler_calls(m, hid)
        tails = [v.qn(m, k).rsplit(".", 1)[-1] or (m.s.calls[k][2][2] if m.s.calls[k][2][0] == "a" else "")
                 for k in calls]
        logged = any(t in A.LOG_TAILS for t in tails)

        def out(kind: str, what: str) -> Outcome:
            return Outcome(kind, what, g, m, hline, logged, site is None)

        if any(v.qn(m, k) in A.EXITS or t == "exit" for k, t in zip(calls, tails)):
            return out("crash", "exits")
        for k, t in zip(calls, tails):
            names = [v.p.display(x) for _h, x, _e in v.callees(m, k, g) if x >= 0]
            if _BACKUP.search(t) or any(_BACKUP.search(n) for n in names) or any(
                    o.m is m and o.k == k for o in self.fx.loads):
                return out("backup", f"falls back to {t or 'another copy'}()")
        if (H_RAISE in flags or H_RERAISE in flags) and "return" not in flags:
            return None
        assigns = [a for a in m.s.assigns if hid in m.s.ctxs[a[4]][1]]
        returns = [r for r in m.s.returns if hid in m.s.ctxs[r[2]][1]]
        if returns:
            val = returns[0][1]
            if site is None:
                if val[0] == "a" and val[1] == ("n", "self"):
                    return out("keep previous", f"returns the previous {render(val, m)}")
                if val[0] == "k" and type(val[1]) in (bool, int):  # a status, not a state
                    if self.feeds_self(g):
                        return out("reset", f"returns {val[1]!r} and keeps the defaults set before the load")
                    return out("skip", f"gives up (returns {val[1]!r})")
                return out("reset", f"returns {render(val, m)}")
            if self._is_wrapper(site) and not _error_value(val):
                return out("reset", f"returns {render(val, m)} instead")
            return out("crash", f"gives up ({v.p.display(g)} returns at line {returns[0][3]})")
        target = self._target_of(site) if site is not None else None
        if site is not None and target is not None:
            assigns = [a for a in assigns if a[0] == target]  # a caller resets only what received the state
        elif site is not None:
            assigns = []
        if assigns:
            a = assigns[0]
            key = a[0]
            what = {"CA": lambda: f"self.{key[2]}", "A": lambda: key[1], "K": lambda: f"[{key[1]!r}]"}.get(
                key[0], lambda: key[-1])()
            return out("reset", f"sets {what} = {render(a[1], m)}")
        if H_CONTINUE in flags:
            return out("skip", "skips it")
        if site is None:
            fl = g - m.offset
            later = sorted((r for r in m.s.returns if r[0] == fl and r[3] > hline and hid not in m.s.ctxs[r[2]][1]),
                           key=lambda r: r[3])
            if later and later[0][1] != ("k", None):
                return out("reset", f"falls through to `return {render(later[0][1], m)}`")
            if any(r[0] == fl and r[1] != ("k", None) for r in m.s.returns):
                return out("reset", "returns None (the caller treats it as no state)")
            if self.startup(g):
                return out("reset", "continues with the defaults set before the load")
            return out("keep previous", "keeps the values already in memory")
        if target is not None and target[0] == "CA":
            return out("reset", f"continues with the defaults in self.{target[2]}")
        return out("crash", f"{v.p.display(g)} catches it and gives up on this run")

    def _target_of(self, site: tuple[Module, int]) -> tuple | None:
        m, k = site
        for a in m.s.assigns:
            if a[1] == ("c", k):
                return a[0]
        return None

    def _is_wrapper(self, site: tuple[Module, int]) -> bool:
        """The caller returns what the loader returned (a load() around _read())."""
        m, k = site
        fl = m.s.calls[k][1]
        if any(r[1] == ("c", k) for r in m.s.returns):
            return True
        t = self._target_of(site)
        return t is not None and t[0] == "L" and any(r[0] == fl and r[1] == ("n", t[2]) for r in m.s.returns)

    # --- context -------------------------------------------------------------------------
    def startup(self, g: int) -> bool:
        """Runs when the bot starts: reached within three calls from module-level code,
        an __init__ or a main/run/start function, by calls that are not in a loop (a
        reload in the main loop is not the startup load)."""
        seen, frontier = {g}, [g]
        for _ in range(4):
            nxt = []
            for x in frontier:
                f = self.v.p.funcs[x][1]
                if f.is_module or f.name in A.STARTUP_NAMES:
                    return True
                for m, k, g2, _how in self.graph.callers.get(x, ()):
                    if g2 not in seen and not any(b[1] == -1 for b in m.s.ctxs[m.s.calls[k][5]][3]):
                        seen.add(g2)
                        nxt.append(g2)
            frontier = nxt
        return False

    def written_back(self, o: Outcome) -> str | None:
        """A save right after the reset: in the handler, later in its function, or (for a
        loader's own handler) in the caller right after the call."""
        if o.g is None or o.m is None or o.line is None:
            return None
        places = [(o.g, o.m, o.line)]
        if o.loader_level:
            places += [(g2, m2, m2.s.calls[k2][0]) for m2, k2, g2, _ in self.graph.callers.get(o.g, [])[:12]]
        for g, m, after in places:
            for k in self.graph.calls_of.get(g, ()):
                c = m.s.calls[k]
                if c[0] > after and any(x in self.near for _h, x, _e in self.v.callees(m, k, g)):
                    return f"{m.rel}:{c[0]}"
            for op in self.fx.inplace.get(g, []) + self.fx.renames.get(g, []):
                if op.line > after:
                    return f"{m.rel}:{op.line}"
            for x in self.fx.handle_writes.get(g, []):
                if x > after:
                    return f"{m.rel}:{x}"
        return None

    def on_missing(self, op: Op) -> str:
        """What a missing file does: "defaults" (an exists() test or a handler that resets),
        "crash", or another outcome of the handler that catches FileNotFoundError."""
        fx = self.fx
        if fx.exists.get(op.g):
            return "defaults"
        for m2, k2, g2, _ in self.graph.callers.get(op.g, []):
            if any(x < m2.s.calls[k2][0] for x in fx.exists.get(g2, ())):
                return "defaults"
        o = self.classify(op.g, op.m, op.m.s.calls[op.k][5], set(A.MISSING_ERRORS), 0, None)
        return "defaults" if o.kind == "reset" else o.kind

    def feeds_self(self, g: int) -> bool:
        """The loading function stores what it read into the object or module (self.x = ...,
        a global): it restores the bot's state rather than reading for someone else."""
        m, f = self.v.p.funcs[g]
        fl = g - m.offset
        return any(a[2] == fl and a[0][0] in ("CA", "G", "A") for a in m.s.assigns)

    def feeds(self, op: Op) -> bool:
        """What a load read goes somewhere that keeps it: returned, stored in the object or
        a global, or handed to a function of the sources. Else the code only reads (an
        upload, a report)."""
        m, k = op.m, op.k
        fl = m.s.calls[k][1]
        names = {a[0][2] for a in m.s.assigns if a[2] == fl and a[0][0] == "L" and _mentions(a[1], ("c", k), m)}
        names |= {a[0][2] for a in m.s.assigns if a[2] == fl and a[0][0] == "L"
                  and any(_mentions(a[1], ("n", n), m) for n in names)}
        marks = [("c", k)] + [("n", n) for n in names]
        if any(r[0] == fl and any(_mentions(r[1], x, m) for x in marks) for r in m.s.returns):
            return True
        if any(a[2] == fl and a[0][0] in ("CA", "G", "A", "K") and any(_mentions(a[1], x, m) for x in marks)
               for a in m.s.assigns):
            return True
        for kk in self.graph.calls_of.get(op.g, ()):
            c = m.s.calls[kk]
            args = list(c[3]) + [x for _, x in c[4]]
            if any(_mentions(a, x, m) for a in args for x in marks) and self.v.callees(m, kk, op.g):
                return True
        return False

    def read_only(self, g: int) -> bool:
        m, f = self.v.p.funcs[g]
        cls = self.v.p.owner_class(g)
        for w in self.writer_funcs:
            wm, _wf = self.v.p.funcs[w]
            if wm is m and (cls is None or self.v.p.owner_class(w) == cls):
                return False
        return True


def find_loaders(v: Values, fx: Facts, graph: Graph, sites: list[Site]) -> list[Loader]:
    judge = Judge(v, fx, graph, sites)
    out: list[Loader] = []
    seen = set()
    for op in fx.loads:
        key = (op.m.rel, op.line)
        if key in seen:
            continue
        seen.add(key)
        o = judge.classify(op.g, op.m, op.m.s.calls[op.k][5], set(A.JSON_ERRORS), 0, None)
        f = v.p.funcs[op.g][1]
        called_at = []
        for p in f.params:
            if state_of(v.env.get(("L", op.g, p), A.E)):
                for g2, m2, k2 in lift(v, graph, op.g, frozenset({("p", op.g, p)}))[:4]:
                    called_at.append(f"{m2.rel}:{m2.s.calls[k2][0]}")
        back = judge.written_back(o) if o.kind == "reset" else None
        handler = f"{o.where} ({v.p.display(o.g)})" if o.where and o.g is not None else None
        out.append(Loader(
            op.m.rel, op.line, v.p.display(op.g), op.api, o.kind, o.logged, handler, o.what,
            judge.on_missing(op), back, judge.startup(op.g),
            (judge.read_only(op.g) or not judge.feeds(op)) and back is None,
            called_at))
    out.sort(key=lambda x: (x.file, x.line))
    return out
