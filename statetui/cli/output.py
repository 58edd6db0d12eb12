"""Small helpers the CLI verbs share: JSON printing, ages, confirmation."""

from __future__ import annotations

import contextlib
import sys
import time
from decimal import Decimal
from typing import Any
from statetui.core.display import age  # noqa: F401  (re-exported for the face)
from statetui.core.textsafe import escape_controls


def print_json(obj: Any) -> None:
    import json  # here: the console, which starts through this package, prints no JSON

    from statetui.core.textsafe import safe_json_text

    print(safe_json_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_default)))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def age_of(ts: float | None) -> str:
    return age(None if ts is None else time.time() - ts)


def confirm(question: str) -> bool:
    """Ask on a terminal; no terminal means no (scripts pass --yes)."""
    if not sys.stdin.isatty():
        return False
    import select

    sys.stdout.write(f"{question} [y/N] ")
    sys.stdout.flush()
    # Not input(): a ctrl+c that lands between its prompt and its read is only seen after the
    # next line is typed (CPython checks signals when the read returns). Waiting in short
    # selects lets the interpreter see it within a quarter of a second.
    while not select.select([sys.stdin], [], [], 0.25)[0]:
        pass
    answer = sys.stdin.readline()
    if not answer:  # end of input
        return False
    return answer.strip().lower() in ("y", "yes")


class _TerminalSafe:
    """A text stream whose writes show control characters escaped (`\\x1b`), newlines kept:
    nothing a state string, a journal reason or a file name holds can drive the terminal.
    JSON output is unaffected: json.dumps escapes controls itself and print_json the rest."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(escape_controls(text, keep="\n"))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def terminal_safe_streams(console: bool = False):
    """For the CLI's run: stdout and stderr escape control characters and never raise
    UnicodeEncodeError (a non-UTF-8 locale gets backslash escapes). Not for the console,
    which owns the terminal."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    if console:
        yield
        return
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(sys.stdout), _TerminalSafe(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (a negative count would slice from the wrong end)."""
    import argparse

    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= 0")
    return value


def non_negative_days(text: str) -> float:
    """argparse type: a finite number of days >= 0 (inf or nan would keep or drop everything)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of days >= 0") from None
    if not math.isfinite(value) or value < 0 or value > 1e6:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number of days >= 0")
    return value


def store_for(config):
    """The store the CLI's verbs use: the config's paths, size cap and read-only mode."""
    from statetui.core.store import StateStore

    return StateStore.for_config(config)
