"""Typed errors. Every error a user can cause carries a one-line message that
names the file and the cause; faces print `str(err)` and never a traceback."""

from __future__ import annotations


class StatetuiError(Exception):
    """Base of every error statetui raises on purpose. `exit_code` is the CLI's."""

    exit_code = 4  # an operation failed

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- loading the state file -------------------------------------------------

class StateLoadError(StatetuiError):
    """The state file cannot be loaded. `kind` is a stable short name."""

    kind = "load-error"


class StateMissingError(StateLoadError):
    kind = "missing"


class StatePermissionError(StateLoadError):
    kind = "permission"


class StateEmptyError(StateLoadError):
    kind = "empty"


class StateCorruptError(StateLoadError):
    """Not valid JSON (truncated, bit flips, NUL bytes, bad UTF-8). `offset` is the byte offset."""

    kind = "corrupt"

    def __init__(self, message: str, path: str | None = None, offset: int | None = None):
        super().__init__(message, path)
        self.offset = offset


class StateInvalidError(StateLoadError):
    """Valid JSON, but a field has the wrong type or an impossible value. `field` is its path."""

    kind = "invalid"

    def __init__(self, message: str, path: str | None = None, field: str | None = None):
        super().__init__(message, path)
        self.field = field


class NotRegularFileError(StateLoadError):
    """A symlink, FIFO, directory or device where a regular file must be."""

    kind = "not-regular"


# --- writing ------------------------------------------------------------------

class StateSaveError(StatetuiError):
    """A save failed; the previous file is intact."""


class StateValueError(StateSaveError):
    """The state to save holds a value that must never be written (NaN, Infinity, negative balance)."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None):
        super().__init__(message, path)
        self.field = field


class StateTypeError(StateSaveError):
    """What was handed to save() cannot be written: an unsupported type, or a field whose JSON
    type would change (a bool into a number field, a number into a string). `field` names it."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None):
        super().__init__(message, path)
        self.field = field


class LockTimeoutError(StatetuiError):
    """The store's lock could not be taken in time."""


class BotRunningError(StatetuiError):
    """A repair was refused because the bot holds its pid lock."""

    exit_code = 5

    def __init__(self, message: str, stop_command: str | None = None):
        super().__init__(message)
        self.stop_command = stop_command


class BackupError(StatetuiError):
    """A backup could not be made, found, verified or restored."""


class ConfigError(StatetuiError):
    """The configuration (file, environment or flags) is wrong."""

    exit_code = 2


class ChainError(StatetuiError):
    """The chain could not be read (RPC unreachable, timeout, wrong chain id, ...)."""
