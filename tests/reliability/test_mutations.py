"""The mutation check (tests/reliability/mutants.py): with the file fsync, the journal
fsync, the directory fsync, the seal's journal or folder fsync, O_EXCL, either checksum
verification or the lock removed, at
least one reliability test fails. Mutants run two at a time in temporary copies."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.reliability.figures import publish
from tests.reliability.mutants import MUTANTS, run

pytestmark = [pytest.mark.skipif(os.environ.get("STATETUI_MUTANT") is not None, reason="not inside a mutant"),
              pytest.mark.xdist_group("mutants")]  # all seven from one run of the module fixture


@pytest.fixture(scope="module")
def results():
    with tempfile.TemporaryDirectory(prefix="statetui-mutants-") as tmp:
        roots = [Path(tmp) / f"m{i}" for i in range(len(MUTANTS))]
        for r in roots:
            r.mkdir()
        with ThreadPoolExecutor(max_workers=2) as pool:
            out = list(pool.map(run, MUTANTS, roots))
    publish("mutations", {"mutants": len(out), "killed": sum(r.killed for r in out),
                          "by": {r.mutant.name: {"failed": r.failed_tests[:1], "saw": r.reason} for r in out}})
    return {r.mutant.name: r for r in out}


@pytest.mark.parametrize("name", [m.name for m in MUTANTS])
def test_mutant_is_caught(results, name):
    r = results[name]
    assert r.killed, (f"mutant survived: {name} (pytest exit {r.returncode}; the tests it should fail passed)\n"
                      + r.output[-3000:])
