"""scan_cash_history(): the steps of cash.py, with the cache and the checkpoint.

Cold (no checkpoint): the cache is read, the missing blocks are read from the RPC (and
cached up to the finalized block), the walk goes over everything. Warm (a checkpoint of
this history): the walk resumes at the checkpoint's last block; only the cache lines
appended since are decoded, and only the blocks after them read. Either way the anchor at
the pinned block settles the opening and what it contradicts.

The cache holds one stream per wallet and token set: records carry their token's index."""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from operator import itemgetter
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.chain import require_checksummed
from statetui.core.rpc import Deferred
from statetui.core.chainhist import abi
from statetui.core.chainhist.blocks import first_block_at_or_after
from statetui.core.chainhist.cache import StreamCache, merge as merge_ranges, missing
from statetui.core.chainhist.cash import REORG_DEPTH, _configured_cache_dir, open_rpc, parse_since
from statetui.core.chainhist.checkpoint import Checkpoint
from statetui.core.chainhist.curve import CashHistory, Mismatch
from statetui.core.chainhist.forward import Walk, in_order
from statetui.core.chainhist.logscan import Progress, ScanProgress, ScanStats, scan_logs
from statetui.core.chainhist.rebuild import Anchor, check_and_time, contradictions, opening_of, uint
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
        token_set = "set-" + hashlib.sha256(",".join(t.lower() for t in tokens).encode()).hexdigest()[:16]
        self.cache = StreamCache(directory, config.chain_id, self.wallet, "erc20", token_set, label=opened.label)
        self.checkpoint = Checkpoint(directory, config.chain_id, self.wallet,
                                     {"tokens": [t.lower() for t in tokens], "reason": reason, "start": scan_start,
                                      "trading": extra}, label=opened.label)
        self.notes: list[str] = []
        self.overlapping = False

    def run(self, trust_cache: bool = True) -> CashHistory:
        tokens, wallet = self.tokens, self.wallet
        head = self._resume() if self.use_cache and trust_cache else None
        after = head["through"] if head else self.scan_start - 1
        covered: list[tuple[int, int]] = []
        self.records: list[list[Any]] = []
        if head:
            covered = [(self.scan_start, after)] + self.tail.covered
            self.records = self.tail.records
        elif self.use_cache:
            state = self.cache.load()
            if state.problem:
                self.notes.append(state.problem)
            covered, self.records = state.covered, state.records
        self.overlapping = sum(b - a + 1 for a, b in covered) != sum(b - a + 1 for a, b in merge_ranges(covered))
        covered = merge_ranges(covered)
        through = self.final if self.use_cache and self.final >= max(self.scan_start, after + 1) else None
        # With nothing to merge (no records of these blocks from the cache), the walk goes along
        # with the reads, in the chunk thread: its work hides in the wait for the node too.
        self.walk: Walk | None = None
        self.through, self.saved = through, None
        if not any(after < r[0] <= self.pinned for r in self.records):
            decimals = head["walk"]["decimals"] if head else self._decimals()
            self.walk = Walk.restore(head["walk"], self.trading, keep_points=False) if head else \
                Walk(tokens, decimals, self.trading, wait_for_first_in=self.reason == FIRST_IN, keep_points=False)
        try:
            stats = self._read_gaps(covered, after + 1)
        finally:
            self.cache.flush()  # what was read stays read, even when the scan stops half way

        hashes = sorted({b for b in ((head or {}).get("through"), through) if b is not None})
        anchor = Anchor(self.rpc, wallet, tokens, self.pinned, hashes)
        if head and (anchor.hashes.get(head["through"]) != head["through_hash"]
                     or anchor.decimals != head["walk"]["decimals"]):
            self.notes.append(f"the cache was written from another chain or before a reorg (block {head['through']} "
                              "differs now): read again from the chain")
            self.checkpoint.discard()
            self.cache.discard()
            return self.run(trust_cache=False)

        walk, saved = self.walk, self.saved
        if walk is not None:
            if walk.decimals != anchor.decimals:
                raise self.rpc.malformed("decimals()", "a token's decimals changed during the scan")
            if through is not None and saved is None:
                saved = walk.state()
        else:
            walk = Walk.restore(head["walk"], self.trading, keep_points=False) if head else \
                Walk(tokens, anchor.decimals, self.trading, wait_for_first_in=self.reason == FIRST_IN, keep_points=False)
            records = in_order(self.records, after, self.pinned, self.overlapping)
            cut = next((k for k, r in enumerate(records) if r[0] > through), len(records)) if through is not None \
                else len(records)
            walk.feed(records[:cut])
            saved = walk.state() if through is not None else None
            walk.feed(records[cut:])

        first_in = self.reason == FIRST_IN
        start_block = (walk.start_block if walk.start_block is not None else self.pinned) if first_in else self.scan_start
        opening = opening_of(walk, anchor)
        times = {int(k): v for k, v in (head or {}).get("times", {}).items()}
        history = CashHistory(chain_id=self.config.chain_id, wallet=wallet, tokens=tokens, start_block=start_block,
                              start_time=None, start_reason=self.reason, pinned_block=self.pinned,
                              pinned_time=anchor.time, walk=walk, opening=sum(o * m for o, m in zip(opening, walk.mul)),
                              times=times, rewalk=lambda: self._rewalk(walk, head),
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
        if saved is not None and anchor.hashes.get(through) and self.cache.mark is not None:
            doc = {"walk": saved, "through": through, "through_hash": anchor.hashes[through], "mark": self.cache.mark,
                   "opening": opening, "times": {str(k): v for k, v in times.items()},
                   "checked": history.checked_blocks, "mismatches": [m.to_dict() for m in kept]}
            try:
                self.checkpoint.save(doc)
            except OSError as exc:
                history.notes.append(f"checkpoint {self.checkpoint.path} not saved ({exc.strerror or exc})")
        return history

    def _decimals(self) -> list[int]:
        answers = self.rpc.batch([abi.call(t, abi.DECIMALS, hex(self.pinned)) for t in self.tokens])
        return [uint(self.rpc, a, f"decimals() at token {t}") for a, t in zip(answers, self.tokens)]

    # --- the cache and the checkpoint -------------------------------------------------------

    def _resume(self) -> dict[str, Any] | None:
        head = self.checkpoint.load()
        if self.checkpoint.problem:
            self.notes.append(self.checkpoint.problem)
        if head is None or head["through"] > self.pinned or head["walk"]["tokens"] != self.tokens:
            return None
        tail = self.cache.load_after(head["mark"])
        if tail is None:
            return None  # the cache file is not where the checkpoint left it: read it whole
        if tail.problem:
            self.notes.append(tail.problem)
        self.tail = tail
        return head

    def _everything(self, head: dict[str, Any] | None) -> list[list[Any]]:
        """Every record of the history: the cache's (read whole when this scan resumed) and this scan's."""
        if not head:
            return self.records
        return self.cache.load().records + self.records

    def _rewalk(self, walk: Walk, head: dict[str, Any] | None) -> Walk:
        """The walk again, keeping every point (a face asked for the curve or the flows)."""
        whole = Walk(self.tokens, walk.decimals, self.trading, self.reason == FIRST_IN)
        whole.feed(in_order(self._everything(head), self.scan_start - 1, self.pinned, self.overlapping or bool(head)))
        return whole

    def _all_records(self, head: dict[str, Any] | None, start_block: int) -> list[list[Any]]:
        return in_order(self._everything(head), start_block - 1, self.pinned, self.overlapping or bool(head))

    # --- reading the RPC --------------------------------------------------------------------

    def _read_gaps(self, covered: list[tuple[int, int]], begin: int) -> ScanStats:
        final = self.final
        gaps = []
        for a, b in missing(covered, max(begin, self.scan_start), self.pinned):
            # Split at the finalized block: only the final part is cached (no reorged records).
            gaps += [(a, final), (final + 1, b)] if a <= final < b else [(a, b)]
        total = sum(b - a + 1 for a, b in gaps)
        self.blocks_read = total
        self.cached_blocks = max(0, (self.pinned - self.scan_start + 1) - total)
        stats = ScanStats()
        wallet_topic = abi.topic(self.wallet)
        filters = [{"address": self.tokens, "topics": [abi.TRANSFER, wallet_topic]},
                   {"address": self.tokens, "topics": [abi.TRANSFER, None, wallet_topic]}]
        chunks = _Chunks(self, decoder(self.wallet, self.tokens), final)
        done = 0
        try:
            for a, b in gaps:
                offset = done
                relay = (lambda p, offset=offset: self.progress(ScanProgress(offset + p.done, total, p.logs, p.calls,
                                                                             p.waiting))) if self.progress else None
                scan_logs(self.rpc, filters, a, b, chunks.put, progress=relay, stats=stats, span=self.max_span, raw=True)
                done += b - a + 1
        finally:
            chunks.close()
        return stats


class _Chunks:
    """Decodes, caches and keeps the chunks scan_logs reads, in a thread of its own: the next
    chunk is read from the RPC meanwhile, so the wait for the node hides this work. A log
    that cannot be decoded stops the scan with a one-line error, raised in the scan's thread."""

    def __init__(self, job: "_Scan", decode: Any, final: int):
        self.job, self.decode, self.final = job, decode, final
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="statetui-chain-chunks", daemon=True)
        self.thread.start()

    def put(self, a: int, b: int, answers: list[list[Any]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((a, b, answers))

    def close(self) -> None:
        """Wait for what was read to be kept (also when the scan stopped on an error)."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        job = self.job
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            a, b, answers = item
            try:
                records: list[list[Any]] = []
                for which, logs in enumerate(answers):
                    if isinstance(logs, Deferred):
                        logs = logs.result()
                        if not isinstance(logs, list):
                            raise job.rpc.malformed("eth_getLogs", f"expected a list of logs, got {type(logs).__name__}")
                    records += self.decode(logs, a, b, which)
                records.sort()  # each answer is in chain order; (block, log index) decide every comparison
                job.records += records
                if job.use_cache and b <= self.final:
                    job.cache.append(a, b, records, encode_line(a, b, records))
                if job.walk is not None:
                    if job.through is not None and job.saved is None and a > job.through:
                        job.saved = job.walk.state()  # the checkpoint: everything final, nothing more
                    job.walk.feed(records)
            except ChainError as exc:  # an undecoded answer that was not what it should be
                self.error = exc
            except (AttributeError, KeyError, TypeError, ValueError, IndexError):
                self.error = job.rpc.malformed("eth_getLogs", f"a log in blocks {a}-{b} is not hex where it must "
                                               "be, or lacks blockNumber, logIndex, topics, data or transactionHash")
            except BaseException as exc:  # an unwritable cache folder, ...: the scan reports it
                self.error = exc


def _mismatch(d: dict[str, Any]) -> Mismatch:
    return Mismatch(d["block"], d["token"], Decimal(d["rebuilt"]), None if d["on_chain"] is None else Decimal(d["on_chain"]),
                    d["what"])


def encode_line(a: int, b: int, records: list[list[Any]]) -> bytes:
    """The cache line of a chunk, as json.dumps would write it, twice as fast: the decoder
    lets through only integers, None and alphanumeric strings (nothing JSON escapes)."""
    rows = ",".join([f'[{r[0]},{r[1]},"{r[2]}","{r[3]}",{r[4]},{"null" if r[5] is None else r[5]},{r[6]}]'
                     for r in records])
    return f'{{"a":{a},"b":{b},"r":[{rows}]}}'.encode()


def decoder(wallet: str, tokens: list[str]) -> Any:
    """The eth_getLogs decoder of the cash scan (logscan.Decoder): the Transfers that move
    the wallet's cash, as records [block, log index, tx, counterparty, signed raw amount,
    block time or None, token index]. Filter 0 asks for transfers out of the wallet,
    filter 1 for transfers into it; each log is checked to be what was asked for."""
    transfer = abi.TRANSFER
    me_topic = abi.topic(wallet)
    me = "0x" + wallet[2:].lower()
    index_of = {}
    for i, t in enumerate(tokens):
        index_of.update({t: i, t.lower(): i})  # as configured (checksummed) and as nodes send it
    fields = itemgetter("topics", "data", "blockNumber", "logIndex", "transactionHash", "address", "removed")

    def decode(logs: list[Any], a: int, b: int, which: int) -> list[list[Any]]:
        out: list[list[Any]] = []
        append = out.append
        for log in logs:
            try:
                topics, data, number, index, tx, address, removed = fields(log)
            except KeyError:  # a node that leaves "removed" out (the others are required)
                topics, data, number, index, tx, address = fields(log | {"removed": False})[:6]
                removed = False
            if len(topics) != 3 or (topics[0] != transfer and topics[0].lower() != transfer):
                continue  # not an ERC-20 Transfer (an ERC-721 one has 4 topics)
            mine, other = (topics[1], topics[2]) if which == 0 else (topics[2], topics[1])
            if mine != me_topic and mine.lower() != me_topic:
                continue  # not the wallet's (a node that ignores part of the filter)
            other = ("0x" + other[26:]).lower()
            value = int(data[2:66], 16)  # a Transfer's data is the amount, one word
            if other == me or not value or removed is True:
                continue  # to itself, nothing moved, or reorged out while we asked
            ti = index_of.get(address)
            if ti is None:
                ti = index_of.get(address.lower())
            block = int(number, 16)
            if ti is None or type(tx) is not str or not tx.isalnum() or not other.isalnum() or not a <= block <= b:
                raise ValueError("a log from another contract, without a transaction, or outside the range asked")
            stamp = log.get("blockTimestamp") if len(log) > 9 else None  # nine fields: no time given
            append([block, int(index, 16), tx, other, value if which else -value,
                    int(stamp, 16) if stamp is not None else None, ti])
        return out

    return decode
