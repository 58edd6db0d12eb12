"""Importing this package registers every check, in report order."""

from statetui.audit.checks import (  # noqa: F401  (imported for registration)
    state_file,
    persistence_code,
    peak_drawdown,
    recovery,
    process_safety,
    backups,
    chain_reconcile,
)
