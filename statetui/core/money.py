"""Money arithmetic without float drift.

The bot writes JSON floats and keeps them; inside statetui every comparison and sum
goes through Decimal(str(x)), so "mismatch > $1" and "peak >= current" are exact."""

from __future__ import annotations

from decimal import Context, Decimal, ROUND_HALF_EVEN
import math

CENT = Decimal("0.01")


def to_money(value: int | float | Decimal | str | None) -> Decimal | None:
    """The exact decimal a JSON number means (repr of a float is its shortest round-trip form)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return Decimal(str(value))


def money_or_none(value: object) -> Decimal | None:
    """A JSON number as money; None for anything else (bool, string, NaN, absent)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return to_money(value)
        except (ValueError, ArithmeticError):
            return None
    return None


def to_json_number(amount: Decimal, like: object = None) -> int | float:
    """Write a Decimal back as the JSON number type the bot used: an int stays an int
    when the amount is whole, everything else is a float."""
    if isinstance(like, int) and not isinstance(like, bool) and amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def fmt_money(value: int | float | Decimal | None, places: int = 2) -> str:
    """Money with 2 decimals for display, e.g. 200.97; '—' when absent."""
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # shown as what it is, never an error in a display
    amount = to_money(value)
    if not amount.is_finite():
        return str(amount)
    if amount.adjusted() >= 18:  # 10^18 dollars and up: no balance, shown as what it is
        return f"{amount:.6E}"
    q = Decimal(1).scaleb(-places)
    # Enough digits for the quantize whatever the amount (the default 28 fail from 1e26 up).
    ctx = Context(prec=max(28, amount.adjusted() + places + 2), rounding=ROUND_HALF_EVEN)
    rounded = amount.quantize(q, context=ctx)
    if rounded.is_zero():
        rounded = abs(rounded)  # -0.001 is "0.00", never "-0.00"
    return f"{rounded:,.{places}f}"
