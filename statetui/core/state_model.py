"""TradingState: the bot's state as a pydantic model, for the library (load, edit with
checks on assignment, save). Kept apart from statetui.core.model so that reading a file
(the store's status, the console) needs no pydantic: statetui.core.model.check_fields
refuses the same documents with the same errors.

Numbers are `int | float` (strict: a bool or a string is an error, and an int stays an
int), so writing the state back never changes a value's JSON type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, PrivateAttr, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from statetui.core.jsondoc import DEFAULT_FORMAT, JsonFormat, json_copy
from statetui.core.model import Origin, invalid_field
from statetui.core.money import to_money

Number = Union[StrictInt, StrictFloat]


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


def _invalid(exc: ValidationError, path: str):
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    return invalid_field(loc[0] if loc else "$", err.get("input"), path)


__all__ = ["TradingState", "Origin"]
