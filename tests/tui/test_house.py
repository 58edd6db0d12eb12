"""The console's own house: no import cycles in statetui/tui/ (counting imports inside
functions too: they are dependencies all the same), and screens that know neither the
app nor each other (they read the shared context and post messages)."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "statetui" / "tui"


def module_name(path: Path) -> str:
    rel = path.relative_to(TUI.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def tui_modules(root: Path = TUI) -> dict[str, Path]:
    return {module_name(p): p for p in root.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """statetui.tui modules this file imports, anywhere in it (`from pkg import mod` counts
    as importing pkg.mod when that is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in out if n in known}


def graph(root: Path = TUI) -> dict[str, set[str]]:
    mods = tui_modules(root)
    return {name: imports_of(path, set(mods)) - {name} for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_in_the_console():
    g = graph()
    assert len(g) > 20 and "statetui.tui.console" in g  # the walk is real
    assert cycles(g) == []


def test_the_cycle_detector_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_screens_import_neither_the_app_nor_each_other():
    g = graph()
    screens = {n for n in g if n.startswith("statetui.tui.screens.")}
    assert {"statetui.tui.screens.dashboard", "statetui.tui.screens.audit", "statetui.tui.screens.backups"} <= screens
    shared = {"statetui.tui.screens", "statetui.tui.screens.base", "statetui.tui.screens.table"}
    for name in sorted(screens):
        bad = {m for m in g[name] if m in ("statetui.tui.console", "statetui.tui.app", "statetui.tui.commands")
               or (m.startswith("statetui.tui.screens") and m not in shared)}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_audit_and_backups_share_one_table_and_detail_base():
    from statetui.tui.screens.audit import AuditScreen
    from statetui.tui.screens.backups import BackupsScreen
    from statetui.tui.screens.table import TableScreen
    from statetui.tui.screens.journal import JournalScreen

    for cls in (AuditScreen, BackupsScreen, JournalScreen):
        assert issubclass(cls, TableScreen) and "compose" not in cls.__dict__, cls
