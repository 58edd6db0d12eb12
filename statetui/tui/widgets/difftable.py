"""field | before -> after, one line a field: a plan's changes, a journal entry, a backup diff."""

from __future__ import annotations

from typing import Any

from textual.content import Content

from statetui.tui.plain import safe
from statetui.tui import fmt
from statetui.tui.widgets.style import label, row, strong

_MONEY = {"current_balance", "peak_balance", "day_start_balance", "starting_balance", "daily_pnl"}
_MONEY_ROLES = {"cash", "equity", "peak", "starting", "day_start", "daily_pnl"}


def real_changes(changes: list[tuple[str, Any, Any]]) -> tuple[list[tuple[str, Any, Any]], list[str]]:
    """(changes worth showing, names only added or removed as null). A journal or plan
    records a key that appears or goes with a null value as [None, None]: the value did
    not change, so it is not listed as a change."""
    shown, null_only = [], []
    for name, before, after in changes:
        if before is None and after is None:
            null_only.append(str(name))
        else:
            shown.append((name, before, after))
    return shown, null_only


def diff_table(changes: list[tuple[str, Any, Any]], width: int, roles: dict[str, str] | None = None) -> list[Content]:
    """field | before -> after, one line a field, values clipped to fit. `roles`: field -> role
    (money roles are shown as money)."""
    roles = roles or {}
    shown, null_only = real_changes(changes)
    out: list[Content] = []
    if shown:
        name_w = min(24, max(len(str(n)) for n, _a, _b in shown))
        val_w = max(8, (width - name_w - 6) // 2)
        out.append(row(label(f"{'field'.ljust(name_w)}  {'before'.ljust(val_w)}   after")))
        for name, before, after in shown:
            money = roles.get(name) in _MONEY_ROLES or name in _MONEY
            b = _value(before, val_w, money)
            a = _value(after, val_w, money)
            out.append(row(strong(str(name).ljust(name_w)[:name_w]), "  ", Content.styled(safe(b.ljust(val_w)), "$error"),
                           label(" → "), Content.styled(safe(a), "$success")))
    if null_only:
        out.append(label(f"null, key only added or removed: {', '.join(null_only)}"))
    return out


def _value(value: Any, width: int, money: bool) -> str:
    if money and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.money(value)
    return fmt.show_value(value, width)
