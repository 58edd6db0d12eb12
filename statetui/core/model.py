"""The bot's state: the fields a Polymarket bot keeps, all optional, unknown fields kept.

Numbers are `int | float` (strict: a bool or a string is an error, and an int stays an
int), so writing the state back never changes a value's JSON type. Money comparisons
go through statetui.core.money (Decimal), never float arithmetic.

The pydantic model, TradingState, lives in statetui.core.state_model (importable from
here too); this module, what the store needs to read and write, imports no pydantic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from statetui.core.errors import StateInvalidError, StateValueError
from statetui.core.jsondoc import FieldTexts, JsonFormat, strict_equal
from statetui.core.textsafe import json_utf8

MODES = ("normal", "conservative", "defensive", "recovery", "halted")
BALANCE_FIELDS = ("current_balance", "peak_balance", "day_start_balance", "starting_balance")
COUNTER_FIELDS = ("consecutive_wins", "consecutive_losses", "total_trades", "total_wins")


@dataclass(frozen=True)
class Origin:
    document: dict[str, Any]
    format: JsonFormat
    raw: bytes
    sha256: str


_EXPECTED = {
    **{f: "a JSON number" for f in (*BALANCE_FIELDS, "daily_pnl")},
    **{f: "a whole number" for f in COUNTER_FIELDS},
    "mode": "a string", "halt_reason": "a string or null", "halted": "true or false",
    "positions": "an array or an object", "last_updated": "a string or a number",
}


def invalid_field(field: str, got: Any, path: str) -> StateInvalidError:
    """The one-line error for a known field holding a value of the wrong JSON type."""
    if isinstance(got, float) and not _finite(got):
        cause = f"{got!r} is not a finite number"
    else:
        shown = type(got).__name__ if isinstance(got, (dict, list)) else json.dumps(got)[:40]
        cause = f"expected {_EXPECTED.get(field, 'a valid value')}, got {shown}"
    return StateInvalidError(f"{path}: field {field}: {cause}", path, field=field)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _text(v: Any) -> bool:
    return isinstance(v, str)


# TradingState's fields in its order, each with the JSON values it accepts besides null
# (statetui.core.state_model: strict, so a bool is no number and 1.0 no whole number).
FIELD_TYPES: dict[str, Any] = {
    **{f: _number for f in (*BALANCE_FIELDS, "daily_pnl")},
    "mode": _text, "halted": lambda v: isinstance(v, bool), "halt_reason": _text,
    **{f: _whole for f in COUNTER_FIELDS},
    "positions": lambda v: isinstance(v, (list, dict)),
    "last_updated": lambda v: _text(v) or _number(v),
}


def check_fields(doc: dict[str, Any], path: str) -> None:
    """What TradingState.from_document refuses in a parsed document, with the same error,
    without building the model: pydantic stays out of the processes that only read (the
    console's live reads, issue 15). tests/test_state_check.py holds the two to agreement."""
    for field, accepts in FIELD_TYPES.items():
        value = doc.get(field)
        if value is not None and not accepts(value):
            raise invalid_field(field, value, path)


def __getattr__(name: str) -> Any:
    # TradingState is pydantic's (statetui.core.state_model): imported by those who use it.
    if name == "TradingState":
        from statetui.core.state_model import TradingState

        return TradingState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_writable(doc: dict[str, Any], path: str) -> None:
    """Refuse impossible values (negative balances and counters). NaN/Infinity anywhere make
    the serializer fail; `serialize` turns that into a StateValueError naming the field."""
    for field in BALANCE_FIELDS:
        value = doc.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not _finite(value):
                raise StateValueError(f"{path}: refusing to save {field}={value!r}: not a finite number", path, field)
            if value < 0:  # a finite float's sign needs no Decimal (-0.0 is not below 0 either way)
                raise StateValueError(f"{path}: refusing to save {field}={value!r}: a balance cannot be negative", path, field)
    for field in COUNTER_FIELDS:
        value = doc.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise StateValueError(f"{path}: refusing to save {field}={value}: a counter cannot be negative", path, field)


def _non_finite_path(value: Any, where: str) -> tuple[str, Any] | None:
    if isinstance(value, float) and not _finite(value):
        return where or "$", value
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite_path(item, f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{key}" if where else str(key)))
        if found:
            return found
    return None


def _finite(value: float | int) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def serialize(doc: dict[str, Any], fmt: JsonFormat, path: str) -> bytes:
    """The bytes to write, refusing NaN/Infinity anywhere with the field's path."""
    try:
        return json_utf8(fmt.dumps(doc))
    except RecursionError:
        raise StateValueError(f"{path}: refusing to save: nested too deep to write as JSON", path) from None
    except ValueError as exc:
        bad = _non_finite_path(doc, "")
        if bad is None:  # not NaN/Infinity: a circular reference, say
            raise StateValueError(f"{path}: refusing to save: {exc}", path) from None
        where, value = bad
        raise StateValueError(f"{path}: refusing to save {where}={value!r}: not a finite number", path, where) from None
    except TypeError as exc:
        raise StateValueError(f"{path}: refusing to save: {exc}", path) from None


def serialize_fields(doc: dict[str, Any], fmt: JsonFormat, path: str,
                     memo: FieldTexts | None = None) -> tuple[bytes, dict[str, str] | None]:
    """serialize(), plus each top-level field's text in `fmt` (JsonFormat.value_text), which
    the store compares with the texts it last wrote; `memo` (in the same format) re-encodes
    only changed fields. No texts when a key is not a string (dumps() converts such keys)."""
    if not all(type(k) is str for k in doc):
        return serialize(doc, fmt, path), None
    try:
        texts = memo.texts(doc) if memo is not None else {k: fmt.value_text(v) for k, v in doc.items()}
        return json_utf8(fmt.join(texts.items())), texts
    except (ValueError, TypeError, RecursionError):  # NaN, a value JSON cannot hold, nested too deep
        return serialize(doc, fmt, path), None  # raises the same typed error as always


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, list[Any]]:
    """Top-level fields whose value (or JSON type) changed: {field: [old, new]}; absent is None."""
    old = old or {}
    changes: dict[str, list[Any]] = {}
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        if (key in old) != (key in new) or not strict_equal(a, b):
            changes[key] = [a, b]
    return changes


def default_state(balance: Decimal | None = None, now_iso: str | None = None) -> dict[str, Any]:
    """A new state file: the audit's critical action item ("create default state file")."""
    cash = float(balance) if balance is not None else 0.0
    return {
        "current_balance": cash,
        "peak_balance": cash,
        "day_start_balance": cash,
        "starting_balance": cash,
        "daily_pnl": 0.0,
        "mode": "normal",
        "halted": False,
        "halt_reason": None,
        "consecutive_wins": 0,
        "consecutive_losses": 0,
        "total_trades": 0,
        "total_wins": 0,
        "positions": [],
        "last_updated": now_iso,
    }
