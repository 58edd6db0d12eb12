"""Figures as a tired human reads them; shared by the CLI and the console."""

from __future__ import annotations


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
