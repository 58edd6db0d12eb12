"""`statetui.pidlock.PidLock`: the helper a bot uses to hold its single-instance lock.

    from statetui.pidlock import PidLock
    with PidLock("/tmp/polymarket-bot.pid"):
        run_bot()
"""

from statetui.core.pidlock import (  # noqa: F401  (re-exported)
    AlreadyRunningError,
    PidLock,
    PidLockError,
    PidLockStatus,
    inspect_pidlock,
)

__all__ = ["PidLock", "AlreadyRunningError", "PidLockError", "PidLockStatus", "inspect_pidlock"]
