"""repair ID and reconcile: show the plan; with --apply, confirm, apply, verify."""

from __future__ import annotations

import argparse

from statetui.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_WARNING, error
from statetui.cli.output import confirm, print_json


def _add_apply_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--apply", action="store_true", help="apply the plan (asks for confirmation on a terminal)")
    p.add_argument("--yes", action="store_true", help="with --apply: do not ask (for scripts)")


def configure_repair(p: argparse.ArgumentParser) -> None:
    p.add_argument("repair_id", metavar="ID", nargs="?", help="repair id; omit to list them")
    p.add_argument("--backup", help="restore-backup: which backup (name, prefix, path or 'latest')")
    p.add_argument("--sha256", help="restore-backup: the backup's sha256 the plan showed (refused if it changed)")
    p.add_argument("--balance", help="init-state: starting cash")
    p.add_argument("--value", help="set-peak: the peak you know to be right")
    p.add_argument("--reason", help="set-peak: why you know it (journaled with the manual write)")
    _add_apply_flags(p)


def run_repair(args, config) -> int:
    from statetui.repair.runner import get_repair, repair_ids

    if args.repair_id is None:  # ("" is an unknown id, not a request for the list)
        for rid in repair_ids():
            print(f"{rid:18} {get_repair(rid).title}")
        return EXIT_OK
    repair = get_repair(args.repair_id)
    params = {name: getattr(args, name) for name in repair.params if getattr(args, name, None) is not None}
    return plan_confirm_apply(args, config, args.repair_id, params)


def configure_reconcile(p: argparse.ArgumentParser) -> None:
    _add_apply_flags(p)


def run_reconcile(args, config) -> int:
    if not config.chain_configured:  # a usage error, found before the state is even read
        from statetui.core.chain import ChainNotConfiguredError

        raise ChainNotConfiguredError("chain not configured: set rpc_url and wallet "
                                      "(--rpc-url/--wallet, STATETUI_RPC_URL/STATETUI_WALLET or [chain] in the config)")
    from statetui.cli.notifying import notify_targets, reconcile_outcome, record_chain_reading, send
    from statetui.core.errors import StatetuiError

    urls = notify_targets(args, config)
    try:
        code = plan_confirm_apply(args, config, "reconcile", {})
    except StatetuiError as exc:  # notified, then reported as every error is
        outcome = reconcile_outcome(args, config, getattr(args, "plan", None), None, 4)
        if outcome.status != "ERROR":
            outcome.status, outcome.headline = "ERROR", str(exc)
        send(args, config, outcome, urls)
        raise
    record_chain_reading(config, getattr(args, "plan", None))
    send(args, config, reconcile_outcome(args, config, getattr(args, "plan", None), getattr(args, "applied", None), code), urls)
    return code


def plan_confirm_apply(args, config, repair_id: str, params: dict) -> int:
    """The CLI's wizard: plan -> (refuse | show) -> confirm -> apply -> verify -> result."""
    from statetui.repair.runner import apply_plan, get_repair, plan_repair

    if args.apply and config.read_only and get_repair(repair_id).writes:  # known before any reading
        from statetui.core.errors import ReadOnlyError

        raise ReadOnlyError(f"read-only mode: not applying {repair_id}; nothing was written (plan it without --apply)")
    plan = plan_repair(repair_id, config, **params)
    args.plan = plan  # for reconcile's notification and chain reading
    # A refused plan is an error exit (the precondition's code: 5 refused, 4 unreadable, 2
    # not configured), said in one line on stderr, after the plan that shows why.
    blocked = (plan.blocked + (f"; stop it with: {plan.stop_command}" if plan.stop_command else "")) if plan.blocked else None
    if not args.apply:
        if args.json:
            print_json({"plan": plan.to_dict()})
        else:
            print(plan.render())
            if plan.can_apply:
                print(f"\nto apply: {plan.apply_hint}")
        return error(blocked, plan.exit_code) if blocked else EXIT_OK
    if not args.json:
        print(plan.render())
    if blocked:
        if args.json:
            print_json({"plan": plan.to_dict(), "outcome": None})
        return error(blocked, plan.exit_code)
    if plan.nothing_to_do:
        if args.json:
            print_json({"plan": plan.to_dict(), "outcome": None})
        return EXIT_OK
    if not args.yes and not confirm("apply this plan?"):
        from statetui.core.errors import NotConfirmedError

        raise NotConfirmedError("not confirmed; nothing written (use --yes in scripts)")
    outcome = apply_plan(plan, config)
    args.applied = outcome
    failed = [r for r in outcome.verify if r.status.rank >= 2]
    unverified = [r for r in outcome.verify if r.status.value == "SKIPPED"]
    if args.json:
        print_json({"plan": plan.to_dict(), "outcome": outcome.to_dict()})
    else:
        print(f"\n{outcome.message}")
        for r in outcome.verify:
            tail = "  (did not run: NOT verified)" if r.status.value == "SKIPPED" else ""
            print(f"  verify {r.id}: {r.status.value} — {r.summary}{tail}")
        if outcome.undo:
            print(f"  undo: {outcome.undo}")
    if not outcome.ok or failed:  # an error exit says why, in one line on stderr
        why = outcome.message if not outcome.ok else \
            f"{outcome.message}, but verification failed: {', '.join(f'{r.id} {r.status.value}' for r in failed)}"
        return error(why + (f" (undo: {outcome.undo})" if outcome.undo else ""), EXIT_ERROR)
    return EXIT_WARNING if unverified else EXIT_OK
