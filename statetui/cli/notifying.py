"""The CLI's side of notifications: the targets (config + --notify) checked before the work,
the verbs' outcomes, and the notifier's failures as warnings that never change the exit code."""

from __future__ import annotations

from typing import Any

from statetui.cli.exits import warn


def notify_targets(args, config) -> list:
    """The URLs to notify, checked now: a bad --notify is a usage error before any work."""
    if not config.notify and not getattr(args, "notify", None):
        return []
    from statetui.core.notify import targets

    return targets(config, getattr(args, "notify", None))


def send(args, config, outcome, urls: list) -> None:
    if not urls:
        return
    from statetui.core.notify import notify

    for warning in notify(config, outcome, urls):
        warn(warning)


def bot_name(args) -> str:
    return getattr(args, "bot_name", None) or "default"


def reconcile_outcome(args, config, plan: Any, applied: Any, code: int):
    """A reconcile's outcome from its plan (and what applying it did)."""
    import os

    from statetui.core.notify import OK, Outcome

    name = bot_name(args)
    out = Outcome("reconcile", name, OK, state=os.path.abspath(config.state))
    mismatch = plan.evidence.get("mismatch") if plan is not None else None
    if plan is None or plan.blocked:
        out.status, out.headline = "ERROR", (plan.blocked if plan is not None else "the reconcile failed")
        out.next_step = f"statetui --bot {name} reconcile"
    elif plan.nothing_to_do:
        out.headline = f"state cash matches the chain: {mismatch}"
    elif applied is None:
        out.status = "FAIL"
        out.headline = f"state cash differs from on-chain cash: {mismatch}"
        out.next_step = f"statetui --bot {name} reconcile --apply"
    elif applied.ok and code == 0:
        out.headline = applied.message
    else:
        out.status, out.headline = "ERROR", applied.message
        out.next_step = f"statetui --bot {name} audit"
    return out


def record_chain_reading(config, plan: Any) -> None:
    """Remember the reading a reconcile took (statetui_chain_mismatch between readings)."""
    from decimal import Decimal, InvalidOperation

    from statetui.core.chain_status import record
    from statetui.core.errors import StatetuiError

    ev = getattr(plan, "evidence", None) or {}
    try:
        state_cash, chain_cash = Decimal(ev["state_cash"]), Decimal(ev["chain_cash"])
    except (KeyError, TypeError, InvalidOperation):
        return
    try:
        record(config, state_cash, chain_cash, ev.get("block_number"), "reconcile")
    except (StatetuiError, OSError) as exc:
        warn(f"cannot remember the chain reading for metrics: {exc}")
