"""The call graph, once values are resolved (so `self.store.save()` has its callee), and
what a program reaches from its entry points (module-level code of everything it imports
included)."""

from __future__ import annotations

from collections import deque

from statetui.audit.review.program import Module
from statetui.audit.review.values import Values


class Graph:
    def __init__(self, v: Values) -> None:
        self.v = v
        self.callers: dict[int, list[tuple[Module, int, int, str]]] = {}  # callee -> (module, call, caller, how)
        self.callees: dict[int, set[int]] = {}
        self.calls_of: dict[int, list[int]] = {}  # function -> indexes of the calls it makes
        for m in v.p.mods:
            off = m.offset
            for k, c in enumerate(m.s.calls):
                g = off + c[1]
                self.calls_of.setdefault(g, []).append(k)
                for how, x, _ in v.callees(m, k, g):
                    if x < 0:
                        continue
                    self.callers.setdefault(x, []).append((m, k, g, how))
                    self.callees.setdefault(g, set()).add(x)
        self._imports: dict[int, set[int]] = {}

    def ancestors(self, targets: set[int], depth: int) -> dict[int, int]:
        """Functions that reach one of `targets` within `depth` calls: function -> hops."""
        out = {t: 0 for t in targets}
        frontier = list(targets)
        for d in range(1, depth + 1):
            nxt = []
            for t in frontier:
                for _m, _k, g, _how in self.callers.get(t, ()):
                    if g not in out:
                        out[g] = d
                        nxt.append(g)
            frontier = nxt
        return out

    def _module_imports(self, mi: int) -> set[int]:
        hit = self._imports.get(mi)
        if hit is None:
            m = self.v.p.mods[mi]
            hit = set()
            for alias in m.s.imports:
                r = self.v.p.resolve(m, alias)
                if r is not None:
                    target = r[1] if r[0] in ("module", "class", "global") else self.v.p.funcs[r[1]][0].index
                    if target != mi:
                        hit.add(self.v.p.mods[target].offset)
            self._imports[mi] = hit
        return hit

    def reach(self, roots: set[int]) -> set[int]:
        """Every function a program may run from `roots`: calls, and the module-level code
        of every module it imports (importing runs it)."""
        seen = set(roots)
        queue = deque(roots)
        funcs = self.v.p.funcs
        while queue:
            g = queue.popleft()
            m = funcs[g][0]
            nxt = set(self.callees.get(g, ()))
            nxt.add(m.offset)
            if g == m.offset:
                nxt |= self._module_imports(m.index)
            for x in nxt:
                if x not in seen:
                    seen.add(x)
                    queue.append(x)
        return seen
