"""Small display helpers: ages, times, percentages, bars, sparklines. No Textual import.

Everything here reads without colour: a status is a word, a bar is characters."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Sequence

from statetui.core.display import age as exact_age
from statetui.core.money import fmt_money

money = fmt_money

SPARK = "▁▂▃▄▅▆▇█"


def age(seconds: float | None) -> str:
    """An age on screen: the core's, but "<1m" below a minute. The console redraws an age
    when its label changes, so a seconds counter would redraw every second for nothing:
    the exact time is shown beside it."""
    if seconds is not None and 0 <= seconds < 60:
        return "<1m"
    return exact_age(seconds)


def utc_time(ts: float | None, with_date: bool = True) -> str:
    if ts is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime(fmt) + "Z"
    except (ValueError, OverflowError, OSError):  # a file's mtime can say year 300000
        return "—"


def iso_ts(value: Any) -> float | None:
    """A journal `ts` (ISO 8601, Z) as unix time."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def pct(fraction: Decimal | float | None, places: int = 1) -> str:
    return "—" if fraction is None else f"{float(fraction) * 100:.{places}f}%"


def size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def bar(fraction: float, width: int) -> str:
    """A bar of `width` cells, `fraction` (0..1) of it full; eighths for the last cell."""
    width = max(1, width)
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
    return text + "░" * (width - len(text))


def sparkline(values: Sequence[Decimal | float], width: int, lo: float | None = None, hi: float | None = None) -> str:
    """The last `width` values as block characters, scaled between lo and hi."""
    vals = [f for f in (float(v) for v in values) if math.isfinite(f)][-width:] if width > 0 else []
    if not vals:
        return ""
    lo = min(vals) if lo is None or not math.isfinite(lo) else lo
    hi = max(vals) if hi is None or not math.isfinite(hi) else hi
    span = hi - lo
    if span <= 0:
        return SPARK[3] * len(vals)
    return "".join(SPARK[min(7, max(0, int((v - lo) / span * 7 + 0.5)))] for v in vals)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def clip_middle(text: str, width: int) -> str:
    """Keep both ends (a backup's time and checksum) when it does not fit."""
    if len(text) <= width:
        return text
    if width < 5:
        return text[:width]
    head = (width - 1) // 2
    return text[:head] + "…" + text[-(width - 1 - head):]


def clip_path(text: str, width: int) -> str:
    """Keep a path's end (the file name) when it does not fit."""
    return text if len(text) <= width else "…" + text[-max(0, width - 1):]


def show_value(value: Any, width: int = 40) -> str:
    """A JSON value in one short line."""
    import json

    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return clip(text, width)


def now() -> float:
    return time.time()
