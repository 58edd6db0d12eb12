"""Figures as a tired human reads them; shared by the CLI and the console."""

from __future__ import annotations

from typing import Any


def age(seconds: float | None) -> str:
    """'45s', '12m', '3.1h', '2.0d' — an age read at a glance."""
    if seconds is None:
        return "—"
    s = max(0.0, seconds)
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s / 60:.0f}m"
    if s < 86400 * 2:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f}d"


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: "list[Any]", width: int = 60) -> str:
    """Values (numbers or numeric strings) as block characters, lowest to highest, at most
    `width` of them (evenly picked)."""
    vals = [float(v) for v in values]
    if width > 0 and len(vals) > width:
        step = (len(vals) - 1) / (width - 1)
        vals = [vals[round(i * step)] for i in range(width)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi <= lo:
        return SPARK[3] * len(vals)
    return "".join(SPARK[min(7, max(0, int((v - lo) / (hi - lo) * 7 + 0.5)))] for v in vals)


def chain_curve_line(curve: dict[str, Any]) -> str:
    """The chain's cash curve beside the state's peak, as the peak-drawdown check records it."""
    from decimal import Decimal

    from statetui.core.money import fmt_money

    tx = f", tx {curve['tx']}" if curve.get("tx") else ""
    return (f"chain cash {sparkline(curve.get('values') or [], 40)} ${fmt_money(Decimal(curve['cash']))} now · "
            f"realized-cash high-water mark ${fmt_money(Decimal(curve['high_water_mark']))} (block {curve['block']}{tx}; "
            f"policy {curve.get('policy')}) · state peak ${fmt_money(Decimal(curve['state_peak']))}")
