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
    """A gate: when one fails, the plan is shown with the reason and cannot be applied."""

    ok: bool
    message: str
    code: int = 5  # the CLI's exit code when it fails: 5 refused; 4 the state or chain could not be read


@dataclass
class Plan:
    repair_id: str
    title: str
    summary: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (the bot's field path, before, after)
    evidence: dict[str, Any] = field(default_factory=dict)
    preconditions: list[Precondition] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # advice that does not gate the repair
    stop_command: str | None = None
    nothing_to_do: bool = False
    writes_state: bool = True
    verify_checks: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # field path -> role, for display
    halt_fields: set[str] = field(default_factory=set)  # the changes that clear the bot's halt
    apply_hint: str | None = None  # the command that applies exactly this plan

    def refuse(self, message: str, *, code: int = 5, stop_command: str | None = None) -> None:
        self.preconditions.append(Precondition(False, message, code))
        if stop_command:
            self.stop_command = stop_command

    def require(self, ok: bool, message: str, *, code: int = 5) -> bool:
        self.preconditions.append(Precondition(ok, message, code))
        return ok

    @property
    def failed(self) -> Precondition | None:
        return next((p for p in self.preconditions if not p.ok), None)

    @property
    def blocked(self) -> str | None:
        """Why it cannot be applied now: the first precondition that failed."""
        failed = self.failed
        return failed.message if failed else None

    @property
    def exit_code(self) -> int:
        failed = self.failed
        return failed.code if failed else 0

    @property
    def can_apply(self) -> bool:
        return self.blocked is None and not self.nothing_to_do

    def diff_lines(self) -> list[str]:
        lines = []
        for name, a, b in self.changes:
            role = self.labels.get(name)
            label = f"{role} ({name})" if role and role != name else name
            tail = "    <- clears the halt" if name in self.halt_fields else ""
            lines.append(f"{label}: {_show(a)} → {_show(b)}{tail}")
        return lines

    def render(self) -> str:
        lines = [f"{self.title}", f"  {self.summary}"]
        for p in self.preconditions:
            lines.append(f"  [{'ok' if p.ok else '!!'}] {p.message}")
        if self.changes:
            lines.append("  plan:")
            lines += [f"    {line}" for line in self.diff_lines()]
        for key, value in self.evidence.items():
            lines.append(f"  evidence {key}: {_show(value)}")
        for note in self.notes:
            lines.append(f"  note: {note}")
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
            "changes": [{"field": n, "role": self.labels.get(n), "before": a, "after": b,
                         "clears_halt": n in self.halt_fields} for n, a, b in self.changes],
            "evidence": self.evidence,
            "preconditions": [p.__dict__ for p in self.preconditions],
            "notes": list(self.notes),
            "blocked": self.blocked,
            "stop_command": self.stop_command,
            "nothing_to_do": self.nothing_to_do,
            "can_apply": self.can_apply,
            "apply": self.apply_hint,
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


def bot_stopped_precondition(config: Config, plan: Plan) -> None:
    """Refuse to write while the bot may be running (its in-memory state would overwrite the
    repair on its next save), or while statetui cannot tell for a reason inspection could
    settle. One refused line per sign; the command that stops the bot."""
    from statetui.core.botrunning import may_be_running

    try:
        verdict = may_be_running(config)
    except Exception as exc:  # a bug or a host we did not foresee: never a reason to write
        plan.refuse(f"cannot tell whether the bot is running: the check failed ({type(exc).__name__}: {exc})")
        return
    if not verdict.refuses_writes:
        plan.require(True, verdict.brief)
        return
    if verdict.running:
        head, tail = "the bot may be running", "; its in-memory state would overwrite this repair"
    else:
        head, tail = "cannot tell whether the bot is running", ""
    for i, sign in enumerate(verdict.deciding):
        plan.refuse(f"{head}: {sign.message}{tail}" if i == 0 else sign.message, stop_command=verdict.stop_command)


def read_only_precondition(config: Config, plan: Plan) -> None:
    if config.read_only:
        plan.refuse("read-only mode: writes are disabled")
