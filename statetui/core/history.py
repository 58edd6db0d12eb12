"""Balance and peak history, from the journal (every write through the store) and
from backups (snapshots of earlier states). The peak must track realized cash only:
the highest cash ever recorded is the highest the peak may honestly be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from statetui.core.backups import Backups
from statetui.core.journal import Journal, landed
from statetui.core.money import to_money


@dataclass(frozen=True)
class Point:
    ts: float  # unix time
    value: Decimal
    source: str  # "journal #12" or a backup name


def _ts(entry: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(entry["ts"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return to_money(value)
        except ValueError:
            return None
    return None


def journal_series(journal: Journal, field: str, entries: list[dict[str, Any]] | None = None) -> list[Point]:
    """Every value `field` took in writes through the store, oldest first."""
    points = []
    for e in landed(entries if entries is not None else journal.scan().entries, journal.state_sha()):
        change = e.get("changes", {}).get(field)
        ts = _ts(e)
        if change and ts is not None:
            value = _number(change[1])
            if value is not None:
                points.append(Point(ts, value, f"journal #{e['generation']}"))
    return points


def backup_series(backups: Backups, field: str = "current_balance") -> list[Point]:
    points = []
    for b in backups.list(verify=True):
        value = _number(b.current_balance if field == "current_balance" else b.peak_balance)
        if b.ok and value is not None:
            points.append(Point(b.created, value, b.name))
    return sorted(points, key=lambda p: p.ts)


@dataclass
class CashHistory:
    points: list[Point]

    @property
    def max(self) -> Point | None:
        return max(self.points, key=lambda p: p.value, default=None)

    def __len__(self) -> int:
        return len(self.points)


RECONCILE_REASONS = ("reconcile", "repair reconcile")


def realized_cash_history(journal: Journal, backups: Backups, entries: list[dict[str, Any]] | None = None) -> CashHistory:
    """Cash values the state held, minus those a reconcile to the chain proved wrong: the
    value a reconcile replaced, wherever it appears before that reconcile, and the
    snapshots taken just before one."""
    entries = entries if entries is not None else journal.scan().entries
    disowned: list[tuple[float, Decimal]] = []
    for e in entries:
        change = e.get("changes", {}).get("current_balance")
        ts = _ts(e)
        if change and ts is not None and str(e.get("reason", "")).startswith(RECONCILE_REASONS):
            old = _number(change[0])
            if old is not None:
                disowned.append((ts, old))
    points = journal_series(journal, "current_balance", entries)
    points += [p for p in backup_series(backups) if ".pre-reconcile." not in p.source]
    kept = [p for p in points if not any(p.value == bad and p.ts <= when for when, bad in disowned)]
    return CashHistory(sorted(kept, key=lambda p: p.ts))
