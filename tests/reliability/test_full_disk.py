"""A real full disk: a 64 KB tmpfs mounted by the test (CI runs as root; skipped with the
reason where mounting is not permitted), filled to the last byte. A save, a transaction, a
backup and a restore each fail with a typed one-line error and leave the previous state,
journal and backups intact. Then the disk is left with 0-40 KB free in 4 KB steps, so
each call runs out of space at a different point (the temp file, the backup, the journal
line): whatever succeeds or fails, the file loads as the old or the new state, and once
space is freed the store carries on."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from statetui.core.errors import StatetuiError
from statetui.core.journal import landed
from statetui.core.store import StateStore
from statetui.testing.states import realistic_state
from tests.reliability.figures import publish
from tests.reliability.journalcheck import journal_problems

NAME = "trading_state.json"


@pytest.fixture
def tiny_disk():
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); the suite is not running as root")
    d = tempfile.mkdtemp(prefix="statetui-full-disk-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", d],
                          capture_output=True, text=True)
    if done.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield Path(d)
    finally:
        # The store keeps its lock file open for the life of the process: detach lazily when
        # a plain umount finds the file system busy (it goes away when the descriptor does).
        if subprocess.run(["umount", d], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", d], check=True)
        os.rmdir(d)


def fill(disk: Path) -> Path:
    """Write a filler file until the file system says ENOSPC."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 512)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    finally:
        os.close(fd)
    return filler


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def snapshot(store: StateStore) -> tuple:
    # The journal's landed entries: the write-ahead journal may gain an entry for the failed
    # write and its aborted marker (or a torn line the next append cuts off), never a write
    # that looks landed.
    file_sha = sha(store.path)
    return (file_sha, [e["generation"] for e in landed(store.journal.scan().entries, file_sha)],
            sorted(b.name for b in store.backups.list(verify=False)))


def small_state() -> dict:
    doc = realistic_state(4, positions=2, trades=3, days=2)  # ~4 KB: room for a few copies on 64 KB
    doc["total_trades"] = 0
    return doc


def test_full_disk_fails_each_call_cleanly_and_keeps_the_previous_state(tiny_disk):
    store = StateStore(tiny_disk / "state" / NAME, auto_backup_interval=None)
    store.init(small_state())
    good = store.backup(reason="before the disk filled")
    fill(tiny_disk)
    before = snapshot(store)
    state = store.load()
    state.total_trades += 1

    def txn():
        with store.transaction(reason="full disk") as s:
            s.total_trades += 1

    calls = {"save": lambda: store.save(state, reason="full disk"), "transaction": txn,
             "save(backup=True)": lambda: store.save(state, reason="full disk", backup=True),
             "backup": lambda: store.backup(reason="full disk"), "restore": lambda: store.restore(good.name)}
    outcomes = {}
    for name, call in calls.items():
        with pytest.raises(StatetuiError) as info:
            call()
        msg = str(info.value)
        outcomes[name] = type(info.value).__name__
        assert "\n" not in msg and str(tiny_disk) in msg, f"{name}: {msg!r}"
        assert "No space left" in msg, f"{name}: the cause is not named: {msg!r}"
        assert snapshot(store) == before, f"{name} changed the state, journal or backups on a full disk"
        assert store.load().total_trades == 0
        assert not store.stray_temp_files(), f"{name} left a temp file"
        hidden = [n for n in os.listdir(store.backups.dir) if n.startswith(".")]
        assert not hidden, f"{name} left a temp file in backups/: {hidden}"
    (tiny_disk / "filler").unlink()
    state = store.load()
    state.total_trades += 1
    assert store.save(state, reason="space freed").changed
    publish("full_disk", {"disk": "tmpfs 64 KB", "calls_refused": outcomes})


def test_nearly_full_disk_at_every_4k_step(tiny_disk):
    store = StateStore(tiny_disk / "state" / NAME, auto_backup_interval=None)
    store.init(small_state())
    store.backup(reason="first")
    ok = failed = 0
    for free_kb in range(0, 44, 4):
        for call in ("save", "save(backup=True)", "backup", "restore"):
            filler = fill(tiny_disk)
            with open(filler, "r+b") as f:
                f.truncate(max(0, filler.stat().st_size - free_kb * 1024))
            old = sha(store.path)
            state = store.load()
            state.total_trades += 1
            try:
                if call == "save":
                    store.save(state, reason=f"{free_kb} KB free")
                elif call == "save(backup=True)":
                    store.save(state, reason=f"{free_kb} KB free", backup=True)
                elif call == "backup":
                    store.backup(reason="nearly full")
                else:
                    oldest = [b for b in store.backups.list(verify=False) if b.kind == "statetui"][-1]
                    store.restore(oldest.name)
                ok += 1
                error = None
            except StatetuiError as exc:
                failed += 1
                error = exc
            where = f"{call} with {free_kb} KB free"
            now = sha(store.path)
            loaded = store.load()  # loads, always
            if error is not None and now != old:
                assert "written" in str(error), f"{where}: the file changed but the error does not say so: {error}"
            bad = [b.name for b in store.backups.list(verify=True) if b.kind == "statetui" and b.checksum != "ok"]
            assert not bad, f"{where}: backups that do not verify: {bad}"
            bad_journal = [p for p in journal_problems(store) if "unreadable" not in p]
            assert not bad_journal, f"{where}: {bad_journal}"
            assert loaded.total_trades >= 0
            filler.unlink()
            # Keep the disk from filling with our own backups: the newest two stay.
            store.backups.prune(keep_days=0, keep_min=2)
            if store.stray_temp_files():
                store.save(store.load(), reason="tidy")  # a save removes strays
    publish("full_disk_sweep", {"free_kb": "0..40 step 4", "calls": ok + failed, "succeeded": ok, "refused": failed})
    assert failed > 0 and ok > 0, "the sweep never hit the edge of the disk"
