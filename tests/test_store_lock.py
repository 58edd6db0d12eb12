"""The store's lock (statetui.core.lockfile) against real filelock.FileLock users: in other
processes, in other threads of this process, after the lock file was replaced, and across
fork(). Each test holds the lock on one side and shows the other side cannot take it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from filelock import FileLock, Timeout

from statetui.core.errors import LockTimeoutError
from statetui.core.store import StateStore
from statetui.testing.states import realistic_state

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX flock and fork")

HOLD = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""

PROBE = """
import sys
from filelock import FileLock, Timeout
try:
    FileLock(sys.argv[1]).acquire(timeout=0.2)
    print("acquired")
except Timeout:
    print("busy")
"""


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "trading_state.json", auto_backup_interval=None, lock_timeout=0.3)
    doc = realistic_state(5)
    doc["total_trades"] = 0
    s.init(doc)
    return s


def bump(store: StateStore, reason: str = "bump"):
    state = store.load()
    state.total_trades += 1
    return store.save(state, reason=reason)


def probe(lock_path) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, str(lock_path)], capture_output=True, text=True,
                          timeout=60).stdout.strip()


def test_a_filelock_in_another_process_excludes_the_store(store):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store.lock_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = store.path.read_bytes()
        with pytest.raises(LockTimeoutError, match="lock held"):
            bump(store)
        assert store.path.read_bytes() == before
    finally:
        holder.communicate("go\n", timeout=60)
    assert bump(store).changed  # free again


def test_the_store_excludes_a_filelock_in_another_process_and_thread(store):
    assert probe(store.lock_path) == "acquired"
    with store.transaction(reason="held") as state:
        assert probe(store.lock_path) == "busy"
        got = []
        t = threading.Thread(target=lambda: got.append(_try_filelock(store.lock_path)))
        t.start()
        t.join()
        assert got == ["busy"]
        state.total_trades += 1
    assert probe(store.lock_path) == "acquired"
    assert _try_filelock(store.lock_path) == "acquired"


def _try_filelock(path) -> str:
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0.2)
    except Timeout:
        return "busy"
    lock.release()
    return "acquired"


def test_reentrant_in_one_thread_even_across_store_objects(store):
    other = StateStore(store.path, auto_backup_interval=None, lock_timeout=0.3)
    with store.transaction(reason="outer") as state:
        state.total_trades += 1
        assert bump(store, "inner, same store").changed
        assert bump(other, "inner, another store of the same file").changed
    # No deadlock; the outer save went over the inner ones (its state was loaded first).
    entries = store.journal.scan().entries
    assert [e["reason"] for e in entries[1:]] == ["inner, same store", "inner, another store of the same file", "outer"]
    assert entries[-1].get("stale_base") and store.load().total_trades == 1


def test_threads_exclude_each_other(store):
    store.lock_timeout = 60
    n, each = 4, 25

    def work():
        s = StateStore(store.path, auto_backup_interval=None)
        for _ in range(each):
            with s.transaction(reason="thread") as state:
                state.total_trades += 1

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.load().total_trades == n * each
    gens = [e["generation"] for e in store.journal.scan().entries]
    assert gens == list(range(1, n * each + 2))


def test_a_replaced_lock_file_is_the_one_locked(store):
    assert bump(store).changed  # the store now keeps a descriptor on the first lock file
    os.unlink(store.lock_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store.lock_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # on a new file at the same path
        with pytest.raises(LockTimeoutError):
            bump(store)
    finally:
        holder.communicate("go\n", timeout=60)
    assert bump(store).changed
    with store.transaction(reason="held"):
        assert probe(store.lock_path) == "busy"


def test_a_forked_child_does_not_share_the_parents_lock(store):
    assert bump(store).changed  # descriptor open before the fork
    r, w = os.pipe()
    with store.transaction(reason="parent holds"):
        pid = os.fork()
        if pid == 0:  # the child: its own descriptor, so the parent's flock excludes it
            code = 1
            try:
                try:
                    bump(store, "child")
                    code = 2  # it got in while the parent held the lock
                except LockTimeoutError:
                    code = 0
            finally:
                os.write(w, b"x")
                os._exit(code)
        os.read(r, 1)
        _, status = os.waitpid(pid, 0)
    os.close(r)
    os.close(w)
    assert os.waitstatus_to_exitcode(status) == 0
    assert bump(store, "parent after the child").changed


def test_a_lock_held_too_long_times_out_with_a_typed_error(store):
    started = threading.Event()
    release = threading.Event()

    def hold():
        s = StateStore(store.path, auto_backup_interval=None)
        with s.locked():
            started.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    started.wait(30)
    try:
        with pytest.raises(LockTimeoutError, match=str(store.lock_path)):
            bump(store)
    finally:
        release.set()
        t.join()
    before = time.monotonic()
    assert bump(store).changed and time.monotonic() - before < 30
