"""The store's small helpers: which fields a save changed (from their texts), how a value is
shown in the journal, errors kept typed at the API, the writer's default name, the clock."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any

from statetui.core.errors import StatetuiError
from statetui.core.jsondoc import json_copy, strict_equal
from statetui.core.textsafe import json_utf8, one_line

JOURNAL_VALUE_LIMIT = 1024  # larger changed values are summarised in the journal

_ABSENT = object()


def text_changes(old: dict[str, str], new: dict[str, str], doc: dict[str, Any]) -> dict[str, list[Any]] | None:
    """changed_fields() from field texts: {field: [old, new]}, or None when the document is
    unchanged (same fields in the same order, strictly equal values). Equal texts mean
    strictly equal values (a value's JSON text shows its type: 1, 1.0 and true differ);
    texts that differ only where one has -0.0 are confirmed with strict_equal, for which
    -0.0 equals 0.0. Old and new values are parsed back from the texts: copies in C, not
    the state's own objects."""
    changes: dict[str, list[Any]] = {}
    for key, text in old.items():
        now = new.get(key, _ABSENT)
        if now is _ABSENT:
            changes[key] = [json.loads(text), None]
        elif now != text:
            before = json.loads(text)
            if (_NEGATIVE_ZERO.search(text) or _NEGATIVE_ZERO.search(now)) and strict_equal(before, doc[key]):
                continue
            changes[key] = [before, json.loads(now)]
    for key, now in new.items():
        if key not in old:
            changes[key] = [None, json.loads(now)]
    if not changes and list(old) == list(new):
        return None
    return changes


_NEGATIVE_ZERO = re.compile(r"-0\.0(?![0-9])")  # how float.__repr__ writes -0.0


def copied(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The new values copied: the document's values are the live state's own objects."""
    return {k: [a, json_copy(b)] for k, (a, b) in changes.items()}


# What must never escape the API raw (issue 11): an encoder meeting a lone surrogate, a
# document nested past the recursion limit, decimal and overflow errors, a NUL in a path.
_UNTYPED = (UnicodeError, RecursionError, ArithmeticError, ValueError, TypeError)


def typed(error: type[StatetuiError]):
    """Turn an untyped error escaping a public method into `error`, one line naming the file.
    A StatetuiError passes through as it is."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(self: "StateStore", *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except StatetuiError:
                raise
            except _UNTYPED as exc:
                cause = one_line(str(exc))[:160] or type(exc).__name__
                raise error(f"{self.path}: {fn.__name__} failed: {type(exc).__name__}: {cause}", str(self.path)) from exc
        return wrapper
    return deco


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_writer() -> str:
    """The journal's name for a store created without `writer=`: the program, as its user
    knows it (`python -m pkg.bot` -> pkg.bot, `bot.py`, `statetui`), never `-` or
    `__main__.py` (a script read from stdin or -c is "python")."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return spec.name.removesuffix(".__main__")
    arg0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(arg0)
    return name if name and arg0 not in ("-", "-c") else "python"


def journal_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        if len(text) > JOURNAL_VALUE_LIMIT:
            n = len(value)
            kind = "object" if isinstance(value, dict) else "array"
            return f"<{kind} of {n} item{'s' if n != 1 else ''}, sha256 {hashlib.sha256(json_utf8(text)).hexdigest()[:12]}>"
    return value


def not_segments(names: list[str]) -> list[str]:
    """The folder's names but the journal's sealed segments (`*.jsonl`: never a temp file), one
    endswith each: a year of history leaves a thousand of them beside the state, and the
    console looks for temp files on every write it sees."""
    return [n for n in names if not n.endswith(".jsonl")]
