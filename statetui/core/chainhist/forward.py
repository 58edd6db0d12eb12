"""The cash curve, walked forward block by block over the wallet's collateral transfers.

Balances before the first transfer read are not known until balanceOf at the pinned
block is read, so the walk keeps every figure *relative* to the opening (cash 0 there);
the opening is the anchor minus everything the walk moved (rebuild.opening_of). The
high-water mark does not depend on the opening (both policies compare points of one
curve), so it is kept as the walk goes, in integers at the finest scale of the tokens.

Because the walk only ever goes forward, its state after the last final block can be
saved (checkpoint.py) and a later scan continues from there with the new records only.
A bounded sample of the curve is kept for sparklines, so a resumed walk can draw the
whole curve without walking it again.

A record is [block, log index, tx, counterparty, signed raw amount, block time or None,
token index] (scan.py decodes them; the cache keeps them), in chain order."""

from __future__ import annotations

from typing import Any, Sequence

from statetui.core.chainhist.curve import ADJUST_FLOWS, DEPOSIT, MIGRATION, RAW, WITHDRAWAL

Record = list  # [block, index, tx, counterparty, raw, time, token index]
# A compact point: (block, cash relative to the opening, net flow in the block, last tx, time)
Point = tuple
MAX_SAMPLES = 256


class Walk:
    """The forward walk. `points` holds one compact point per block that moved cash (this
    run's: the points before `base` were walked by an earlier scan); `notable` this run's
    flows and migrations ([kind, record]); `best` per policy: [score, point index or -1 for
    the opening, flows up to it, relative cash, block, tx, time]; `samples` every
    `stride`-th point's (index, relative cash), for a sparkline of the whole curve."""

    def __init__(self, tokens: Sequence[str], decimals: Sequence[int], trading: dict[str, str],
                 wait_for_first_in: bool, keep_points: bool = True):
        self.tokens = list(tokens)
        self.decimals = list(decimals)
        self.scale = max(decimals)
        self.mul = [10 ** (self.scale - d) for d in decimals]
        self.trading = trading
        self.waiting = wait_for_first_in  # the history starts at the first transfer in
        self.start_block: int | None = None
        self.rel = [0] * len(tokens)  # each token's balance, relative to its opening
        self.low = [[0, None] for _ in tokens]  # lowest relative balance and the block where it was seen
        self.cash = 0
        self.flows = 0
        self.count = 0  # transfers walked
        self.last_block = -1
        self.base = 0  # points walked by earlier scans (summarised in the checkpoint)
        self.points: list[Point] = []
        self.keep_points = keep_points  # False: only the count, the mark and the samples (the scan's walk)
        self.walked = 0  # points this run walked (kept or not)
        self.at_best: dict[str, tuple[int, tuple[int, ...]]] = {}  # policy -> (point index, balances there), this run's
        self.notable: list[list[Any]] = []  # [kind, record]
        self.best = {RAW: [0, -1, 0, 0, None, None, None], ADJUST_FLOWS: [0, -1, 0, 0, None, None, None]}
        self.samples: list[list[int]] = []
        self.stride = 1

    @property
    def total_points(self) -> int:
        return self.base + self.walked

    def feed(self, records: Sequence[Record]) -> None:
        """Records in chain order, all after the last block walked."""
        n = len(records)
        i = 0
        rel, mul, trading, low = self.rel, self.mul, self.trading, self.low
        points, notable, samples, keep = self.points, self.notable, self.samples, self.keep_points
        best_raw, best_adj, at_best = self.best[RAW], self.best[ADJUST_FLOWS], self.at_best
        cash, flows, index = self.cash, self.flows, self.base + self.walked - 1
        while i < n:
            r = records[i]
            block = r[0]
            if not self.waiting and (i + 1 == n or records[i + 1][0] != block):
                # One transfer in the block (the common case): no grouping, no swap to look for.
                ti, raw = r[6], r[4]
                rel[ti] += raw
                flow = raw * mul[ti]
                cash += flow
                if r[3] in trading:
                    flow = 0
                else:
                    notable.append([DEPOSIT if raw > 0 else WITHDRAWAL, r])
                if raw < 0 and rel[ti] < low[ti][0]:
                    low[ti][0], low[ti][1] = rel[ti], block
                stamp = r[5]
                self.count += 1
                i += 1
            else:
                i, last, flow, stamp, cash = self._block(records, i, n, cash)
                if last is None:
                    continue  # before the first transfer in
                r = last
            flows += flow
            index += 1
            tx = r[2]
            if keep:
                points.append((block, cash, flow, tx, stamp))
            # On a tie the point with more cash is where cash peaked; after that, the earliest.
            if cash > best_raw[0]:
                best_raw[:] = (cash, index, flows, cash, block, tx, stamp)
                at_best[RAW] = (index, tuple(rel))
            score = cash - flows
            if score > best_adj[0] or (score == best_adj[0] and cash > best_adj[3]):
                best_adj[:] = (score, index, flows, cash, block, tx, stamp)
                at_best[ADJUST_FLOWS] = (index, tuple(rel))
            if index % self.stride == 0:
                samples.append([index, cash])
                if len(samples) > MAX_SAMPLES:
                    samples[:] = samples[::2]
                    self.stride *= 2
        if n:
            self.last_block = records[-1][0]
        self.cash, self.flows, self.walked = cash, flows, index + 1 - self.base

    def _block(self, records: Sequence[Record], i: int, n: int, cash: int) -> tuple[int, Any, int, Any, int]:
        """Walk the transfers of the block at records[i]: (the next index, the block's last
        record or None before the history's first transfer in, its net flow, its time, cash after it)."""
        rel, mul, trading, low, notable = self.rel, self.mul, self.trading, self.low, self.notable
        r = records[i]
        block = r[0]
        j = i + 1
        while j < n and records[j][0] == block:
            j += 1
        if self.waiting:
            first_in = next((k for k in range(i, j) if records[k][4] > 0), None)
            if first_in is None:
                return j, None, 0, None, cash
            i, r = first_in, records[first_in]
            self.waiting = False
            self.start_block = block
        # A swap is two transfers of one transaction: only then look closer.
        legs = None
        if j - i > 1 and (records[i][2] == records[i + 1][2] if j - i == 2
                          else len({records[k][2] for k in range(i, j)}) < j - i):
            legs = _migration_legs(records[i:j], trading, mul)
        flow = 0
        stamp = r[5]
        for k in range(i, j):
            r = records[k]
            ti, raw = r[6], r[4]
            rel[ti] += raw
            moved = raw * mul[ti]
            cash += moved
            if r[3] in trading:
                pass
            elif legs and (block, r[1]) in legs:
                notable.append([MIGRATION, r])
            else:
                flow += moved
                notable.append([DEPOSIT if raw > 0 else WITHDRAWAL, r])
            if raw < 0 and rel[ti] < low[ti][0]:
                low[ti][0], low[ti][1] = rel[ti], block
            if stamp is None:
                stamp = r[5]
        self.count += j - i
        return j, r, flow, stamp, cash

    def sample_curve(self, width: int) -> list[int]:
        """Relative cash at up to `width` evenly spaced points of the whole curve (the opening
        first, the last point last), from the samples and this run's points."""
        known = {0: 0}  # position 0: the opening
        for index, cash in self.samples:
            known[index + 1] = cash
        for k, p in enumerate(self.points):
            known[self.base + k + 1] = p[1]
        total = self.total_points + 1
        known[total - 1] = self.cash  # the last point
        positions = sorted(known)
        if total <= 1:
            return [0]
        picks = [round(i * (total - 1) / (width - 1)) for i in range(width)] if total > width else range(total)
        out, at = [], 0
        for want in picks:  # the nearest known position at or before the one wanted
            while at + 1 < len(positions) and positions[at + 1] <= want:
                at += 1
            out.append(known[positions[at]])
        return out

    # --- saving and restoring (checkpoint.py) ------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "decimals": self.decimals, "waiting": self.waiting,
                "start_block": self.start_block, "rel": list(self.rel), "low": [list(x) for x in self.low],
                "cash": self.cash, "flows": self.flows, "count": self.count, "last_block": self.last_block,
                "points": self.total_points, "best": {k: list(v) for k, v in self.best.items()},
                "samples": [list(s) for s in self.samples], "stride": self.stride}

    @classmethod
    def restore(cls, state: dict[str, Any], trading: dict[str, str], keep_points: bool = True) -> "Walk":
        """The walk as a checkpoint left it; its points stay in the cache (walked again on demand)."""
        walk = cls(state["tokens"], state["decimals"], trading, state["waiting"], keep_points)
        walk.start_block = state["start_block"]
        walk.rel = list(state["rel"])
        walk.low = [list(x) for x in state["low"]]
        walk.cash, walk.flows, walk.count = state["cash"], state["flows"], state["count"]
        walk.last_block = state["last_block"]
        walk.base = state["points"]
        walk.best = {k: list(v) for k, v in state["best"].items()}
        walk.samples = [list(s) for s in state["samples"]]
        walk.stride = state["stride"]
        return walk

    def token_balances_at(self, index: int) -> tuple[int, ...] | None:
        """Relative balances after point `index` (-1: the opening; the last point; a peak this
        run walked); None when this run did not keep them."""
        if index < 0:
            return tuple(0 for _ in self.tokens)
        if index == self.total_points - 1 and self.walked:
            return tuple(self.rel)
        for at, balances in self.at_best.values():
            if at == index:
                return balances
        return None


def _migration_legs(group: Sequence[Record], trading: dict[str, str], mul: Sequence[int]) -> set[tuple[int, int]] | None:
    """Legs of transactions that swap one collateral token for another, value for value
    (USDC.e out, pUSD in): a migration, neither trading nor a flow."""
    by_tx: dict[str, list[Record]] = {}
    for r in group:
        by_tx.setdefault(r[2], []).append(r)
    if len(by_tx) == len(group):
        return None  # one transfer per transaction: no swap
    legs: set[tuple[int, int]] = set()
    for items in by_tx.values():
        if len(items) < 2:
            continue
        ins = {r[6] for r in items if r[4] > 0}
        outs = {r[6] for r in items if r[4] < 0}
        if not ins or not outs or ins & outs or any(r[3] in trading for r in items):
            continue
        if sum(r[4] * mul[r[6]] for r in items) == 0:
            legs |= {(r[0], r[1]) for r in items}
    return legs


def in_order(records: list[Record], after: int, upto: int, overlapping: bool) -> list[Record]:
    """Records in (after, upto], in chain order; once each when ranges read twice
    (`overlapping`: two processes cached the same blocks) put a record in twice."""
    out = [r for r in records if after < r[0] <= upto]
    out.sort()  # (block, log index) are unique per log: the lists compare on them
    if overlapping:
        out = [r for k, r in enumerate(out) if k == 0 or r[:2] != out[k - 1][:2]]
    return out
