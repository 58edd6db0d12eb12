"""Is the peak true? Only evidence independent of the file being judged may say.

Evidence is the store's own journal covering the moment the peak was raised (a write that
set the peak above the cash it wrote, with its writer and reason), the chain's history of
the wallet's realized cash, or a value the operator typed. Backups are points in time:
they can show that a figure was really reached, but a peak set before the oldest evidence
cannot be called false. Verdicts:

- genuine: the figure the peak tracks really reached it (the drawdown, and a halt, are real);
- false: the evidence covers the peak's origin and never reached it (the peak is corrected
  to the highest realized figure the evidence covers);
- cannot-tell: nothing covers the origin; the verdict names what would settle it.

The chain settles a cash peak on its own when its history covers the moment the peak was
set (the journal's origin when known, else all time: a history from the wallet's first
deposit): above the realized-cash high-water mark by more than the mismatch threshold is
false (corrected to the mark, citing the block and transaction where cash peaked); at or
below it, genuine. Where the chain does not apply, the verdict says why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from statetui.core.history import Point, _ts, entry_value, realized_history
from statetui.core.money import money_or_none
from statetui.core.money import fmt_money
from statetui.core.journal_summary import Summary
from statetui.core.roles import RoleMap

TOLERANCE = Decimal("0.01")  # one cent: float noise in the bot's own arithmetic
GENUINE, FALSE, CANNOT_TELL, NO_PEAK = "genuine", "false", "cannot-tell", "no-peak"


@dataclass
class ChainWitness:
    """The chain's history of the wallet's realized cash, as evidence (built from a scan by
    statetui.core.chainhist.witness). The chain judges a peak only where it applies: a cash
    peak in USD, the state's cash agreeing with the wallet's now (the same money), a history
    the balances confirm, and one that covers the moment the peak was set."""

    high_water_mark: Decimal  # under `policy`
    policy: str  # "adjust-flows" (deposits raise the mark, withdrawals lower it) or "raw"
    block: int  # where the wallet's cash actually peaked
    tx: str | None
    when: float | None  # unix time of that block
    cash: Decimal  # the wallet's cash at the pinned block
    pinned_block: int
    start_block: int  # the history's first block
    covers_from: float | None  # unix time of the history's first block (None: unknown)
    all_time: bool  # the history starts at the wallet's first deposit, nothing held before it
    threshold: Decimal = Decimal("1.00")  # config.mismatch_threshold: what counts as a difference
    problems: list[str] = field(default_factory=list)  # where the rebuild and balanceOf disagree
    curve: list[Decimal] = field(default_factory=list)  # cash along the history, for a sparkline
    rpc: str | None = None  # the RPC it was read from, redacted
    source: str = "chain"

    @property
    def consistent(self) -> bool:
        return not self.problems

    def covers(self, moment: float | None) -> bool:
        """Whether the history reaches back to `moment` (None: an unknown moment, which only
        a history from the wallet's first deposit covers)."""
        if self.all_time:
            return True
        return moment is not None and self.covers_from is not None and self.covers_from <= moment

    def cite(self) -> str:
        tx = f", tx {self.tx}" if self.tx else ""
        return f"block {self.block}{tx}, {_when(self.when)}"

    def to_evidence(self) -> dict[str, Any]:
        out = {"chain_high_water_mark": f"{self.high_water_mark} (policy {self.policy})",
               "chain_block": self.block, "chain_tx": self.tx, "chain_peak_time": _when(self.when),
               "chain_cash": f"{self.cash} at block {self.pinned_block}",
               "chain_history": ("from the wallet's first deposit" if self.all_time
                                 else f"from block {self.start_block} ({_when(self.covers_from)})")}
        if self.rpc:
            out["chain_rpc"] = self.rpc
        return out


@dataclass
class ChainUnread:
    """The chain is configured but could not be read (the reason names the RPC, redacted)."""

    reason: str


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
    chain: ChainWitness | None = None  # set when the chain settled the verdict
    chain_note: str | None = None  # why the chain did not settle it (not applicable, or unreadable)
    chain_unreadable: bool = False

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
            out.update(self.chain.to_evidence())
        if self.chain_note:
            out["chain_not_used"] = self.chain_note
        return out


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def settle_hints(roles: RoleMap, chain: Any = None) -> list[str]:
    hints = []
    if roles.peak_basis == "cash" and chain is None:
        hints.append("the chain's history of the wallet's realized cash: configure [chain] rpc_url and wallet "
                     "(and run the audit without --local)")
    elif isinstance(chain, ChainUnread):
        hints.append("the chain's history, once the RPC answers: check rpc_url (statetui config), then try again")
    hints.append("a value you know to be right: statetui repair set-peak --value AMOUNT --reason \"...\"")
    return hints


def judge_peak(doc: dict[str, Any], roles: RoleMap, entries: "list[dict[str, Any]] | Summary", backups: Any,
               chain: ChainWitness | ChainUnread | None = None) -> PeakVerdict:
    """The verdict on the state's peak. `entries`: the journal's landed entries, oldest first,
    or a finalized journal_summary.Summary of them (the same verdict, without reading the
    history; it raises journal_summary.Inexact when it cannot tell exactly: judge again with
    the entries); `backups`: verified BackupInfo (role values in `.roles`), or, with a Summary,
    a backup_summary.BackupSummary (Inexact when its kept values cannot answer); `chain`: the
    chain's history (or why it could not be read; None when no chain is configured or it
    was not asked)."""
    peak = roles.money(doc, "peak")
    if peak is None:
        return PeakVerdict(NO_PEAK, message="the bot keeps no peak")
    basis = roles.peak_basis
    current = roles.basis_value(doc)
    v = PeakVerdict(CANNOT_TELL, peak=peak, basis=basis, current=current)
    if basis is None or current is None:
        v.message = (f"cannot tell: the peak's basis is unknown (set fields.peak_basis)" if basis is None
                     else f"cannot tell: the bot keeps no {basis} figure to compare the peak with")
        v.settle = [roles.hints.get("peak_basis") or f"map the {basis or 'basis'} figure: statetui fields"]
        return v
    if current >= peak - TOLERANCE:
        v.verdict = GENUINE
        v.message = f"the peak {fmt_money(peak)} was really reached: {basis} is {fmt_money(current)} now"
        return v
    summary = entries if isinstance(entries, Summary) else None
    if summary is not None:
        summary.check_roles(roles)
        found = summary.origin(peak)
        origin = (-1, found) if found is not None else None
    else:
        origin = _origin(entries, roles, peak)
    if isinstance(chain, ChainWitness):
        why_not = _chain_cannot_judge(chain, roles, basis, current, _ts(origin[1]) if origin else None)
        if why_not is None:
            return _chain_verdict(v, chain, peak, current)
        v.chain_note = why_not
    elif isinstance(chain, ChainUnread):
        v.chain_note, v.chain_unreadable = f"the chain could not be read: {chain.reason}", True

    if summary is not None:
        top = summary.highest(basis, backups)
    else:
        top = max(realized_history(entries, backups, roles, basis).points, key=lambda p: p.value, default=None)
    v.highest = top
    if top is not None and top.value >= peak - TOLERANCE:
        v.verdict = GENUINE
        v.message = (f"the peak {fmt_money(peak)} was really reached: {basis} was {fmt_money(top.value)} "
                     f"({top.source}, {_when(top.ts)})")
        return v
    ceiling = max(top.value, current) if top is not None else current
    first = summary.first if summary is not None else (entries[0] if entries else None)
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
    oldest = (backups.oldest_good if hasattr(backups, "oldest_good")
              else min((b.created for b in backups if getattr(b, "ok", False)), default=None))
    if oldest is not None:
        since.append(f"the oldest backup is from {_when(oldest)}")
    v.covered_from = "; ".join(since) or None
    v.message = (f"cannot tell whether the peak {fmt_money(peak)} is true: it was set before the oldest evidence"
                 f"{' (' + v.covered_from + ')' if v.covered_from else ' (no journal, no backups)'}, and {basis} "
                 f"never reached it in what is recorded (highest {fmt_money(ceiling)})")
    if v.chain_note:
        v.message += f"; {v.chain_note}"
    v.settle = settle_hints(roles, chain)
    return v


def _chain_cannot_judge(chain: ChainWitness, roles: RoleMap, basis: str, current: Decimal,
                        moment: float | None) -> str | None:
    """Why the chain's history cannot settle this peak (None: it can)."""
    if basis != "cash":
        return f"the peak tracks {basis}; the chain knows realized cash only"
    if roles.currency != "USD":
        return f"the bot counts in {roles.currency}; the chain holds USD stablecoins"
    if not chain.consistent:
        return f"the chain's history disagrees with balanceOf ({chain.problems[0]}): it settles nothing"
    if abs(current - chain.cash) > chain.threshold:
        return (f"the state's cash {fmt_money(current)} differs from the wallet's {fmt_money(chain.cash)} (block "
                f"{chain.pinned_block}) by more than {fmt_money(chain.threshold)}: not the same money (a wrong wallet, "
                "or a state not reconciled yet: statetui reconcile)")
    if not chain.covers(moment):
        start = f"block {chain.start_block} ({_when(chain.covers_from)})"
        if moment is None:
            return (f"the chain's history starts at {start} and the peak may have been set before it: scan from the "
                    "wallet's first deposit (unset history_from_block and history_since)")
        return f"the chain's history starts at {start}, after the peak was set ({_when(moment)})"
    return None


def _chain_verdict(v: PeakVerdict, chain: ChainWitness, peak: Decimal, current: Decimal) -> PeakVerdict:
    v.chain = chain
    v.highest = Point(chain.when or 0.0, chain.high_water_mark, f"chain block {chain.block}")
    v.covered_from = ("the chain from the wallet's first deposit" if chain.all_time
                      else f"the chain from block {chain.start_block} ({_when(chain.covers_from)})")
    mark = fmt_money(chain.high_water_mark)
    if peak > chain.high_water_mark + chain.threshold:
        v.verdict, v.corrected = FALSE, max(chain.high_water_mark, current)
        v.message = (f"the peak {fmt_money(peak)} is above the wallet's realized-cash high-water mark {mark} "
                     f"(cash peaked at {chain.cite()}; policy {chain.policy}): it includes value that was never cash")
        return v
    v.verdict = GENUINE
    v.message = (f"the peak {fmt_money(peak)} was really reached: the wallet's realized-cash high-water mark is {mark} "
                 f"(cash peaked at {chain.cite()}; policy {chain.policy})")
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


def judge_store_peak(store: Any, roles: RoleMap, doc: dict[str, Any], *, backups: Any = None,
                     chain: ChainWitness | ChainUnread | None = None) -> PeakVerdict:
    """judge_peak() on what the store's journal and backups hold, read through their summaries
    (judge_store_peak_fast: every entry and backup only when a summary cannot answer exactly)."""
    if backups is None:
        from statetui.core.backup_summary import summarize

        backups = summarize(store.backups)
    return judge_store_peak_fast(store, roles, doc, backups, chain)[0]


def judge_store_peak_fast(store: Any, roles: RoleMap, doc: dict[str, Any], backups: Any,
                          chain: ChainWitness | ChainUnread | None = None) -> tuple[PeakVerdict, Any]:
    """judge_peak() from the journal's summary (statetui.core.journal_digest) and the backups'
    (statetui.core.backup_summary, or a verified listing): the cost does not grow with the
    history. Falls back to reading every entry (and every backup) when a summary cannot answer
    exactly. Returns the verdict and the digest (None after a fallback)."""
    from statetui.core.journal_digest import digest
    from statetui.core.journal_summary import Inexact

    d = digest(store, roles)
    try:
        return judge_peak(doc, roles, d.summary, backups, chain), d
    except Inexact:
        if not isinstance(backups, list):
            backups = store.backups.list(verify=True)
        return judge_peak(doc, roles, landed_entries(store), backups, chain), None


def landed_entries(store: Any) -> list[dict[str, Any]]:
    """The store's journal entries whose write reached the file, oldest first."""
    from statetui.core.journal import landed

    return landed(store.journal.scan().entries, store.journal.state_sha())
