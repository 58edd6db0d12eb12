"""The wallet's realized-cash history as data: transfers, the cash curve, flows, the
high-water mark and the mismatches found. Built by cash.py (from forward.Walk); read by
checks, repairs and faces. All money is Decimal; `to_dict()` gives JSON-safe values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Callable, NamedTuple

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


class CashHistory:
    """The wallet's realized-cash history from the start point to the pinned block.

    Built by cash.py from a forward walk (forward.Walk). What a verdict needs (cash, the
    high-water mark with its block and tx, coverage, mismatches) is ready at once; the
    curve (`points`) and the transfers are materialised on first use, from the scan's
    memory and the local cache, so a warm scan that only needs the mark stays cheap."""

    def __init__(self, *, chain_id: int, wallet: str, tokens: list[str], start_block: int, start_time: int | None,
                 start_reason: str, pinned_block: int, pinned_time: int, walk: Any, opening: int,
                 times: dict[int, int], rewalk: Callable[[], Any] | None = None,
                 all_records: Callable[[], list[list[Any]]] | None = None):
        self.chain_id, self.wallet, self.tokens = chain_id, wallet, tokens
        self.start_block, self.start_time, self.start_reason = start_block, start_time, start_reason
        self.pinned_block, self.pinned_time = pinned_block, pinned_time
        self.mismatches: list[Mismatch] = []
        self.checked_blocks: list[int] = []  # where balanceOf confirmed the rebuild
        self.notes: list[str] = []  # cache repairs, skipped cross-checks, ...
        self.scan: dict[str, Any] = {}  # RPC cost: calls, splits, waits, cached blocks
        self.read_ranges: list[tuple[int, int]] = []  # the eth_getLogs ranges this scan read (for the benchmark)
        self._walk = walk
        self._opening = opening  # cash just before start_block, in integers at the walk's scale
        self._times = times  # block -> unix time, for the blocks a report names
        self._rewalk = rewalk  # the whole walk again (from the cache), when this one resumed a checkpoint
        self._all_records = all_records
        self._full: Any = None
        self._points: list[CashPoint] | None = None
        self._transfers: list[Transfer] | None = None

    def _money(self, raw: int) -> Decimal:
        return Decimal(raw).scaleb(-self._walk.scale, _EXACT)

    @property
    def opening_block(self) -> int:
        return max(0, self.start_block - 1)

    @property
    def opening_cash(self) -> Decimal:
        return self._money(self._opening)

    @property
    def cash(self) -> Decimal:
        return self._money(self._opening + self._walk.cash)

    @property
    def net_flows(self) -> Decimal:
        return self._money(self._walk.flows)

    @property
    def transfer_count(self) -> int:
        return self._walk.count

    @property
    def consistent(self) -> bool:
        return not self.mismatches

    def time_of(self, block: int) -> int | None:
        return self._times.get(block)

    # --- materialised on first use ------------------------------------------------------------

    def _whole(self) -> Any:
        """A walk holding every point and notable transfer (this one, unless it resumed)."""
        if (self._walk.base == 0 and self._walk.keep_points) or self._rewalk is None:
            return self._walk
        if self._full is None:
            self._full = self._rewalk()
        return self._full

    @property
    def points(self) -> list[CashPoint]:
        """The cash curve: the opening first, then one point per block that moved cash."""
        if self._points is None:
            money, base, times = self._money, self._opening, self._times
            ob = self.opening_block
            out = [CashPoint(ob, money(base), Decimal(0), None, times.get(ob))]
            for block, cash, flow, tx, stamp in self._whole().points:
                out.append(CashPoint(block, money(base + cash), money(flow), tx, stamp if stamp is not None else times.get(block)))
            self._points = out
        return self._points

    def _notable(self) -> list[list[Any]]:
        """Flows and migrations, [kind, record]: the walk keeps them unless it resumed."""
        return self._walk.notable if self._walk.base == 0 else self._whole().notable

    def _transfer(self, r: list[Any], kind: str) -> Transfer:
        t = r[5] if r[5] is not None else self._times.get(r[0])
        return Transfer(r[0], r[1], r[2], self.tokens[r[6]], r[3], r[4], self._walk.decimals[r[6]], kind, t)

    @property
    def flows(self) -> list[Transfer]:
        """Deposits and withdrawals, in chain order."""
        return [self._transfer(r, kind) for kind, r in self._notable() if kind in (DEPOSIT, WITHDRAWAL)]

    @property
    def migrations(self) -> list[Transfer]:
        return [self._transfer(r, kind) for kind, r in self._notable() if kind == MIGRATION]

    @property
    def transfers(self) -> list[Transfer]:
        """Every collateral transfer of the history (read back from the cache when needed)."""
        if self._transfers is None:
            kinds = {(r[0], r[1]): kind for kind, r in self._notable()}
            records = self._all_records() if self._all_records is not None else []
            self._transfers = [self._transfer(r, kinds.get((r[0], r[1]), TRADE)) for r in records
                               if r[0] >= self.start_block]
        return self._transfers

    # --- verdict material --------------------------------------------------------------------

    def covers(self, start_time: float) -> bool:
        """Whether the history reaches back to `start_time` (unix seconds): a peak set
        after that moment can be judged against it. A history that starts at the wallet's
        first transfer in covers all time, unless its opening (nothing held) is contradicted."""
        if self.covers_all_time:
            return True
        return self.start_time is not None and self.start_time <= start_time

    @property
    def covers_all_time(self) -> bool:
        return self.start_reason == "first-transfer-in" and not any(m.block == self.opening_block for m in self.mismatches)

    def high_water_mark(self, policy: str = ADJUST_FLOWS) -> HighWaterMark:
        """The realized-cash high-water mark over the history and where cash peaked.

        `raw`: the highest cash seen. `adjust-flows`: cash net of every later deposit and
        withdrawal is what trading earned, so the mark is the best (cash - flows so far)
        plus all flows since: a deposit raises it, a withdrawal lowers it."""
        if policy not in POLICIES:
            raise ValueError(f"unknown high-water mark policy {policy!r}: use one of {', '.join(POLICIES)}")
        score, index, flows_at, cash, block, tx, stamp = self._walk.best[policy]
        if index < 0:
            block, tx, stamp = self.opening_block, None, self._times.get(self.opening_block)
        elif stamp is None:
            stamp = self._times.get(block)
        at_peak = self._money(self._opening + cash)
        since = self._money(self._walk.flows - flows_at)
        value = at_peak if policy == RAW else at_peak + since
        return HighWaterMark(value=value, policy=policy, block=block, tx=tx, time=stamp, cash_at_peak=at_peak,
                             flows_since=since)

    def sparkline_values(self, width: int = 60) -> list[Decimal]:
        """Cash at up to `width` evenly spaced points of the curve (for a sparkline; a resumed
        history draws it from the walk's samples, without reading the curve again)."""
        return [self._money(self._opening + v) for v in self._walk.sample_curve(width)]

    def to_dict(self, *, policy: str = ADJUST_FLOWS, full: bool = False) -> dict[str, Any]:
        hwm = self.high_water_mark(policy)
        flows = self.flows
        doc: dict[str, Any] = {
            "chain_id": self.chain_id, "wallet": self.wallet, "tokens": self.tokens,
            "start": {"block": self.start_block, "time": self.start_time, "reason": self.start_reason},
            "pinned": {"block": self.pinned_block, "time": self.pinned_time},
            "opening_cash": str(self.opening_cash), "cash": str(self.cash),
            "high_water_mark": hwm.to_dict(),
            "flows": {"deposits": str(sum((t.amount for t in flows if t.amount > 0), Decimal(0))),
                      "withdrawals": str(-sum((t.amount for t in flows if t.amount < 0), Decimal(0))),
                      "count": len(flows), "items": [t.to_dict() for t in flows]},
            "transfers": self.transfer_count, "points": self._walk.total_points + 1,
            "consistent": self.consistent, "mismatches": [m.to_dict() for m in self.mismatches],
            "checked_blocks": self.checked_blocks, "notes": self.notes, "scan": self.scan,
        }
        if full:
            doc["curve"] = [p.to_dict() for p in self.points]
            doc["all_transfers"] = [t.to_dict() for t in self.transfers]
        return doc
