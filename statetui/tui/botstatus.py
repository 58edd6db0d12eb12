"""May the bot be running, and how to stop or start it: the console's one answer.

`bot_status` is the only place the console asks; it asks what every repair obeys,
`statetui.core.botrunning.may_be_running` (the pid lock, the bot's processes, its systemd
unit, a write the journal does not account for), and keeps what the console shows. No
Textual."""

from __future__ import annotations

import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from statetui.core.config import Config
from statetui.core.lazy_dataclass import lazy_dataclass

STOP_WAIT_S = 10.0  # a bot that saves its state on SIGTERM may take a few seconds


@lazy_dataclass()
class BotStatus:
    running: bool | None  # True: a sign it runs; None: cannot tell (repairs refused); False: no sign
    evidence: str  # the verdict's headline: what decided it
    stop_command: str | None = None
    pid: int | None = None
    started_at: float | None = None
    unit: str | None = None  # the systemd unit that runs it, when known
    user_unit: bool = False
    lock: Any = None  # PidLockStatus: the lock panel's details
    systemd: dict[str, Any] | None = None
    systemd_note: str | None = None
    cmdline: str | None = None
    verdict: Any = None  # botrunning.RunningVerdict: may the bot be running (what repairs obey)

    @property
    def refuses_writes(self) -> bool:
        return self.verdict.refuses_writes if self.verdict is not None else bool(self.running)

    @property
    def deciding(self) -> str:
        """The first item behind the verdict, one line."""
        items = self.verdict.deciding if self.verdict is not None else []
        return items[0].message if items else self.evidence


def bot_status(config: Config, systemd: bool = True) -> BotStatus:
    """Running True/None/False, the evidence, and the command that stops it."""
    from statetui.core.botrunning import may_be_running
    from statetui.core.systemd import systemd_status, systemd_unavailable_reason

    v = may_be_running(config)
    s = v.pidlock
    proc = v.processes[0] if v.processes else None
    if s.running:
        pid, started, cmdline = s.holder_pid or s.pid, s.started_at, s.cmdline
    elif proc is not None:  # seen without the pid lock (process_pattern, the unit's command)
        pid, started, cmdline = proc.pid, proc.started_at, proc.cmdline
    else:
        pid, started, cmdline = v.holder_pid or s.pid, s.started_at, s.cmdline
    running = True if v.running else (None if v.refuses_writes else False)
    status = BotStatus(running=running, evidence=v.headline, lock=s, pid=pid, started_at=started,
                       unit=config.systemd_unit or s.unit, user_unit=bool(s.user_unit), cmdline=cmdline,
                       stop_command=v.stop_command if v.refuses_writes else None, verdict=v)
    if systemd:
        if status.unit:
            status.systemd = (v.systemd if config.systemd_unit and v.systemd is not None
                              else systemd_status(status.unit, user=status.user_unit and not config.systemd_unit))
            if status.systemd is None:
                status.systemd_note = systemd_unavailable_reason()
        else:
            status.systemd_note = "no unit configured"
    return status


@dataclass
class StopOutcome:
    ok: bool
    message: str
    command: str
    after: BotStatus | None = None
    details: list[str] = field(default_factory=list)


def stop_bot(config: Config, seen: BotStatus, wait_s: float = STOP_WAIT_S) -> StopOutcome:
    """`systemctl stop UNIT` where systemd runs the bot, else SIGTERM to the lock holder;
    then wait and check. Never SIGKILL: a bot killed mid-write is the incident we fix."""
    from statetui.core import procinfo
    from statetui.tui import children

    now = bot_status(config, systemd=False)
    if now.running is False:
        return StopOutcome(True, f"the bot is not running ({now.evidence})", "", now)
    if now.running is None:
        return StopOutcome(False, f"{now.evidence}: nothing was stopped", "", now)
    if now.pid != seen.pid or (seen.started_at and now.started_at and abs(now.started_at - seen.started_at) > 2):
        return StopOutcome(False, f"the lock holder changed since you confirmed (now: {now.evidence}); look again",
                           now.stop_command or "", now)
    if now.unit:
        argv = ["systemctl"] + (["--user"] if now.user_unit and not config.systemd_unit else []) + ["stop", now.unit]
        command = shlex.join(argv)
        try:
            done = children.run(argv, timeout=wait_s + 30)
        except Exception as exc:  # not found, timed out
            return StopOutcome(False, f"{command} failed: {exc}", command, now)
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            return StopOutcome(False, f"{command}: {why[0] if why else 'exit ' + str(done.returncode)}", command, now)
    elif now.pid is None:
        return StopOutcome(False, f"no pid to signal ({now.evidence}); stop it the way it was started", "", now)
    else:
        pid = now.pid
        command = f"kill {pid}"
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        except PermissionError:
            return StopOutcome(False, f"not allowed to signal pid {pid} (run as its user or root)", command, now)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and procinfo.pid_alive(pid) and not _zombie(pid):
            time.sleep(0.05)
    after = bot_status(config, systemd=False)
    if after.running:
        return StopOutcome(False, f"sent `{command}`, but after {wait_s:g} s the bot still runs ({after.evidence}); "
                           f"look at its log before anything stronger", command, after)
    return StopOutcome(True, f"stopped ({command})", command, after, [after.evidence])


def _zombie(pid: int) -> bool:
    """Exited but not yet reaped by its parent (the lock is already released)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def start_command(config: Config, demo_start: list[str] | None = None, unit: str | None = None) -> str | None:
    """How to start the bot again, when we know: the demo's own command, or its systemd unit."""
    if demo_start:
        return shlex.join(demo_start)
    unit = config.systemd_unit or unit
    return f"systemctl start {shlex.quote(unit)}" if unit else None


def start_bot(config: Config, demo_start: list[str] | None = None, log: str | None = None,
              cwd: str | None = None, unit: str | None = None) -> StopOutcome:
    """Start the bot the way we know (the demo's command, or `systemctl start UNIT`); the
    console sees it take its lock (the pid file changes). A demo bot must be started on the
    main thread: its parent-death signal follows the thread that started it."""
    import subprocess

    from statetui.tui import children

    command = start_command(config, demo_start, unit)
    if command is None:
        return StopOutcome(False, "no known way to start this bot: start it the usual way", "")
    if demo_start:
        out = open(log, "ab") if log else None
        try:
            children.spawn(demo_start, stdout=out if out is not None else subprocess.DEVNULL, cwd=cwd)
        finally:
            if out is not None:
                out.close()
    else:
        try:
            done = children.run(shlex.split(command), timeout=60)
        except Exception as exc:
            return StopOutcome(False, f"{command} failed: {exc}", command)
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            return StopOutcome(False, f"{command}: {why[0] if why else 'exit ' + str(done.returncode)}", command)
    return StopOutcome(True, "started the demo's simulated bot again" if demo_start else f"started ({command})", command)
