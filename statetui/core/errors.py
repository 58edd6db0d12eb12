"""Typed errors. Every error a user can cause carries a one-line message that
names the file and the cause; faces print `str(err)` and never a traceback.

Which exit code each class means is decided in one place, statetui.cli.exits (its table is
the README's). Two mixins say how the CLI should read an error besides "an operation
failed": UsageError (the command line or the configuration is wrong) and RefusedError
(statetui declined to write: the bot may be running, read-only mode, not confirmed)."""

from __future__ import annotations


class StatetuiError(Exception):
    """Base of every error statetui raises on purpose."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this error (statetui.cli.exits is the one table). An error
        that carries the code of the gate it comes from (a repair's refused precondition) may
        set it; it must be one of the table's codes."""
        from statetui.cli.exits import exit_code_of

        return exit_code_of(self)

    @exit_code.setter
    def exit_code(self, code: int) -> None:
        self._exit_code = code


class UsageError(StatetuiError):
    """The command line or the configuration asks for something that cannot be (an unknown
    repair or check, a malformed address, a missing setting)."""


class RefusedError(StatetuiError):
    """statetui declined to act: the bot may be running, read-only mode, not confirmed."""


class ReadOnlyError(RefusedError):
    """A write was asked for in read-only mode; nothing was written."""


class NotConfirmedError(RefusedError):
    """A write needed a yes that was not given (no terminal and no --yes)."""


class TooLargeError(StatetuiError):
    """A file (or a journal line, or an RPC answer) is over its size cap; it was not read."""


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


class StateTooLargeError(StateLoadError, TooLargeError):
    """The state file (or a backup) is over the size cap (config max_state_bytes)."""

    kind = "too-large"


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


class BotRunningError(RefusedError):
    """A repair was refused because the bot holds its pid lock."""

    def __init__(self, message: str, stop_command: str | None = None):
        super().__init__(message)
        self.stop_command = stop_command


class BackupError(StatetuiError):
    """A backup could not be made, found, verified or restored."""


class ConfigError(UsageError):
    """The configuration (file, environment or flags) is wrong."""


class OutputError(StatetuiError):
    """A report or export could not be written where it was asked to go; nothing was replaced."""


class ChainError(StatetuiError):
    """The chain could not be read (RPC unreachable, timeout, wrong chain id, ...)."""
