"""Journal summaries, kept incrementally: what the audit, the metrics and the peak verdict
need from the whole history, without reading it.

A `Summary` is fed journal entries oldest first (`feed`), one at a time; it never looks back.
It keeps:

- `writes`, `aborted`, `by_writer`, `by_reason`: counts of landed writes (journal.landed())
  per writer and per reason (at most MAX_KEYS names each; the rest count under "(other)");
- `first`, `last`: the first and newest landed writes (trimmed entries: ts, generation,
  writer, reason, pid, sha256, prev_sha256, roles, the role fields' changes);
- `last_outside_write`: the newest write that replaced a file written outside the store;
- `peak_changes`, `last_peak_change`: how many writes changed the peak, and the latest (by
  time) with its writer, reason and values (`peak_from`, `peak_to`);
- `highest(basis)`: the highest realized cash (or equity) and when, after what reconciles
  disowned (statetui.core.history.realized_history), as a history.Point;
- what the peak verdict needs (statetui.core.evidence.judge_peak gives the same verdict from a
  Summary as from the full list of entries): the stack of the peak's suffix minima (for the
  write that raised the peak to any value) and the reconciles' disowned values.

Whether a write landed depends on the entry after it (or, for the newest, on the file's
sha256): the newest write stays `pending` until the next one arrives; `finalized(file_sha)`
gives a copy with it settled. Entries are read through a role map (`fingerprint`): a summary
answers only for the same role paths.

Bounded: the stack keeps the top STACK_KEEP suffix minima, the highest TOP_KEEP distinct
realized values, at most DISOWNED_KEEP disowned values. A question the bounded summary cannot
answer exactly raises `Inexact` (the caller reads the journal in full instead): a peak far
below everything the journal recorded, every kept value disowned, a clock that went backwards.

Persisted by statetui.core.journal_index (to_json / from_json); built and read by
statetui.core.journal_digest (digest(), rebuild())."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from statetui.core.history import RECONCILE_REASONS, Point, _ts, entry_value
from statetui.core.money import money_or_none
from statetui.core.roles import top_field

VERSION = 1
STACK_KEEP = 64
TOP_KEEP = 64
DISOWNED_KEEP = 4096
MAX_KEYS = 1000
BASES = ("cash", "equity")
TOLERANCE = Decimal("0.01")  # as statetui.core.evidence


class Inexact(Exception):
    """The bounded summary cannot answer this exactly: read the entries."""


def fingerprint(roles: Any) -> dict[str, Any]:
    """What of a role map a summary depends on: the paths of the roles it reads."""
    return {r: roles.path(r) for r in ("cash", "equity", "peak", "trades")}


class PathsOnly:
    """A role map reduced to what a summary reads: each role's path (from a fingerprint)."""

    def __init__(self, fp: dict[str, Any]):
        self.fp = dict(fp)

    def path(self, role: str) -> str | None:
        return self.fp.get(role)


def _dec(value: Any) -> str | None:
    return None if value is None else str(value)


def _undec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


class Summary:
    def __init__(self, roles: Any):
        self.roles = roles
        self.fp = fingerprint(roles)
        fields = {top_field(self.fp[r]) for r in self.fp} - {None}
        self._fields = fields  # the changes a trimmed entry keeps
        tf = top_field(self.fp["trades"]) or top_field(self.fp["cash"])
        self._trade_field = tf
        self.writes = 0
        self.aborted = 0
        self.by_writer: dict[str, int] = {}
        self.by_reason: dict[str, int] = {}
        self.first: dict[str, Any] | None = None
        self.last: dict[str, Any] | None = None
        self.last_outside_write: dict[str, Any] | None = None
        self.pending: dict[str, Any] | None = None  # the newest write: landed or not, the next one tells
        self.aborted_gens: list[int] = []  # aborts that did not follow their write (kept a while)
        self.inexact: list[str] = []
        # peak history
        self.peak_carry: Decimal | None = None
        self.prev_peak: tuple[bool, Any] | None = None  # the previous landed write's own peak (known, value)
        self.peak_changes = 0
        self.last_peak_change: dict[str, Any] | None = None
        self.raise_ts: float | None = None  # the latest peak change's time (None: none yet)
        self.first_ts: float = 0.0
        self.trades_after = 0  # trade writes after raise_ts (or after the first write, with none)
        self.max_ts: float | None = None
        self.stack: list[dict[str, Any]] = []  # suffix minima of the carried peak: {"v", "entry", "next"}
        self.stack_cut = False
        # realized history per basis
        self.prev_amount: dict[str, Decimal | None] = {b: None for b in BASES}
        self.tops: dict[str, dict[str, dict[str, Any]]] = {b: {} for b in BASES}  # value -> {"ts", "gen", "max_ts"}
        self.evicted: dict[str, Decimal | None] = {b: None for b in BASES}
        self.disowned: dict[str, list[tuple[float, str]]] = {b: [] for b in BASES}
        self._until: dict[str, dict[str, float]] = {}  # basis -> value key -> latest disowning time

    # --- feeding -----------------------------------------------------------------

    def feed(self, entry: dict[str, Any]) -> None:
        """One journal entry, in journal order (an aborted marker, or a write)."""
        if entry.get("aborted"):
            self.aborted += 1
            gen = entry.get("generation")
            if self.pending is not None and self.pending.get("generation") == gen:
                self.pending = None  # the write it cancels never happened
            else:
                self.aborted_gens = (self.aborted_gens + [gen])[-64:]
                if self.last is not None and self.last.get("generation") == gen:
                    self._mark("an abort marker after its write was already counted")
            return
        if entry.get("generation") in self.aborted_gens:
            return
        if self.pending is not None:
            self._settle(self.pending, entry.get("prev_sha256"))
        self.pending = entry

    def finalized(self, file_sha: str | None) -> "Summary":
        """A copy with the newest write settled against the file now on disk."""
        out = copy.copy(self)
        for name in ("by_writer", "by_reason", "prev_amount", "evicted"):
            setattr(out, name, dict(getattr(self, name)))
        out.tops = {b: {k: dict(v) for k, v in t.items()} for b, t in self.tops.items()}
        out.disowned = {b: list(v) for b, v in self.disowned.items()}
        out._until = {}
        out.stack = [dict(s) for s in self.stack]
        out.inexact = list(self.inexact)
        if out.pending is not None:
            out._settle(out.pending, file_sha)
            out.pending = None
        return out

    def _settle(self, e: dict[str, Any], replaced: str | None) -> None:
        target, before = e.get("sha256"), e.get("prev_sha256")
        if replaced is not None and target != before and replaced != target and replaced == before:
            return  # a crash stopped it before its replace (journal.landed())
        self._landed(e)

    def _mark(self, why: str) -> None:
        if why not in self.inexact:
            self.inexact.append(why)

    def trim(self, e: dict[str, Any]) -> dict[str, Any]:
        out = {k: e[k] for k in ("ts", "generation", "writer", "reason", "pid", "sha256", "prev_sha256") if k in e}
        if isinstance(e.get("roles"), dict):
            out["roles"] = e["roles"]
        changes = e.get("changes")
        if isinstance(changes, dict):
            kept = {k: v for k, v in changes.items() if k in self._fields}
            if kept:
                out["changes"] = kept
        if e.get("replaced_outside_write"):
            out["replaced_outside_write"] = True
        return out

    def _landed(self, e: dict[str, Any]) -> None:
        t = self.trim(e)
        self.writes += 1
        _count(self.by_writer, str(e.get("writer")))
        _count(self.by_reason, str(e.get("reason")))
        ts = _ts(e)
        if self.first is None:
            self.first, self.first_ts = t, ts or 0.0
        self.last = t
        if e.get("replaced_outside_write"):
            self.last_outside_write = t
        if ts is not None:
            if self.max_ts is not None and ts < self.max_ts:
                self._mark("a write is dated before an earlier one (the clock went back)")
            self.max_ts = ts if self.max_ts is None else max(self.max_ts, ts)
        self._peak(e, t, ts)
        for basis in BASES:
            self._realized(e, basis, ts)

    def _peak(self, e: dict[str, Any], t: dict[str, Any], ts: float | None) -> None:
        known, value = entry_value(e, self.roles, "peak")
        # evidence._origin: the carried value (a write that does not record the peak keeps it)
        if known:
            self.peak_carry = money_or_none(value)
        v = self.peak_carry
        if self.stack:
            self.stack[-1]["next"] = t
        while self.stack and (v is None or (self.stack[-1]["v"] is not None and _undec(self.stack[-1]["v"]) >= v)):
            self.stack.pop()
        self.stack.append({"v": _dec(v), "entry": t, "next": None})
        if len(self.stack) > STACK_KEEP:
            del self.stack[0]
            self.stack_cut = True
        # peak_drawdown._peak_changed: against the previous landed write's own record
        changed = known and (self.prev_peak is None or not self.prev_peak[0] or self.prev_peak[1] != value)
        if changed:
            self.peak_changes += 1
            when = ts or 0.0
            if self.raise_ts is None or when >= self.raise_ts:
                self.raise_ts = when
                self.last_peak_change = {**t, "peak_from": self.prev_peak[1] if self.prev_peak and self.prev_peak[0] else None,
                                         "peak_to": value}
                self.trades_after = 0
        self.prev_peak = (known, value)
        tf = self._trade_field
        if tf and tf in (e.get("changes") or {}):
            since = self.raise_ts if self.raise_ts is not None else self.first_ts
            if (ts or 0.0) > since:
                self.trades_after += 1

    def _realized(self, e: dict[str, Any], basis: str, ts: float | None) -> None:
        known, value = entry_value(e, self.roles, basis)
        amount = money_or_none(value) if known else None
        if str(e.get("reason", "")).startswith(RECONCILE_REASONS) and ts is not None:
            change = (e.get("changes") or {}).get(top_field(self.roles.path(basis)) or "")
            old = money_or_none(change[0]) if isinstance(change, list) and len(change) == 2 else self.prev_amount[basis]
            if old is not None:
                self._disown(basis, ts, old)
        if amount is not None:
            self.prev_amount[basis] = amount
        if amount is None or ts is None:
            return
        key = _key(amount)
        when = self._disowned_until(basis).get(key)
        if when is not None and ts <= when:
            return
        ev = self.evicted[basis]
        if ev is not None and amount <= ev:
            return  # below what was let go: not known exactly any more (highest() says so)
        tops = self.tops[basis]
        cand = tops.get(key)
        if cand is not None:
            if ts < cand["ts"]:
                cand["ts"], cand["gen"], cand["value"] = ts, e.get("generation"), str(amount)
            cand["max_ts"] = max(cand["max_ts"], ts)
            return
        tops[key] = {"ts": ts, "gen": e.get("generation"), "max_ts": ts, "value": str(amount)}
        if len(tops) > TOP_KEEP:
            low = min(tops, key=Decimal)
            del tops[low]
            self.evicted[basis] = Decimal(low) if ev is None else max(ev, Decimal(low))

    def _disowned_until(self, basis: str) -> dict[str, float]:
        """value key -> the latest reconcile that disowned it."""
        until = self._until.get(basis)
        if until is None:
            until = self._until[basis] = {}
            for when, v in self.disowned[basis]:
                k = _key(Decimal(v))
                until[k] = max(until.get(k, when), when)
        return until

    def _disown(self, basis: str, when: float, old: Decimal) -> None:
        self.disowned[basis].append((when, str(old)))
        if len(self.disowned[basis]) > DISOWNED_KEEP:
            del self.disowned[basis][0]
            self._mark("more reconciles than the summary keeps")
        self._until.pop(basis, None)
        tops = self.tops[basis]
        key = _key(old)
        cand = tops.get(key)
        if cand is None:
            return
        if cand["max_ts"] <= when:
            del tops[key]  # every point of that value is disowned
        elif cand["ts"] <= when:
            del tops[key]
            self._mark("a reconcile disowned a value also recorded after it")

    # --- questions ---------------------------------------------------------------

    def check_roles(self, roles: Any) -> None:
        if fingerprint(roles) != self.fp:
            raise Inexact("the summary was kept for other role paths")

    def origin(self, peak: Decimal) -> dict[str, Any] | None:
        """evidence._origin on the settled entries: the write that raised the peak to `peak`."""
        if self.pending is not None:
            raise Inexact("not finalized")
        if self.inexact:
            raise Inexact(self.inexact[0])
        if not self.stack:
            return None
        threshold = peak - TOLERANCE
        for i in range(len(self.stack) - 1, -1, -1):
            s = self.stack[i]
            if s["v"] is None or _undec(s["v"]) < threshold:
                if s["next"] is None:
                    return None  # the newest write already holds a lower peak
                return s["next"] if s["v"] is not None else None
        if self.stack_cut:
            raise Inexact("the peak is below every raise the summary keeps")
        first = self.first or {}
        return first if first.get("prev_sha256") is None else None

    def highest(self, basis: str, backups: Any = None) -> Point | None:
        """realized_history(...).max: the highest journal or backup value the reconciles left.
        `backups`: verified BackupInfo, or a backup_summary.BackupSummary (its highest values)."""
        if self.pending is not None:
            raise Inexact("not finalized")
        if self.inexact:
            raise Inexact(self.inexact[0])
        from statetui.core.history import backup_series

        bad = [(when, Decimal(v)) for when, v in self.disowned[basis]]
        points = [Point(c["ts"], Decimal(c["value"]), f"journal #{c['gen']}", c["gen"]) for c in self.tops[basis].values()]
        kept = [p for p in points if not any(p.value == b and p.ts <= when for when, b in bad)]
        backup_ev = None
        if hasattr(backups, "points"):
            from_backups, backup_ev = backups.points(basis, bad)
            kept += from_backups
        else:
            kept += [p for p in backup_series(backups or [], basis) if ".pre-reconcile." not in p.source
                     and not any(p.value == b and p.ts <= when for when, b in bad)]
        top = max(sorted(kept, key=lambda p: p.ts), key=lambda p: p.value, default=None)
        for ev in (self.evicted[basis], backup_ev):
            if ev is not None and (top is None or top.value <= ev):
                raise Inexact("the highest values the summary kept were all disowned")
        return top

    def stale_peak(self) -> tuple[float, int]:
        """(since, trades): the latest peak change's time (or the first write's) and how many
        trade writes came after it (peak_drawdown's stale-peak check)."""
        if self.inexact:
            raise Inexact(self.inexact[0])
        return (self.raise_ts if self.raise_ts is not None else self.first_ts), self.trades_after

    # --- persistence -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if not k.startswith("_") and k != "roles"}
        out["version"] = VERSION
        out["peak_carry"] = _dec(self.peak_carry)
        out["prev_amount"] = {b: _dec(v) for b, v in self.prev_amount.items()}
        out["evicted"] = {b: _dec(v) for b, v in self.evicted.items()}
        out["prev_peak"] = list(self.prev_peak) if self.prev_peak is not None else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], roles: Any) -> "Summary":
        """A summary as to_json() wrote it; ValueError when it is not one (the index is rebuilt)."""
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a summary of this version")
        s = cls(roles)
        if data.get("fp") != s.fp:
            raise ValueError("kept for other role paths")
        try:
            for key in s.to_json():
                if key in data and key not in ("version",):
                    setattr(s, key, data[key])
            s.peak_carry = _undec(data["peak_carry"])
            s.prev_amount = {b: _undec(v) for b, v in data["prev_amount"].items()}
            s.evicted = {b: _undec(v) for b, v in data["evicted"].items()}
            s.prev_peak = tuple(data["prev_peak"]) if data["prev_peak"] is not None else None  # type: ignore[assignment]
            s.disowned = {b: [(float(w), str(v)) for w, v in lst] for b, lst in data["disowned"].items()}
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"damaged summary: {exc}") from None
        return s

    def overview(self) -> dict[str, Any]:
        """The figures a face shows (JSON-safe)."""
        out: dict[str, Any] = {"writes": self.writes, "aborted": self.aborted, "by_writer": self.by_writer,
                               "by_reason": self.by_reason, "first": self.first, "last": self.last,
                               "last_outside_write": self.last_outside_write, "peak_changes": self.peak_changes,
                               "last_peak_change": self.last_peak_change}
        for basis in BASES:
            try:
                top = self.highest(basis)
            except Inexact:
                top = None
            if top is not None:
                out[f"highest_{basis}"] = {"value": str(top.value), "ts": top.ts, "generation": top.generation}
        return out


def _count(table: dict[str, int], key: str) -> None:
    if key in table or len(table) < MAX_KEYS:
        table[key] = table.get(key, 0) + 1
    else:
        table["(other)"] = table.get("(other)", 0) + 1


def _key(amount: Decimal) -> str:
    """One key per value (Decimal equality: "1.0" and "1.00", "0" and "-0" are the same)."""
    return "0" if amount == 0 else str(amount.normalize())
