"""bots: the configured bots at a glance (name, state file, loads, halted, running)."""

from __future__ import annotations

import argparse

from statetui.cli.exits import EXIT_OK
from statetui.cli.output import print_json


def configure_bots(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checks", action="store_true", help="also run each bot's local checks (the worst status)")


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def run_bots(args, config) -> int:
    """Exit 0 whatever the bots' state: listing is not judging (`audit --bot NAME` judges)."""
    from statetui.core.fleet import select_bot
    from statetui.core.fleet_status import fleet_status

    bots = [select_bot(args.fleet, args.bot)] if getattr(args, "bot", None) else args.fleet
    statuses = fleet_status(bots, checks=args.checks)
    if args.json:
        print_json({"bots": [{"name": s.name, "state": s.state_path, "loads": s.loads, "error": s.error,
                              "halted": s.halted, "running": s.running,
                              **({"worst": s.worst, "checks": s.checks} if args.checks else {})}
                             for s in statuses]})
        return EXIT_OK
    width = max(4, *(len(s.name) for s in statuses))
    head = f"{'name':{width}}  {'loads':5}  {'halted':6}  {'running':7}" + ("  worst   " if args.checks else "") + "  state"
    print(head)
    for s in statuses:
        worst = f"  {s.worst:8}" if args.checks else ""
        tail = s.state_path + (f"  ({s.error})" if s.error else "")
        print(f"{s.name:{width}}  {_yes_no(s.loads):5}  {_yes_no(s.halted):6}  {_yes_no(s.running):7}{worst}  {tail}")
    return EXIT_OK
