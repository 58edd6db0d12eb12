"""Exit codes and the one-line error every face prints instead of a traceback."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_WARNING = 1  # audit: a WARNING
EXIT_USAGE = 2  # audit: a FAIL; also bad command-line usage (argparse's own code)
EXIT_CRITICAL = 3  # audit: a CRITICAL
EXIT_ERROR = 4  # an operation failed: the state, a backup or the chain could not be read or written
EXIT_REFUSED = 5  # refused: the bot holds its lock, read-only mode, or not confirmed


def error(message: str, code: int = EXIT_ERROR) -> int:
    print(f"statetui: error: {message}", file=sys.stderr)
    return code
