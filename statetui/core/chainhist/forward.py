"""The cash curve, walked forward block by block over the wallet's collateral transfers.

Balances before the first transfer read are not known until balanceOf at the pinned
block is read, so the walk keeps every figure *relative* to the opening (cash 0 there);
`finish()` adds the opening, which is the anchor minus everything the walk moved. The
high-water mark does not depend on the opening (both policies compare points of one
curve), so it is kept as the walk goes, in integers at the finest scale of the tokens.

Because the walk only ever goes forward, its state after the last final block can be
saved (checkpoint.py) and a later scan continues from there with the new records only.

A record is [block, log index, tx, counterparty, signed raw amount, block time or None]
(cash.py decodes them; the cache keeps them)."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from statetui.core.chainhist.curve import ADJUST_FLOWS, DEPOSIT, MIGRATION, RAW, WITHDRAWAL

Record = list  # [block, index, tx, counterparty, raw, time]
# A compact point: (block, cash relative to the opening, net flow in the block, last tx, time)
Point = tuple


class Walk:
    """The forward walk. `points` holds one compact point per block that moved cash
    (this run's: the points before `base` were saved by an earlier scan); `notable` the
    flows and migrations ([kind, token index, record]); `best` per policy: [score, point
    index or -1 for the opening, flows up to it, relative cash, block, tx, time]."""

    def __init__(self, tokens: Sequence[str], decimals: Sequence[int], trading: dict[str, str],
                 wait_for_first_in: bool):
        self.tokens = list(tokens)
        self.decimals = list(decimals)
        self.scale = max(decimals)
        self.mul = [10 ** (self.scale - d) for d in decimals]
        self.trading = trading
        self.waiting = wait_for_first_in  # the history starts at the first transfer in
        self.start_block: int | None = None
        self.rel = [0] * len(tokens)  # each token's balance, relative to its opening
        self.low = [[0, None] for _ in tokens]  # lowest relative balance and the block after which it was seen
        self.cash = 0
        self.flows = 0
        self.count = 0  # transfers walked
        self.last_block = -1
        self.points: list[Point] = []
        self.base = 0  # points walked by earlier scans (saved in the checkpoint)
        self.by_token: list[tuple[int, ...]] = []  # relative balances after each of this run's points
        self.notable: list[list[Any]] = []  # [kind, token index, record]
        self.best = {RAW: [0, -1, 0, 0, None, None, None], ADJUST_FLOWS: [0, -1, 0, 0, None, None, None]}

    # --- walking ---------------------------------------------------------------------------

    def feed(self, items: Sequence[tuple[int, Record]]) -> None:
        """(token index, record) pairs in chain order, all after the last block walked."""
        n = len(items)
        i = 0
        rel, mul, trading, low = self.rel, self.mul, self.trading, self.low
        points, by_token, notable = self.points, self.by_token, self.notable
        best_raw, best_adj = self.best[RAW], self.best[ADJUST_FLOWS]
        cash, flows = self.cash, self.flows
        while i < n:
            block = items[i][1][0]
            j = i + 1
            while j < n and items[j][1][0] == block:
                j += 1
            group = items[i:j]
            i = j
            if self.waiting:
                first_in = next((k for k, (_, r) in enumerate(group) if r[4] > 0), None)
                if first_in is None:
                    continue
                group = group[first_in:]
                self.waiting = False
                self.start_block = block
            legs = _migration_legs(group, trading, self.decimals) if len(group) > 1 and \
                len({r[2] for _, r in group}) < len(group) else None
            flow = 0
            stamp = None
            for ti, r in group:
                raw = r[4]
                rel[ti] += raw
                moved = raw * mul[ti]
                cash += moved
                if r[3] in trading:
                    pass
                elif legs and (r[0], r[1]) in legs:
                    notable.append([MIGRATION, ti, r])
                else:
                    flow += moved
                    notable.append([DEPOSIT if raw > 0 else WITHDRAWAL, ti, r])
                if stamp is None:
                    stamp = r[5]
                if raw < 0 and rel[ti] < low[ti][0]:
                    low[ti][0], low[ti][1] = rel[ti], block
            self.count += len(group)
            flows += flow
            index = self.base + len(points)
            tx = group[-1][1][2]
            points.append((block, cash, flow, tx, stamp))
            by_token.append(tuple(rel))
            # On a tie the point with more cash is where cash peaked; after that, the earliest.
            if cash > best_raw[0]:
                best_raw[:] = (cash, index, flows, cash, block, tx, stamp)
            score = cash - flows
            if score > best_adj[0] or (score == best_adj[0] and cash > best_adj[3]):
                best_adj[:] = (score, index, flows, cash, block, tx, stamp)
            self.last_block = block
        self.cash, self.flows = cash, flows

    # --- saving and restoring (checkpoint.py) ------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything but the points and notable transfers (saved apart, read lazily)."""
        return {"tokens": self.tokens, "decimals": self.decimals, "waiting": self.waiting,
                "start_block": self.start_block, "rel": self.rel, "low": self.low, "cash": self.cash,
                "flows": self.flows, "count": self.count, "last_block": self.last_block,
                "points": self.base + len(self.points), "best": {k: list(v) for k, v in self.best.items()}}

    @classmethod
    def restore(cls, state: dict[str, Any], trading: dict[str, str]) -> "Walk":
        """The walk as a checkpoint left it: its points and notable transfers stay on disk."""
        walk = cls(state["tokens"], state["decimals"], trading, state["waiting"])
        walk.start_block = state["start_block"]
        walk.rel = list(state["rel"])
        walk.low = [list(x) for x in state["low"]]
        walk.cash, walk.flows, walk.count = state["cash"], state["flows"], state["count"]
        walk.last_block = state["last_block"]
        walk.base = state["points"]
        walk.best = {k: list(v) for k, v in state["best"].items()}
        return walk

    def token_balances_at(self, index: int) -> tuple[int, ...] | None:
        """Relative balances after point `index` (-1: the opening); None when this run did not walk it."""
        if index < 0:
            return tuple(0 for _ in self.tokens)
        k = index - self.base
        return self.by_token[k] if 0 <= k < len(self.by_token) else None


def _migration_legs(group: Sequence[tuple[int, Record]], trading: dict[str, str],
                    decimals: Sequence[int]) -> set[tuple[int, int]]:
    """Legs of transactions that swap one collateral token for another, value for value
    (USDC.e out, pUSD in): a migration, neither trading nor a flow."""
    by_tx: dict[str, list[tuple[int, Record]]] = {}
    for item in group:
        by_tx.setdefault(item[1][2], []).append(item)
    legs: set[tuple[int, int]] = set()
    scale = max(decimals)
    for items in by_tx.values():
        if len(items) < 2:
            continue
        ins = {ti for ti, r in items if r[4] > 0}
        outs = {ti for ti, r in items if r[4] < 0}
        if not ins or not outs or ins & outs or any(r[3] in trading for _, r in items):
            continue
        if sum(r[4] * 10 ** (scale - decimals[ti]) for ti, r in items) == 0:
            legs |= {(r[0], r[1]) for _, r in items}
    return legs


def merge(per_token: Sequence[Iterable[Record]], after: int, upto: int) -> list[tuple[int, Record]]:
    """Every token's records in (after, upto], in chain order, once each (a range two
    processes cached at once appears twice)."""
    keyed = {r[0] << 32 | r[1]: (ti, r) for ti, records in enumerate(per_token) for r in records
             if after < r[0] <= upto}
    return [keyed[k] for k in sorted(keyed)]


def kind_of(notable: Iterable[list[Any]]) -> dict[tuple[int, int], str]:
    """(block, log index) -> kind for the notable transfers; every other one is trading."""
    return {(r[0], r[1]): kind for kind, _, r in notable}

