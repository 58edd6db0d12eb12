"""What must hold: the core never imports Textual; fast paths never import web3."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "statetui"
HEADLESS = ["core", "audit", "repair", "cli", "store.py", "pidlock.py"]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", HEADLESS)
def test_core_never_imports_textual(part):
    root = PKG / part
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files
    for f in files:
        bad = {n for n in _imports(f) if n.split(".")[0] in ("textual", "rich")}
        if f.name == "console_verb.py":
            bad -= {"statetui.tui.app"}
        assert not bad, f"{f} imports {bad}"


def test_only_chain_code_names_web3():
    for f in PKG.rglob("*.py"):
        if "web3" in {n.split(".")[0] for n in _imports(f)}:
            assert f.parent.name in ("demo", "testing"), f"{f} imports web3"


@pytest.mark.parametrize("argv", [
    ["show", "--json"],
    ["audit", "--local", "--format", "json"],
    ["backups"],
])
def test_fast_paths_do_not_import_web3_or_textual(tmp_path, argv):
    from statetui.testing.scenarios import healthy

    sc = healthy(tmp_path)
    # -X importtime lists every module the real entry point imported, whatever way it exits.
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "statetui", *argv, "--state", str(sc.state),
                          "--pid-file", str(tmp_path / "p")], capture_output=True, text=True, timeout=60)
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "statetui.core.store" in imported, res.stderr[-500:]  # the listing is real
    bad = sorted(m for m in imported if m.split(".")[0] in ("web3", "textual", "eth_account"))
    assert bad == []


def test_network_checks_are_declared_where_the_cli_can_see_them_unimported():
    from statetui.audit.base import REGISTRY
    from statetui.audit.checks import MODULES, NETWORK, load

    load()
    assert {i for i in MODULES if not REGISTRY[i].local} == NETWORK
