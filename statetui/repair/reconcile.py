"""reconcile: set the bot's cash to the wallet's on-chain cash (the Jan 16 fix, done by
hand then: "corrected state file to match on-chain ($200.97)").

The plan reads the chain once, at one pinned block, and carries that reading as its
evidence; apply writes exactly the planned values (the runner re-plans right before
applying and refuses if the figures moved). The peak moves only when it must: up to the
new cash (the peak is never below cash). Lowering a peak needs evidence of its origin:
that is recompute-peak's job. Only a bot whose cash is in USD is compared with the chain's
USD stablecoins."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from statetui.core.config import Config
from statetui.core.errors import ChainError
from statetui.core.figures import figures, position_token_ids
from statetui.core.money import fmt_money
from statetui.core.roles import set_path
from statetui.repair.base import Outcome, Plan, Repair, register
from statetui.repair.edits import apply_changes, load_for_plan, money_change
from statetui.core.evidence import FALSE, judge_store_peak
from statetui.repair.peak import _last_backup, chain_evidence_for, with_halt
from statetui.repair.restore import store_for

VERIFY = ["chain-reconcile", "peak-drawdown", "state-file"]


def plan(config: Config) -> Plan:
    store = store_for(config)
    p = Plan("reconcile", "Reconcile to the chain",
             "the cash role = the wallet's on-chain cash; the peak only rises to it (never lowered without evidence)",
             verify_checks=list(VERIFY))
    if not p.require(config.chain_configured, "the chain is configured (rpc_url and wallet)" if config.chain_configured
                     else "the chain is not configured: set [chain] rpc_url and wallet", code=2):
        return p
    if not p.require(bool(config.tokens), "collateral tokens are configured" if config.tokens
                     else "no collateral token is configured: the wallet's cash cannot be read", code=2):
        return p
    loaded = load_for_plan(p, store, config, "cash")
    if loaded is None:
        return p
    doc, roles = loaded
    cash_path = roles.path("cash")
    if not p.require(roles.currency == "USD", f"cash is in USD (the chain holds USD stablecoins)" if roles.currency == "USD"
                     else f"the bot's cash is in {roles.currency}; the chain holds USD stablecoins: nothing to compare"):
        return p
    # Imported here: reading the chain is only needed by this repair.
    from statetui.core.chain import read_chain

    ids = [i for i in position_token_ids(roles.positions(doc)) if i < 2**256]
    try:
        reading = read_chain(config, ids)
    except ChainError as exc:
        from statetui.cli.exits import exit_code_of  # not configured or a bad address: 2; unreadable: 4

        p.refuse(f"the chain cannot be read: {exc}", code=exit_code_of(exc))
        return p
    p.evidence = reading.evidence()
    p.require(True, f"chain id {reading.chain_id} verified, read at block {reading.block_number}")

    chain_cash: Decimal = reading.cash
    cash = roles.money(doc, "cash")
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
        p.evidence["mismatch"] = f"the state's {cash_path} holds no number"
    change = money_change(doc, roles, "cash", chain_cash)
    if change is None:
        p.refuse(f"{cash_path} is absent or not a number: fix it in the bot (a repair never adds a field)")
        return p
    p.changes.append(change)

    peak = roles.money(doc, "peak")
    if peak is not None and roles.peak_basis == "cash":
        if peak < chain_cash:
            raised = money_change(doc, roles, "peak", chain_cash)
            if raised:
                p.changes.append(raised)
        elif peak > chain_cash:
            _false_peak(p, config, store, doc, roles, chain_cash, peak)
    after = dict(doc)
    for path, _, value in p.changes:
        if "." not in path:
            after[path] = value
    f = figures(after, roles, config.halt_threshold)
    if f.drawdown is not None:
        p.evidence["drawdown_after"] = f"{f.drawdown * 100:.1f}% (halt at {config.halt_threshold * 100:.0f}%)"
    return p


def _false_peak(p: Plan, config: Config, store: Any, doc: dict[str, Any], roles: Any, chain_cash: Decimal,
                peak: Decimal) -> None:
    """Lower the peak in the same write only where independent evidence shows it false (what
    recompute-peak would do); otherwise keep it and say why."""
    # Judged as the document will be after this write (cash = the chain's): the chain's history
    # speaks about the peak only when the state and the wallet hold the same money.
    after = copy.deepcopy(doc)
    set_path(after, roles.path("cash"), p.changes[0][2])
    verdict = judge_store_peak(store, roles, after, chain=chain_evidence_for(config, roles))
    if verdict.verdict != FALSE or verdict.corrected is None:
        p.notes.append(f"the peak {fmt_money(peak)} is kept: {verdict.message or 'no evidence says it is false'}")
        return
    target = max(verdict.corrected, chain_cash)
    lowered = money_change(doc, roles, "peak", target)
    if lowered is None:
        return
    p.changes.append(lowered)
    p.evidence["peak"] = verdict.message
    if verdict.chain is not None:
        p.evidence.update(verdict.chain.to_evidence())
    with_halt(p, config, store, doc, roles, target, basis_after=chain_cash)


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    evidence = {**p.evidence, "changes": {n: [a, b] for n, a, b in p.changes}}
    with store.transaction(reason="reconcile", backup="pre-reconcile", evidence=evidence) as state:
        apply_changes(state, p.changes, str(store.path))
    backup = _last_backup(store)
    return Outcome(True, f"state reconciled to on-chain cash ${fmt_money(Decimal(p.evidence['chain_cash']))} "
                         f"at block {p.evidence['block_number']}",
                   backup=backup, undo=f"statetui restore {backup}" if backup else None,
                   details={"block_number": p.evidence["block_number"]})


register(Repair("reconcile", "reconcile current balance to on-chain cash", plan, apply))
