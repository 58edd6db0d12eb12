"""One answer to "may the bot be running?", for every face that writes or advises.

A running bot overwrites any repair from memory on its next save, so every write to the
state asks this first. It combines independent signs, each an `Evidence` item:

- the pid lock: a live holder of the pid file's lock, a lock held on a pid file that was
  deleted or replaced, the pid file's pid alive with its recorded start time
  (`pidlock.inspect_pidlock`, `botlocks`);
- processes: matching `process_pattern`, the configured unit's ExecStart, or the entry
  point in `bot_source` (`botcommand`), so a bot without a lock is seen;
- the systemd unit's active state, where systemd runs;
- a recent write to the state file that the store's journal does not account for.

It fails closed: any positive sign, or "cannot tell" for a reason that inspection could
settle (permission denied, no /proc, systemctl failing), refuses writes. "Cannot tell"
because nothing identifies the bot (no pattern, unit, source or pid file) does not refuse:
the verdict says so and what to configure."""

from __future__ import annotations

import os
import shlex
import stat
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from statetui.core import botcommand, botlocks, procinfo
from statetui.core.pidlock import inspect_pidlock
from statetui.core.records import Evidence, PidLockStatus, RunningVerdict
from statetui.core.systemd import systemd_status, systemd_unavailable_reason

# A write the journal does not account for is a running bot's for this long after it.
OUTSIDE_WRITE_WINDOW_S = 300.0
_ACTIVE = {"active", "activating", "deactivating", "reloading", "refreshing"}


def may_be_running(config, *, now: float | None = None, window_s: float = OUTSIDE_WRITE_WINDOW_S) -> RunningVerdict:
    """May the bot be running right now? Read-only; never raises for what it finds."""
    now = time.time() if now is None else now
    ev: list[Evidence] = []
    have_proc = procinfo.available()
    if not have_proc:
        ev.append(Evidence("inspection", "cannot inspect processes or locks: no /proc on this host "
                           "(run statetui on the bot's host with /proc mounted)", blocking=True))
    status = _pid_lock(config, ev, have_proc)
    cmd = botcommand.bot_command(config, from_source=getattr(config, "detect_bot_command", True))
    roots = _processes(cmd, ev, have_proc)
    sd = _systemd(config, ev)
    _outside_write(config, ev, now, window_s)
    verdict = RunningVerdict(_combine(ev), ev, checked_at=now, pidlock=status, processes=roots, systemd=sd,
                             identified_by=cmd.describe())
    verdict.stop_command, verdict.stop_as = _stop(config, ev, sd)
    return verdict


def _combine(ev: list[Evidence]) -> bool | None:
    if any(e.running is True for e in ev):
        return True
    if any(e.running is None and e.blocking for e in ev):
        return None
    if any(e.running is False for e in ev):
        return False
    return None


def _who(pid: int, cmdline: str | None) -> str:
    return f"pid {pid} ({procinfo.shorten(cmdline, 100)})" if cmdline else f"pid {pid}"


# --- the pid lock -----------------------------------------------------------------------

def _pid_lock(config, ev: list[Evidence], have_proc: bool) -> PidLockStatus:
    path = str(config.pid_file)
    s = inspect_pidlock(path)
    unreachable = botlocks.unreachable_reason(path)
    if s.running:
        ev.append(Evidence("pid-lock", f"pid lock {path}: {s.reason}", s.holder_pid, True))
    elif unreachable is not None and (not s.exists or s.pid is None):
        ev.append(Evidence("pid-file", f"cannot inspect the pid file {path}: {unreachable}; "
                           "run statetui as the bot's user or root to tell", blocking=True))
    elif s.stale:
        ev.append(Evidence("pid-lock", f"stale pid file {path}: {s.reason}", running=False))
    elif not s.exists:
        ev.append(Evidence("pid-lock", f"no pid file at {path}"))
    else:  # a symlink, or no /proc/locks to tell
        ev.append(Evidence("pid-file", f"pid file {path}: {s.reason}", blocking=s.locked is None and bool(s.regular)))
    if have_proc:
        _orphans(path, s, ev)
    return s


def _orphans(path: str, s: PidLockStatus, ev: list[Evidence]) -> None:
    scan = botlocks.find_orphan_holders(path)
    if scan is None:
        return
    known = {e.pid for e in ev if e.running is True}
    for h in scan.holders:
        if h.pid not in known:
            ev.append(Evidence("deleted-pid-file", f"{_who(h.pid, h.cmdline)} holds a lock on {h.link}: "
                               "its pid file was deleted or replaced while it ran", h.pid, True))
    if any(e.running is True for e in ev if e.kind in ("pid-lock", "deleted-pid-file")):
        return
    me = botlocks.user_name(os.geteuid())
    for u in scan.unreadable:
        owner = f" of user {u.user}" if u.user else ""
        ev.append(Evidence("deleted-pid-file", f"cannot tell whether {_who(u.pid, u.cmdline)}{owner} holds a lock "
                           f"on a deleted pid file {path}: its open files are not readable by user {me}; "
                           f"run statetui as root{' or ' + u.user if u.user else ''} to tell", u.pid, blocking=True))


# --- processes ---------------------------------------------------------------------------

def _processes(cmd: botcommand.BotCommand, ev: list[Evidence], have_proc: bool) -> list[procinfo.ProcInfo]:
    if not have_proc:
        return []
    if cmd.empty:
        ev.append(Evidence("process", "nothing identifies the bot's process: set process_pattern, systemd_unit "
                           "or bot_source to spot a bot running without a pid lock"))
        for note in cmd.notes:
            ev.append(Evidence("process", note))
        return []
    everyone = procinfo.list_processes()
    matches = botcommand.match_processes(cmd, everyone, exclude={os.getpid(), *_wrappers(everyone)})
    why = {m.proc.pid: m.why for m in matches}
    roots = procinfo.group_roots([m.proc for m in matches], among=everyone)
    for p in roots:
        ev.append(Evidence("process", f"{_who(p.pid, p.cmdline)} {why[p.pid]}", p.pid, True))
    if not roots:
        hidden = _hidden_processes()
        if hidden:
            ev.append(Evidence("process", f"no visible process is the bot, but {hidden}", blocking=True))
        else:
            ev.append(Evidence("process", f"no process is the bot (looked for {cmd.describe()})", running=False))
    for note in cmd.notes:
        ev.append(Evidence("process", note))
    return roots


def _wrappers(everyone: list[procinfo.ProcInfo]) -> set[int]:
    """Our own ancestors that merely wrap this command (`sudo statetui repair ...`): a pattern
    that matches our arguments must not make statetui see itself as the bot."""
    tail = tuple(sys.argv[1:])
    if not tail:
        return set()
    parent = {p.pid: p for p in everyone}
    out, cur = set(), os.getppid()
    while cur > 1 and cur in parent and cur not in out:
        if parent[cur].argv[-len(tail):] == tail:
            out.add(cur)
        cur = parent[cur].ppid
    return out


def _hidden_processes() -> str | None:
    """Why other users' processes are invisible here (/proc mounted with hidepid), if they are."""
    if os.geteuid() == 0:
        return None
    try:
        text = (procinfo.PROC / "self" / "mountinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/proc" and " - " in line:
            opts = line.split(" - ", 1)[1].split()[-1].split(",")
            hide = next((o.split("=", 1)[1] for o in opts if o.startswith("hidepid=")), "0")
            gid = next((o.split("=", 1)[1] for o in opts if o.startswith("gid=")), None)
            if hide not in ("0", "off") and not (gid and gid.isdigit() and int(gid) in os.getgroups()):
                return f"/proc is mounted with hidepid={hide}: other users' processes are hidden from user " \
                       f"{botlocks.user_name(os.geteuid())} (run statetui as root to tell)"
    return None


# --- systemd -----------------------------------------------------------------------------

def _systemd(config, ev: list[Evidence]) -> dict[str, Any] | None:
    unit = getattr(config, "systemd_unit", None)
    if not unit:
        return None
    reason = systemd_unavailable_reason()
    if reason is not None:
        ev.append(Evidence("systemd", f"systemd unit {unit} not checked: {reason}"))
        return None
    info = systemd_status(unit) or {"unit": unit, "error": f"systemctl show {unit}: systemd disappeared"}
    if "error" in info:
        ev.append(Evidence("systemd", f"cannot read the state of systemd unit {unit}: {info['error']}", blocking=True))
    elif info.get("LoadState") == "not-found":
        ev.append(Evidence("systemd", f"systemd has no unit {unit}: check systemd_unit in the config", blocking=True))
    elif info.get("ActiveState") in _ACTIVE:
        pid = info.get("MainPID") if isinstance(info.get("MainPID"), int) and info.get("MainPID") > 0 else None
        main = f", main pid {pid}" if pid else ""
        ev.append(Evidence("systemd", f"systemd unit {unit} is {info.get('ActiveState')}/{info.get('SubState')}{main}",
                           pid, True))
    else:
        ev.append(Evidence("systemd", f"systemd unit {unit} is {info.get('ActiveState')}/{info.get('SubState')}",
                           running=False))
    return info


# --- writes the store did not make ------------------------------------------------------

_SHA_CACHE: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def _sha256(path: Path, st: os.stat_result) -> str:
    from statetui.core.fsio import sha256_of

    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    hit = _SHA_CACHE.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    # Streamed, never blocking on a FIFO put there since the stat; no size cap: a giant state
    # written a moment ago is as much a sign as a small one, and hashing it costs no memory.
    digest = sha256_of(path, "state file", cap=1 << 62)
    _SHA_CACHE[str(path)] = (key, digest)
    return digest


def _outside_write(config, ev: list[Evidence], now: float, window_s: float) -> None:
    from statetui.core.errors import StatetuiError
    from statetui.core.journal import Journal, journal_path_for, writer_of

    state = Path(config.state)
    me = botlocks.user_name(os.geteuid())
    try:
        st = os.stat(state)
    except PermissionError:
        ev.append(Evidence("outside-write", f"cannot tell who last wrote {state}: permission denied for user {me}",
                           blocking=True))
        return
    except OSError:
        return  # no state file: nothing wrote it
    if not stat.S_ISREG(st.st_mode):
        return  # a FIFO, folder or device at the path is no bot's save; the repairs refuse it themselves
    age = now - st.st_mtime
    if age > window_s:
        ev.append(Evidence("outside-write", f"state last written {_ago(age)} ago"))
        return
    try:
        sha = _sha256(state, st)
        tail = Journal(journal_path_for(state)).tail(64)
    except (OSError, StatetuiError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        ev.append(Evidence("outside-write", f"state written {_ago(age)} ago and statetui cannot tell by whom: {why}",
                           blocking=True))
        return
    writer = writer_of(tail, sha) if tail else None
    if writer is not None:
        who = f"generation {writer.get('generation')}, writer {writer.get('writer') or '?'}"
        ev.append(Evidence("outside-write", f"state written {_ago(age)} ago through the store ({who})"))
        return
    lapse = datetime.fromtimestamp(st.st_mtime + window_s, timezone.utc).strftime("%H:%M:%SZ")
    how = "no journal entry has its sha256" if tail else "there is no journal beside it"
    ev.append(Evidence("outside-write", f"state written {_ago(age)} ago outside statetui's store ({how}): "
                       f"something, probably the bot, is writing it; stop it first (this sign lapses at {lapse} "
                       "if nothing writes again)", running=True))


def _ago(seconds: float) -> str:
    s = int(abs(seconds))
    text = f"{s}s" if s < 120 else f"{s // 60}m" if s < 7200 else f"{s // 3600}h" if s < 172800 else f"{s // 86400}d"
    return text if seconds >= 0 else f"-{text} (in the future by this clock)"


# --- how to stop it ------------------------------------------------------------------------

def _stop(config, ev: list[Evidence], sd: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The command that stops every running sign found, and who must run it."""
    commands: list[tuple[str, str | None]] = []
    units: set[str] = set()
    unit = getattr(config, "systemd_unit", None)
    if unit and any(e.kind == "systemd" and e.running is True for e in ev):
        units.add(_service(unit))
        commands.append(_systemctl_stop(unit, None))
    for pid in dict.fromkeys(e.pid for e in ev if e.running is True and e.pid is not None):
        owner = botlocks.proc_uid(pid)
        found = procinfo.systemd_unit_of(pid)
        if found is not None:
            if _service(found[0]) in units:
                continue
            units.add(_service(found[0]))
            commands.append(_systemctl_stop(found[0], owner if found[1] else None))
        else:
            commands.append(_as_user(f"kill {pid}", owner))
    if not commands:
        return None, None
    return "; ".join(c for c, _ in commands), next((u for _, u in commands if u), None)


def _service(name: str) -> str:
    return name if "." in name else name + ".service"


def _systemctl_stop(unit: str, user_uid: int | None) -> tuple[str, str | None]:
    """A system unit (user_uid None) or a user's own unit (`systemctl --user`)."""
    q = shlex.quote(unit)
    me = os.geteuid()
    if user_uid is None:
        return (f"systemctl stop {q}", None) if me == 0 else (f"sudo systemctl stop {q}", "root")
    if user_uid == me:
        return f"systemctl --user stop {q}", None
    name = botlocks.user_name(user_uid)
    cmd = f"systemctl --user -M {shlex.quote(name + '@')} stop {q}"
    return (cmd, None) if me == 0 else (f"sudo {cmd}", "root")


def _as_user(cmd: str, uid: int | None) -> tuple[str, str | None]:
    me = os.geteuid()
    if me == 0 or uid is None or uid == me:
        return cmd, None
    name = botlocks.user_name(uid)
    return (f"sudo {cmd}", name) if uid == 0 else (f"sudo -u {shlex.quote(name)} {cmd}", name)
