"""Derived figures and sanity rules, through the bot's role map (statetui.core.roles).

The drawdown compares like with like: the peak against the figure it tracks (cash or
equity, the mapping's basis). A figure the bot does not keep is None and the rules that
need it say nothing: never a guessed number."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from statetui.core.money import to_money
from statetui.core.roles import RoleMap


@dataclass(frozen=True)
class Figures:
    cash: Decimal | None
    equity: Decimal | None
    peak: Decimal | None
    basis: str | None  # what the peak tracks: "cash" | "equity" | None (unknown)
    basis_value: Decimal | None  # the current figure the peak is compared with
    drawdown: Decimal | None  # fraction 0..1 of the peak lost
    halt_threshold: Decimal
    halt_distance: Decimal | None  # fraction of the peak still to lose before the halt
    at_or_past_halt: bool
    halted: bool | None
    position_value: Decimal | None
    currency: str = "USD"

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


def figures(doc: Any, roles: RoleMap, halt_threshold: Decimal = Decimal("0.30")) -> Figures:
    peak = roles.money(doc, "peak")
    basis_value = roles.basis_value(doc) if peak is not None else None
    drawdown = None
    if peak is not None and basis_value is not None and peak > 0:
        drawdown = (peak - basis_value) / peak
    return Figures(
        cash=roles.money(doc, "cash"),
        equity=roles.money(doc, "equity"),
        peak=peak,
        basis=roles.peak_basis if roles.mapped("peak") else None,
        basis_value=basis_value,
        drawdown=drawdown,
        halt_threshold=halt_threshold,
        halt_distance=(halt_threshold - drawdown) if drawdown is not None else None,
        at_or_past_halt=drawdown is not None and drawdown >= halt_threshold,
        halted=roles.halted(doc),
        position_value=position_value(roles.positions(doc)),
        currency=roles.currency,
    )


def drawdown_with_peak(peak: Decimal, basis_value: Decimal | None) -> Decimal | None:
    if basis_value is None or peak <= 0:
        return None
    return (peak - basis_value) / peak


_VALUE_KEYS = ("current_value", "value", "market_value", "position_value")
_SIZE_PRICE = (("size", "current_price"), ("shares", "current_price"), ("size", "price"), ("shares", "price"),
               ("size", "avg_price"), ("quantity", "price"), ("quantity", "current_price"))


def _entries(positions: Any) -> Any:
    return positions.values() if isinstance(positions, dict) else (positions if isinstance(positions, list) else [])


def position_value(positions: Any) -> Decimal | None:
    """The value of open positions listed in the state, when they say it (None when unknown)."""
    total = Decimal(0)
    known = False
    for pos in _entries(positions):
        if not isinstance(pos, dict):
            continue
        amount = None
        for key in _VALUE_KEYS:
            if _is_number(pos.get(key)):
                amount = to_money(pos[key])
                break
        if amount is None:
            for size_key, price_key in _SIZE_PRICE:
                if _is_number(pos.get(size_key)) and _is_number(pos.get(price_key)):
                    amount = to_money(pos[size_key]) * to_money(pos[price_key])
                    break
        if amount is not None:
            total += amount
            known = True
    return total if known else None


def position_token_ids(positions: Any) -> list[int]:
    """ERC-1155 token ids of positions listed in the state (token_id / asset / tokenId)."""
    ids: list[int] = []
    seen: set[int] = set()  # a list membership test made this quadratic: 8 s for 40,000 positions
    for pos in _entries(positions):
        if not isinstance(pos, dict):
            continue
        for key in ("token_id", "tokenId", "asset", "asset_id"):
            value = pos.get(key)
            try:
                if isinstance(value, bool) or value is None:
                    continue
                token = int(value, 0) if isinstance(value, str) else int(value)
            except (TypeError, ValueError):
                continue
            if token >= 0 and token not in seen:
                seen.add(token)
                ids.append(token)
            break
    return ids


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value not in (
        float("inf"), float("-inf"))


@dataclass(frozen=True)
class Problem:
    severity: str  # "WARNING" | "FAIL" | "CRITICAL"
    role: str  # the role concerned ("" when it is the document)
    path: str | None  # the bot's own field
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "role": self.role, "field": self.path, "message": self.message}


def label(roles: RoleMap, role: str) -> str:
    """`cash (bankroll_current)`: the role with the bot's own name for it."""
    name = roles.field_name(role)
    return f"{role} ({name})" if name and name != role else role


DUPLICATE_SCAN_BYTES = 2 * 1024 * 1024  # a second parse of a bigger file on every refresh costs too much


def sanity_problems(doc: Any, roles: RoleMap, halt_threshold: Decimal = Decimal("0.30"),
                    raw: bytes | None = None) -> list[Problem]:
    """Values that are well-typed but wrong: the logical rules of the audit, on mapped roles.
    With the file's `raw` bytes, duplicate keys too (JSON parsers keep the last; a rewrite
    keeps only that one)."""
    problems: list[Problem] = []
    if raw is not None and len(raw) <= DUPLICATE_SCAN_BYTES:
        from statetui.core.jsondoc import duplicate_keys

        dups = duplicate_keys(raw)
        if dups:
            problems.append(Problem("WARNING", "", dups[0], f"duplicate key(s) {', '.join(repr(k) for k in dups)} in one "
                                    "object: the last value is used (as the bot's JSON parser does) and a rewrite keeps "
                                    "only that one"))
    for role in ("cash", "equity", "peak", "starting", "day_start"):
        raw = roles.raw(doc, role)
        if roles.mapped(role) and roles.present(doc, role) and roles.money(doc, role) is None and raw is not None:
            problems.append(Problem("FAIL", role, roles.path(role), f"{label(roles, role)} is not a number ({str(raw)[:40]!r})"))
            continue
        amount = roles.money(doc, role)
        if amount is not None and amount < 0:
            problems.append(Problem("FAIL", role, roles.path(role), f"{label(roles, role)} is negative ({amount})"))
    for role in ("trades", "wins", "losses"):
        n = roles.count(doc, role)
        if n is not None and n < 0:
            problems.append(Problem("FAIL", role, roles.path(role), f"{label(roles, role)} is negative ({n})"))
    wins, trades, losses = roles.count(doc, "wins"), roles.count(doc, "trades"), roles.count(doc, "losses")
    if wins is not None and trades is not None and wins > trades:
        problems.append(Problem("FAIL", "wins", roles.path("wins"), f"{label(roles, 'wins')} ({wins}) > {label(roles, 'trades')} ({trades})"))
    if wins is not None and losses is not None and trades is not None and wins + losses > trades:
        problems.append(Problem("WARNING", "losses", roles.path("losses"),
                                f"wins + losses ({wins + losses}) > {label(roles, 'trades')} ({trades})"))
    f = figures(doc, roles, halt_threshold)
    if f.peak is not None and f.basis_value is not None and f.peak < f.basis_value:
        problems.append(Problem("FAIL", "peak", roles.path("peak"),
                                f"{label(roles, 'peak')} {f.peak} < {label(roles, f.basis or 'cash')} {f.basis_value}: "
                                "the peak must never be below the figure it tracks"))
    if f.at_or_past_halt and f.halted is False:
        problems.append(Problem("FAIL", "halted", roles.path("halted") or roles.path("mode"),
                                f"drawdown {f.drawdown * 100:.1f}% is at or past the halt threshold "
                                f"{halt_threshold * 100:.0f}% but the bot is not halted"))
    flag_path, mode = roles.path("halted"), roles.text(doc, "mode")
    if flag_path and mode is not None:
        flag = roles.raw(doc, "halted")
        inverted = flag_path.startswith("!")
        if isinstance(flag, bool) and (flag != inverted) and mode.strip().lower() not in roles.halt_modes:
            problems.append(Problem("WARNING", "halted", flag_path, f"{label(roles, 'halted')} says halted but "
                                    f"{label(roles, 'mode')} is {mode!r}"))
    return problems
