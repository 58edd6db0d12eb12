"""plan_repair / apply_plan: the single path every face takes."""

from __future__ import annotations

from typing import Any

from statetui.audit.base import AuditContext, CheckResult
from statetui.core.config import Config
from statetui.core.errors import BotRunningError, StatetuiError
from statetui.repair.base import REPAIRS, Outcome, Plan, bot_lock_precondition, read_only_precondition


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
        raise StatetuiError(f"unknown repair {repair_id!r} (known: {', '.join(REPAIRS)})") from None


def plan_repair(repair_id: str, config: Config, **params: Any) -> Plan:
    repair = get_repair(repair_id)
    plan = repair.plan(config, **params)
    plan.params = dict(params)
    if repair.writes:
        read_only_precondition(config, plan)
    if repair.needs_bot_stopped and not plan.nothing_to_do:
        bot_lock_precondition(config, plan)
    return plan


def apply_plan(plan: Plan, config: Config, verify: bool = True) -> Outcome:
    """Re-check the preconditions right before writing (the bot may have started since the
    plan was shown), apply, then re-run the checks the repair should have fixed."""
    repair = get_repair(plan.repair_id)
    fresh = plan_repair(plan.repair_id, config, **plan.params)
    if fresh.blocked:
        raise BotRunningError(fresh.blocked, fresh.stop_command) if fresh.stop_command else StatetuiError(fresh.blocked)
    if fresh.nothing_to_do:
        return Outcome(True, "nothing to do")
    if fresh.changes != plan.changes:
        raise StatetuiError("the state changed since the plan was made; review the new plan and confirm again")
    outcome = repair.apply(fresh, config)
    if verify and fresh.verify_checks:
        outcome.verify = run_checks(config, fresh.verify_checks)
    return outcome


def run_checks(config: Config, ids: list[str]) -> list[CheckResult]:
    from statetui.audit.engine import run_audit

    return run_audit(AuditContext(config), ids)
