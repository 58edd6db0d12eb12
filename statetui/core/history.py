"""What a role's value was, and when: from the journal (every write through the store) and
from backups (snapshots of earlier states), through the bot's role map.

Each journal entry records the roles after its write (`roles`: cash, equity, peak, halted);
older entries, and bots whose role is a top-level field, also show it in `changes`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from statetui.core.money import money_or_none
from statetui.core.records import Point
from statetui.core.roles import RoleMap, top_field


def _ts(entry: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(entry["ts"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError, TypeError):
        return None



def entry_value(entry: dict[str, Any], roles: RoleMap, role: str) -> tuple[bool, Any]:
    """(known, value) of `role` right after this entry's write: from its role snapshot, or from
    its changes when the role is a top-level field that changed. (False, None): not recorded."""
    snap = entry.get("roles")
    if isinstance(snap, dict) and role in snap:
        return True, snap[role]
    path = roles.path(role)
    field = top_field(path)
    changes = entry.get("changes")
    if field is not None and field == (path or "").lstrip("!") and isinstance(changes, dict):
        change = changes.get(field)
        if isinstance(change, list) and len(change) == 2:
            return True, change[1]
    return False, None


def role_series(entries: Iterable[dict[str, Any]], roles: RoleMap, role: str) -> list[Point]:
    """Every value a money role took in writes through the store, oldest first."""
    points = []
    for e in entries:
        known, value = entry_value(e, roles, role)
        ts = _ts(e)
        amount = money_or_none(value) if known else None
        if amount is not None and ts is not None:
            points.append(Point(ts, amount, f"journal #{e.get('generation')}", e.get("generation")))
    return points


def backup_series(backups: list[Any], role: str = "cash") -> list[Point]:
    """A money role's value in each backup that verifies (points in time, oldest first)."""
    points = []
    for b in backups:
        value = money_or_none((getattr(b, "roles", None) or {}).get(role))
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


def realized_history(entries: list[dict[str, Any]], backups: list[Any], roles: RoleMap, basis: str = "cash") -> CashHistory:
    """Values the basis figure (realized cash, or equity) held, minus those a reconcile to the
    chain proved wrong: the value a reconcile replaced, wherever it appears before that
    reconcile, and the snapshots taken just before one. `entries`: landed journal entries."""
    disowned: list[tuple[float, Decimal]] = []
    previous: Decimal | None = None
    for e in entries:
        known, value = entry_value(e, roles, basis)
        amount = money_or_none(value) if known else None
        ts = _ts(e)
        if str(e.get("reason", "")).startswith(RECONCILE_REASONS) and ts is not None:
            change = (e.get("changes") or {}).get(top_field(roles.path(basis)) or "")
            old = money_or_none(change[0]) if isinstance(change, list) and len(change) == 2 else previous
            if old is not None:
                disowned.append((ts, old))
        if amount is not None:
            previous = amount
    points = role_series(entries, roles, basis)
    points += [p for p in backup_series(backups, basis) if ".pre-reconcile." not in p.source]
    kept = [p for p in points if not any(p.value == bad and p.ts <= when for when, bad in disowned)]
    return CashHistory(sorted(kept, key=lambda p: p.ts))


def replayed_document(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The top-level fields as the journal's writes left them (big values may be summaries)."""
    doc: dict[str, Any] = {}
    for e in entries:
        changes = e.get("changes")
        if isinstance(changes, dict):
            for key, change in changes.items():
                if isinstance(change, list) and len(change) == 2:
                    doc[key] = change[1]
    return doc


def roles_from_journal(entries: list[dict[str, Any]], overrides: dict[str, Any] | None = None) -> RoleMap:
    """A role map for reading a journal without the state file: detected on the replayed fields."""
    from statetui.core.roles import role_map

    return role_map(replayed_document(entries), overrides or {})


def role_changes(entries: list[dict[str, Any]]) -> list[dict[str, tuple[Any, Any]]]:
    """For each entry, the recorded roles whose value it changed: {role: (before, after)}."""
    out: list[dict[str, tuple[Any, Any]]] = []
    last: dict[str, Any] = {}
    for e in entries:
        snap = e.get("roles") if isinstance(e.get("roles"), dict) else {}
        out.append({r: (last.get(r), v) for r, v in snap.items()
                    if r not in last or last[r] != v or type(last[r]) is not type(v)})
        last.update(snap)
    return out
