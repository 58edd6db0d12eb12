"""The bot's pid lock: the bot-side `PidLock`, and read-only inspection for audits
and repairs.

The lock is an exclusive `flock` on the pid file held for the process lifetime,
so "stale" means "nobody holds the lock": the kernel drops it when the holder
dies, even on `kill -9`. Inspection reads /proc/locks and never takes the lock
itself (taking it, even briefly, could make a starting bot refuse to run)."""

from __future__ import annotations

import errno
import json
import os
import shlex
import stat
import time
from typing import Any

from statetui.core import procinfo
from statetui.core.errors import BotRunningError, NotRegularFileError, StatetuiError
from statetui.core.fsio import file_kind
from statetui.core.records import PidLockStatus

# btime is whole seconds and clocks get stepped: start times closer than this are "the same".
START_TOLERANCE_S = 2.0
_MAX_READ = 64 * 1024


class PidLockError(StatetuiError):
    """The pid file cannot be opened, locked, written or removed."""


class AlreadyRunningError(BotRunningError):
    """A second instance was refused: a live process holds the pid lock."""

    def __init__(self, message: str, status: "PidLockStatus", stop_command: str | None = None):
        super().__init__(message, stop_command)
        self.status = status


# --- reading a pid file ---------------------------------------------------------------

def parse_pid_text(text: str) -> tuple[int | None, dict[str, Any], str | None]:
    """(pid, metadata, error). Accepts what PidLock writes (the pid on line 1, a JSON
    object on line 2), a JSON object alone, or a bare integer written by other tools."""
    body = text.strip()
    if not body:
        return None, {}, "pid file is empty"
    meta: dict[str, Any] = {}
    if body.startswith("{"):
        try:
            obj = json.loads(body)
        except ValueError:
            return None, {}, f"not a pid: {_clip(body)!r}"
        if not isinstance(obj, dict):
            return None, {}, f"not a pid: {_clip(body)!r}"
        meta, first = obj, obj.get("pid")
    else:
        lines = body.splitlines()
        first = lines[0].strip()
        rest = "\n".join(lines[1:]).strip()
        if rest.startswith("{"):
            try:
                obj = json.loads(rest)
                meta = obj if isinstance(obj, dict) else {}
            except ValueError:
                meta = {}
    pid = _as_pid(first)
    if pid is None:
        return None, meta, f"not a pid: {_clip(str(first))!r}"
    return pid, meta, None


def _as_pid(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value < 2**31:
        return value
    return None


def _clip(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _describe(pid: int, cmd: str | None) -> str:
    return f"pid {pid} ({procinfo.shorten(cmd)})" if cmd else f"pid {pid}"


def inspect_pidlock(path: str | os.PathLike) -> PidLockStatus:
    """Who holds the pid lock, read-only. Never raises for a bad file: the answer
    says what is wrong in `reason`."""
    p = str(path)
    s = PidLockStatus(path=p, exists=False)
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        s.reason = f"no pid file at {p}"
        return s
    except OSError as exc:
        s.reason = f"{p}: cannot stat pid file ({exc.strerror or exc})"
        return s
    s.exists = True
    s.file_mtime = lst.st_mtime
    if not stat.S_ISREG(lst.st_mode):
        s.regular = False
        s.reason = f"{p} is {file_kind(lst.st_mode)}, not a pid file; refusing to use it"
        if stat.S_ISLNK(lst.st_mode):
            _symlink_target_locks(p, s)
        return s
    s.regular = True

    st, text, err = _read_nofollow(p)
    if st is None:
        st = lst
    if err:
        s.pid_error = err
    else:
        s.pid, meta, s.pid_error = parse_pid_text(text)
        rec = meta.get("started_at")
        if isinstance(rec, (int, float)) and not isinstance(rec, bool):
            s.recorded_started_at = float(rec)
    s.file_mtime = st.st_mtime

    held = procinfo.locks_on(st)
    if held is not None:
        s.locked = bool(held)
        s.lock_pids = sorted({e.pid for e in held if e.pid > 0})
        if held and not any(procinfo.pid_alive(x) for x in s.lock_pids):
            # The locker died but a child it forked still has the file open, so the
            # lock stands: name the live processes that can hold it instead.
            s.lock_pids = [x for x in procinfo.pids_with_open(st) if x != os.getpid()] or s.lock_pids

    if s.pid is not None:
        s.alive = procinfo.pid_alive(s.pid)
        if s.alive:
            s.cmdline = procinfo.cmdline(s.pid)
            s.started_at = procinfo.start_time(s.pid)
            s.uptime_s = procinfo.uptime(s.pid)
            s.holds_lock = procinfo.pid_holds_lock(s.pid, st)
            if s.holds_lock and not s.locked:  # seen via fdinfo only (btrfs/overlayfs device numbers)
                s.locked, s.lock_pids = True, [s.pid]
            if s.started_at is not None:
                if s.recorded_started_at is not None:
                    s.pid_reused = abs(s.started_at - s.recorded_started_at) > START_TOLERANCE_S
                else:
                    s.pid_reused = s.started_at > s.file_mtime + START_TOLERANCE_S
        else:
            s.holds_lock = False
    _decide(s)
    holder = s.holder_pid
    if s.running and holder is not None:
        unit = procinfo.systemd_unit_of(holder)
        if unit:
            s.unit, s.user_unit = unit
    return s


def _read_nofollow(p: str) -> tuple[os.stat_result | None, str, str | None]:
    # O_NONBLOCK: a FIFO swapped in after the lstat must not hang us.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        return None, "", f"cannot read pid file ({exc.strerror or exc})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "", f"pid file is {file_kind(st.st_mode)}"
        raw = os.read(fd, _MAX_READ)
    except OSError as exc:
        return None, "", f"cannot read pid file ({exc.strerror or exc})"
    finally:
        os.close(fd)
    return st, raw.decode("utf-8", "replace"), None


def _symlink_target_locks(p: str, s: PidLockStatus) -> None:
    """A symlink is refused, but if a live process locks its target the bot is
    running behind it: say so, so nobody writes state meanwhile (stat only, no open)."""
    try:
        tst = os.stat(p)
    except OSError:
        return
    held = procinfo.locks_on(tst)
    if held:
        s.locked, s.running = True, True
        s.lock_pids = sorted({e.pid for e in held if e.pid > 0})
        s.reason += f"; its target is locked by {', '.join(map(str, s.lock_pids)) or 'a process'}"


def _decide(s: PidLockStatus) -> None:
    who = _describe(s.pid, s.cmdline) if s.pid is not None else None
    if s.locked:
        s.running, s.stale = True, False
        if s.holds_lock:
            s.reason = f"{who} holds the lock"
        else:
            others = ", ".join(f"pid {x}" for x in s.lock_pids) or "a process in another pid namespace"
            named = f"the file names {who}" if who else f"the file holds no valid pid ({s.pid_error})"
            s.reason = f"lock held by {others}, but {named}"
        return
    if s.pid is None:
        s.stale = s.locked is False
        s.reason = f"{s.pid_error}" + ("; nobody holds the lock" if s.stale else "; locks unknown (no /proc/locks)")
        return
    if not s.alive:
        s.stale = True
        s.reason = f"pid {s.pid} is not running" + ("; nobody holds the lock" if s.locked is False else "")
        return
    if s.pid_reused:
        s.stale = True
        s.reason = f"pid {s.pid} was reused: {who} started after the pid file was written"
        return
    # Alive, not provably reused, no lock: a bot that writes a pid file without
    # flock, or a host without /proc/locks. Treat it as running (safe side).
    s.running, s.stale = True, False
    if s.locked is None:
        s.reason = f"{who} is alive (locks unknown: no /proc/locks on this host)"
    else:
        s.reason = f"{who} is alive but holds no lock on the file (it writes its pid without flock?)"


# --- the bot side -------------------------------------------------------------------

def _open_for_lock(p: str, create: bool) -> int:
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    if create:
        flags |= os.O_CREAT
    try:
        fd = os.open(p, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(f"{p}: pid file is a symlink; refusing to follow it", p) from None
        if exc.errno in (errno.EISDIR, errno.ENXIO):
            raise NotRegularFileError(f"{p}: pid file is not a regular file", p) from None
        if exc.errno == errno.ENOENT and not create:
            raise
        raise PidLockError(f"{p}: cannot open pid file ({exc.strerror or exc})", p) from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise PidLockError(f"{p}: cannot stat pid file ({exc.strerror or exc})", p) from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFileError(f"{p}: pid file is {file_kind(st.st_mode)}, not a regular file", p)
    return fd


def _same_file(p: str, fd: int) -> bool:
    try:
        a, b = os.lstat(p), os.fstat(fd)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _fcntl():
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        return None
    return fcntl


class PidLock:
    """Hold the bot's pid lock for the life of the process:

        with PidLock("/tmp/polymarket-bot.pid"):
            run_bot()

    A second instance gets AlreadyRunningError naming the live holder. The lock
    belongs to the open file description: a forked child keeps it alive, an
    exec'd program does not inherit it (O_CLOEXEC)."""

    def __init__(self, path: str | os.PathLike, *, remove_on_exit: bool = True):
        self.path = str(path)
        self.remove_on_exit = remove_on_exit
        self.pid: int | None = None
        self.started_at: float | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "PidLock":
        if self._fd is not None:
            return self
        fcntl = _fcntl()
        if fcntl is None:
            raise PidLockError(f"{self.path}: pid locking needs POSIX flock, not available on this OS", self.path)
        for _ in range(20):
            fd = _open_for_lock(self.path, create=True)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise self._refusal() from None
                raise PidLockError(f"{self.path}: cannot lock pid file ({exc.strerror or exc})", self.path) from None
            # The path may have been unlinked (a releasing holder, a stale-lock
            # repair) between our open and our lock: then we locked an orphan
            # inode and a newcomer could lock the new file. Start over.
            if _same_file(self.path, fd):
                break
            os.close(fd)
        else:
            raise PidLockError(f"{self.path}: pid file keeps being replaced; giving up", self.path)
        self._fd = fd
        try:
            self._write(fd)
        except OSError as exc:
            self.release()
            raise PidLockError(f"{self.path}: cannot write pid file ({exc.strerror or exc})", self.path) from None
        return self

    def _write(self, fd: int) -> None:
        self.pid = os.getpid()
        self.started_at = procinfo.start_time(self.pid) or time.time()
        meta = {
            "pid": self.pid,
            "started_at": round(self.started_at, 3),
            "cmdline": procinfo.cmdline(self.pid),
            "written_at": round(time.time(), 3),
        }
        # Line 1 alone is the pid, so `kill $(head -n1 FILE)` works; line 2 is for people and statetui.
        data = f"{self.pid}\n{json.dumps(meta, ensure_ascii=False)}\n".encode()
        os.ftruncate(fd, 0)
        view = memoryview(data)
        off = 0
        while off < len(data):
            off += os.pwrite(fd, view[off:], off)

    def _refusal(self) -> AlreadyRunningError:
        status = inspect_pidlock(self.path)
        pid = status.holder_pid
        if pid is not None:
            cmd = status.cmdline if pid == status.pid else procinfo.cmdline(pid)
            who = _describe(pid, cmd)
        else:
            who = "another process"
        msg = f"{self.path}: another instance is already running: {who} holds the pid lock"
        return AlreadyRunningError(msg, status, stop_command(None, status))

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Unlink while still holding the lock, and only if the path is still our
            # file, so a clean exit leaves nothing that looks stale.
            if self.remove_on_exit and _same_file(self.path, fd):
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
        finally:
            os.close(fd)  # drops the flock

    def __enter__(self) -> "PidLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- for audits and repairs -------------------------------------------------------------

def stop_command(config, status: PidLockStatus) -> str:
    """The exact command that stops the running bot."""
    unit = getattr(config, "systemd_unit", None) if config is not None else None
    if unit:
        return f"systemctl stop {shlex.quote(unit)}"
    if status.unit:
        return f"systemctl {'--user ' if status.user_unit else ''}stop {shlex.quote(status.unit)}"
    pid = status.holder_pid or status.pid
    if pid is not None:
        found = procinfo.systemd_unit_of(pid)
        if found:
            return f"systemctl {'--user ' if found[1] else ''}stop {shlex.quote(found[0])}"
        return f"kill {pid}"
    return f"kill $(head -n1 {shlex.quote(status.path)})"


def clear_stale_pidlock(path: str | os.PathLike, config=None) -> str:
    """Remove the pid file only when nobody holds its lock. Returns what was done;
    raises BotRunningError while a live process owns it, NotRegularFileError for a
    symlink or other non-file (nothing is written or removed through it)."""
    p = str(path)
    status = inspect_pidlock(p)  # reads /proc/locks right before acting
    if not status.exists:
        return f"{p}: no pid file, nothing to clear"
    if status.regular is False:
        raise NotRegularFileError(f"{status.reason}; remove it by hand after checking where it points", p)
    if status.running:
        raise BotRunningError(f"{p}: not stale, {status.reason}; stop the bot first", stop_command(config, status))
    fcntl = _fcntl()
    if fcntl is None:
        raise PidLockError(f"{p}: cannot verify the lock on this OS (no flock); remove it by hand", p)
    try:
        fd = _open_for_lock(p, create=False)  # never creates, never follows a symlink
    except FileNotFoundError:
        return f"{p}: already gone"
    try:
        # Taking the locks ourselves closes the race with a bot starting now: it
        # either holds them already (we refuse) or fails to start until we unlink.
        # flock and POSIX locks are independent on Linux, so test both.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                now = inspect_pidlock(p)
                raise BotRunningError(f"{p}: the lock was just taken ({now.reason}); not removed",
                                      stop_command(config, now)) from None
            raise PidLockError(f"{p}: cannot lock pid file ({exc.strerror or exc})", p) from None
        if not _same_file(p, fd):
            return f"{p}: replaced while checking; left alone"
        try:
            os.unlink(p)
        except OSError as exc:
            raise PidLockError(f"{p}: cannot remove pid file ({exc.strerror or exc})", p) from None
    finally:
        os.close(fd)
    return f"removed stale pid file {p} ({status.reason})"
