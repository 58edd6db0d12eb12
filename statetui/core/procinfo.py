"""Read-only Linux /proc helpers: is a process alive, its command line and start
time, who holds a lock on a file, which processes match a pattern.

Every function degrades to None / [] / a plain answer where /proc is missing
(macOS, BSD, a locked-down container), so callers never crash off Linux.
`PROC` is module-level so a caller can point it elsewhere (e.g. a host whose
procfs is mounted at another place)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from statetui.core.records import ProcInfo

PROC = Path("/proc")
SYSTEMD_RUN_DIR = Path("/run/systemd/system")


def available() -> bool:
    """True when a Linux-style procfs can be read here."""
    try:
        return (PROC / "self" / "stat").is_file()
    except OSError:
        return False


def _read(path: Path, limit: int = 1 << 20) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:  # gone, permission, or no /proc at all
        return None


def clock_ticks() -> int:
    try:
        return int(os.sysconf("SC_CLK_TCK")) or 100
    except (ValueError, OSError, AttributeError):
        return 100


def boot_time() -> float | None:
    """Unix time of boot (`btime` in /proc/stat; whole seconds)."""
    raw = _read(PROC / "stat")
    if raw is None:
        return None
    for line in raw.decode("ascii", "replace").splitlines():
        if line.startswith("btime "):
            try:
                return float(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def system_uptime() -> float | None:
    raw = _read(PROC / "uptime")
    try:
        return float(raw.split()[0]) if raw else None
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True)
class ProcStat:
    pid: int
    comm: str
    state: str  # R, S, D, Z, X, ...
    ppid: int
    start_ticks: int  # field 22: clock ticks after boot


def proc_stat(pid: int) -> ProcStat | None:
    """Parse /proc/PID/stat. The command name (field 2) may hold spaces and ')'
    so the fixed fields are taken after the *last* ')'."""
    if pid <= 0:
        return None
    raw = _read(PROC / str(pid) / "stat")
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    lpar, rpar = text.find("("), text.rfind(")")
    if lpar < 0 or rpar < lpar:
        return None
    rest = text[rpar + 1 :].split()
    try:
        # rest[0] is field 3 (state), so field N is rest[N - 3].
        return ProcStat(pid, text[lpar + 1 : rpar], rest[0], int(rest[1]), int(rest[19]))
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    """Alive and not a zombie (a zombie holds no files and no locks). kill(pid, 0)
    is the existence test, so a /proc mounted with hidepid cannot make a live
    process look dead."""
    if pid is None or pid <= 0:  # kill(0|-n) would signal process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    except (OSError, OverflowError):
        return False
    st = proc_stat(pid)
    return st is None or st.state not in ("Z", "X", "x")


def cmdline_argv(pid: int) -> list[str] | None:
    """argv of a process; None when unreadable, [] for kernel threads."""
    if pid <= 0:
        return None
    raw = _read(PROC / str(pid) / "cmdline")
    if raw is None:
        return None
    parts = raw.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "replace") for p in parts]


_SPACE = re.compile(r"\s+")
_CTRL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(argv: list[str] | tuple[str, ...]) -> str:
    """argv as one printable line (a `python -c` script holds newlines; a message
    or a table cell must not), with any URL in it redacted (`--rpc-url https://.../v2/KEY`
    must not put the bot's RPC key on the console or in a repair plan)."""
    from statetui.core.redact import redact_urls_in

    return redact_urls_in(_CTRL.sub("?", _SPACE.sub(" ", " ".join(argv)).strip()))


def shorten(text: str, limit: int = 160) -> str:
    """Keep both ends of a long command line: the program and its last arguments."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    return text[:head] + " ... " + text[-(limit - head - 5):]


def cmdline(pid: int) -> str | None:
    """The command line as one printable line; None when unreadable or empty."""
    argv = cmdline_argv(pid)
    return one_line(argv) if argv else None


def start_time(pid: int) -> float | None:
    """Process start as unix time: btime + starttime / SC_CLK_TCK. btime is whole
    seconds, so the result can be up to ~1 s early; compare with a tolerance."""
    st = proc_stat(pid)
    bt = boot_time()
    if st is None or bt is None:
        return None
    return bt + st.start_ticks / clock_ticks()


def uptime(pid: int) -> float | None:
    """Seconds the process has been running (monotonic: /proc/uptime based)."""
    st = proc_stat(pid)
    up = system_uptime()
    if st is None or up is None:
        return None
    return max(0.0, up - st.start_ticks / clock_ticks())


# --- locks ----------------------------------------------------------------------

@dataclass(frozen=True)
class LockEntry:
    kind: str  # FLOCK, POSIX, OFDLCK, LEASE, ...
    mode: str  # ADVISORY, MANDATORY, ACTIVE, ...
    access: str  # READ, WRITE
    pid: int  # -1 for OFD locks, 0 when in another pid namespace
    major: int
    minor: int
    inode: int
    waiting: bool  # "->" lines are blocked waiters, not holders


_LOCK_LINE = re.compile(
    r"^\s*\d+:\s+(?P<wait>->\s+)?(?P<kind>\S+)\s+(?P<mode>\S+)\s+(?P<access>\S+)\s+"
    r"(?P<pid>-?\d+)\s+(?P<maj>[0-9a-fA-F]+):(?P<min>[0-9a-fA-F]+):(?P<ino>\d+)\s"
)


def parse_locks(text: str) -> list[LockEntry]:
    """Parse /proc/locks. Device numbers are printed in hex (`%02x:%02x:%lu`)."""
    out = []
    for line in text.splitlines():
        m = _LOCK_LINE.match(line)
        if not m:  # e.g. "<none>:0" for locks without an inode
            continue
        out.append(
            LockEntry(
                kind=m["kind"],
                mode=m["mode"],
                access=m["access"],
                pid=int(m["pid"]),
                major=int(m["maj"], 16),
                minor=int(m["min"], 16),
                inode=int(m["ino"]),
                waiting=bool(m["wait"]),
            )
        )
    return out


def read_locks() -> list[LockEntry] | None:
    from statetui.core.scanmemo import memoized

    return memoized(("read_locks",), _read_locks)


def _read_locks() -> list[LockEntry] | None:
    raw = _read(PROC / "locks", limit=16 << 20)
    return None if raw is None else parse_locks(raw.decode("ascii", "replace"))


_LOCK_KINDS = ("FLOCK", "POSIX", "OFDLCK")


def locks_on(st: os.stat_result) -> list[LockEntry] | None:
    """Locks held (not waited for) on the file with this stat; None without /proc."""
    entries = read_locks()
    if entries is None:
        return None
    maj, mnr = os.major(st.st_dev), os.minor(st.st_dev)
    return [
        e for e in entries
        if not e.waiting and e.kind in _LOCK_KINDS
        and e.inode == st.st_ino and e.major == maj and e.minor == mnr
    ]


def _fd_lock_on(pid: int, st: os.stat_result) -> bool | None:
    """Does any fd of `pid` on this file carry a lock (its fdinfo "lock:" lines)?
    Catches filesystems where /proc/locks reports another device than stat
    (btrfs subvolumes, overlayfs). None when the fds cannot be read."""
    fd_dir = PROC / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return None
    for name in names:
        try:
            fst = os.stat(fd_dir / name)
        except OSError:
            continue
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            continue
        info = _read(PROC / str(pid) / "fdinfo" / name)
        if info and b"\nlock:" in b"\n" + info:
            return True
    return False


def pids_with_open(st: os.stat_result) -> list[int]:
    """Processes with an fd open on this file (the ones we may read). Used when a
    lock outlived the pid /proc/locks names: a forked child inherited it."""
    out = []
    try:
        names = os.listdir(PROC)
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        fd_dir = PROC / name / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                fst = os.stat(fd_dir / fd)
            except OSError:
                continue
            if (fst.st_dev, fst.st_ino) == (st.st_dev, st.st_ino):
                out.append(int(name))
                break
    return sorted(out)


def pid_holds_lock(pid: int, st: os.stat_result) -> bool | None:
    """Does `pid` hold a FLOCK/POSIX/OFD lock on the file? None when unknowable."""
    held = locks_on(st)
    if held is None:
        return None
    if any(e.pid == pid for e in held):
        return True
    return bool(_fd_lock_on(pid, st))


# --- processes --------------------------------------------------------------------

def _matcher(pattern: str | re.Pattern | list[str] | tuple[str, ...]):
    if isinstance(pattern, (list, tuple)):  # an exact argv
        want = tuple(pattern)
        return lambda argv: tuple(argv) == want
    if isinstance(pattern, re.Pattern):
        return lambda argv: pattern.search(" ".join(argv)) is not None
    try:
        rx = re.compile(pattern)
    except re.error:  # not a valid regex: treat it as a plain substring
        return lambda argv: pattern in " ".join(argv)
    return lambda argv: rx.search(" ".join(argv)) is not None


def list_processes() -> list[ProcInfo]:
    """Every live process with a command line (kernel threads and zombies left out)."""
    from statetui.core.scanmemo import memoized

    return list(memoized(("list_processes",), _list_processes))


def _list_processes() -> list[ProcInfo]:
    try:
        names = os.listdir(PROC)
    except OSError:
        return []
    bt, tck = boot_time(), clock_ticks()
    out = []
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        st = proc_stat(pid)
        if st is None or st.state in ("Z", "X", "x"):
            continue
        argv = cmdline_argv(pid)
        if not argv:
            continue
        started = bt + st.start_ticks / tck if bt is not None else None
        out.append(ProcInfo(pid, st.ppid, tuple(argv), started))
    return out


def find_processes(pattern, *, exclude_self: bool = True, among: list[ProcInfo] | None = None) -> list[ProcInfo]:
    """Processes whose command line matches `pattern`: a regex (a string that does
    not compile is a substring), a compiled regex, or an exact argv list.
    `among`: a list_processes() result to reuse instead of scanning /proc again."""
    match = _matcher(pattern)
    me = os.getpid()
    procs = list_processes() if among is None else among
    return [p for p in procs if not (exclude_self and p.pid == me) and match(p.argv)]


def group_roots(procs: list[ProcInfo], among: list[ProcInfo] | None = None) -> list[ProcInfo]:
    """The matches that have no matching ancestor: a bot that forks workers (or a
    `sh -c` wrapper around it) counts once, not once per process."""
    by_pid = {p.pid: p for p in procs}
    parent = {p.pid: p.ppid for p in (list_processes() if among is None else among)}
    roots = []
    for p in procs:
        seen, cur = set(), p.ppid
        while cur > 1 and cur not in seen:
            if cur in by_pid:
                break
            seen.add(cur)
            cur = parent.get(cur, 0)
        else:
            roots.append(p)
    return sorted(roots, key=lambda p: p.pid)


# --- systemd ------------------------------------------------------------------------

def parse_cgroup_unit(text: str) -> tuple[str, bool] | None:
    """The systemd service a process runs in, from /proc/PID/cgroup text:
    (unit, is_user_unit). `user@UID.service` is the user manager, not a bot."""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, path = parts
        if not (hier == "0" and controllers == "") and controllers != "name=systemd":
            continue
        comps = [c for c in path.split("/") if c]
        user = any(c.startswith("user@") and c.endswith(".service") for c in comps)
        for comp in reversed(comps):
            if comp.endswith(".service") and not comp.startswith("user@"):
                return comp, user
    return None


def systemd_unit_of(pid: int) -> tuple[str, bool] | None:
    raw = _read(PROC / str(pid) / "cgroup") if pid > 0 else None
    return parse_cgroup_unit(raw.decode("utf-8", "replace")) if raw else None


def systemd_booted() -> bool:
    """systemd is PID 1 (sd_booted(): /run/systemd/system exists)."""
    try:
        return SYSTEMD_RUN_DIR.is_dir()
    except OSError:
        return False
