"""The mutation check: prove the tests bite. Each mutant removes one protection from a
copy of the core (a textual edit, so nothing is monkeypatched) and runs the tests that
must catch it; a mutant survives when they still pass, and that fails the check.

Run: `python -m pytest tests/reliability/test_mutations.py` (part of CI), or
`python scripts/reliability.py` (which runs it as part of the suite)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to the repository
    old: str  # must occur exactly once
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant("file fsync removed (durable_replace)", "statetui/core/fsio.py",
           "            ops.fsync(fd)\n", "            pass  # MUTANT: no fsync\n",
           ("tests/reliability/test_powerloss.py",)),
    Mutant("journal fsync removed", "statetui/core/journal.py",
           "            self.ops.fsync(fd)\n", "            pass  # MUTANT: no fsync\n",
           ("tests/reliability/test_powerloss.py",)),
    Mutant("directory fsync removed (durable_replace)", "statetui/core/fsio.py",
           "        ops.fsync_dir(str(path.parent))\n", "        pass  # MUTANT: no directory fsync\n",
           ("tests/reliability/test_powerloss.py",)),
    # The seal (statetui.core.rotation): the random power-loss sequences cannot tell these two
    # (appends are already synced; the index's write syncs the folder): a focused test can.
    Mutant("seal fsync removed (rotation)", "statetui/core/rotation.py",
           "        ops.fsync(fd)\n", "        pass  # MUTANT: no fsync\n",
           ("tests/reliability/test_seal_durability.py",)),
    Mutant("seal folder fsync removed (rotation)", "statetui/core/rotation.py",
           "    ops.fsync_dir(str(journal.path.parent))\n", "    pass  # MUTANT: no folder fsync\n",
           ("tests/reliability/test_seal_durability.py",)),
    Mutant("O_EXCL removed (temp file)", "statetui/core/fsio.py",
           "os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW", "os.O_WRONLY | os.O_CREAT | O_NOFOLLOW",
           ("tests/reliability/test_hostile.py",)),
    Mutant("checksum verification removed (backup listing)", "statetui/core/backups.py",
           'info.checksum = "ok" if info.sha256.startswith(info.expected) else "bad"', 'info.checksum = "ok"',
           ("tests/reliability/test_bitrot.py",)),
    Mutant("checksum verification removed (restore)", "statetui/core/store_recovery.py",
           "if info.expected and not sha.startswith(info.expected) and not allow_bad_checksum:", "if False:",
           ("tests/reliability/test_bitrot.py",)),
    Mutant("lock removed", "statetui/core/store.py",
           "self._lock.acquire(timeout=self.lock_timeout if timeout is None else timeout)", "pass  # MUTANT: no lock",
           ("tests/reliability/test_concurrency_readers.py",)),
)

COPY = ("pyproject.toml", "statetui", "tests/__init__.py", "tests/conftest.py", "tests/store_results.py",
        "tests/reliability")


@dataclass
class Result:
    mutant: Mutant
    returncode: int
    failed_tests: list[str]
    output: str

    @property
    def reason(self) -> str:
        """The first assertion line of the failure: what the tests saw."""
        for line in self.output.splitlines():
            if line.startswith("E ") and line[1:].strip() and "problem(s)" not in line and "violation(s)" not in line:
                return line[1:].strip()[:200]
        return ""

    @property
    def killed(self) -> bool:
        # pytest exits 1 when tests failed; anything else (0 passed, 2+ errors) is not a kill.
        return self.returncode == 1 and bool(self.failed_tests)


def make_copy(root: Path) -> Path:
    dest = root / "repo"
    for rel in COPY:
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=shutil.ignore_patterns("__pycache__", ".results"))
        else:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def run(mutant: Mutant, root: Path, timeout: float = 600) -> Result:
    dest = make_copy(root)
    target = dest / mutant.file
    text = target.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise AssertionError(f"mutant {mutant.name!r}: the code it removes was found {count} times in "
                             f"{mutant.file} (the core changed: update tests/reliability/mutants.py)")
    target.write_text(text.replace(mutant.old, mutant.new))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    env.update(STATETUI_MUTANT=mutant.name, STATETUI_EXPECT_ROOT=str(dest), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(dest))
    # One process (no xdist workers: the mutants already run two at a time); -o addopts= drops
    # the project's `-n`, -rf keeps the FAILED lines read below.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-o", "addopts=", "-p", "no:xdist",
                           "-p", "no:cacheprovider", "-p", "no:randomly", *mutant.tests],
                          cwd=dest, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in out.splitlines() if line.startswith("FAILED ")]
    return Result(mutant, proc.returncode, failed, out)
