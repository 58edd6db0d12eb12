"""Small helpers the CLI verbs share: JSON printing, ages, confirmation."""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from typing import Any
from statetui.core.display import age  # noqa: F401  (re-exported for the face)


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=_default))


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
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
