"""The guided recovery's steps: each a question answered by the same checks and core
calls the CLI uses, with the fixes it offers. Evaluating a step only reads (plans are
made, never applied); repairs run through the repair wizard and are recorded by
statetui.tui.progress. No Textual import.

A step offers a repair only when its plan can be applied now (`plan.can_apply`: not
blocked by a failed precondition, something to do); the others are listed with why not."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from statetui.core.config import Config
from statetui.core.errors import StatetuiError

_RANK = {"PASS": 0, "SKIPPED": 0, "INFO": 0, "PENDING": 1, "WARNING": 1, "FAIL": 2, "CRITICAL": 3}


@dataclass(frozen=True)
class StepDef:
    id: str
    title: str
    why: str
    checks: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    short: str = ""  # for a narrow list


STEPS: tuple[StepDef, ...] = (
    StepDef("bot-stopped", "Is the bot stopped?",
            "A repair written while the bot runs is overwritten by the bot's next save.",
            ("process-safety",), ("clear-stale-lock",), short="Bot stopped?"),
    StepDef("state-readable", "Is the state readable?",
            "A missing, partial or invalid file stops the bot at start.",
            ("state-file",), ("restore-backup", "init-state"), short="State readable?"),
    StepDef("snapshot", "Snapshot it now",
            "Keep the evidence as it is before anything changes.",
            (), ("backup-now",), short="Snapshot now"),
    StepDef("backups", "Are the backups healthy?",
            "A restore is only as good as the newest backup that verifies.",
            ("backups",), ("backup-now", "prune-backups"), short="Backups healthy?"),
    StepDef("chain", "Does cash match the chain?",
            "The state's cash must be the wallet's real cash (the Jan 16 desync was $186).",
            ("chain-reconcile",), ("reconcile",), short="Cash = chain?"),
    StepDef("peak", "Is the peak sane?",
            "The peak must track realized cash only; a peak with position value halts the bot on a false drawdown.",
            ("peak-drawdown",), ("recompute-peak",), short="Peak sane?"),
    StepDef("audit", "Full audit",
            "Every check, once more, on the repaired state.",
            ("*",), (), short="Full audit"),
    StepDef("start-bot", "Start the bot",
            "The step passes when a live process holds the bot's pid lock again.",
            (), (), short="Start the bot"),
)
STEP_IDS = tuple(s.id for s in STEPS)


def step_def(step_id: str) -> StepDef:
    return next(s for s in STEPS if s.id == step_id)


def passes(status: str) -> bool:
    """A step may be left behind when nothing in it is a failure."""
    return _RANK.get(status, 2) < 2


@dataclass
class StepResult:
    status: str  # PASS | WARNING | FAIL | CRITICAL | SKIPPED | PENDING
    summary: str
    lines: list[str] = field(default_factory=list)  # evidence, one line each
    checks: list[dict[str, Any]] = field(default_factory=list)  # CheckResult.to_dict()
    suggested: str | None = None  # the repair that fixes what was found
    command: str | None = None  # the one shell command this step asks for (stop/start the bot)
    action: str | None = None  # a fix that is not a repair: "stop-bot" | "start-bot"
    offers: list[dict[str, Any]] = field(default_factory=list)  # {"repair", "params"}: plans that can apply now
    refused: dict[str, str] = field(default_factory=dict)  # repair -> why it is not offered now
    at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepResult":
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})


@dataclass(frozen=True)
class Situation:
    """What the playbook knows beyond the config: the demo's restart command, a unit seen
    when the bot was stopped, the repairs done so far."""

    demo_start: tuple[str, ...] | None = None
    unit: str | None = None
    done: tuple[dict[str, Any], ...] = ()


def _worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: _RANK.get(s, 2))


def _run_checks(config: Config, ids: tuple[str, ...], now: float) -> list[Any]:
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import all_check_ids, run_audit

    known = all_check_ids()
    wanted = known if ids == ("*",) else [i for i in ids if i in known]
    return run_audit(AuditContext(config, now=now), wanted) if wanted else []


def evaluate(step_id: str, config: Config, situation: Situation | None = None, now: float | None = None) -> StepResult:
    """Answer the step's question now (reads and plans only). Blocking: run it in a worker."""
    now = time.time() if now is None else now
    situation = situation or Situation()
    result = _PROBES[step_id](config, situation, now)
    d = step_def(step_id)
    if d.checks:
        checks = _run_checks(config, d.checks, now)
        result.checks = [r.to_dict() for r in checks]
        if step_id in _CHECKS_GATE:
            for r in checks:
                result.status = _worst(result.status, r.status.value)
            bad = [r for r in checks if _RANK.get(r.status.value, 0) >= 1]
            if bad and result.status != "PASS" and not result.summary:
                result.summary = "; ".join(f"{r.id}: {r.summary}" for r in bad[:3])
            if result.suggested is None:
                result.suggested = next((rid for r in bad for rid in r.repairs if rid in d.repairs), None)
    if result.status not in ("PASS", "SKIPPED") and result.action is None:
        _offer(result, d, config)
    if not result.summary:
        result.summary = "ok" if result.status == "PASS" else result.status.lower()
    result.at = now
    return result


def _offer(result: StepResult, d: StepDef, config: Config) -> None:
    """Plan each repair this step could use; offer only those that can apply now."""
    from statetui.repair.runner import plan_repair, repair_ids

    known = set(repair_ids())
    order = [r for r in ([result.suggested] if result.suggested else []) + list(d.repairs) if r in known]
    for rid in dict.fromkeys(order):
        params = _params_for(rid, result)
        try:
            plan = plan_repair(rid, config, **params)
        except StatetuiError as exc:
            result.refused[rid] = str(exc)
            continue
        if plan.can_apply:
            result.offers.append({"repair": rid, "params": params})
        else:
            result.refused[rid] = plan.blocked or "nothing to do"
    if result.suggested and all(o["repair"] != result.suggested for o in result.offers):
        result.suggested = result.offers[0]["repair"] if result.offers else None


def _params_for(rid: str, result: StepResult) -> dict[str, Any]:
    if rid == "restore-backup":
        good = next((line.split(": ", 1)[1] for line in result.lines if line.startswith("newest good backup: ")), None)
        return {"backup": good} if good else {}
    return {}


# Steps whose verdict includes the worst status of their checks (the others show them as evidence).
_CHECKS_GATE = {"backups", "chain", "peak", "audit"}


def _bot_stopped(config: Config, situation: Situation, now: float) -> StepResult:
    from statetui.core import procinfo
    from statetui.tui.botstatus import bot_status

    bot = bot_status(config, systemd=False)
    s = bot.lock
    if bot.running:
        lines = [f"its command: {procinfo.shorten(bot.cmdline, 100)}"] if bot.cmdline else []
        if situation.demo_start:
            lines.append("this is the demo's simulated bot: stopping it is safe")
        head = (f"the bot is running: pid {bot.pid} holds {config.pid_file}" if s is not None and s.running
                else f"the bot may be running: {bot.deciding}")
        return StepResult("FAIL", head, lines, command=bot.stop_command,
                          action=None if config.read_only or bot.pid is None and not bot.unit else "stop-bot")
    if bot.running is None:  # cannot tell: repairs are refused until inspection settles it
        return StepResult("FAIL", f"cannot tell whether the bot is running: {bot.deciding}",
                          ["run statetui as the bot's user (or root) so it can look"], command=bot.stop_command)
    if s is not None and s.stale:
        return StepResult("WARNING", f"stale pid file: {bot.evidence}", ["nobody holds its lock: it can be cleared"],
                          suggested="clear-stale-lock")
    if s is not None and s.regular is False:
        return StepResult("FAIL", bot.evidence)
    return StepResult("PASS", bot.evidence or "no live holder of the pid lock")


def _state_readable(config: Config, situation: Situation, now: float) -> StepResult:
    from statetui.tui.data import gather_backups, store_for

    fs = store_for(config).status()
    if fs.error is not None:
        good = gather_backups(config).newest_good
        if good is not None:
            return StepResult("CRITICAL", str(fs.error), [f"newest good backup: {good.name}"], suggested="restore-backup")
        return StepResult("CRITICAL", str(fs.error), ["no backup verifies: create a new state, then reconcile its cash"],
                          suggested="init-state")
    writer = {True: "through the store", False: "OUTSIDE the store", None: "unknown (no journal)"}[fs.written_by_store]
    return StepResult("PASS", f"readable: {fs.size} bytes, generation {fs.generation or '—'}, last written {writer}")


def _snapshot(config: Config, situation: Situation, now: float) -> StepResult:
    import os

    done = [a for a in situation.done if a.get("repair") == "backup-now" and a.get("ok")]
    if done:
        return StepResult("PASS", f"snapshot taken: {done[-1].get('backup') or done[-1].get('message')}")
    if not os.path.lexists(config.state):
        return StepResult("SKIPPED", "no state file to snapshot")
    return StepResult("PENDING", "take a backup of the file as it is now", suggested="backup-now")


def _backups(config: Config, situation: Situation, now: float) -> StepResult:
    from statetui.tui.data import gather_backups

    view = gather_backups(config)
    if view.error:
        return StepResult("FAIL", view.error)
    if not view.infos:
        return StepResult("WARNING", f"no backups in {view.dir}", suggested="backup-now")
    lines = [f"{view.count} backup(s), newest {view.infos[0].name}"]
    if view.failing:
        lines += [f"does not verify: {b.name} ({b.error or b.checksum})" for b in view.failing[:5]]
        return StepResult("WARNING", f"{view.failing_count} backup(s) fail verification", lines)
    return StepResult("PASS", "", lines)


def _chain(config: Config, situation: Situation, now: float) -> StepResult:
    if not config.chain_configured:
        return StepResult("SKIPPED", "chain not configured (rpc_url and wallet): cash cannot be compared")
    return StepResult("PASS", "")


def _peak(config: Config, situation: Situation, now: float) -> StepResult:
    from statetui.repair.runner import plan_repair

    try:
        plan = plan_repair("recompute-peak", config)
    except StatetuiError as exc:
        return StepResult("FAIL", f"cannot plan recompute-peak: {exc}")
    if plan.changes:
        return StepResult("WARNING", "the peak does not match realized cash history",
                          [f"recompute-peak would change {line}" for line in plan.diff_lines()]
                          + [f"{k}: {v}" for k, v in plan.evidence.items()],
                          suggested="recompute-peak")
    return StepResult("PASS", "", [f"{k}: {v}" for k, v in plan.evidence.items()])


def _audit(config: Config, situation: Situation, now: float) -> StepResult:
    return StepResult("PASS", "")


def _start_bot(config: Config, situation: Situation, now: float) -> StepResult:
    from statetui.tui.botstatus import bot_status, start_command

    bot = bot_status(config, systemd=False)
    if bot.running:
        held = bot.lock is not None and bot.lock.running
        return StepResult("PASS", f"the bot is running again: pid {bot.pid} holds {config.pid_file}" if held
                          else f"the bot is running again: {bot.deciding}")
    if bot.running is None:  # never start a second copy of a bot that may be running
        return StepResult("FAIL", f"cannot tell whether the bot is running: {bot.deciding}",
                          ["run statetui as the bot's user (or root) so it can look"])
    cmd = start_command(config, list(situation.demo_start) if situation.demo_start else None, situation.unit)
    if cmd is None:
        return StepResult("PENDING", "not running yet: start it the way you usually do (service, tmux, screen…)",
                          [f"this step passes by itself once a live process holds {config.pid_file}",
                           "set systemd_unit in the config and this step can start it for you"])
    lines = ["f starts the demo's simulated bot again: it trades calmly (stakes sized to its drawdown headroom)"] \
        if situation.demo_start else ["f runs it for you (after a confirmation)"]
    return StepResult("PENDING", "not running yet", lines, command=cmd, action=None if config.read_only else "start-bot")


_PROBES: dict[str, Callable[[Config, Situation, float], StepResult]] = {
    "bot-stopped": _bot_stopped, "state-readable": _state_readable, "snapshot": _snapshot,
    "backups": _backups, "chain": _chain, "peak": _peak, "audit": _audit, "start-bot": _start_bot,
}
