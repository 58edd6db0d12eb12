"""Hostile-file cases, run by tests/reliability/test_hostile.py as an unprivileged user
(tests/reliability/unpriv.py: the whole run happens once as root in a scratch folder, so
every module is loaded, then privileges are dropped for good and it runs for real).

Every case builds its own live state, plants something hostile, runs the store (or the pid
lock) against it and reports what happened and whether the victim - a file or folder the
planted link points at, writable by this same user, so only the store's refusal protects
it - changed."""

from __future__ import annotations

import hashlib as _hashlib
import json
import os
import signal as _signal
import stat as _stat
import subprocess as _subprocess
import time as _time

from statetui.core.errors import StatetuiError
from statetui.core.jsondoc import parse_document
from statetui.core.model import TradingState
from statetui.core.pidlock import PidLock, inspect_pidlock
from statetui.core.store import StateStore
from statetui.testing.faults import NthOpFaults
from statetui.testing.states import encode, realistic_state

NAME = "trading_state.json"


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("no answer in 10 s (blocked on a FIFO?)")


def outcome(fn):
    """A value, a typed error, or a raw exception (a finding)."""
    try:
        return {"ok": fn()}
    except StatetuiError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    except BaseException as exc:
        return {"raw": type(exc).__name__, "message": str(exc)}


def main(ROOT: str) -> list:
    RESULTS = []
    _signal.signal(_signal.SIGALRM, _alarm)

    def fp(p):
        """Content and metadata: proves nothing was written through a link to it."""
        if not os.path.lexists(p):
            return "absent"
        st = os.lstat(p)
        if _stat.S_ISDIR(st.st_mode):
            return ["dir", sorted(os.listdir(p)), st.st_mtime_ns]
        data = None
        if _stat.S_ISREG(st.st_mode):
            try:
                with open(p, "rb") as f:
                    data = _hashlib.sha256(f.read()).hexdigest()
            except PermissionError:
                data = "unreadable"
        return [_stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, data]


    def live(case):
        d = os.path.join(ROOT, case)
        os.mkdir(d)
        path = os.path.join(d, NAME)
        store = StateStore(path)
        store.init(realistic_state(3))
        with open(path, "wb") as f:
            f.write(encode(realistic_state(3), "indent4"))
        st = store.load()
        st.total_trades += 1
        store.save(st, reason="second write (first backup)")
        victim = os.path.join(d, "victim.json")
        with open(victim, "wb") as f:
            f.write(encode(realistic_state(99), "indent2"))
        return d, path, store, victim


    def changed(store):
        st = store.load() if os.path.isfile(store.path) and not os.path.islink(store.path) else None
        if st is None:
            st = TradingState.from_document(parse_document(encode(realistic_state(3)), "x"), "x")
        st.total_trades += 7
        return st


    def report(case, target, op, fn, watch, state_path=None):
        before = {p: fp(p) for p in watch}
        state_before = fp(state_path) if state_path else None
        t0 = _time.monotonic()
        _signal.alarm(10)  # nothing here may hang
        try:
            res = outcome(fn)
        finally:
            _signal.alarm(0)
        res.update(case=case, target=target, op=op, seconds=round(_time.monotonic() - t0, 3),
                   victims_changed=[os.path.basename(p) for p in watch if fp(p) != before[p]])
        if state_path:
            res["state_changed"] = fp(state_path) != state_before
        RESULTS.append(res)


    def plant(kind, at, victim):
        if kind == "symlink":
            os.symlink(victim, at)
        elif kind == "fifo":
            os.mkfifo(at)
        elif kind == "hardlink":
            os.link(victim, at)
        elif kind == "dir":
            os.mkdir(at)


    # --- the state path ---------------------------------------------------------------------
    for kind in ("symlink", "fifo", "dangling-symlink", "dir"):
        d, path, store, victim = live(f"state-{kind}")
        st = changed(store)
        os.rename(path, path + ".moved")
        if kind == "dangling-symlink":
            victim = os.path.join(d, "nowhere.json")
            os.symlink(victim, path)
        else:
            plant(kind, path, victim)
        watch = [victim, path]
        report(f"state-{kind}", "state", "load", lambda: store.load() and "loaded", watch)
        report(f"state-{kind}", "state", "load(recover=True)", lambda: store.load(recover=True) and "loaded", watch)
        report(f"state-{kind}", "state", "save", lambda: store.save(st, reason="x").changed, watch)
        report(f"state-{kind}", "state", "backup", lambda: store.backup().name, watch)
        report(f"state-{kind}", "state", "init", lambda: store.init(realistic_state(1)).generation, watch)
        report(f"state-{kind}", "state", "status", lambda: store.status().error.kind, watch)

    # --- the temp path: planted at the exact name the store is about to open (a lost race) ----
    for kind in ("symlink", "fifo", "hardlink"):
        d, path, store, victim = live(f"temp-{kind}")
        st = changed(store)

        def before(op, kind=kind, victim=victim):
            if op.kind == "open" and ".tmp-" in op.path and not os.path.lexists(op.path):
                plant(kind, op.path, victim)

        hostile = StateStore(path, ops=NthOpFaults(before=before))
        report(f"temp-{kind}", "temp", "save", lambda: hostile.save(st, reason="x").changed, [victim], path)

    # --- the lock path ------------------------------------------------------------------------
    for kind in ("symlink", "fifo", "dir"):
        d, path, store, victim = live(f"lock-{kind}")
        st = changed(store)
        os.unlink(store.lock_path)
        plant(kind, str(store.lock_path), victim)
        report(f"lock-{kind}", "lock", "save", lambda: store.save(st, reason="x").changed, [victim], path)
        report(f"lock-{kind}", "lock", "backup", lambda: store.backup().name, [victim], path)

        def txn(store=store):
            with store.transaction(reason="x") as s:
                s.total_trades += 1
        report(f"lock-{kind}", "lock", "transaction", txn, [victim], path)

    # --- the journal path ---------------------------------------------------------------------
    for kind in ("symlink", "fifo"):
        d, path, store, victim = live(f"journal-{kind}")
        st = changed(store)
        os.unlink(store.journal.path)
        plant(kind, str(store.journal.path), victim)
        report(f"journal-{kind}", "journal", "save", lambda: store.save(st, reason="x").changed, [victim], path)

    # --- the backups folder and a backup's name ------------------------------------------------
    d, path, store, victim = live("backups-dir-symlink")
    elsewhere = os.path.join(d, "elsewhere")
    os.mkdir(elsewhere)
    os.rename(str(store.backups.dir), os.path.join(d, "old-backups"))
    os.symlink(elsewhere, str(store.backups.dir))
    st = changed(store)
    report("backups-dir-symlink", "backups folder", "backup", lambda: store.backup().name, [elsewhere], path)
    report("backups-dir-symlink", "backups folder", "save(backup=True)",
           lambda: store.save(st, reason="x", backup=True).changed, [elsewhere], path)

    for kind in ("symlink", "fifo"):
        # At the backup's final name, planted just before the store links it in place.
        d, path, store, victim = live(f"backup-name-{kind}")
        planted = []

        def before(op, kind=kind, victim=victim, planted=planted):
            if op.kind == "link" and "/backups/" in op.path2 and not planted:
                plant(kind, op.path2, victim)
                planted.append(op.path2)

        hostile = StateStore(path, ops=NthOpFaults(before=before))
        report(f"backup-name-{kind}", "backup file", "backup",
               lambda: os.path.basename(hostile.backup().name) not in [os.path.basename(p) for p in planted],
               [victim], path)
        # Named like a backup, sitting in the folder: never listed, never restored.
        fake = os.path.join(str(store.backups.dir), "trading_state.20990101T000000.000000Z.manual.0123456789abcdef.json")
        plant(kind, fake, victim)
        report(f"backup-name-{kind}", "backup file", "list",
               lambda: [b.name for b in store.backups.list(verify=True) if b.name == os.path.basename(fake)], [victim], path)
        report(f"backup-name-{kind}", "backup file", "restore", lambda: store.restore(fake).restored.name, [victim], path)
        report(f"backup-name-{kind}", "backup file", "restore latest",
               lambda: store.restore("latest").restored.name != os.path.basename(fake), [victim])

    # --- the pid file -----------------------------------------------------------------------
    d = os.path.join(ROOT, "pid")
    os.mkdir(d)
    victim = os.path.join(d, "victim.txt")
    with open(victim, "w") as f:
        f.write("not a pid file\n")
    for kind in ("symlink", "fifo", "dir"):
        p = os.path.join(d, f"bot-{kind}.pid")
        plant(kind, p, victim)
        report(f"pid-{kind}", "pid file", "PidLock.acquire", lambda: PidLock(p).acquire().held, [victim])
        report(f"pid-{kind}", "pid file", "inspect", lambda: inspect_pidlock(p).to_dict(), [victim])


    def pidfile(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p


    garbage = pidfile("garbage.pid", "\x00\x01 not a pid {{{\n")
    report("pid-garbage", "pid file", "inspect", lambda: inspect_pidlock(garbage).to_dict(), [])
    dead_child = _subprocess.Popen(["/bin/true"])
    dead_child.wait()
    dead = pidfile("dead.pid", f"{dead_child.pid}\n")
    report("pid-dead", "pid file", "inspect", lambda: inspect_pidlock(dead).to_dict(), [])
    # A live, unrelated process whose pid the file names, with the bot's start time recorded:
    # its real start time differs, so the pid was reused.
    sleeper = _subprocess.Popen(["/bin/sleep", "60"])
    reused = pidfile("reused.pid", f'{sleeper.pid}\n{{"pid": {sleeper.pid}, "started_at": {_time.time() - 86400:.3f}}}\n')
    report("pid-reused", "pid file", "inspect", lambda: inspect_pidlock(reused).to_dict(), [])
    report("pid-reused", "pid file", "PidLock.acquire", lambda: PidLock(reused).acquire().held, [])
    sleeper.kill()
    sleeper.wait()

    # --- permissions ------------------------------------------------------------------------
    d, path, store, victim = live("perm-readonly-dir")
    st = changed(store)
    os.chmod(d, 0o555)
    report("perm-readonly-dir", "state folder", "save", lambda: store.save(st, reason="x").changed, [], path)
    report("perm-readonly-dir", "state folder", "load", lambda: store.load().total_trades, [], path)
    os.chmod(d, 0o755)

    d, path, store, victim = live("perm-unreadable-file")
    st = changed(store)
    os.chmod(path, 0o000)
    report("perm-unreadable-file", "state", "load", lambda: store.load().total_trades, [], path)
    report("perm-unreadable-file", "state", "load(recover=True)", lambda: store.load(recover=True).total_trades, [], path)
    report("perm-unreadable-file", "state", "backup", lambda: store.backup().name, [], path)
    report("perm-unreadable-file", "state", "status", lambda: store.status().error.kind, [], path)
    os.chmod(path, 0o644)

    return RESULTS
