"""Who holds the bot's pid lock when the pid file no longer says so.

`pidlock.inspect_pidlock` follows the path. A bot keeps its flock on the file it opened,
so when that file is deleted or replaced (a tidy-up script, a second deploy, a stale-lock
"fix" by hand) the path shows nothing or a stranger while the bot still runs. The kernel
still lists the lock in /proc/locks, and the holder's /proc/PID/fd link still names the
path with " (deleted)": that is how it is found here, read-only.

When the operator cannot look (the pid file's folder is not searchable, another user's
/proc/PID/fd is not readable), this says so and why: "cannot tell" is never "stopped"."""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass

from statetui.core import procinfo
from statetui.core.botcommand import is_interpreter

_LOCK_KINDS = ("FLOCK", "POSIX", "OFDLCK")


@dataclass(frozen=True)
class OrphanHolder:
    """A live process holding a lock on the bot's pid file after its path was deleted or replaced."""

    pid: int
    cmdline: str | None
    link: str  # the fd's target as /proc shows it: "/tmp/bot.pid (deleted)"


@dataclass(frozen=True)
class Unreadable:
    """A lock holder whose open files the operator may not read: it might hold the bot's lock."""

    pid: int
    cmdline: str | None
    user: str | None


@dataclass
class OrphanScan:
    holders: list[OrphanHolder]
    unreadable: list[Unreadable]


def user_name(uid: int | None) -> str | None:
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return str(uid)


def proc_uid(pid: int) -> int | None:
    """The process's owner (its /proc entry's owner is its effective uid)."""
    try:
        return os.stat(procinfo.PROC / str(pid)).st_uid
    except OSError:
        return None


def deleted_names(path: str | os.PathLike) -> set[str]:
    """What /proc/PID/fd shows for the pid file once unlinked, for each spelling of its folder."""
    p = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(p)
    names = {p}
    try:
        names.add(os.path.join(os.path.realpath(folder), base))
    except OSError:
        pass
    return {n + " (deleted)" for n in names}


def find_orphan_holders(path: str | os.PathLike) -> OrphanScan | None:
    """Live processes holding a lock on a deleted or replaced copy of the pid file; None
    without /proc/locks. Only lock holders are looked at (cheap), unless a lock's owner
    is gone or outside our pid namespace: then every process's open files are."""
    entries = procinfo.read_locks()
    if entries is None:
        return None
    held = [e for e in entries if not e.waiting and e.kind in _LOCK_KINDS]
    if not held:
        return OrphanScan([], [])
    keys = {(e.major, e.minor, e.inode) for e in held}
    wanted = deleted_names(path)
    owners = {e.pid for e in held if e.pid > 0}
    live = {pid for pid in owners if procinfo.pid_alive(pid)}
    candidates: set[int] = set(live)
    if any(e.pid <= 0 or e.pid not in live for e in held):
        candidates |= _all_pids()
    candidates.discard(os.getpid())
    folder_dev = _folder_dev(path)
    scan = OrphanScan([], [])
    for pid in sorted(candidates):
        links = _fd_links(pid)
        if links is None:
            if pid in live and _could_be_bot(pid, held, folder_dev):
                scan.unreadable.append(Unreadable(pid, procinfo.cmdline(pid), user_name(proc_uid(pid))))
            continue
        for fd, target in links:
            if target in wanted and _fd_is_locked(pid, fd, keys):
                scan.holders.append(OrphanHolder(pid, procinfo.cmdline(pid), target))
                break
    return scan


def _all_pids() -> set[int]:
    try:
        return {int(n) for n in os.listdir(procinfo.PROC) if n.isdigit()}
    except OSError:
        return set()


def _fd_links(pid: int) -> list[tuple[str, str]] | None:
    """(fd, link target) for each open file; None when not permitted to look, [] when gone."""
    from statetui.core.scanmemo import memoized

    return memoized(("fd_links", pid), lambda: _read_fd_links(pid))


def _read_fd_links(pid: int) -> list[tuple[str, str]] | None:
    fd_dir = procinfo.PROC / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        return None
    except OSError:
        return []
    out = []
    for name in names:
        try:
            out.append((name, os.readlink(fd_dir / name)))
        except PermissionError:
            return None
        except OSError:
            continue
    return out


def _fd_is_locked(pid: int, fd: str, keys: set[tuple[int, int, int]]) -> bool:
    try:
        st = os.stat(procinfo.PROC / str(pid) / "fd" / fd)
    except OSError:
        return False
    if (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino) in keys:
        return True
    # /proc/locks may print another device than stat (btrfs, overlayfs): the fd's own
    # "lock:" lines say whether this open file carries a lock.
    try:
        info = (procinfo.PROC / str(pid) / "fdinfo" / fd).read_bytes()
    except OSError:
        return False
    return b"\nlock:" in b"\n" + info and any(k[2] == st.st_ino for k in keys)


def _folder_dev(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(os.path.dirname(os.path.abspath(os.fspath(path))))
    except OSError:
        return None
    return os.major(st.st_dev), os.minor(st.st_dev)


def _could_be_bot(pid: int, held, folder_dev: tuple[int, int] | None) -> bool:
    """A holder we cannot inspect matters when its lock is on the pid file's filesystem and
    it runs a script (an interpreter) or hides its command line. A compiled daemon's lock
    (cron's, snapd's) is not the bot's Python pid lock."""
    if folder_dev is not None and not any(e.pid == pid and (e.major, e.minor) == folder_dev for e in held):
        return False
    argv = procinfo.cmdline_argv(pid)
    if not argv:
        return argv is None
    return is_interpreter(argv[0])


# --- the operator's view of the pid file ----------------------------------------------------

def unreachable_reason(path: str | os.PathLike) -> str | None:
    """Why this user cannot look at the pid file (a folder on its way not searchable, the file
    not readable), in one line; None when it can, or when the file simply does not exist."""
    p = os.path.abspath(os.fspath(path))
    me = user_name(os.geteuid())
    try:
        os.lstat(p)
    except PermissionError:
        folder = _first_unsearchable(p)
        if folder is not None:
            return f"its folder {folder} is not searchable by user {me} ({_mode_owner(folder)})"
        return f"permission denied for user {me}"
    except OSError:
        return None
    try:
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode) and not _access(p, os.R_OK):
            return f"it is not readable by user {me} ({_mode_owner(p)})"
    except OSError:
        return None
    return None


def _first_unsearchable(p: str) -> str | None:
    parts = p.split(os.sep)
    for i in range(2, len(parts)):
        folder = os.sep.join(parts[:i]) or os.sep
        if not _access(folder, os.X_OK):
            return folder
    return None


def _access(path: str, mode: int) -> bool:
    # The effective ids decide what this process may open (a setuid helper, sudo -u).
    eff = os.access in os.supports_effective_ids
    return os.access(path, mode, effective_ids=True) if eff else os.access(path, mode)


def _mode_owner(path: str) -> str:
    try:
        st = os.lstat(path)
    except OSError:
        return "mode unknown"
    return f"mode {stat.S_IMODE(st.st_mode):04o}, owner {user_name(st.st_uid)}"
