"""The bot's state: the fields a Polymarket bot keeps, all optional, unknown fields kept.

Numbers are `int | float` (strict: a bool or a string is an error, and an int stays an
int), so writing the state back never changes a value's JSON type. Money comparisons
go through statetui.core.money (Decimal), never float arithmetic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, PrivateAttr, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from statetui.core.errors import StateInvalidError, StateValueError
from statetui.core.jsondoc import DEFAULT_FORMAT, FieldTexts, JsonFormat, json_copy, strict_equal
from statetui.core.money import to_money
from statetui.core.textsafe import json_utf8

Number = Union[StrictInt, StrictFloat]

MODES = ("normal", "conservative", "defensive", "recovery", "halted")
BALANCE_FIELDS = ("current_balance", "peak_balance", "day_start_balance", "starting_balance")
COUNTER_FIELDS = ("consecutive_wins", "consecutive_losses", "total_trades", "total_wins")


class TradingState(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        validate_assignment=True,
        strict=True,
        # NaN/Infinity never come from a file (the parser refuses them) and are refused at
        # save with a typed error naming the field (check_writable), not at assignment.
        allow_inf_nan=True,
        revalidate_instances="never",
    )

    current_balance: Number | None = None
    peak_balance: Number | None = None
    day_start_balance: Number | None = None
    starting_balance: Number | None = None
    daily_pnl: Number | None = None
    mode: StrictStr | None = None
    halted: StrictBool | None = None
    halt_reason: StrictStr | None = None
    consecutive_wins: StrictInt | None = None
    consecutive_losses: StrictInt | None = None
    total_trades: StrictInt | None = None
    total_wins: StrictInt | None = None
    positions: list[Any] | dict[str, Any] | None = None
    last_updated: StrictStr | Number | None = None

    # The document this state was loaded from: key order, style and bytes.
    _origin: "Origin | None" = PrivateAttr(default=None)
    # Without an origin, the key order of the mapping it was built from (the file belongs to
    # the bot: a state constructed from a document writes its keys in that document's order).
    _key_order: "list[str] | None" = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._key_order = list(data)

    @classmethod
    def from_document(cls, doc: dict[str, Any], path: str = "state", origin: "Origin | None" = None) -> "TradingState":
        try:
            state = cls.model_validate(doc)
        except ValidationError as exc:
            raise _invalid(exc, path) from None
        state._origin = origin
        if origin is None:
            state._key_order = list(doc)
        return state

    def to_document(self) -> dict[str, Any]:
        """The JSON object to write: the original keys in their order, then new keys. A deep
        copy: changing it does not change the state."""
        return json_copy(self._document())

    def _document(self) -> dict[str, Any]:
        """to_document() without the copy: its values are the state's own objects. For the
        store, which serializes it at once and keeps no reference to the values."""
        # pydantic keeps field values in __dict__; its model_fields / model_fields_set
        # accessors cost ~1 us each, called per key (a fifth of a save's own work).
        fields = type(self).__pydantic_fields__
        values = self.__dict__
        extras = self.__pydantic_extra__ or {}
        original = self._origin.document if self._origin else (self._key_order or ())
        out: dict[str, Any] = {}
        for key in original:
            if key in fields:
                out[key] = values[key] if key in values else getattr(self, key)
            elif key in extras:
                out[key] = extras[key]
        fields_set = self.__pydantic_fields_set__
        for key in fields:
            if key not in out and key in fields_set:
                out[key] = values[key] if key in values else getattr(self, key)
        for key, value in extras.items():
            if key not in out:
                out[key] = value
        return out

    @property
    def json_format(self) -> JsonFormat:
        return self._origin.format if self._origin else DEFAULT_FORMAT

    def money(self, field: str) -> Decimal | None:
        return to_money(getattr(self, field, None))


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


def _invalid(exc: ValidationError, path: str) -> StateInvalidError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    field = loc[0] if loc else "$"
    got = err.get("input")
    if isinstance(got, float) and not _finite(got):
        cause = f"{got!r} is not a finite number"
    else:
        shown = type(got).__name__ if isinstance(got, (dict, list)) else json.dumps(got)[:40]
        cause = f"expected {_EXPECTED.get(field, 'a valid value')}, got {shown}"
    return StateInvalidError(f"{path}: field {field}: {cause}", path, field=field)


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
