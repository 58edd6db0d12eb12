"""init, show, fields (the journal verb is statetui.cli.journal_verbs)."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from statetui.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, error, warn
from statetui.cli.output import age_of, non_negative_int, print_json, store_for


def configure_init(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--balance", metavar="USD", help="the bot's cash now (reconcile it with the chain afterwards)")
    g.add_argument("--zero", action="store_true", help="start from $0.00 on purpose (a bot that holds no cash yet)")


def run_init(args, config) -> int:
    from statetui.core.model import default_state
    from statetui.core.store import StateStore, utc_now_iso

    if config.read_only:
        return error("read-only mode: not creating a state file", EXIT_REFUSED)
    balance = Decimal(0) if args.zero else None
    if args.balance is not None:
        try:
            balance = Decimal(args.balance)
            if not balance.is_finite() or balance.is_signed():  # -0 too: a typo, not an amount
                raise InvalidOperation
        except InvalidOperation:
            return error(f"--balance {args.balance!r}: expected a non-negative amount", EXIT_USAGE)
        if balance.adjusted() >= 15:  # written as a JSON float: it must stay exactly this amount
            return error(f"--balance {args.balance!r}: expected an amount below 10^15", EXIT_USAGE)
    store = StateStore.for_config(config)
    result = store.init(default_state(balance, utc_now_iso()))
    if args.json:
        print_json({"created": str(store.path), "generation": result.generation, "sha256": result.sha256})
    else:
        print(f"created {store.path} with cash {balance:.2f} (generation {result.generation}); "
              "check it against the chain: statetui reconcile")
    return EXIT_OK


def configure_show(p: argparse.ArgumentParser) -> None:
    pass


def run_show(args, config) -> int:
    from statetui.core.figures import figures, label, sanity_problems
    from statetui.core.money import fmt_money
    from statetui.core.botrunning import may_be_running
    from statetui.core.roles import roles_for

    store = store_for(config)
    status = store.status()
    state = store.load()  # raises a typed error for a missing or bad file
    doc = state._document()
    roles = roles_for(config, doc)
    f = figures(doc, roles, config.halt_threshold)
    problems = sanity_problems(doc, roles, config.halt_threshold, raw=state._origin.raw if state._origin else None)
    bot = may_be_running(config)  # what every repair obeys: never "not running" on a guess
    if args.json:
        print_json({
            "path": str(store.path),
            "state": state.to_document(),
            "roles": roles.values(doc),
            "derived": f.to_dict(),
            "file": status.to_dict(),
            "last_writer": last_writer(status),
            "bot": {"running": bot.running, "pid": bot.holder_pid, "evidence": bot.headline,
                    "refuses_writes": bot.refuses_writes},
            "problems": [p.to_dict() for p in problems],
        })
        return EXIT_OK
    pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731

    def money(role: str) -> str:
        if not roles.mapped(role):
            return "—"
        amount = roles.money(doc, role)
        unit = "" if roles.currency == "USD" else f" {roles.currency}"
        return f"{fmt_money(amount)}{unit} ({roles.field_name(role)})"

    def count(role: str) -> str:
        n = roles.count(doc, role)
        return "—" if n is None else str(n)

    print(f"state    {store.path}")
    basis = f", tracks {f.basis}" if f.basis else ", tracks ? (set fields.peak_basis)" if roles.mapped("peak") else ""
    print(f"cash     {money('cash')}    peak {money('peak')[:-1] + basis + ')' if roles.mapped('peak') else '—'}")
    if roles.mapped("equity"):
        print(f"equity   {money('equity')}")
    print(f"drawdown {pct(f.drawdown)} (halt at {pct(f.halt_threshold)})")
    if any(roles.mapped(r) for r in ("day_start", "daily_pnl", "starting")):
        print(f"day      start {money('day_start')}    P&L {money('daily_pnl')}    starting {money('starting')}")
    print(f"halted   {_halt_line(doc, roles)}")
    print(f"bot      {bot.headline}")
    if any(roles.mapped(r) for r in ("trades", "wins", "losses")):
        print(f"trades   {count('trades')} total, {count('wins')} wins, {count('losses')} losses")
    positions = roles.positions(doc)
    if positions is not None:
        pv = f", valued {fmt_money(f.position_value)}" if f.position_value is not None else ""
        npos = len(positions) if isinstance(positions, (list, dict)) else 0
        print(f"positions {npos} ({roles.field_name('positions')}){pv}")
    print(f"file     {status.size} bytes, written {age_of(status.mtime)} ago, generation {status.generation or '—'}")
    print(f"written  {describe_writer(status)}")
    for role in ("cash", "peak"):
        if not roles.mapped(role):
            print(f"note     {role} not mapped: {roles.hints.get(role, 'see statetui fields')}")
    for p in problems:
        print(f"{p.severity:8} {p.message}")
    return EXIT_OK


def _halt_line(doc, roles) -> str:
    halted = roles.halted(doc)
    if halted is None:
        return "— (the bot keeps no halt flag or mode: statetui fields)"
    parts = []
    if roles.mapped("halted"):
        parts.append(f"{roles.field_name('halted')}={str(roles.raw(doc, 'halted')).lower()}")
    if roles.mapped("mode"):
        parts.append(f"{roles.field_name('mode')}={roles.text(doc, 'mode')}")
    reason = roles.text(doc, "halt_reason")
    why = f": {reason}" if halted and reason else ""
    return f"{'YES' if halted else 'no'} ({', '.join(parts)}){why}"


def configure_fields(p: argparse.ArgumentParser) -> None:
    pass


def run_fields(args, config) -> int:
    """The role mapping, where each role came from, and the numeric fields left unmapped."""
    from statetui.core.roles import ROLES, roles_for

    store = store_for(config)
    doc = store.load()._document()
    roles = roles_for(config, doc)
    if args.json:
        out = roles.to_dict()
        out["values"] = roles.values(doc)
        print_json({"path": str(store.path), **out})
        return EXIT_OK
    print(f"state    {store.path}")
    for role in ROLES:
        b = roles.bindings.get(role)
        if b is not None and b.path is not None:
            value = roles.values(doc).get(role, {}).get("value")
            print(f"{role:12} {b.path:32} {str(value)[:20]:20} {b.source}: {b.reason}")
        else:
            why = roles.hints.get(role) or (b.reason if b is not None else "not found")
            print(f"{role:12} {'—':32} {'':20} {why}")
    if roles.mapped("peak"):
        print(f"peak basis   {roles.peak_basis or '?'} ({roles.basis_source or roles.hints.get('peak_basis', '')})")
    print(f"currency     {roles.currency} ({roles.currency_source})")
    if roles.unmapped_numeric:
        print(f"unmapped numbers: {', '.join(roles.unmapped_numeric)}")
    print("override with a [fields] table in the config (cash = \"account.cash\") or --field cash=account.cash")
    return EXIT_OK


def last_writer(status) -> dict | None:
    """Who wrote the file last, from the journal entry whose checksum is the file's."""
    e = status.last_entry if status.written_by_store else None
    if e is None:
        return None
    return {k: e.get(k) for k in ("writer", "pid", "ts", "reason", "generation")}


def describe_writer(status) -> str:
    w = last_writer(status)
    if w is not None:
        return f"by {w['writer'] or '?'} (pid {w['pid']}) at {w['ts']}, through the store: {w['reason'] or 'no reason given'}"
    if status.written_by_store is False:
        last = status.last_entry
        after = f" after the store's last write (#{last.get('generation')} by {last.get('writer')})" if last else ""
        return f"OUTSIDE the store{after}: no journal entry matches the file, so who wrote it is unknown"
    return "unknown: no journal beside the file (written without statetui's store)"


def _j(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
