"""The wallet's Conditional Tokens positions, which of their markets resolved, and what
is redeemable now: "unredeemed: $X in N resolved markets" (the value that inflated the
Jan 16 peak).

Positions come from ERC-1155 TransferSingle / TransferBatch logs to and from the wallet
(cached like the cash history), confirmed with balanceOf at the pinned block (the chain's
balance wins; a difference is noted). Redemptions are PayoutRedemption logs with the
wallet as redeemer (Conditional Tokens, and the NegRisk Adapter's own event).

A position id only names its market through the chain: candidate condition ids come
from the caller (the bot's state knows its markets), from the wallet's redemptions and
from the exchanges' TokenRegistered(token0, token1, conditionId) logs. For each
candidate the contract itself is asked getOutcomeSlotCount, payoutDenominator,
payoutNumerators and, per outcome and collateral, getCollectionId / getPositionId, so
nothing is computed off-chain. A position whose market is not found is listed as
unknown, never valued by guess."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Context, Decimal
from pathlib import Path
from typing import Any, Iterable

from statetui.core.chain import require_checksummed
from statetui.core.rpc import CallFailed, Rpc
from statetui.core.chainhist import abi
from statetui.core.chainhist.cache import StreamCache, missing
from statetui.core.chainhist.blocks import first_block_at_or_after
from statetui.core.chainhist.cash import REORG_DEPTH, _configured_cache_dir, open_rpc, parse_since
from statetui.core.chainhist.logscan import Progress, ScanStats, scan_logs
from statetui.core.config import Config

_EXACT = Context(prec=100)
# The NegRisk Adapter's wrapped collateral: NegRisk positions are minted against it.
NEG_RISK_WRAPPED_COLLATERAL = "0x3A3BD7bb9528E159577F7C2e685CC81A765002E2"
MAX_IDS_PER_FILTER = 100


@dataclass(frozen=True)
class Position:
    token_id: int
    raw: int  # shares, in the collateral's units
    shares: Decimal
    condition: str | None  # None: its market was not found on chain
    outcome: int | None  # outcome slot index
    resolved: bool
    value: Decimal | None  # redeemable now (resolved), else None

    def to_dict(self) -> dict[str, Any]:
        return {"token_id": str(self.token_id), "shares": str(self.shares), "condition": self.condition,
                "outcome": self.outcome, "resolved": self.resolved,
                "value": None if self.value is None else str(self.value)}


@dataclass(frozen=True)
class Redemption:
    block: int
    tx: str
    condition: str
    payout: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"block": self.block, "tx": self.tx, "condition": self.condition, "payout": str(self.payout)}


@dataclass
class PositionsReport:
    wallet: str
    pinned_block: int
    start_block: int
    positions: list[Position] = field(default_factory=list)
    redemptions: list[Redemption] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def unredeemed(self) -> list[Position]:
        return [p for p in self.positions if p.resolved and p.value]

    @property
    def unredeemed_total(self) -> Decimal:
        return sum((p.value for p in self.unredeemed if p.value is not None), Decimal(0))

    @property
    def unredeemed_markets(self) -> int:
        return len({p.condition for p in self.unredeemed})

    @property
    def unknown(self) -> list[Position]:
        return [p for p in self.positions if p.condition is None]

    def summary(self) -> str:
        text = f"unredeemed: ${self.unredeemed_total:,.2f} in {self.unredeemed_markets} resolved market" \
               + ("" if self.unredeemed_markets == 1 else "s")
        if self.unknown:
            text += f" ({len(self.unknown)} position(s) with unknown market: cannot tell)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"wallet": self.wallet, "pinned_block": self.pinned_block, "start_block": self.start_block,
                "summary": self.summary(), "unredeemed_total": str(self.unredeemed_total),
                "unredeemed_markets": self.unredeemed_markets, "positions": [p.to_dict() for p in self.positions],
                "redemptions": [r.to_dict() for r in self.redemptions], "notes": self.notes}


def read_positions(config: Config, *, condition_ids: Iterable[str] = (), from_block: int | None = None,
                   since: object = None, cache_dir: str | Path | None = None, progress: Progress | None = None,
                   block: int | None = None, use_cache: bool = True) -> PositionsReport:
    """The wallet's positions at the pinned block (default: the head), from `from_block`
    / `since` / config.history_from_block / config.history_since, else from block 0.
    `condition_ids`: markets the caller knows (the state's), to name positions by."""
    ctf = require_checksummed(config.ctf_address, "conditional tokens (ctf_address)")
    rpc, wallet, head, finalized, label = open_rpc(config)
    pinned = head if block is None else min(block, head)
    final = min(pinned, finalized if finalized is not None else head - REORG_DEPTH)
    from_block = from_block if from_block is not None else getattr(config, "history_from_block", None)
    since = since if since is not None else getattr(config, "history_since", None)
    if from_block is None and since is not None:
        from_block = first_block_at_or_after(rpc, parse_since(since), pinned)
    start = min(from_block or 0, pinned)
    report = PositionsReport(wallet, pinned, start)

    cache = StreamCache(Path(cache_dir) if cache_dir else _configured_cache_dir(config), config.chain_id, wallet, "ctf", ctf,
                        label=label)
    state = cache.load() if use_cache else None
    records: list[list[Any]] = list(state.records) if state else []
    if state and state.problem:
        report.notes.append(state.problem)
    me = abi.topic(wallet)
    moves = [abi.TRANSFER_SINGLE, abi.TRANSFER_BATCH]
    filters = [{"address": ctf, "topics": [moves, None, me]}, {"address": ctf, "topics": [moves, None, None, me]},
               {"address": [ctf, abi.NEG_RISK_ADAPTER], "topics": [[abi.PAYOUT_REDEMPTION, abi.ADAPTER_PAYOUT_REDEMPTION], me]}]
    stats = ScanStats()
    try:
        for a, b in missing(state.covered if state else [], start, pinned):
            for x, y in ([(a, final), (final + 1, b)] if a <= final < b else [(a, b)]):
                def on_chunk(p: int, q: int, logs: list[dict[str, Any]]) -> None:
                    try:
                        fresh = _decode(logs, wallet.lower())
                    except (ValueError, TypeError, AttributeError, IndexError):
                        raise rpc.malformed("eth_getLogs", f"a Conditional Tokens log in blocks {p}-{q} is malformed") from None
                    records.extend(fresh)
                    if use_cache and q <= final:
                        cache.append(p, q, fresh)
                scan_logs(rpc, filters, x, y, on_chunk, progress=progress, stats=stats)
    finally:
        cache.flush()  # what was read stays read, even when the scan stops half way

    seen: dict[tuple[int, int], list[Any]] = {(r[1], r[2]): r for r in records if start <= r[1] <= pinned}
    held: dict[int, int] = {}
    for r in (seen[k] for k in sorted(seen)):
        if r[0] == "move":
            for token_id, delta in r[4]:
                held[int(token_id)] = held.get(int(token_id), 0) + int(delta)
        else:
            report.redemptions.append(Redemption(r[1], r[3], r[4], Decimal(int(r[5])).scaleb(-6, _EXACT)))
    ids = sorted(i for i in held if held[i] != 0)
    balances = _balances(rpc, ctf, wallet, ids, hex(pinned))
    for i in ids:
        if balances[i] != held[i]:
            report.notes.append(f"position {i}: balanceOf says {balances[i]}, the transfers {held[i]} (the chain's figure is used)")
    ids = [i for i in ids if balances[i] > 0]
    if start > 0:
        report.notes.append(f"positions acquired before block {start} are not listed")

    candidates = dict.fromkeys([c.lower() for c in condition_ids] + [r.condition for r in report.redemptions])
    candidates.update(dict.fromkeys(_registered(rpc, ids, start, pinned, stats)))
    index = _resolve_ids(rpc, ctf, list(candidates), [*config.tokens, NEG_RISK_WRAPPED_COLLATERAL], hex(pinned))
    for i in ids:
        found = index.get(i)
        shares = Decimal(balances[i]).scaleb(-6, _EXACT)
        if found is None:
            report.positions.append(Position(i, balances[i], shares, None, None, False, None))
            continue
        condition, outcome, numerators, denominator = found
        value = None
        if denominator:
            value = (Decimal(balances[i] * numerators[outcome]) / denominator).scaleb(-6, _EXACT).quantize(Decimal("0.000001"))
        report.positions.append(Position(i, balances[i], shares, condition, outcome, bool(denominator), value))
    return report


def _decode(logs: list[dict[str, Any]], me: str) -> list[list[Any]]:
    """["move", block, index, tx, [[id, signed amount], ...]] or ["redeem", block, index, tx, condition, payout]."""
    out: list[list[Any]] = []
    for log in logs:
        topics = [str(t).lower() for t in log["topics"]]
        block, index, tx = int(log["blockNumber"], 16), int(log["logIndex"], 16), log["transactionHash"]
        ws = abi.words(log["data"])
        if topics[0] in (abi.TRANSFER_SINGLE, abi.TRANSFER_BATCH) and len(topics) == 4:
            src, dst = abi.topic_address(topics[2]), abi.topic_address(topics[3])
            if src == dst:
                continue
            sign = 1 if dst == me else -1
            if topics[0] == abi.TRANSFER_SINGLE:
                pairs = [(ws[0], ws[1])]
            else:
                pairs = list(zip(abi.uint_array(ws, 0), abi.uint_array(ws, 1)))
            out.append(["move", block, index, tx, [[str(i), str(sign * v)] for i, v in pairs]])
        elif topics[0] == abi.PAYOUT_REDEMPTION and len(topics) == 4:
            # data: conditionId, offset of indexSets, payout, indexSets
            out.append(["redeem", block, index, tx, "0x" + abi.word(ws[0]), str(ws[2])])
        elif topics[0] == abi.ADAPTER_PAYOUT_REDEMPTION and len(topics) == 3:
            # data: offset of amounts, payout, amounts
            out.append(["redeem", block, index, tx, topics[2], str(ws[1])])
    return out


def _balances(rpc: Rpc, ctf: str, wallet: str, ids: list[int], tag: str) -> dict[int, int]:
    answers = rpc.batch([abi.call(ctf, abi.BALANCE_OF_1155 + abi.word(wallet) + abi.word(i), tag) for i in ids])
    return {i: int(rpc.ok(a, f"balanceOf(wallet, {i})")[2:66] or "0", 16) for i, a in zip(ids, answers)}


def _registered(rpc: Rpc, ids: list[int], start: int, pinned: int, stats: ScanStats) -> list[str]:
    """Condition ids the exchanges registered for these position ids (TokenRegistered)."""
    found: list[str] = []
    for k in range(0, len(ids), MAX_IDS_PER_FILTER):
        chunk = [abi.topic(i) for i in ids[k:k + MAX_IDS_PER_FILTER]]
        flt = {"address": list(abi.EXCHANGES), "topics": [abi.TOKEN_REGISTERED, chunk]}
        scan_logs(rpc, [flt], start, pinned, lambda a, b, logs: found.extend(str(l["topics"][3]).lower() for l in logs),
                  stats=stats)
    return found


def _resolve_ids(rpc: Rpc, ctf: str, conditions: list[str], collaterals: list[str],
                 tag: str) -> dict[int, tuple[str, int, list[int], int]]:
    """position id -> (condition, outcome index, payout numerators, payout denominator),
    asked of the contract for every candidate condition and collateral."""
    if not conditions:
        return {}
    first = rpc.batch([abi.call(ctf, sel + abi.word(c), tag) for c in conditions
                       for sel in (abi.OUTCOME_SLOT_COUNT, abi.PAYOUT_DENOMINATOR)])
    slots = {c: _word(first[2 * n]) for n, c in enumerate(conditions)}
    denominators = {c: _word(first[2 * n + 1]) for n, c in enumerate(conditions)}
    pairs = [(c, i) for c in conditions for i in range(min(slots[c], 256))]
    second = rpc.batch([abi.call(ctf, sel, tag) for c, i in pairs
                        for sel in (abi.PAYOUT_NUMERATORS + abi.word(c) + abi.word(i),
                                    abi.COLLECTION_ID + abi.word(0) + abi.word(c) + abi.word(1 << i))])
    numerators: dict[str, list[int]] = {c: [] for c in conditions}
    collections: list[tuple[str, int, str]] = []
    for n, (c, i) in enumerate(pairs):
        numerators[c].append(_word(second[2 * n]))
        collection = second[2 * n + 1]
        if isinstance(collection, str) and len(collection) >= 66:
            collections.append((c, i, collection[2:66]))
    third = rpc.batch([abi.call(ctf, abi.POSITION_ID + abi.word(col) + coll, tag)
                       for c, i, coll in collections for col in collaterals])
    out: dict[int, tuple[str, int, list[int], int]] = {}
    n = 0
    for c, i, _ in collections:
        for _col in collaterals:
            position = _word(third[n])
            n += 1
            if position:
                out[position] = (c, i, numerators[c], denominators[c])
    return out


def _word(answer: object) -> int:
    if isinstance(answer, CallFailed) or not isinstance(answer, str) or len(answer) < 66:
        return 0
    return int(answer[2:66], 16)
