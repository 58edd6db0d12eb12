"""Is the peak true? Only evidence independent of the file being judged may say.

Evidence is the store's own journal covering the moment the peak was raised (a write that
set the peak above the cash it wrote, with its writer and reason), the chain's history of
the wallet's realized cash, or a value the operator typed. Backups are points in time:
they can show that a figure was really reached, but a peak set before the oldest evidence
cannot be called false. Verdicts:

- genuine: the figure the peak tracks really reached it (the drawdown, and a halt, are real);
- false: the evidence covers the peak's origin and never reached it (the peak is corrected
  to the highest realized figure the evidence covers);
- cannot-tell: nothing covers the origin; the verdict names what would settle it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from statetui.core.history import Point, entry_value, realized_history
from statetui.core.money import money_or_none
from statetui.core.money import fmt_money
from statetui.core.roles import RoleMap

TOLERANCE = Decimal("0.01")  # one cent: float noise in the bot's own arithmetic
GENUINE, FALSE, CANNOT_TELL, NO_PEAK = "genuine", "false", "cannot-tell", "no-peak"


@dataclass
class ChainWitness:
    """The chain's realized-cash history for the wallet (statetui's chain-history scan)."""

    high_water_mark: Decimal
    when: float  # unix time of that block
    block: int
    tx: str | None
    covers_from: float  # the scan starts before this time (the wallet's first deposit)
    source: str = "chain"


@dataclass
class PeakVerdict:
    verdict: str
    peak: Decimal | None = None
    basis: str | None = None
    current: Decimal | None = None  # the figure the peak tracks, now
    highest: Point | None = None  # the highest realized figure on record
    origin: dict[str, Any] | None = None  # the write that raised the peak to its value
    covered_from: str | None = None
    corrected: Decimal | None = None  # for a false peak: what the evidence supports
    message: str = ""
    settle: list[str] = field(default_factory=list)
    chain: ChainWitness | None = None

    def to_evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "finding": self.message}
        if self.highest is not None:
            out["highest_realized"] = f"{self.highest.value} ({self.highest.source}, {_when(self.highest.ts)})"
        if self.origin is not None:
            out["peak_set_by"] = (f"journal #{self.origin.get('generation')} at {self.origin.get('ts')} by "
                                  f"{self.origin.get('writer')} ({self.origin.get('reason')})")
        if self.covered_from:
            out["evidence_covers"] = self.covered_from
        if self.chain is not None:
            out["chain"] = f"high-water mark {self.chain.high_water_mark} at block {self.chain.block} (tx {self.chain.tx})"
        return out


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def settle_hints(roles: RoleMap) -> list[str]:
    hints = []
    if roles.peak_basis == "cash":
        hints.append("the chain's history of the wallet's realized cash: configure [chain] rpc_url and wallet")
    hints.append("a value you know to be right: statetui repair set-peak --value AMOUNT --reason \"...\"")
    return hints


def judge_peak(doc: dict[str, Any], roles: RoleMap, entries: list[dict[str, Any]], backups: list[Any],
               chain: ChainWitness | None = None) -> PeakVerdict:
    """The verdict on the state's peak. `entries`: the journal's landed entries, oldest first;
    `backups`: verified BackupInfo (role values in `.roles`)."""
    peak = roles.money(doc, "peak")
    if peak is None:
        return PeakVerdict(NO_PEAK, message="the bot keeps no peak")
    basis = roles.peak_basis
    current = roles.basis_value(doc)
    v = PeakVerdict(CANNOT_TELL, peak=peak, basis=basis, current=current, chain=chain)
    if basis is None or current is None:
        v.message = (f"cannot tell: the peak's basis is unknown (set fields.peak_basis)" if basis is None
                     else f"cannot tell: the bot keeps no {basis} figure to compare the peak with")
        v.settle = [roles.hints.get("peak_basis") or f"map the {basis or 'basis'} figure: statetui fields"]
        return v
    history = realized_history(entries, backups, roles, basis)
    points = list(history.points)
    if chain is not None and basis == "cash":
        points.append(Point(chain.when, chain.high_water_mark, f"chain block {chain.block}"))
    top = max(points, key=lambda p: p.value, default=None)
    v.highest = top
    if current >= peak - TOLERANCE or (top is not None and top.value >= peak - TOLERANCE):
        where = (f"{basis} is {fmt_money(current)} now" if current >= peak - TOLERANCE
                 else f"{basis} was {fmt_money(top.value)} ({top.source}, {_when(top.ts)})")
        v.verdict = GENUINE
        v.message = f"the peak {fmt_money(peak)} was really reached: {where}"
        return v
    ceiling = max(top.value, current) if top is not None else current
    if chain is not None and basis == "cash":
        v.verdict, v.corrected = FALSE, max(chain.high_water_mark, current)
        v.covered_from = f"the chain from {_when(chain.covers_from)}"
        v.message = (f"the peak {fmt_money(peak)} is above the wallet's realized-cash high-water mark "
                     f"{fmt_money(chain.high_water_mark)} (block {chain.block}, tx {chain.tx}): it includes value "
                     "that was never cash")
        return v
    origin = _origin(entries, roles, peak)
    first = entries[0] if entries else None
    if origin is not None:
        index, entry = origin
        known, at_origin = entry_value(entry, roles, basis)
        then = money_or_none(at_origin) if known else None
        v.verdict, v.corrected, v.origin = FALSE, ceiling, entry
        v.covered_from = f"the journal from #{first.get('generation')} ({first.get('ts')})" if first else None
        then_text = f" while {basis} was {fmt_money(then)}" if then is not None else ""
        v.message = (f"the peak was raised to {fmt_money(peak)} at {entry.get('ts')} by {entry.get('writer') or '?'} "
                     f"({entry.get('reason') or 'no reason'}){then_text}; the highest {basis} the evidence covers is "
                     f"{fmt_money(ceiling)}: the peak includes value that was never {basis}")
        return v
    since = []
    if first is not None:
        since.append(f"the journal starts at #{first.get('generation')} ({first.get('ts')})")
    dated = [b for b in backups if getattr(b, "ok", False)]
    if dated:
        since.append(f"the oldest backup is from {_when(min(b.created for b in dated))}")
    v.covered_from = "; ".join(since) or None
    v.message = (f"cannot tell whether the peak {fmt_money(peak)} is true: it was set before the oldest evidence"
                 f"{' (' + v.covered_from + ')' if v.covered_from else ' (no journal, no backups)'}, and {basis} "
                 f"never reached it in what is recorded (highest {fmt_money(ceiling)})")
    v.settle = settle_hints(roles)
    return v


def _origin(entries: list[dict[str, Any]], roles: RoleMap, peak: Decimal) -> tuple[int, dict[str, Any]] | None:
    """The journaled write that raised the peak to (at least) its current value and after which
    it stayed there; None when the journal does not cover that moment (the peak already held
    its value when the journal began, or a write in between did not record it)."""
    values: list[Decimal | None] = []
    last: Decimal | None = None
    for e in entries:
        known, value = entry_value(e, roles, "peak")
        if known:
            last = money_or_none(value)
        values.append(last if known or values else None)
    origin = None
    for i in range(len(entries) - 1, -1, -1):
        value = values[i]
        if value is None or value < peak - TOLERANCE:
            break
        origin = i
    if origin is None:
        return None
    if origin == 0:
        created = entries[0].get("prev_sha256") is None
        return (0, entries[0]) if created else None
    before = values[origin - 1]
    return (origin, entries[origin]) if before is not None and before < peak - TOLERANCE else None


def judge_store_peak(store: Any, roles: RoleMap, doc: dict[str, Any], *, backups: list[Any] | None = None,
                     chain: ChainWitness | None = None) -> tuple[PeakVerdict, list[dict[str, Any]]]:
    """judge_peak() on what the store's journal and backups hold; also the landed entries."""
    entries = landed_entries(store)
    if backups is None:
        backups = store.backups.list(verify=True)
    return judge_peak(doc, roles, entries, backups, chain), entries


def landed_entries(store: Any) -> list[dict[str, Any]]:
    """The store's journal entries whose write reached the file, oldest first."""
    from statetui.core.journal import landed

    return landed(store.journal.scan().entries, store.journal.state_sha())
