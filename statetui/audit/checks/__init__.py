"""The checks, one module each. Importing this package registers nothing by itself:
`load()` imports the modules (all, or the ones asked for), so a forked worker can run one
light check before the parent pays for importing the rest."""

from __future__ import annotations

import importlib

# Report order: the reference report's areas, then the chain.
MODULES = {
    "state-file": "state_file",
    "persistence-code": "persistence_code",
    "peak-drawdown": "peak_drawdown",
    "recovery": "recovery",
    "process-safety": "process_safety",
    "backups": "backups",
    "chain-reconcile": "chain_reconcile",
}


# Checks that need the network: known without importing them (`statetui audit --local`).
NETWORK = {"chain-reconcile"}


def load(ids: list[str] | None = None) -> None:
    for check_id in ids or MODULES:
        if check_id in MODULES:
            importlib.import_module(f"statetui.audit.checks.{MODULES[check_id]}")
