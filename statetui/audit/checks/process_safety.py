"""`process-safety`: is exactly one bot running, does it really hold its pid lock,
is a leftover lock stale, and does systemd keep it to one restarting instance.

Read-only: the pid lock is inspected through /proc/locks, never taken."""

from __future__ import annotations

from datetime import datetime

from statetui.audit.base import AuditContext, Report, register
from statetui.core import procinfo
from statetui.core.pidlock import (
    PidLockStatus,
    inspect_pidlock,
    stop_command,
    systemd_status,
    systemd_unavailable_reason,
)

REPAIR_CLEAR = "clear-stale-lock"
_USE_PIDLOCK = "Hold statetui.pidlock.PidLock({path}) in the bot for its whole lifetime: a second instance is then refused"


@register("process-safety", "Multi-Process Safety")
def check(ctx: AuditContext, report: Report) -> None:
    cfg = ctx.config
    path = str(cfg.pid_file)
    have_proc = procinfo.available()
    status = inspect_pidlock(path)
    report.data["pidlock"] = status.to_dict()

    bots, label, why_not = _find_bots(cfg, status, have_proc)
    _pid_lock_findings(cfg, status, bots, report)
    _bot_count_findings(status, bots, label, why_not, report)
    systemd_checked = _systemd_findings(cfg, status, report)

    if not have_proc and not status.exists and not systemd_checked:
        report.skip(f"nothing to inspect: no /proc on this host, no pid file at {path}, systemd not available")
        return
    if report.worst().value == "PASS":
        first = next((f for f in report.findings if f.severity == "OK"), None) or next(
            (f for f in report.findings if f.severity == "INFO"), None)
        if first is not None:
            report.summary = first.message


def _pid_lock_findings(cfg, s: PidLockStatus, bots: list | None, report: Report) -> None:
    path = s.path
    if not s.exists:
        if s.reason.startswith(f"{path}: cannot stat"):
            report.warn(f"Cannot inspect the pid file: {s.reason}")
            return
        if bots:
            report.warn(f"No pid file at {path}, yet {_who(bots[0])} is running: nothing stops a second instance")
            report.recommend(_USE_PIDLOCK.format(path=path))
        elif bots == []:
            report.ok(f"Bot not currently running (safe for analysis): no pid file at {path}, no bot process")
        else:
            # Without a pattern we cannot tell "stopped" from "running without a lock": say both.
            report.info(f"No pid file at {path}: the bot is not running, or it runs without a pid lock")
            report.recommend(_USE_PIDLOCK.format(path=path))
        return

    if s.regular is False:
        report.warn(f"{s.reason}: the bot cannot take its lock there", file=path)
        report.recommend(f"Check where it points (ls -l {path}) and remove it by hand; never follow it")
        return

    if s.stale:
        report.warn(f"Stale pid lock: {s.reason}", file=path)
        report.repair(REPAIR_CLEAR)
        report.recommend(f"Clear the stale lock (repair {REPAIR_CLEAR}); it removes {path} only while nobody holds it")
        if s.pid_reused:
            report.info(f"pid {s.pid} now belongs to an unrelated process; do not kill it")
        return

    if s.running:
        holder = s.holder_pid
        if s.holds_lock:
            report.ok(f"Bot running: pid {s.pid} ({procinfo.shorten(s.cmdline or '?')}){_since(s)}; it holds the lock on {path}")
        elif s.locked:
            report.warn(f"Pid file and lock disagree: {s.reason}", file=path)
            report.recommend("Let only the bot write its pid file (PidLock does it); check who else writes it")
        elif s.locked is None:
            report.info(f"Cannot verify the lock (no /proc/locks): {s.reason}")
        else:
            report.warn(f"Pid {s.pid} ({procinfo.shorten(s.cmdline or '?')}) is alive but holds no lock on {path}: "
                        "a second instance would not be refused", file=path)
            report.recommend(_USE_PIDLOCK.format(path=path))
        if holder is not None:
            report.info(f"To stop the bot: {stop_command(cfg, s)}")
        return

    report.info(f"Pid file {path}: {s.reason}")


def _find_bots(cfg, s: PidLockStatus, have_proc: bool) -> tuple[list | None, str | None, str | None]:
    """(bot processes, how they were matched, why not counted). A bot and the
    workers it forked count once. None when processes cannot be listed or nothing
    tells us what a bot looks like."""
    if not have_proc:
        return None, None, "Cannot list processes on this host (no /proc)"
    holder = s.holder_pid if s.running else None
    if cfg.process_pattern:
        label, pattern = f"process pattern {cfg.process_pattern!r}", cfg.process_pattern
    elif holder is not None and (argv := procinfo.cmdline_argv(holder)):
        label, pattern = "the lock holder's command line", argv
    else:
        return None, None, "No process pattern configured and no lock holder: bot processes not counted"
    everyone = procinfo.list_processes()
    procs = procinfo.find_processes(pattern, among=everyone)
    return procinfo.group_roots(procs, among=everyone), label, None


def _bot_count_findings(s: PidLockStatus, roots: list | None, label: str | None, why_not: str | None,
                        report: Report) -> None:
    if roots is None:
        report.info(why_not or "bot processes not counted")
        if why_not and "pattern" in why_not:
            report.recommend("Set process_pattern (e.g. 'python.*bot\\.py') so a second bot is detected even without a lock")
        return
    report.data["processes"] = [p.to_dict() for p in roots]
    holder = s.holder_pid if s.running else None
    if len(roots) > 1:
        listed = "; ".join(_who(p) for p in roots)
        report.fail(f"{len(roots)} bot processes running (by {label}): {listed}. "
                    "Two bots writing one state file corrupt it")
        if holder in {p.pid for p in roots}:
            extra = " ".join(str(p.pid) for p in roots if p.pid != holder)
            report.recommend(f"Stop the instance(s) without the lock now: kill {extra}")
        else:
            report.recommend("Stop all but one instance now, then check the state file (statetui audit)")
        report.recommend(_USE_PIDLOCK.format(path=s.path))
    elif len(roots) == 1:
        report.ok(f"One bot process running (by {label}): {_who(roots[0])}")
    else:
        report.ok(f"No bot process running (by {label})")


def _systemd_findings(cfg, s: PidLockStatus, report: Report) -> bool:
    reason = systemd_unavailable_reason()
    if reason is not None:
        report.info(reason)
        report.data["systemd"] = {"available": False, "reason": reason}
        return False
    unit = cfg.systemd_unit or s.unit
    user = False if cfg.systemd_unit else s.user_unit
    if not unit:
        report.info("The bot does not run under a systemd service (none configured, none found for the holder)")
        report.recommend("Run the bot as a systemd service with Restart=on-failure: one instance, restarted after a crash")
        report.data["systemd"] = {"available": True, "unit": None}
        return True
    info = systemd_status(unit, user=user) or {"unit": unit, "error": "systemd disappeared"}
    report.data["systemd"] = {"available": True, **info}
    if "error" in info:
        report.warn(info["error"])
        return True
    if info.get("LoadState") == "not-found":
        report.warn(f"systemd unit {unit} not found")
        return True
    report.ok(f"systemd unit {unit}: {info.get('ActiveState')}/{info.get('SubState')}, "
              f"MainPID {info.get('MainPID')}, Restart={info.get('Restart')}")
    if info.get("Restart") == "no":
        report.warn(f"systemd unit {unit} has Restart=no: a crash leaves the bot down")
        report.recommend(f"Set Restart=on-failure in {info.get('FragmentPath') or unit}")
    if info.get("ActiveState") == "active" and not s.running:
        report.info(f"systemd unit {unit} is active but no process holds the pid lock")
    return True


def _who(p) -> str:
    return f"pid {p.pid} ({procinfo.shorten(p.cmdline)})"


def _since(s: PidLockStatus) -> str:
    parts = []
    if s.uptime_s is not None:
        parts.append(f"up {_duration(s.uptime_s)}")
    if s.started_at is not None:
        parts.append("since " + datetime.fromtimestamp(s.started_at).astimezone().isoformat(timespec="seconds"))
    return ", " + ", ".join(parts) if parts else ""


def _duration(sec: float) -> str:
    sec = int(sec)
    d, rem = divmod(sec, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {s:02d}s"
    return f"{s}s"
