"""repair ID and reconcile: show the plan; with --apply, confirm, apply, verify."""

from __future__ import annotations

import argparse

from statetui.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_WARNING, error
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

    if not args.repair_id:
        for rid in repair_ids():
            print(f"{rid:18} {get_repair(rid).title}")
        return EXIT_OK
    repair = get_repair(args.repair_id)
    params = {name: getattr(args, name) for name in repair.params if getattr(args, name, None) is not None}
    return plan_confirm_apply(args, config, args.repair_id, params)


def configure_reconcile(p: argparse.ArgumentParser) -> None:
    _add_apply_flags(p)


def run_reconcile(args, config) -> int:
    return plan_confirm_apply(args, config, "reconcile", {})


def plan_confirm_apply(args, config, repair_id: str, params: dict) -> int:
    """The CLI's wizard: plan -> (refuse | show) -> confirm -> apply -> verify -> result."""
    from statetui.repair.runner import apply_plan, plan_repair

    plan = plan_repair(repair_id, config, **params)
    if not args.apply:
        if args.json:
            print_json({"plan": plan.to_dict()})
        else:
            print(plan.render())
            if plan.can_apply:
                print(f"\nto apply: {plan.apply_hint}")
        return plan.exit_code or EXIT_OK
    if not args.json:
        print(plan.render())
    if plan.blocked:
        if args.json:
            print_json({"plan": plan.to_dict(), "outcome": None})
        return error(plan.blocked + (f"; stop it with: {plan.stop_command}" if plan.stop_command else ""), plan.exit_code)
    if plan.nothing_to_do:
        if args.json:
            print_json({"plan": plan.to_dict(), "outcome": None})
        return EXIT_OK
    if not args.yes and not confirm("apply this plan?"):
        return error("not confirmed; nothing written (use --yes in scripts)", EXIT_REFUSED)
    outcome = apply_plan(plan, config)
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
    if not outcome.ok or failed:
        return EXIT_ERROR
    return EXIT_WARNING if unverified else EXIT_OK
