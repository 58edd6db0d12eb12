"""Importing this module registers every repair."""

from statetui.repair import backup_ops, init_state, offsite_restore, peak, restore, stale_lock  # noqa: F401

try:  # the chain repair is registered by its own module when present
    from statetui.repair import reconcile  # noqa: F401
except ImportError:  # pragma: no cover - only while the module is being written
    pass
