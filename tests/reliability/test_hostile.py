"""Hostile files and permissions, as an unprivileged user (`nobody` when the suite runs as
root; see statetui.testing.asuser): symlinks, FIFOs and folders planted at the state, temp
(at the exact name, through the seam: a lost race), lock, journal, backups-folder, backup
and pid paths; a pid file holding garbage, a dead pid, a live unrelated pid; a read-only
state folder and an unreadable state file. Each is refused with a typed one-line error or
reported clearly, nothing hangs, and nothing is ever written through a link: every victim
a link points at is writable by the same user, so only the store's refusal protects it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from statetui.testing.asuser import unprivileged
from tests.reliability.unpriv import run_unprivileged
from tests.reliability.figures import publish

# (case prefix, op) -> "error" | "ok"
REFUSED = {
    "state": ("load", "load(recover=True)", "save", "backup", "init"),
    "temp": ("save",),
    "lock": ("save", "backup", "transaction"),
    "journal": ("save",),
    "backups-dir-symlink": ("backup", "save(backup=True)"),
    "backup-name": ("restore",),
    "pid-symlink": ("PidLock.acquire",), "pid-fifo": ("PidLock.acquire",), "pid-dir": ("PidLock.acquire",),
    "perm-readonly-dir": ("save",),
    "perm-unreadable-file": ("load", "load(recover=True)", "backup"),
}


@pytest.fixture(scope="module")
def results():
    user = unprivileged()
    root = tempfile.mkdtemp(prefix="statetui-hostile-")
    os.chmod(root, 0o755)
    sandbox = os.path.join(root, "sandbox")
    os.mkdir(sandbox)
    os.chown(sandbox, user.uid, user.gid)
    try:
        return run_unprivileged("tests.reliability.hostile_child", "main", sandbox, user=user)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _refused(case: str, op: str) -> bool:
    for prefix, ops in REFUSED.items():
        if case.startswith(prefix) and op in ops:
            return True
    return False


def test_every_hostile_case_is_refused_or_reported_and_nothing_is_written_through_a_link(results):
    problems = []
    for r in results:
        where = f"{r['case']} / {r['op']}"
        if "raw" in r:
            problems.append(f"{where}: raw {r['raw']}: {r['message']}")
            continue
        if r["victims_changed"]:
            problems.append(f"{where}: written through a link: {r['victims_changed']} changed")
        if r.get("state_changed"):
            problems.append(f"{where}: the state file changed")
        if _refused(r["case"], r["op"]):
            if "error" not in r:
                problems.append(f"{where}: not refused (returned {r['ok']!r})")
            elif "\n" in r["message"] or "/" not in r["message"]:
                problems.append(f"{where}: error is not one line naming the file: {r['message']!r}")
        elif "error" in r:
            problems.append(f"{where}: refused ({r['error']}: {r['message']})")
    publish("hostile", {"cases": len({r["case"] for r in results}), "operations": len(results),
                        "refused": sum("error" in r for r in results), "problems": len(problems)})
    assert not problems, "\n".join(problems)


def _one(results, case, op):
    return next(r for r in results if r["case"] == case and r["op"] == op)


def test_what_is_reported_for_each_case(results):
    # Non-regular state: status() describes it instead of failing.
    for kind in ("symlink", "fifo", "dangling-symlink", "dir"):
        assert _one(results, f"state-{kind}", "status")["ok"] == "not-regular"
    assert _one(results, "perm-unreadable-file", "status")["ok"] == "permission"
    assert _one(results, "perm-unreadable-file", "load")["error"] == "StatePermissionError"
    # Never "recovered" from a backup over a file we merely cannot read.
    assert _one(results, "perm-unreadable-file", "load(recover=True)")["error"] == "StatePermissionError"
    # A backup name taken by a planted link: the backup went to another name, the link was
    # never listed, and restore refuses it by path.
    for kind in ("symlink", "fifo"):
        assert _one(results, f"backup-name-{kind}", "backup")["ok"] is True
        assert _one(results, f"backup-name-{kind}", "list")["ok"] == []
        assert _one(results, f"backup-name-{kind}", "restore latest")["ok"] is True
    # The pid file.
    for kind, word in (("symlink", "symlink"), ("fifo", "FIFO"), ("dir", "directory")):
        st = _one(results, f"pid-{kind}", "inspect")["ok"]
        assert st["regular"] is False and not st["running"] and word in st["reason"], st
    g = _one(results, "pid-garbage", "inspect")["ok"]
    assert g["pid"] is None and g["stale"] and "not a pid" in g["reason"], g
    dead = _one(results, "pid-dead", "inspect")["ok"]
    assert dead["alive"] is False and dead["stale"] and "not running" in dead["reason"], dead
    reused = _one(results, "pid-reused", "inspect")["ok"]
    assert reused["alive"] and reused["pid_reused"] and reused["stale"] and not reused["running"], reused
    assert "reused" in reused["reason"]
    # A reused pid holds no lock: the bot may start (and rewrites the file).
    assert _one(results, "pid-reused", "PidLock.acquire")["ok"] is True
