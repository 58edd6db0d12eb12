"""The shape every repair has, and the one runner faces call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from statetui.audit.base import CheckResult
from statetui.core.config import Config
from statetui.core.errors import BotRunningError, StatetuiError


@dataclass
class Precondition:
    ok: bool
    message: str


@dataclass
class Plan:
    repair_id: str
    title: str
    summary: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, before, after)
    evidence: dict[str, Any] = field(default_factory=dict)
    preconditions: list[Precondition] = field(default_factory=list)
    blocked: str | None = None  # why it cannot be applied now
    stop_command: str | None = None
    nothing_to_do: bool = False
    writes_state: bool = True
    verify_checks: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def can_apply(self) -> bool:
        return self.blocked is None and not self.nothing_to_do

    def diff_lines(self) -> list[str]:
        return [f"{name}: {_show(a)} → {_show(b)}" for name, a, b in self.changes]

    def render(self) -> str:
        lines = [f"{self.title}", f"  {self.summary}"]
        for p in self.preconditions:
            lines.append(f"  [{'ok' if p.ok else '!!'}] {p.message}")
        if self.changes:
            lines.append("  plan:")
            lines += [f"    {line}" for line in self.diff_lines()]
        for key, value in self.evidence.items():
            lines.append(f"  evidence {key}: {_show(value)}")
        if self.blocked:
            lines.append(f"  REFUSED: {self.blocked}")
            if self.stop_command:
                lines.append(f"  stop the bot first: {self.stop_command}")
        elif self.nothing_to_do:
            lines.append("  nothing to do")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repair": self.repair_id,
            "title": self.title,
            "summary": self.summary,
            "changes": [{"field": n, "before": a, "after": b} for n, a, b in self.changes],
            "evidence": self.evidence,
            "preconditions": [p.__dict__ for p in self.preconditions],
            "blocked": self.blocked,
            "stop_command": self.stop_command,
            "nothing_to_do": self.nothing_to_do,
            "can_apply": self.can_apply,
        }


@dataclass
class Outcome:
    ok: bool
    message: str
    backup: str | None = None  # the backup that undoes it
    undo: str | None = None  # the command that undoes it
    verify: list[CheckResult] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "backup": self.backup,
            "undo": self.undo,
            "verify": [r.to_dict() for r in self.verify],
            "details": self.details,
        }


@dataclass(frozen=True)
class Repair:
    id: str
    title: str
    plan: Callable[..., Plan]  # plan(config, **params) -> Plan
    apply: Callable[[Plan, Config], Outcome]
    needs_bot_stopped: bool = True
    writes: bool = True
    params: tuple[str, ...] = ()  # names of parameters plan() accepts (e.g. "backup")


REPAIRS: dict[str, Repair] = {}


def register(repair: Repair) -> Repair:
    REPAIRS[repair.id] = repair
    return repair


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "..."
    return json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value


def bot_lock_precondition(config: Config, plan: Plan) -> None:
    """Refuse to write while the bot holds its pid lock: its in-memory state would
    overwrite the repair on its next save."""
    from statetui.core.pidlock import bot_holds_lock, stop_command

    holder = bot_holds_lock(config)
    if holder is None:
        plan.preconditions.append(Precondition(True, f"bot not running (no live holder of {config.pid_file})"))
        return
    cmd = stop_command(config, holder)
    plan.preconditions.append(Precondition(False, f"bot is running: pid {holder.pid} holds {config.pid_file} ({holder.cmdline or '?'})"))
    plan.blocked = f"the bot (pid {holder.pid}) holds its lock; its in-memory state would overwrite this repair"
    plan.stop_command = cmd


def read_only_precondition(config: Config, plan: Plan) -> None:
    if config.read_only:
        plan.preconditions.append(Precondition(False, "read-only mode"))
        plan.blocked = plan.blocked or "read-only mode: writes are disabled"
