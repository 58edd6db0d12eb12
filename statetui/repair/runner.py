"""plan_repair / apply_plan: the single path every face takes."""

from __future__ import annotations

from typing import Any

from statetui.audit.base import AuditContext, CheckResult
from statetui.core.config import Config
from statetui.core.errors import StatetuiError, UsageError
from statetui.repair.base import REPAIRS, Outcome, Plan, bot_stopped_precondition, read_only_precondition


def _load_all() -> None:
    import statetui.repair.repairs  # noqa: F401  (registers every repair)


def repair_ids() -> list[str]:
    _load_all()
    return list(REPAIRS)


def get_repair(repair_id: str):
    _load_all()
    try:
        return REPAIRS[repair_id]
    except KeyError:
        raise UsageError(f"unknown repair {repair_id!r} (known: {', '.join(REPAIRS)})") from None


class RepairRefused(StatetuiError):
    """A repair whose precondition failed was asked to apply. Nothing was written."""

    def __init__(self, message: str, code: int = 5, stop_command: str | None = None):
        super().__init__(message)
        self.exit_code = code
        self.stop_command = stop_command


def plan_repair(repair_id: str, config: Config, **params: Any) -> Plan:
    """The plan, its gates included: read-only mode and "may the bot be running?" are
    preconditions of every repair that writes; a failed one refuses the apply."""
    repair = get_repair(repair_id)
    plan = repair.plan(config, **params)
    plan.params = {**dict(params), **plan.params}
    if repair.writes:
        read_only_precondition(config, plan)
    if repair.needs_bot_stopped and not plan.nothing_to_do:
        bot_stopped_precondition(config, plan)
    if plan.apply_hint is None:
        plan.apply_hint = apply_command(repair_id, plan.params)
    return plan


def apply_command(repair_id: str, params: dict[str, Any]) -> str:
    """The command that plans exactly this plan again and applies it."""
    import shlex

    if repair_id == "reconcile":
        return "statetui reconcile --apply"
    args = [f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in params.items()
            if v is not None and not k.startswith("_")]
    return " ".join(["statetui repair", repair_id, *args, "--apply"])


def apply_plan(plan: Plan, config: Config, verify: bool = True) -> Outcome:
    """Re-plan right before writing (the bot may have started, the file may have changed since
    the plan was shown) and apply only when every gate holds and the new plan is the one the
    operator saw; then re-run the checks the repair should have fixed."""
    if plan.blocked:
        raise RepairRefused(plan.blocked, plan.exit_code or 5, plan.stop_command)
    repair = get_repair(plan.repair_id)
    fresh = plan_repair(plan.repair_id, config, **plan.params)
    if fresh.blocked:
        raise RepairRefused(fresh.blocked, fresh.exit_code or 5, fresh.stop_command)
    if fresh.nothing_to_do:
        return Outcome(True, "nothing to do")
    if fresh.changes != plan.changes or fresh.evidence.get("binds") != plan.evidence.get("binds"):
        raise RepairRefused("the state changed since the plan was made; nothing written: review the new plan "
                            "and confirm again")
    outcome = repair.apply(fresh, config)
    if verify and fresh.verify_checks:
        outcome.verify = run_checks(config, fresh.verify_checks)
    return outcome


def run_checks(config: Config, ids: list[str]) -> list[CheckResult]:
    from statetui.audit.engine import run_audit

    return run_audit(AuditContext(config), ids)
