"""clear-stale-lock: remove the bot's pid file, only when no live process holds its lock."""

from __future__ import annotations

from statetui.core.config import Config
from statetui.repair.base import Outcome, Plan, Repair, register


def plan(config: Config) -> Plan:
    from statetui.core.pidlock import inspect_pidlock

    status = inspect_pidlock(config.pid_file)
    p = Plan("clear-stale-lock", "Clear a stale pid lock", f"remove {config.pid_file}", writes_state=False,
             verify_checks=["process-safety"])
    if not status.exists:
        p.nothing_to_do = True
        p.summary = f"{config.pid_file} does not exist"
        return p
    p.evidence = {"pid": status.pid, "alive": status.alive, "holds_lock": status.holds_lock, "reason": status.reason}
    if status.holds_lock:
        p.refuse(f"pid {status.pid} is alive and holds the lock on {config.pid_file}: it is not stale")
        return p
    if not status.stale:
        p.nothing_to_do = True
        return p
    p.require(True, f"stale: {status.reason}")
    p.changes = [(str(config.pid_file), f"pid {status.pid}", "removed")]
    return p


def apply(p: Plan, config: Config) -> Outcome:
    from statetui.core.pidlock import clear_stale_pidlock

    message = clear_stale_pidlock(config.pid_file)
    return Outcome(True, message)


# The plan refuses a lock a live process holds; the gate also refuses while any sign says the bot may run
# (a pid file replaced under a running bot looks stale by its path alone).
register(Repair("clear-stale-lock", "clear a stale pid lock", plan, apply))
