"""Writers of the state file and how they write: in place, or atomically through a temp
file (+ fsync of the file, + fsync of the folder), the temp's name fixed or unique; and the
ways a sequence of writes goes wrong: unlink-then-write, one update split over two saves.

A write done in a generic helper (`atomic_write(path, data)`) is reported where the state
path is passed in: that is the code that writes the state; the helper is named as `via`."""

from __future__ import annotations

from dataclasses import dataclass

from statetui.audit.review import apis as A
from statetui.audit.review.graph import Graph
from statetui.audit.review.model import Hazard, OtherWriter, Writer
from statetui.audit.review.ops import Facts, Op, render
from statetui.audit.review.program import Module
from statetui.audit.review.values import Values, others, params_in, state_of


@dataclass
class Site:
    """A judged writer with what later stages need: where (function, call context) and
    the function that performs the write."""

    writer: Writer
    g: int  # the function reported
    m: Module
    ctx: int  # call context of the write (or of the call into the helper) in m
    op: Op
    helper: int | None  # the helper's function when the write is lifted to a call site


def _arg_for(call: tuple, params: list[str], npos: int, p: str, offset: int) -> tuple | None:
    for n, val in call[4]:
        if n == p:
            return val
    i = params.index(p) - offset if p in params else -1
    if 0 <= i < len(call[3]) and i + offset < npos and all(a[0] != "*" for a in call[3][: i + 1]):
        return call[3][i]
    return None


def lift(v: Values, graph: Graph, g: int, target: frozenset, depth: int = 0,
         seen: frozenset = frozenset()) -> list[tuple[int, Module, int]]:
    """Call sites that pass the state path into the parameter(s) `target` came from:
    [(caller, module, call index)]; [] when the path does not come in through a parameter."""
    ps = params_in(target, g)
    if not ps or depth > 4 or g in seen:
        return []
    f = v.p.funcs[g][1]
    out: list[tuple[int, Module, int]] = []
    for m2, k2, g2, how in graph.callers.get(g, ()):
        call = m2.s.calls[k2]
        off = 1 if how in ("bound", "init") else 0
        for p in ps:
            a = _arg_for(call, f.params, f.npos, p, off)
            if a is None:
                continue
            ak = v.kinds(a, m2, g2)
            if not state_of(ak):
                continue
            deeper = lift(v, graph, g2, ak, depth + 1, seen | {g}) if params_in(ak, g2) else []
            for site in deeper or [(g2, m2, k2)]:
                if site not in out:
                    out.append(site)
    return out


class Effective:
    """A function's fsyncs, folder fsyncs and temp writes, plus those of the functions it
    calls placed at the call's line."""

    def __init__(self, v: Values, fx: Facts, graph: Graph) -> None:
        self.v, self.fx, self.graph = v, fx, graph
        self.calls_in: dict[int, list[tuple[int, int]]] = {}  # caller -> [(line, callee)]
        for callee, sites in graph.callers.items():
            for m, k, g, _ in sites:
                self.calls_in.setdefault(g, []).append((m.s.calls[k][0], callee))
        self._memo: dict[int, tuple[list[int], list[int], list[int]]] = {}

    def of(self, g: int, stack: frozenset = frozenset()) -> tuple[list[int], list[int], list[int]]:
        hit = self._memo.get(g)
        if hit is not None:
            return hit
        fx = self.fx
        fs, ds, ts = list(fx.fsyncs.get(g, ())), list(fx.dirsyncs.get(g, ())), list(fx.temps.get(g, ()))
        if g not in stack and len(stack) < 6:
            for line, callee in self.calls_in.get(g, ()):
                if callee == g:
                    continue
                sf, sd, st = self.of(callee, stack | {g})
                if sf:
                    fs.append(line)
                if sd:
                    ds.append(line)
                if st:
                    ts.append(line)
        out = (fs, ds, ts)
        if not stack:
            self._memo[g] = out
        return out


def find_writers(v: Values, fx: Facts, graph: Graph) -> tuple[list[Site], list[Hazard], list[OtherWriter]]:
    eff = Effective(v, fx, graph)
    sites: list[Site] = []
    seen: set[tuple[str, int]] = set()
    for g, ops in list(fx.inplace.items()) + list(fx.renames.items()):
        for op in ops:
            for site in _sites_of(v, graph, eff, op):
                key = (site.writer.file, site.writer.line)
                if key not in seen:
                    seen.add(key)
                    sites.append(site)
    sites.sort(key=lambda s: (s.writer.file, s.writer.line))
    hazards = _unlink_then_write(v, fx, graph, sites) + _split_saves(v, fx, graph, sites)
    other = []
    for op in fx.other_writes:
        m, _ = v.p.funcs[op.g]
        other.append(OtherWriter(m.rel, op.line, v.p.display(op.g), ", ".join(others(op.target)[:3]), op.api))
    return sites, hazards, other


def _sites_of(v: Values, graph: Graph, eff: Effective, op: Op) -> list[Site]:
    rename = bool(op.source) or op.api in A.RENAME or op.api.startswith("Path.re") or op.api in A.ATOMIC_LIBS
    lifted = lift(v, graph, op.g, op.target)
    out = []
    for g_loc, m_loc, k_loc in lifted or [(op.g, op.m, op.k)]:
        call = m_loc.s.calls[k_loc]
        line = call[0]
        helper = op.g if lifted else None
        via = f"{v.p.display(op.g)} ({op.m.rel}:{op.line})" if helper is not None else None
        resolved = state_of(op.target if helper is None else v.kinds(
            _first_state_arg(v, m_loc, k_loc, g_loc), m_loc, g_loc)) != "H"
        w = Writer(m_loc.rel, line, v.p.display(g_loc), "in-place", op.api, via=via, resolved=resolved)
        if rename:
            _judge_atomic(v, eff, w, op, g_loc, m_loc, k_loc, line, helper)
        out.append(Site(w, g_loc, m_loc, call[5], op, helper))
    return out


def _first_state_arg(v: Values, m: Module, k: int, g: int) -> tuple | None:
    call = m.s.calls[k]
    for a in list(call[3]) + [x for _, x in call[4]]:
        if state_of(v.kinds(a, m, g)):
            return a
    return None


def _judge_atomic(v: Values, eff: Effective, w: Writer, op: Op, g_loc: int, m_loc: Module, k_loc: int,
                  line: int, helper: int | None) -> None:
    if op.api in A.ATOMIC_LIBS:  # the library does all of it: temp, fsync, rename, folder fsync
        w.kind, w.fsync_line, w.dir_fsync_line, w.temp_fixed = "atomic+fsync+dirsync", op.line, op.line, False
        return
    fs, ds, ts = eff.of(op.g)
    fsync = [x for x in fs if x <= op.line]
    dsync = [x for x in ds if x >= op.line]
    temps = [x for x in ts if x <= op.line]
    src_e = op.m.s.calls[op.k][3][0] if op.m.s.calls[op.k][3] else None
    if op.api.startswith("Path."):
        src_e = op.m.s.calls[op.k][2][1]
    src_k, src_m, src_g = op.source, op.m, op.g
    if helper is not None:
        lf, ld, lt = eff.of(g_loc)
        fsync += [x for x in lf if x <= line]
        dsync += [x for x in ld if x >= line]
        temps += [x for x in lt if x <= line]
        ps = params_in(op.source, op.g)
        if ps:  # the temp came in too: name it as the caller spells it
            f = v.p.funcs[op.g][1]
            call = m_loc.s.calls[k_loc]
            for how_site in v.callees(m_loc, k_loc, g_loc):
                if how_site[1] == op.g:
                    off = 1 if how_site[0] in ("bound", "init") else 0
                    a = _arg_for(call, f.params, f.npos, sorted(ps)[0], off)
                    if a is not None:
                        src_e, src_m, src_g = a, m_loc, g_loc
                        src_k = v.kinds(a, m_loc, g_loc)
                    break
    w.kind = "atomic" + ("+fsync" if fsync else "") + ("+dirsync" if fsync and dsync else "")
    if not fsync and dsync:
        w.kind = "atomic"
    w.fsync_line = max(fsync) if fsync else None
    w.dir_fsync_line = min(dsync) if dsync else None
    w.temp_line = min(temps) if temps else None
    w.temp = _spelled(src_e, src_m, src_g) if src_e is not None else None
    if A.U in src_k or (temps and not src_k & {A.T}):
        w.temp_fixed = False
    elif A.T in src_k:
        w.temp_fixed = True


def _spelled(e: tuple, m: Module, g: int) -> str:
    """A temp path as the code builds it: `tmp` shown as the f"{path}.tmp" assigned to it."""
    if e[0] == "n":
        fl = g - m.offset
        vals = [a[1] for a in m.s.assigns if a[3] is None and (a[0] == ("L", fl, e[1]) or a[0] == ("G", e[1]))]
        if len(vals) == 1:
            return render(vals[0], m)
    if e[0] == "a" and e[1] == ("n", "self"):
        vals = [a[1] for a in m.s.assigns if a[0][0] == "CA" and a[0][2] == e[2]]
        if len(vals) == 1:
            return render(vals[0], m)
    return render(e, m)


def _save_like(v: Values, fx: Facts, graph: Graph, sites: list[Site]) -> tuple[dict[int, list[int]], set[int]]:
    """Per function, the lines that write the state; and the functions that save it: the
    writers, and up to two calls above them when the call is neither in a loop nor in a
    loader (a loader that creates a missing file is a load, not a save)."""
    own: dict[int, list[int]] = {}
    for st in sites:
        own.setdefault(st.g, []).append(st.writer.line)
    direct = set(own) | {g for g, _l, _a, w in fx.store_uses if w}
    loaders = {op.g for op in fx.loads}
    out, frontier = set(direct), set(direct)
    for _ in range(2):
        nxt = set()
        for t in frontier:
            for m, k, g, _how in graph.callers.get(t, ()):
                if g in out or g in loaders or v.p.funcs[g][1].is_module:
                    continue
                if any(x[1] == -1 for x in m.s.ctxs[m.s.calls[k][5]][3]):
                    continue
                nxt.add(g)
        out |= nxt
        frontier = nxt
    return own, out


def _unlink_then_write(v: Values, fx: Facts, graph: Graph, sites: list[Site]) -> list[Hazard]:
    own, near = _save_like(v, fx, graph, sites)
    out = []
    for g, ops in fx.unlinks.items():
        m, _ = v.p.funcs[g]
        first = min(op.line for op in ops)
        later = [x for x in own.get(g, ()) if x > first]
        for k in graph.calls_of.get(g, ()):
            c = m.s.calls[k]
            if c[0] > first and any(x in near and x != g for _h, x, _e in v.callees(m, k, g)):
                later.append(c[0])
        if later:
            out.append(Hazard("unlink-then-write", m.rel, first, v.p.display(g),
                              f"deletes the state file (line {first}) before writing it again (line {min(later)})"))
    return out


def _split_saves(v: Values, fx: Facts, graph: Graph, sites: list[Site]) -> list[Hazard]:
    """Two saves one after the other in the same block (not in a loop, no branch between):
    one update split over two writes, so a crash between them keeps half of it."""
    own, near = _save_like(v, fx, graph, sites)
    candidates = set(own)
    for x in near:
        candidates |= {g for _m, _k, g, _h in graph.callers.get(x, ())}
    out = []
    for g in sorted(candidates):
        m, f = v.p.funcs[g]
        if f.is_module:
            continue
        by_path: dict[tuple, list[int]] = {}
        for k in graph.calls_of.get(g, ()):
            c = m.s.calls[k]
            path = m.s.ctxs[c[5]][3]
            if any(x[1] == -1 for x in path):
                continue
            if c[0] in own.get(g, ()) or any(x in near and x != g and h != "init"
                                             for h, x, _e in v.callees(m, k, g)):
                lines = by_path.setdefault(path, [])
                if c[0] not in lines:
                    lines.append(c[0])
        pair = next((sorted(ls)[:2] for ls in by_path.values() if len(ls) >= 2), None)
        if pair is not None:
            out.append(Hazard("split-save", m.rel, pair[0], v.p.display(g),
                              f"saves the state twice in one update (lines {pair[0]} and {pair[1]})"))
    return out
