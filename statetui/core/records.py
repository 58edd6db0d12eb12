"""The plain records the readers return: who holds the pid lock, may the bot be running
(and why), a process, a backup, a point of a cash history.

They cross a process boundary (the console's prefetch helper pickles them), so they live
here, with nothing heavier than the standard library's dataclasses beside them: the
console unpickles them without importing the readers (statetui.core.pidlock, botrunning,
procinfo, backups, history) and everything those import. The readers re-export them.
The three the console receives in every first view are lazy dataclasses
(statetui.core.lazy_dataclass): it shows them without compiling their methods."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.lazy_dataclass import ensure_dataclass, lazy_dataclass


@lazy_dataclass()
class PidLockStatus:
    path: str
    exists: bool
    regular: bool | None = None  # False: a symlink, FIFO, directory ... (refused)
    pid: int | None = None
    pid_error: str | None = None  # why `pid` is None although the file exists
    alive: bool | None = None
    cmdline: str | None = None
    started_at: float | None = None  # the live process's start (unix time)
    recorded_started_at: float | None = None  # what the pid file says
    uptime_s: float | None = None
    holds_lock: bool | None = None  # the named pid holds a lock on the file (None: unknowable)
    locked: bool | None = None  # anybody holds a lock on the file (None: no /proc/locks)
    lock_pids: list[int] = field(default_factory=list)
    pid_reused: bool | None = None
    running: bool = False  # a live process owns the pid file: never clear it, never write state
    stale: bool = False  # nobody holds the lock and the named pid is gone, garbage or reused
    reason: str = ""
    file_mtime: float | None = None
    unit: str | None = None  # systemd service of the live holder, from its cgroup
    user_unit: bool = False

    @property
    def holder_pid(self) -> int | None:
        """The pid to name as the live holder."""
        if self.holds_lock or (self.running and not self.lock_pids):
            return self.pid
        return self.lock_pids[0] if self.lock_pids else None

    def to_dict(self) -> dict[str, Any]:
        ensure_dataclass(type(self))  # asdict needs the dataclass, and this one may be unpickled
        return asdict(self)


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    argv: tuple[str, ...]
    started_at: float | None

    @property
    def cmdline(self) -> str:
        from statetui.core.procinfo import one_line  # (redacts URLs: not needed to unpickle one)

        return one_line(self.argv)

    def to_dict(self) -> dict:
        return {"pid": self.pid, "ppid": self.ppid, "cmdline": self.cmdline, "started_at": self.started_at}


@dataclass(frozen=True)
class Evidence:
    kind: str  # pid-lock, pid-file, deleted-pid-file, process, systemd, outside-write, inspection
    message: str  # one line, names what was seen
    pid: int | None = None
    running: bool | None = None  # True: the bot runs; False: it does not; None: this source cannot tell
    blocking: bool = False  # for running None: inspection could settle it, so writes are refused

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lazy_dataclass()
class RunningVerdict:
    running: bool | None  # True: evidence it runs; False: evidence it does not; None: cannot tell
    evidence: list[Evidence]
    stop_command: str | None = None  # the exact command that stops it (with sudo -u where needed)
    stop_as: str | None = None  # the user that command runs as, when not the operator
    checked_at: float = 0.0
    pidlock: PidLockStatus | None = None  # the pid file as its path shows it
    processes: list[ProcInfo] = field(default_factory=list)  # the bot's processes, one per tree
    systemd: dict[str, Any] | None = None  # `systemctl show` of the configured unit
    identified_by: str = ""  # what says "this process is the bot" (pattern, unit command, entry point)

    @property
    def refuses_writes(self) -> bool:
        return self.running is True or any(e.running is None and e.blocking for e in self.evidence)

    @property
    def deciding(self) -> list[Evidence]:
        """The items behind the answer."""
        for test in (lambda e: e.running is True, lambda e: e.running is None and e.blocking,
                     lambda e: e.running is False):
            found = [e for e in self.evidence if test(e)]
            if found:
                return found
        # Nothing decides: what was looked at (the state's age is left out, it proves nothing here).
        return [e for e in self.evidence if e.running is None and e.kind != "outside-write"]

    @property
    def headline(self) -> str:
        msgs = "; ".join(e.message for e in self.deciding)
        if self.running is True:
            return f"the bot may be running: {msgs}"
        if self.refuses_writes:
            return f"cannot tell whether the bot is running: {msgs}"
        if self.running is False:
            return f"the bot is not running: {msgs}"
        return f"no sign of the bot running: {msgs}"

    @property
    def brief(self) -> str:
        """One short line (a plan's precondition at 80 columns); `headline` has the detail."""
        if self.refuses_writes:
            return self.headline
        if self.running is False:
            seen = {"pid-lock": "no lock holder", "process": "no bot process", "systemd": "unit inactive"}
            return "bot not running (" + ", ".join(
                dict.fromkeys(seen[e.kind] for e in self.evidence if e.running is False and e.kind in seen)) + ")"
        return "no sign of the bot (set process_pattern to spot one without a pid lock)"

    @property
    def holder_pid(self) -> int | None:
        return next((e.pid for e in self.evidence if e.running is True and e.pid is not None), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "refuses_writes": self.refuses_writes,
            "headline": self.headline,
            "evidence": [e.to_dict() for e in self.evidence],
            "stop_command": self.stop_command,
            "stop_as": self.stop_as,
            "checked_at": self.checked_at,
            "identified_by": self.identified_by,
        }


@lazy_dataclass()
class BackupInfo:
    path: Path
    kind: str  # "statetui" | "hand-made" | "quarantine" (a damaged state kept as evidence, never a backup)
    created: float  # unix time
    reason: str | None
    size: int
    expected: str | None  # sha256 prefix from the name (statetui backups)
    checksum: str = "unverified"  # ok | bad | none (hand-made) | unreadable | unverified
    valid: bool | None = None  # parses and validates as a state
    error: str | None = None
    roles: dict[str, Any] = field(default_factory=dict)  # cash, equity, peak, halted (statetui.core.roles)
    sha256: str | None = None
    outside: bool = False  # named by an explicit path outside the backups and state folders

    @property
    def bad(self) -> bool:
        """A backup that fails verification (a quarantine copy is evidence, never a bad backup)."""
        return self.kind != "quarantine" and not self.ok

    @property
    def cash(self) -> Any:
        return self.roles.get("cash")

    @property
    def peak(self) -> Any:
        return self.roles.get("peak")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def ok(self) -> bool:
        return self.checksum in ("ok", "none") and bool(self.valid)

    def age_s(self, now: float | None = None) -> float:
        return (now or time.time()) - self.created

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "kind": self.kind,
            "created": iso_time(self.created),
            "age_s": round(self.age_s(now), 1),
            "reason": self.reason,
            "size": self.size,
            "checksum": self.checksum,
            "valid": self.valid,
            "error": self.error,
            "cash": self.cash,
            "peak": self.peak,
            "roles": dict(self.roles),
        }


@dataclass(frozen=True)
class Point:
    ts: float  # unix time
    value: Decimal
    source: str  # "journal #12" or a backup name
    generation: int | None = None


def iso_time(ts: float) -> str | None:
    """ISO 8601 UTC, or None for a time no calendar holds (a file's mtime can say year 300000)."""
    try:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat()
    except (ValueError, OverflowError, OSError):
        return None
