"""The exit-code table (the one place it lives: the README's table is generated from it and
tests/hostile/test_exit_codes.py runs every verb through every error class against it),
and the one-line error every face prints instead of a traceback."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_WARNING = 1  # audit: a WARNING
EXIT_USAGE = 2  # audit: a FAIL; also bad command-line usage (argparse's own code) or configuration
EXIT_CRITICAL = 3  # audit: a CRITICAL
EXIT_ERROR = 4  # an operation failed: the state, a backup or the chain could not be read or written
EXIT_REFUSED = 5  # refused: the bot holds its lock, read-only mode, or not confirmed
EXIT_INTERRUPTED = 130  # ctrl+c (128 + SIGINT, as shells report it)

# code -> meaning, in the README's words (README.md "Exit codes" is this table).
TABLE: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success; audit: every check PASS or SKIPPED"),
    (EXIT_WARNING, "audit: a WARNING"),
    (EXIT_USAGE, "audit: a FAIL; also a usage or configuration error (an unknown verb, option, repair or "
                 "check; a bad setting, named with its source; the chain not configured; a malformed address)"),
    (EXIT_CRITICAL, "audit: a CRITICAL (e.g. the state file is missing: the bot cannot operate)"),
    (EXIT_ERROR, "an operation failed: the state, a backup, the journal, a report or the chain could not be "
                 "read or written (missing, corrupt, too large, not a regular file, RPC unreachable or "
                 "answering garbage)"),
    (EXIT_REFUSED, "refused: the bot holds its lock, read-only mode, or not confirmed; nothing was written"),
    (EXIT_INTERRUPTED, "interrupted (ctrl+c)"),
)

# An audit's exit code is its worst check status.
AUDIT_STATUS = {"PASS": EXIT_OK, "SKIPPED": EXIT_OK, "WARNING": EXIT_WARNING, "FAIL": EXIT_USAGE, "CRITICAL": EXIT_CRITICAL}


def error_classes() -> tuple[tuple[type, int], ...]:
    """Typed error class -> exit code, most specific first (the first isinstance match wins)."""
    from statetui.core.errors import RefusedError, StatetuiError, UsageError

    return ((UsageError, EXIT_USAGE), (RefusedError, EXIT_REFUSED), (StatetuiError, EXIT_ERROR))


def exit_code_of(exc: BaseException) -> int:
    chosen = getattr(exc, "_exit_code", None)  # set by the error from its gate's code (repair preconditions)
    if chosen in {code for code, _ in TABLE}:
        return chosen
    for cls, code in error_classes():
        if isinstance(exc, cls):
            return code
    return EXIT_ERROR


def readme_table() -> str:
    """The README's "Exit codes" table, generated from TABLE (tests/test_readme.py compares)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning} |" for code, meaning in TABLE]
    return "\n".join(rows)


def epilog() -> str:
    """`statetui --help`'s one-line summary of the table."""
    short = {EXIT_OK: "ok", EXIT_WARNING: "warning", EXIT_USAGE: "fail/usage", EXIT_CRITICAL: "critical",
             EXIT_ERROR: "operation failed", EXIT_REFUSED: "refused (bot running, read-only or not confirmed)"}
    return "Exit codes: " + ", ".join(f"{c} {short[c]}" for c, _ in TABLE if c in short) + "."


def error(message: str, code: int = EXIT_ERROR) -> int:
    """One line on stderr, control characters shown escaped (a message may quote the state)."""
    from statetui.core.textsafe import one_line

    print(f"statetui: error: {one_line(message)}", file=sys.stderr)
    return code


def warn(message: str) -> None:
    from statetui.core.textsafe import one_line

    print(f"statetui: warning: {one_line(message)}", file=sys.stderr)
