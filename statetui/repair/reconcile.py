"""reconcile: set current_balance to the wallet's on-chain cash (the Jan 16 fix, done
by hand then: "corrected state file to match on-chain ($200.97)").

The plan reads the chain once, at one pinned block, and carries that reading as its
evidence; apply writes exactly the planned values (the runner re-plans right before
applying and refuses if the figures moved). The peak moves only when it must: up to
the new cash (the peak is never below cash), or down to the highest realized cash on
record, the new cash included, when it is above it (value that was never cash)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from statetui.core.config import Config
from statetui.core.errors import ChainError, StatetuiError
from statetui.core.history import realized_cash_history
from statetui.core.model import derive, position_token_ids
from statetui.core.money import fmt_money, to_json_number
from statetui.repair.base import Outcome, Plan, Precondition, Repair, register
from statetui.repair.peak import _last_backup, corrected_peak
from statetui.repair.restore import store_for

VERIFY = ["chain-reconcile", "peak-drawdown", "state-file"]


def plan(config: Config) -> Plan:
    store = store_for(config)
    state = store.load()
    p = Plan("reconcile", "Reconcile to the chain",
             "current_balance = the wallet's on-chain cash; peak_balance kept between cash and realized cash history",
             verify_checks=list(VERIFY))
    # Imported here: reading the chain is only needed by this repair.
    from statetui.core.chain import read_chain

    ids = [i for i in position_token_ids(state.positions) if i < 2**256]
    try:
        reading = read_chain(config, ids)
    except ChainError as exc:
        p.blocked = str(exc)
        p.preconditions.append(Precondition(False, f"chain readable: {exc}"))
        return p
    p.evidence = chain_evidence(reading)
    p.preconditions.append(Precondition(True, f"chain id {reading.chain_id} verified, read at block {reading.block_number}"))

    chain_cash: Decimal = reading.cash
    cash = state.money("current_balance")
    threshold: Decimal = config.mismatch_threshold
    p.evidence["state_cash"] = str(cash) if cash is not None else None
    p.evidence["chain_cash"] = str(chain_cash)
    if cash is not None:
        diff = cash - chain_cash
        side = "state over chain" if diff > 0 else "chain over state"
        p.evidence["mismatch"] = f"{fmt_money(abs(diff))} ({side}; threshold {fmt_money(threshold)})"
        if abs(diff) <= threshold:
            p.evidence["mismatch"] = f"{fmt_money(abs(diff))} (within threshold {fmt_money(threshold)})"
            p.nothing_to_do = True
            return p
    else:
        p.evidence["mismatch"] = "the state has no current_balance"

    new_cash = to_json_number(chain_cash, state.current_balance)
    p.changes.append(("current_balance", state.current_balance, new_cash))

    peak = state.money("peak_balance")
    if peak is not None:
        history = realized_cash_history(store.journal, store.backups)
        top = history.max
        ceiling = corrected_peak(chain_cash, top.value if top else None)  # never below the new cash
        p.evidence["highest_realized_cash"] = (f"{top.value} ({top.source})" if top
                                               else "no history: the peak may be at most the new cash")
        if peak < chain_cash:
            target = chain_cash
        elif peak > ceiling:
            target = ceiling
        else:
            target = None
        if target is not None:
            p.changes.append(("peak_balance", state.peak_balance, to_json_number(target, state.peak_balance)))

    after = state.model_copy(update={name: value for name, _, value in p.changes})
    d = derive(after, config.halt_threshold)
    if d.drawdown is not None:
        p.evidence["drawdown_after"] = f"{d.drawdown * 100:.1f}% (halt at {config.halt_threshold * 100:.0f}%)"
    return p


def chain_evidence(reading: Any) -> dict[str, Any]:
    """What the chain said, JSON-safe, for the plan and the journal entry."""
    when = datetime.fromtimestamp(reading.block_time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ev: dict[str, Any] = {
        "rpc_url": reading.rpc_url,  # already redacted by the reader
        "chain_id": reading.chain_id,
        "wallet": reading.wallet,
        "block_number": reading.block_number,
        "block_time": when,
    }
    for t in reading.tokens:
        key = f"balance {t.symbol or t.address}"
        ev[key if key not in ev else f"{key} {t.address}"] = f"{t.amount} ({t.address})"
    for token_id, raw in reading.positions.items():
        ev[f"position {token_id}"] = str(raw)
    return ev


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    evidence = {**p.evidence, "changes": {n: [a, b] for n, a, b in p.changes}}
    with store.transaction(reason="reconcile", backup="pre-reconcile", evidence=evidence) as state:
        for name, before, after in p.changes:
            now = getattr(state, name)
            if type(now) is not type(before) or now != before:  # same value and the same JSON type
                raise StatetuiError(f"{store.path}: {name} changed since the plan was made "
                                    f"({before!r} -> {now!r}); nothing written, plan again")
            setattr(state, name, after)
    backup = _last_backup(store)
    return Outcome(True, f"state reconciled to on-chain cash ${fmt_money(Decimal(p.evidence['chain_cash']))} "
                         f"at block {p.evidence['block_number']}",
                   backup=backup, undo=f"statetui restore {backup}" if backup else None,
                   details={"block_number": p.evidence["block_number"]})


register(Repair("reconcile", "reconcile current balance to on-chain cash", plan, apply))
