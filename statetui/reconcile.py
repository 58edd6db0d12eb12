"""The bot-facing import path for startup reconciliation:

    from statetui.reconcile import on_startup, StartupChainError

    result = on_startup(store, {"rpc_url": RPC_URL, "wallet": FUNDER})   # before trading
    # StartupChainError: the chain cannot be read -> do not trade (or allow_unreadable_chain=True)

See statetui.core.startup."""

from statetui.core.startup import (  # noqa: F401
    CORRECTED,
    MATCHED,
    SKIPPED,
    UNREADABLE,
    StartupChainError,
    StartupReconcile,
    StartupReconcileError,
    on_startup,
)
