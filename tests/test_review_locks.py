"""Locks judged by coverage: which writers hold which lock, in-process locks (threading,
asyncio) against locks across processes, locks that protect no writer, and the
single-instance guards with the entry points that bypass them
(`find_single_instance_guards`, used by the process-safety check)."""

from __future__ import annotations

from pathlib import Path

from statetui.audit.review.locks import find_single_instance_guards
from tests.review_bots import found, only, review_bot, run, write_bot


def test_which_writer_holds_which_lock(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import asyncio, fcntl, json, threading
        from filelock import FileLock
        STATE = "bot_state.json"
        FLOCK = FileLock(STATE + ".lock")
        MUTEX = threading.Lock()

        def save_file_locked(s):
            with FLOCK:
                json.dump(s, open(STATE, "w"))

        def save_thread_locked(s):
            with MUTEX:
                json.dump(s, open(STATE, "w"))

        def save_flocked(s):
            with open("bot.lock", "w") as lf:
                fcntl.flock(lf, fcntl.LOCK_EX)
                json.dump(s, open(STATE, "w"))

        def _write(s):
            json.dump(s, open(STATE, "w"))

        def save_via_caller(s):
            with FLOCK:
                _write(s)

        class Store:
            def __init__(self):
                self._lock = asyncio.Lock()
            async def save(self, s):
                async with self._lock:
                    json.dump(s, open(STATE, "w"))
        '''})
    got = {w.function: (w.lock.scope, w.lock.api) if w.lock else None for w in r.writers}
    assert got == {
        "save_file_locked": ("file", "with FLOCK"),
        "save_thread_locked": ("thread", "with MUTEX"),
        "save_flocked": ("file", "fcntl.flock"),
        "_write": ("file", "with FLOCK"),  # every call of _write holds the lock
        "Store.save": ("async", "with self._lock"),
    }
    assert r.unused_locks == []


def test_in_process_locks_and_locks_that_cover_no_writer(tmp_path):
    write_bot(tmp_path, {"store.py": '''
        import asyncio, json, threading
        class Store:
            def __init__(self):
                self._lock = asyncio.Lock()
                self._mutex = threading.RLock()
                self.data = {}
            async def update(self, k, v):
                async with self._lock:
                    self.data[k] = v
            def save(self):
                with self._mutex:
                    json.dump(self.data, open("bot_state.json", "w"))
        '''})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    info = found(r, "INFO")
    held = only(info, lambda i: "a thread lock" in i[2])
    assert held[1] == 11 and "not other processes" in held[2]
    unused = only(info, lambda i: "protects no write" in i[2])
    assert unused[1] == 4 and unused[2].startswith("asyncio.Lock (store.py:4, async lock) protects no write of the state")
    assert any(w[2].startswith("No file locking") for w in found(r, "WARNING"))


def test_a_writer_outside_the_lock_others_take(tmp_path):
    write_bot(tmp_path, {"bot.py": '''
        import json
        from filelock import FileLock
        LOCK = FileLock("bot.lock")
        def save(s):
            with LOCK:
                json.dump(s, open("bot_state.json", "w"))
        def emergency_reset():
            json.dump({}, open("bot_state.json", "w"))
        '''})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    warn = only(found(r, "WARNING"), lambda w: "without the lock" in w[2])
    assert warn[1] == 8 and "save holds (bot.py:5)" in warn[2]
    cover = only(found(r, "INFO"), lambda i: "covers" in i[2])
    assert cover[2] == "with LOCK (bot.py:5, file lock) covers 1 of 2 writers of the state: save"


GUARDED = {
    "bot.py": '''
        import fcntl, json, os, sys
        STATE = "bot_state.json"

        def only_one():
            fd = os.open("/run/bot.lock", os.O_CREAT | os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                sys.exit("already running")
            return fd

        def save(s):
            json.dump(s, open(STATE, "w"))

        if __name__ == "__main__":
            guard = only_one()
            save({})
        ''',
    "admin.py": '''
        from bot import save
        if __name__ == "__main__":
            save({"halted": False})
        ''',
    "report.py": '''
        import json
        from bot import STATE
        if __name__ == "__main__":
            print(json.load(open(STATE)))
        ''',
    "pidfile.py": '''
        import os
        def write_pid():
            with open("/run/bot.pid", "w") as f:
                f.write(str(os.getpid()))
        def claim():
            return os.open("/run/other.pid", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        ''',
    "deploy/bot.service": "[Service]\nExecStart=/opt/venv/bin/python /opt/bot/bot.py\n",
    "deploy/worker@.service": "[Service]\nExecStart=/opt/venv/bin/python /opt/bot/bot.py %i\n",
}


def test_single_instance_guards_and_who_bypasses_them(tmp_path):
    write_bot(tmp_path, GUARDED)
    guards = {(g.file, g.kind): g for g in find_single_instance_guards(tmp_path, Path("bot_state.json"))}
    assert set(guards) == {("bot.py", "flock"), ("pidfile.py", "pid file"), ("pidfile.py", "O_EXCL pid file"),
                           ("deploy/bot.service", "systemd")}  # a template unit (worker@) guards nothing
    flock = guards[("bot.py", "flock")]
    assert (flock.line, flock.function, flock.protects, flock.bypassed_by) == (7, "only_one", ["bot.py"], ["admin.py"])
    assert flock.message.startswith("bot.py:7: single-instance guard (flock")
    assert "admin.py writes the state without taking it" in flock.message
    unit = guards[("deploy/bot.service", "systemd")]
    assert (unit.line, unit.protects, unit.bypassed_by) == (2, ["bot.py"], ["admin.py"])
    assert "systemd runs one instance of this unit" in unit.message
    pid = guards[("pidfile.py", "pid file")]
    assert pid.line == 3 and "is not a guard" in pid.message
    assert guards[("pidfile.py", "O_EXCL pid file")].line == 6
    assert all(g.to_dict()["file"] == g.file for g in guards.values())


def test_guards_without_a_state_path_cannot_tell_who_bypasses(tmp_path):
    write_bot(tmp_path, GUARDED)
    guards = find_single_instance_guards(tmp_path)
    assert {g.kind for g in guards} == {"flock", "pid file", "O_EXCL pid file", "systemd"}
    assert all(g.bypassed_by is None for g in guards)


def test_find_single_instance_guards_never_raises(tmp_path):
    assert find_single_instance_guards(tmp_path / "missing") == []
    (tmp_path / "bad.py").write_bytes(b"\x00\xff def (")
    assert find_single_instance_guards(tmp_path, Path("s.json")) == []
