"""scan_cash_history(): the steps of cash.py, with the cache and the checkpoint.

Cold (no checkpoint): every token's cache is read, the missing blocks are read from the
RPC (and cached up to the finalized block), the walk goes over everything. Warm (a
checkpoint of this history): the walk resumes at the checkpoint's last block, and only
the cache lines appended since and the blocks after them are read. Either way the
anchor at the pinned block settles the opening and what it contradicts."""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.chain import require_checksummed
from statetui.core.chainhist import abi
from statetui.core.chainhist.blocks import first_block_at_or_after
from statetui.core.chainhist.cache import StreamCache, merge as merge_ranges, missing
from statetui.core.chainhist.cash import REORG_DEPTH, _configured_cache_dir, open_rpc, parse_since
from statetui.core.chainhist.checkpoint import Checkpoint
from statetui.core.chainhist.curve import CashHistory, Mismatch
from statetui.core.chainhist.forward import Walk, merge
from statetui.core.chainhist.logscan import Progress, ScanProgress, ScanStats, scan_logs
from statetui.core.chainhist.rebuild import Anchor, check_and_time, contradictions, opening_of
from statetui.core.config import Config
from statetui.core.errors import ChainError, ConfigError

FIRST_IN = "first-transfer-in"


def scan_cash_history(config: Config, *, progress: Progress | None = None, cache_dir: str | Path | None = None,
                      from_block: int | None = None, since: object = None, block: int | None = None,
                      use_cache: bool = True, extra_trading: dict[str, str] | None = None,
                      max_span: int | None = None) -> CashHistory:
    """The wallet's realized-cash history from the start point to one pinned block.
    `max_span`: a known cap on eth_getLogs block ranges (else learned from refusals);
    `extra_trading`: more counterparties (address -> name) whose transfers are trading."""
    started = time.perf_counter()
    tokens = [require_checksummed(t, "token") for t in dict.fromkeys(config.tokens)]
    if not tokens:
        raise ConfigError("tokens: no collateral token configured")
    opened = open_rpc(config)
    pinned = opened.head if block is None else block
    if not 0 <= pinned <= opened.head:
        raise ChainError(f"block {pinned} is not on the chain (head is {opened.head})")
    final = min(pinned, opened.finalized if opened.finalized is not None else max(-1, opened.head - REORG_DEPTH))

    from_block = from_block if from_block is not None else getattr(config, "history_from_block", None)
    since = since if since is not None else getattr(config, "history_since", None)
    if from_block is not None:
        if isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0:
            raise ConfigError(f"from_block: {from_block!r} is not a block number")
        scan_start, reason = min(from_block, pinned), "from-block"
    elif since is not None:
        scan_start, reason = min(first_block_at_or_after(opened.rpc, parse_since(since), pinned), pinned), "since"
    else:
        scan_start, reason = 0, FIRST_IN
    trading = {**abi.TRADING_COUNTERPARTIES, **{k.lower(): v for k, v in (extra_trading or {}).items()}}
    directory = Path(cache_dir) if cache_dir is not None else _configured_cache_dir(config)
    job = _Scan(config, opened, tokens, trading, scan_start, reason, pinned, final, directory, use_cache,
                progress, max_span, sorted(k.lower() for k in (extra_trading or {})))
    history = job.run()
    history.scan["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return history


class _Scan:
    def __init__(self, config: Config, opened: Any, tokens: list[str], trading: dict[str, str], scan_start: int,
                 reason: str, pinned: int, final: int, directory: Path, use_cache: bool, progress: Progress | None,
                 max_span: int | None, extra: list[str]):
        self.config, self.opened, self.rpc, self.wallet = config, opened, opened.rpc, opened.wallet
        self.tokens, self.trading, self.reason = tokens, trading, reason
        self.scan_start, self.pinned, self.final = scan_start, pinned, final
        self.use_cache, self.progress, self.max_span = use_cache, progress, max_span
        self.caches = {t: StreamCache(directory, config.chain_id, self.wallet, "erc20", t, label=opened.label)
                       for t in tokens}
        self.checkpoint = Checkpoint(directory, config.chain_id, self.wallet,
                                     {"tokens": [t.lower() for t in tokens], "reason": reason, "start": scan_start,
                                      "trading": extra}, label=opened.label)
        self.notes: list[str] = []

    def run(self, trust_cache: bool = True) -> CashHistory:
        tokens, wallet = self.tokens, self.wallet
        head = self._resume() if self.use_cache and trust_cache else None
        after = head["through"] if head else self.scan_start - 1
        covered: dict[str, list[tuple[int, int]]] = {t: [] for t in tokens}
        self.records: dict[str, list[list[Any]]] = {t: [] for t in tokens}
        if head:
            for t in tokens:
                covered[t] = merge_ranges([(self.scan_start, after)] + self.tails[t].covered)
                self.records[t] = self.tails[t].records
        elif self.use_cache:
            for t in tokens:
                state = self.caches[t].load()
                if state.problem:
                    self.notes.append(state.problem)
                covered[t], self.records[t] = state.covered, state.records
        stats = self._read_gaps(covered, after + 1)

        through = self.final if self.use_cache and self.final >= max(self.scan_start, after + 1) else None
        hashes = sorted({b for b in ((head or {}).get("through"), through) if b is not None})
        anchor = Anchor(self.rpc, wallet, tokens, self.pinned, hashes)
        if head and (anchor.hashes.get(head["through"]) != head["through_hash"]
                     or anchor.decimals != head["walk"]["decimals"]):
            self.notes.append(f"the cache was written from another chain or before a reorg (block {head['through']} "
                              "differs now): read again from the chain")
            self._wipe()
            return self.run(trust_cache=False)

        walk = Walk.restore(head["walk"], self.trading) if head else \
            Walk(tokens, anchor.decimals, self.trading, wait_for_first_in=self.reason == FIRST_IN)
        items = merge([self.records[t] for t in tokens], after, self.pinned)
        saved_upto = None
        if through is not None:
            cut = next((k for k, (_, r) in enumerate(items) if r[0] > through), len(items))
            walk.feed(items[:cut])
            saved_upto = (walk.state(), len(walk.points), len(walk.notable))
            walk.feed(items[cut:])
        else:
            walk.feed(items)

        first_in = self.reason == FIRST_IN
        start_block = (walk.start_block if walk.start_block is not None else self.pinned) if first_in else self.scan_start
        opening = opening_of(walk, anchor)
        times = {int(k): v for k, v in (head or {}).get("times", {}).items()}
        body = _Lazy(lambda: self._old_body(head)) if head else None
        history = CashHistory(chain_id=self.config.chain_id, wallet=wallet, tokens=tokens, start_block=start_block,
                              start_time=None, start_reason=self.reason, pinned_block=self.pinned,
                              pinned_time=anchor.time, walk=walk, opening=sum(o * m for o, m in zip(opening, walk.mul)),
                              times=times, old_points=(lambda: body.get()[0]) if body else None,
                              old_notable=(lambda: body.get()[1]) if body else None,
                              all_records=lambda: self._all_records(head, start_block))
        kept: list[Mismatch] = [_mismatch(m) for m in (head or {}).get("mismatches", [])]
        history.checked_blocks = list((head or {}).get("checked", []))
        history.mismatches = kept + contradictions(walk, opening, start_block, first_in)
        if head and opening != head["opening"]:
            flagged = {m.token for m in history.mismatches}
            for ti, t in enumerate(tokens):
                if opening[ti] != head["opening"][ti] and t not in flagged:
                    history.mismatches.append(Mismatch(
                        self.pinned, t, Decimal(head["opening"][ti] + walk.rel[ti]).scaleb(-walk.decimals[ti]),
                        Decimal(anchor.balances[ti]).scaleb(-walk.decimals[ti]),
                        f"balanceOf at this block differs from the balance rebuilt from transfers since block {after}"))
        before = len(history.mismatches)
        check_and_time(self.rpc, history, walk, opening, check_opening=head is None, times=times)
        kept += history.mismatches[before:]
        history.start_time = times.get(start_block)
        history.notes = self.notes + history.notes
        stats.rate_limited += self.rpc.rate_limited
        stats.waited += self.rpc.waited
        history.scan = {**stats.to_dict(), "blocks_from_cache": self.cached_blocks, "blocks_read": self.blocks_read,
                        "resumed_from": after if head else None}
        history.read_ranges = list(stats.ranges)
        if saved_upto is not None and anchor.hashes.get(through):
            self._save(head, saved_upto, walk, through, anchor.hashes[through], opening, times, history, kept)
        return history

    # --- the cache and the checkpoint -------------------------------------------------------

    def _resume(self) -> dict[str, Any] | None:
        head = self.checkpoint.load()
        if self.checkpoint.problem:
            self.notes.append(self.checkpoint.problem)
        if head is None or head["through"] > self.pinned or head["walk"]["tokens"] != self.tokens:
            return None
        self.tails = {}
        for t in self.tokens:
            tail = self.caches[t].load_after(head["marks"][t])
            if tail is None:
                return None  # the cache file is not where the checkpoint left it: read it whole
            if tail.problem:
                self.notes.append(tail.problem)
            self.tails[t] = tail
        return head

    def _old_body(self, head: dict[str, Any]) -> tuple[list[tuple], list[list[Any]]]:
        """The checkpoint's points and notable transfers; from the cache when it is damaged."""
        try:
            return self.checkpoint.body(head)
        except (OSError, ValueError, TypeError):
            walk = Walk(self.tokens, head["walk"]["decimals"], self.trading, self.reason == FIRST_IN)
            walk.feed(merge([self.caches[t].load().records for t in self.tokens], self.scan_start - 1, head["through"]))
            return walk.points, walk.notable

    def _all_records(self, head: dict[str, Any] | None, start_block: int) -> list[tuple[int, list[Any]]]:
        per_token = [self.records[t] for t in self.tokens]
        if head:  # only the tail is in memory: the rest is in the cache
            per_token = [self.caches[t].load().records + self.records[t] for t in self.tokens]
        return merge(per_token, start_block - 1, self.pinned)

    def _save(self, head: dict[str, Any] | None, saved: tuple[dict[str, Any], int, int], walk: Walk, through: int,
              through_hash: str, opening: list[int], times: dict[int, int], history: CashHistory,
              kept: list[Mismatch]) -> None:
        marks = {t: self.caches[t].mark for t in self.tokens}
        if any(m is None for m in marks.values()):
            return
        state, n_points, n_notable = saved
        doc = {"walk": state, "through": through, "through_hash": through_hash, "marks": marks, "opening": opening,
               "times": {str(k): v for k, v in times.items()}, "checked": history.checked_blocks,
               "mismatches": [m.to_dict() for m in kept]}
        try:
            self.checkpoint.save(doc, walk.points[:n_points], walk.notable[:n_notable], head)
        except OSError as exc:
            history.notes.append(f"checkpoint {self.checkpoint.head_path} not saved ({exc.strerror or exc})")

    def _wipe(self) -> None:
        self.checkpoint.discard()
        for cache in self.caches.values():
            cache.discard()

    # --- reading the RPC --------------------------------------------------------------------

    def _read_gaps(self, covered: dict[str, list[tuple[int, int]]], begin: int) -> ScanStats:
        groups: dict[tuple[tuple[int, int], ...], list[str]] = defaultdict(list)
        final = self.final
        for t in self.tokens:
            gaps = []
            for a, b in missing(covered[t], max(begin, self.scan_start), self.pinned):
                # Split at the finalized block: only the final part is cached (no reorged records).
                gaps += [(a, final), (final + 1, b)] if a <= final < b else [(a, b)]
            groups[tuple(gaps)].append(t)
        total = sum(b - a + 1 for gaps in groups for a, b in gaps)
        first_gaps = next(gaps for gaps, group in groups.items() if self.tokens[0] in group)
        self.blocks_read = total
        self.cached_blocks = max(0, (self.pinned - self.scan_start + 1) - sum(b - a + 1 for a, b in first_gaps))
        stats = ScanStats()
        done = 0
        wallet_topic = abi.topic(self.wallet)
        me = self.wallet[2:].lower()
        for gaps, group in groups.items():
            filters = [{"address": group, "topics": [abi.TRANSFER, wallet_topic]},
                       {"address": group, "topics": [abi.TRANSFER, None, wallet_topic]}]
            lowered = [(t, t.lower()) for t in group]
            for a, b in gaps:
                def on_chunk(x: int, y: int, logs: list[dict[str, Any]], lowered: list[tuple[str, str]] = lowered) -> None:
                    try:
                        fresh = decode_transfers(logs, me)
                    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
                        raise self.rpc.malformed("eth_getLogs", f"a Transfer log in blocks {x}-{y} is not hex where "
                                                 "it must be") from None
                    for t, low in lowered:
                        mine = fresh.get(low, [])
                        self.records[t].extend(mine)
                        if self.use_cache and y <= final:
                            self.caches[t].append(x, y, mine)

                offset = done
                relay = (lambda p, offset=offset: self.progress(ScanProgress(offset + p.done, total, p.logs, p.calls,
                                                                             p.waiting))) if self.progress else None
                scan_logs(self.rpc, filters, a, b, on_chunk, progress=relay, stats=stats, span=self.max_span)
                done += b - a + 1
        return stats


class _Lazy:
    def __init__(self, make: Any):
        self.make, self.value, self.done = make, None, False

    def get(self) -> Any:
        if not self.done:
            self.value, self.done = self.make(), True
        return self.value


def _mismatch(d: dict[str, Any]) -> Mismatch:
    return Mismatch(d["block"], d["token"], Decimal(d["rebuilt"]), None if d["on_chain"] is None else Decimal(d["on_chain"]),
                    d["what"])


def decode_transfers(logs: list[dict[str, Any]], me: str) -> dict[str, list[list[Any]]]:
    """token (lower case) -> records of the Transfers that move the wallet's cash; a record
    is [block, log index, tx, counterparty, signed raw amount, block time or None]."""
    transfer = abi.TRANSFER
    out: dict[str, list[list[Any]]] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3 or (topics[0] != transfer and topics[0].lower() != transfer):
            continue  # not an ERC-20 Transfer (an ERC-721 one has 4 topics)
        data = log["data"]
        value = int(data[2:66], 16) if len(data) >= 66 else 0
        if not value:
            continue
        dst = topics[2][-40:].lower()
        if dst == me:
            other = topics[1][-40:].lower()
            if other == me:
                continue
        else:
            other, value = dst, -value
        stamp = log.get("blockTimestamp")
        record = [int(log["blockNumber"], 16), int(log["logIndex"], 16), log["transactionHash"], "0x" + other, value,
                  int(stamp, 16) if stamp is not None else None]
        token = log["address"].lower()
        if token in out:
            out[token].append(record)
        else:
            out[token] = [record]
    return out
