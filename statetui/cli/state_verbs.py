"""init, show, journal."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from statetui.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, error
from statetui.cli.output import age_of, print_json


def configure_init(p: argparse.ArgumentParser) -> None:
    p.add_argument("--balance", metavar="USD", help="starting cash (default 0; reconcile to chain afterwards)")


def run_init(args, config) -> int:
    from statetui.core.model import default_state
    from statetui.core.store import StateStore, utc_now_iso

    if config.read_only:
        return error("read-only mode: not creating a state file", EXIT_REFUSED)
    balance = None
    if args.balance is not None:
        try:
            balance = Decimal(args.balance)
            if not balance.is_finite() or balance < 0:
                raise InvalidOperation
        except InvalidOperation:
            return error(f"--balance {args.balance!r}: expected a non-negative amount", EXIT_USAGE)
    store = StateStore(config.state, backup_dir=config.backup_dir)
    result = store.init(default_state(balance, utc_now_iso()))
    if args.json:
        print_json({"created": str(store.path), "generation": result.generation, "sha256": result.sha256})
    else:
        print(f"created {store.path} (generation {result.generation})")
    return EXIT_OK


def configure_show(p: argparse.ArgumentParser) -> None:
    pass


def run_show(args, config) -> int:
    from statetui.core.model import derive, sanity_problems
    from statetui.core.money import fmt_money
    from statetui.core.store import StateStore

    store = StateStore(config.state, backup_dir=config.backup_dir)
    status = store.status()
    state = store.load()  # raises a typed error for a missing or bad file
    d = derive(state, config.halt_threshold)
    problems = sanity_problems(state, config.halt_threshold)
    if args.json:
        print_json({
            "path": str(store.path),
            "state": state.to_document(),
            "derived": d.to_dict(),
            "file": status.to_dict(),
            "problems": [p.__dict__ for p in problems],
        })
        return EXIT_OK
    pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731
    print(f"state    {store.path}")
    print(f"cash     {fmt_money(state.current_balance)}    peak {fmt_money(state.peak_balance)}    "
          f"drawdown {pct(d.drawdown)} (halt at {pct(d.halt_threshold)})")
    print(f"day      start {fmt_money(state.day_start_balance)}    P&L {fmt_money(state.daily_pnl)}    "
          f"starting {fmt_money(state.starting_balance)}")
    halted = "HALTED" if state.halted else "running"
    print(f"mode     {state.mode or '—'} ({halted}{': ' + state.halt_reason if state.halt_reason else ''})")
    print(f"trades   {state.total_trades if state.total_trades is not None else '—'} total, "
          f"{state.total_wins if state.total_wins is not None else '—'} wins, streak "
          f"+{state.consecutive_wins or 0}/-{state.consecutive_losses or 0}")
    npos = len(state.positions) if state.positions is not None else 0
    pv = f", valued {fmt_money(d.position_value)}" if d.position_value is not None else ""
    print(f"positions {npos}{pv}")
    writer = {True: "through the store", False: "OUTSIDE the store", None: "unknown (no journal)"}[status.written_by_store]
    print(f"file     {status.size} bytes, written {age_of(status.mtime)} ago {writer}, generation {status.generation or '—'}")
    for p in problems:
        print(f"{p.severity:8} {p.message}")
    return EXIT_OK


def configure_journal(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--limit", type=int, default=20, help="newest N entries (0 = all)")
    p.add_argument("--field", help="only entries that changed this field")


def run_journal(args, config) -> int:
    from statetui.core.store import StateStore

    store = StateStore(config.state, backup_dir=config.backup_dir)
    scan = store.journal.scan()
    entries = [e for e in scan.entries if not args.field or args.field in e.get("changes", {})]
    if args.limit:
        entries = entries[-args.limit:]
    if args.json:
        print_json({"journal": str(store.journal.path), "entries": entries, "unreadable_lines": scan.bad_lines})
        return EXIT_OK
    if not entries:
        print(f"no journal entries in {store.journal.path}")
    for e in entries:
        changes = ", ".join(f"{k} {v[0]!r}→{v[1]!r}" for k, v in e.get("changes", {}).items())
        print(f"{e.get('ts', '?')}  #{e['generation']:<6} {e.get('writer', '?')}[{e.get('pid', '?')}]  {e.get('reason', '')}: {changes}")
    if scan.bad_lines:
        print(f"({scan.bad_lines} unreadable line(s) skipped)")
    return EXIT_OK
