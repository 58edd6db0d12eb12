"""init-state: create a default state file where none exists (the audit's critical action)."""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

from statetui.core.config import Config
from statetui.core.errors import UsageError
from statetui.core.model import default_state
from statetui.core.store import utc_now_iso
from statetui.repair.base import Outcome, Plan, Repair, register
from statetui.repair.restore import store_for


def _amount(balance: str | None) -> Decimal | None:
    if not balance:
        return None
    try:
        amount = Decimal(balance)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount.is_signed() or amount.adjusted() >= 15:
        raise UsageError(f"--balance {balance!r}: expected an amount >= 0 and below 10^15")
    return amount


def plan(config: Config, balance: str | None = None) -> Plan:
    store = store_for(config)
    doc = default_state(_amount(balance), "<now>")
    p = Plan("init-state", "Create a default state", f"create {store.path} with default values",
             verify_checks=["state-file"], params={"balance": balance})
    if not p.require(not os.path.lexists(store.path), f"no file at {store.path}" if not os.path.lexists(store.path)
                     else f"{store.path} already exists: restore a backup instead of overwriting it"):
        return p
    good = [b for b in store.backups.list(verify=True) if b.ok]
    if good:
        p.notes.append(f"{len(good)} good backup(s) exist, newest {good[0].name}: prefer restore-backup")
    p.changes = [(k, None, v) for k, v in doc.items()]
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    balance = p.params.get("balance")
    result = store.init(default_state(Decimal(balance) if balance else None, utc_now_iso()), reason="repair init-state")
    return Outcome(True, f"created {store.path} (generation {result.generation}); reconcile its cash to the chain next",
                   undo=f"rm {store.path}")


register(Repair("init-state", "create a default state", plan, apply, params=("balance",)))
