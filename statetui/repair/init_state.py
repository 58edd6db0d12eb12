"""init-state: create a default state file where none exists (the audit's critical action)."""

from __future__ import annotations

import os
from decimal import Decimal

from statetui.core.config import Config
from statetui.core.model import default_state
from statetui.core.store import utc_now_iso
from statetui.repair.base import Outcome, Plan, Precondition, Repair, register
from statetui.repair.restore import store_for


def plan(config: Config, balance: str | None = None) -> Plan:
    store = store_for(config)
    doc = default_state(Decimal(balance) if balance else None, "<now>")
    p = Plan("init-state", "Create a default state", f"create {store.path} with default values",
             verify_checks=["state-file"], params={"balance": balance})
    if os.path.lexists(store.path):
        p.preconditions.append(Precondition(False, f"{store.path} exists"))
        p.blocked = "a state file already exists; restore a backup instead of overwriting it"
        return p
    good = [b for b in store.backups.list(verify=True) if b.ok]
    if good:
        p.preconditions.append(Precondition(False, f"{len(good)} good backup(s) exist, newest {good[0].name}: prefer restore-backup"))
    else:
        p.preconditions.append(Precondition(True, "no good backup to restore instead"))
    p.changes = [(k, None, v) for k, v in doc.items()]
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    balance = p.params.get("balance")
    result = store.init(default_state(Decimal(balance) if balance else None, utc_now_iso()), reason="repair init-state")
    return Outcome(True, f"created {store.path} (generation {result.generation}); reconcile its cash to the chain next",
                   undo=f"rm {store.path}")


register(Repair("init-state", "create a default state", plan, apply, params=("balance",)))
