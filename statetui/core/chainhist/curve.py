"""The wallet's realized-cash history as data: transfers, the cash curve, flows, the
high-water mark and the mismatches found. Built by cash.py; read by checks, repairs
and faces. All money is Decimal; `to_dict()` gives JSON-safe values (strings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, NamedTuple

_EXACT = Context(prec=100)

TRADE = "trade"
DEPOSIT = "deposit"
WITHDRAWAL = "withdrawal"
MIGRATION = "migration"  # one collateral swapped for another in one transaction: not a flow

ADJUST_FLOWS = "adjust-flows"  # default: a deposit raises the mark, a withdrawal lowers it
RAW = "raw"  # the highest cash balance seen, flows or not
POLICIES = (ADJUST_FLOWS, RAW)


class Transfer(NamedTuple):
    """One collateral Transfer to or from the wallet. `raw` is signed (+ into the wallet),
    in the token's units; `amount` is the same in money. (A NamedTuple: a history holds
    tens of thousands of these, and building dataclasses would dominate a cached scan.)"""

    block: int
    log_index: int
    tx: str
    token: str
    counterparty: str
    raw: int
    decimals: int
    kind: str
    time: int | None = None

    @property
    def amount(self) -> Decimal:
        return Decimal(self.raw).scaleb(-self.decimals, _EXACT)

    def to_dict(self) -> dict[str, Any]:
        return {"block": self.block, "log_index": self.log_index, "tx": self.tx, "token": self.token,
                "counterparty": self.counterparty, "amount": str(self.amount), "kind": self.kind, "time": self.time}


class CashPoint(NamedTuple):
    """Cash (all collateral tokens summed) at the end of a block that moved it."""

    block: int
    cash: Decimal
    flow: Decimal  # net deposits minus withdrawals in this block
    tx: str | None  # the last transaction in the block that moved cash (None: the opening point)
    time: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"block": self.block, "cash": str(self.cash), "flow": str(self.flow), "tx": self.tx, "time": self.time}


@dataclass(frozen=True)
class HighWaterMark:
    value: Decimal  # the mark now (under `policy`)
    policy: str
    block: int  # where cash actually peaked
    tx: str | None
    time: int | None
    cash_at_peak: Decimal
    flows_since: Decimal  # net flows after the peak (what `adjust-flows` added to cash_at_peak)

    def to_dict(self) -> dict[str, Any]:
        return {"value": str(self.value), "policy": self.policy, "block": self.block, "tx": self.tx,
                "time": self.time, "cash_at_peak": str(self.cash_at_peak), "flows_since": str(self.flows_since)}


@dataclass(frozen=True)
class Mismatch:
    """The rebuilt balance disagrees with balanceOf at a block: history is missing something."""

    block: int
    token: str
    rebuilt: Decimal
    on_chain: Decimal | None  # None: not read (the rebuild alone shows the gap)
    what: str

    def to_dict(self) -> dict[str, Any]:
        return {"block": self.block, "token": self.token, "rebuilt": str(self.rebuilt),
                "on_chain": None if self.on_chain is None else str(self.on_chain), "what": self.what}


@dataclass
class CashHistory:
    chain_id: int
    wallet: str
    tokens: list[str]
    start_block: int  # first block of the history
    start_time: int | None
    start_reason: str  # "from-block", "since" or "first-transfer-in"
    pinned_block: int
    pinned_time: int
    opening_cash: Decimal  # cash just before start_block
    points: list[CashPoint] = field(default_factory=list)  # opening point first
    transfers: list[Transfer] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    checked_blocks: list[int] = field(default_factory=list)  # where balanceOf confirmed the rebuild
    notes: list[str] = field(default_factory=list)  # cache repairs, skipped cross-checks, ...
    scan: dict[str, Any] = field(default_factory=dict)  # RPC cost: calls, splits, waits, cached blocks
    _peaks: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cash(self) -> Decimal:
        return self.points[-1].cash if self.points else self.opening_cash

    @property
    def flows(self) -> list[Transfer]:
        return [t for t in self.transfers if t.kind in (DEPOSIT, WITHDRAWAL)]

    @property
    def net_flows(self) -> Decimal:
        return sum((t.amount for t in self.flows), Decimal(0))

    @property
    def consistent(self) -> bool:
        return not self.mismatches

    def covers(self, start_time: float) -> bool:
        """Whether the history reaches back to `start_time` (unix seconds): a peak set
        after that moment can be judged against it. A history that starts at the wallet's
        first transfer in covers all time, unless its opening (nothing held) is contradicted."""
        if self.start_reason == "first-transfer-in" and self.points and \
                not any(m.block == self.points[0].block for m in self.mismatches):
            return True
        return self.start_time is not None and self.start_time <= start_time

    def high_water_mark(self, policy: str = ADJUST_FLOWS) -> HighWaterMark:
        """The realized-cash high-water mark over the history and where cash peaked.

        `raw`: the highest cash seen. `adjust-flows`: cash net of every later deposit and
        withdrawal is what trading earned, so the mark is the best (cash - flows so far)
        plus all flows since: a deposit raises it, a withdrawal lowers it."""
        if policy not in POLICIES:
            raise ValueError(f"unknown high-water mark policy {policy!r}: use one of {', '.join(POLICIES)}")
        if not self.points:
            self.points = [CashPoint(self.start_block, self.opening_cash, Decimal(0), None, self.start_time)]
        if policy not in self._peaks:  # the points' values never change once built (only their times are filled in)
            flows_so_far = Decimal(0)
            best = (0, None, None)  # (index, score, flows so far at the peak)
            for i, p in enumerate(self.points):
                if p.flow:
                    flows_so_far += p.flow
                score = p.cash if policy == RAW else p.cash - flows_so_far
                # On a tie the point with more cash is where cash peaked (a deposit ties the
                # opening under adjust-flows); after that, the earliest.
                if best[1] is None or score > best[1] or (score == best[1] and p.cash > self.points[best[0]].cash):
                    best = (i, score, flows_so_far)
            self._peaks[policy] = (best[0], best[1], flows_so_far - best[2])
        index, score, since = self._peaks[policy]
        peak = self.points[index]
        value = score if policy == RAW else peak.cash + since
        return HighWaterMark(value=value, policy=policy, block=peak.block, tx=peak.tx, time=peak.time,
                             cash_at_peak=peak.cash, flows_since=since)

    def sparkline_values(self, width: int = 60) -> list[Decimal]:
        """Cash at up to `width` evenly spaced points of the curve (for a sparkline)."""
        pts = self.points
        if len(pts) <= width:
            return [p.cash for p in pts]
        step = (len(pts) - 1) / (width - 1)
        return [pts[round(i * step)].cash for i in range(width)]

    def to_dict(self, *, policy: str = ADJUST_FLOWS, full: bool = False) -> dict[str, Any]:
        hwm = self.high_water_mark(policy)
        doc: dict[str, Any] = {
            "chain_id": self.chain_id, "wallet": self.wallet, "tokens": self.tokens,
            "start": {"block": self.start_block, "time": self.start_time, "reason": self.start_reason},
            "pinned": {"block": self.pinned_block, "time": self.pinned_time},
            "opening_cash": str(self.opening_cash), "cash": str(self.cash),
            "high_water_mark": hwm.to_dict(),
            "flows": {"deposits": str(sum((t.amount for t in self.flows if t.amount > 0), Decimal(0))),
                      "withdrawals": str(-sum((t.amount for t in self.flows if t.amount < 0), Decimal(0))),
                      "count": len(self.flows), "items": [t.to_dict() for t in self.flows]},
            "transfers": len(self.transfers), "points": len(self.points),
            "consistent": self.consistent, "mismatches": [m.to_dict() for m in self.mismatches],
            "checked_blocks": self.checked_blocks, "notes": self.notes, "scan": self.scan,
        }
        if full:
            doc["curve"] = [p.to_dict() for p in self.points]
            doc["all_transfers"] = [t.to_dict() for t in self.transfers]
        return doc
