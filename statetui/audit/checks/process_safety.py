"""`process-safety`: may the bot be running (the one answer repairs use), is exactly one
copy running, does a single-instance guard stop a second, is a leftover lock stale, and
does systemd keep it to one restarting instance.

Read-only: the pid lock is inspected through /proc/locks, never taken."""

from __future__ import annotations

from datetime import datetime

from statetui.audit.base import AuditContext, Report, register
from statetui.core import procinfo
from statetui.core.pidlock import PidLockStatus

REPAIR_CLEAR = "clear-stale-lock"
_USE_PIDLOCK = "Hold statetui.pidlock.PidLock({path}) in the bot for its whole lifetime: a second instance is then refused"


@register("process-safety", "Multi-Process Safety")
def check(ctx: AuditContext, report: Report) -> None:
    from statetui.core.botrunning import may_be_running

    cfg = ctx.config
    have_proc = procinfo.available()
    # A face that asked already (the fleet's status) passes its verdict: one /proc pass per bot.
    verdict = ctx.cache.get("running_verdict") or may_be_running(cfg, now=ctx.now)
    status = verdict.pidlock
    report.data["pidlock"] = status.to_dict()
    report.data["running"] = verdict.to_dict()

    bots, label, why_not = _find_bots(verdict, have_proc)
    _pid_lock_findings(verdict, bots, report)
    _bot_count_findings(status, bots, label, why_not, report)
    _running_findings(verdict, report)
    systemd_checked = _systemd_findings(cfg, verdict, report)
    _guard_findings(cfg, verdict, report)

    if not have_proc and not status.exists and not systemd_checked:
        report.skip(f"nothing to inspect: no /proc on this host, no pid file at {status.path}, systemd not available")
        return
    if report.worst().value == "PASS":
        first = next((f for f in report.findings if f.severity == "OK"), None) or next(
            (f for f in report.findings if f.severity == "INFO"), None)
        if first is not None:
            report.summary = first.message


def _running_findings(v, report: Report) -> None:
    """The verdict every repair obeys, with its evidence and the command that stops the bot."""
    if v.running is True:
        signs = [e for e in v.deciding if e.kind not in ("pid-lock", "process")]  # those two are reported above
        for e in signs:
            report.info(f"The bot may be running: {e.message}")
        if v.stop_command:
            as_user = f" (as {v.stop_as})" if v.stop_as else ""
            report.info(f"To stop the bot{as_user}: {v.stop_command}")
        else:
            report.info("No process of the bot identified to stop: set process_pattern so statetui can name it")
    elif v.refuses_writes:
        for e in v.deciding:
            report.warn(f"Cannot tell whether the bot is running: {e.message}; repairs stay refused until it is settled")
    elif v.running is None:
        for e in v.evidence:
            if e.kind == "process" and e.running is None:
                report.info(e.message[0].upper() + e.message[1:])
        report.recommend("Set process_pattern (e.g. 'python.*bot\\.py'), systemd_unit or bot_source, so a bot "
                         "running without a lock is seen")


def _pid_lock_findings(v, bots: list | None, report: Report) -> None:
    s = v.pidlock
    path = s.path
    for e in v.evidence:
        if e.kind == "deleted-pid-file" and e.running is True:
            report.warn(f"{e.message[0].upper()}{e.message[1:]}; nothing is left at {path} to lock, "
                        "so a second copy would start", file=path)
            report.recommend("Never delete a live bot's pid file; stop the bot, and let PidLock remove it on exit")
    if not s.exists:
        if any(e.kind == "pid-file" and e.blocking for e in v.evidence):
            return  # reported as "cannot tell" with the reason
        if bots:
            report.warn(f"No pid file at {path}, yet {_who(bots[0])} is running: nothing stops a second instance")
            report.recommend(_USE_PIDLOCK.format(path=path))
        elif bots == [] and v.running is False:
            report.ok(f"Bot not currently running (safe for analysis): no pid file at {path}, no bot process")
        else:
            # Nothing tells "stopped" from "running without a lock": say both.
            report.info(f"No pid file at {path}: the bot is not running, or it runs without a pid lock")
            report.recommend(_USE_PIDLOCK.format(path=path))
        return

    if s.regular is False:
        report.warn(f"{s.reason}: the bot cannot take its lock there", file=path)
        report.recommend(f"Check where it points (ls -l {path}) and remove it by hand; never follow it")
        return

    if s.stale:
        report.warn(f"Stale pid lock: {s.reason}", file=path)
        if v.running is not True and not any(e.kind == "pid-file" and e.blocking for e in v.evidence):
            report.repair(REPAIR_CLEAR)
            report.recommend(f"Clear the stale lock (repair {REPAIR_CLEAR}); it removes {path} only while nobody holds it")
        if s.pid_reused:
            report.info(f"pid {s.pid} now belongs to an unrelated process; do not kill it")
        return

    if s.running:
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
        return

    report.info(f"Pid file {path}: {s.reason}")


def _find_bots(v, have_proc: bool) -> tuple[list | None, str | None, str | None]:
    """(bot processes, how they were matched, why not counted). A bot and the workers it
    forked count once. None when processes cannot be listed or nothing tells what a bot
    looks like."""
    if not have_proc:
        return None, None, "Cannot list processes on this host (no /proc)"
    if v.identified_by:
        return v.processes, v.identified_by, None
    s = v.pidlock
    holder = s.holder_pid if s.running else None
    if holder is not None and (argv := procinfo.cmdline_argv(holder)):
        everyone = procinfo.list_processes()
        procs = procinfo.find_processes(argv, among=everyone)
        return procinfo.group_roots(procs, among=everyone), "the lock holder's command line", None
    return None, None, "No process pattern configured and no lock holder: bot processes not counted"


def _bot_count_findings(s: PidLockStatus, roots: list | None, label: str | None, why_not: str | None,
                        report: Report) -> None:
    if roots is None:
        if why_not and "pattern" not in why_not:
            report.info(why_not)
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


def _systemd_findings(cfg, v, report: Report) -> bool:
    from statetui.core.systemd import systemd_status, systemd_unavailable_reason

    s = v.pidlock
    reason = systemd_unavailable_reason()
    if reason is not None:
        report.info(reason)
        report.data["systemd"] = {"available": False, "reason": reason}
        return False
    unit = cfg.systemd_unit or s.unit
    if not unit:
        report.info("The bot does not run under a systemd service (none configured, none found for the holder)")
        report.recommend("Run the bot as a systemd service with Restart=on-failure: one instance, restarted after a crash")
        report.data["systemd"] = {"available": True, "unit": None}
        return True
    info = v.systemd if cfg.systemd_unit and v.systemd is not None else systemd_status(unit, user=s.user_unit)
    info = info or {"unit": unit, "error": "systemd disappeared"}
    report.data["systemd"] = {"available": True, **info}
    if "error" in info or info.get("LoadState") == "not-found":
        return True  # the verdict says "cannot tell" with the reason
    report.ok(f"systemd unit {unit}: {info.get('ActiveState')}/{info.get('SubState')}, "
              f"MainPID {info.get('MainPID')}, Restart={info.get('Restart')}")
    if info.get("Restart") == "no":
        report.warn(f"systemd unit {unit} has Restart=no: a crash leaves the bot down")
        report.recommend(f"Set Restart=on-failure in {info.get('FragmentPath') or unit}")
    if info.get("ActiveState") == "active" and not s.running:
        report.info(f"systemd unit {unit} is active but no process holds the pid lock")
    return True


def _guard_findings(cfg, v, report: Report) -> None:
    """Defect 5 of issue 10: a bot with no single-instance guard is not safe, running or not."""
    from statetui.audit.guards import code_guards, config_guards

    guards, notes = config_guards(cfg, v)
    found, code_notes = code_guards(getattr(cfg, "bot_source", None), state_path=cfg.state)
    guards += found
    notes += code_notes
    report.data["guards"] = {"found": [g.to_dict() for g in guards], "notes": notes}
    for g in guards:
        if g.bypassed_by:  # a second program writes the state past the guard
            report.warn(f"Single-instance guard ({g.source}) bypassed: {g.message}", file=g.file, line=g.line)
        else:
            report.info(f"Single-instance guard ({g.source}): {g.message}", file=g.file, line=g.line)
    if not guards:
        report.warn("No single-instance guard found in the bot's config or code: nothing stops a second copy from "
                    "running and overwriting the state (" + "; ".join(notes) + ")")
        report.recommend(_USE_PIDLOCK.format(path=cfg.pid_file))
        report.recommend("Or run the bot only as a systemd service (one instance per unit) and set systemd_unit")


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
