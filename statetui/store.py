"""The bot-facing import path: `from statetui.store import StateStore`."""

from statetui.core.errors import (  # noqa: F401
    LockTimeoutError,
    NotRegularFileError,
    StateCorruptError,
    StateEmptyError,
    StateInvalidError,
    StateLoadError,
    StateMissingError,
    StatePermissionError,
    StateSaveError,
    StateValueError,
)
from statetui.core.model import TradingState  # noqa: F401
from statetui.core.store import RecoveryReport, SaveResult, StateStore  # noqa: F401
