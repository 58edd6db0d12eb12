"""eth_getLogs over a block range of any width, within whatever limits the RPC sets.

scan_logs() reads [start, end] in consecutive chunks, one request per filter per chunk,
and hands each finished chunk (its logs merged, deduplicated and in chain order) to a
callback, so a caller can cache it before the next one is read: an interrupted scan
keeps what it finished.

The first chunk is the whole range (an unlimited node answers in one call). When the
RPC refuses (see limits.py) the chunk shrinks to the width the provider names, or by
half; the span grows back (x2 after a run of successes) up to any hard cap learned,
so a dense stretch does not slow the sparse rest. Rate limits are retried after the
wait the provider asks for, else an exponential backoff with jitter. A client-side
timeout counts as a too-heavy query (the range is halved), at most a few times."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from statetui.core.rpc import CallFailed, Deferred, Rpc, RpcCallError, RpcTimeoutError
from statetui.core.chainhist import limits
from statetui.core.errors import ChainError

Log = dict[str, Any]
# (first block, last block, logs in chain order) of one finished chunk.
ChunkHandler = Callable[[int, int, list[Log]], None]
# With raw=True the handler gets each filter's answer as the RPC sent it (per filter, in
# filter order), unchecked, a long one not even parsed (a chain.Deferred: .result() gives
# the list of logs): for a reader that decodes and checks them itself, in another thread
# while the next chunk is read.
DEFER_OVER = 16384  # bytes: an answer this long is logs (errors are short)


@dataclass
class ScanProgress:
    """Passed to the progress callback after each chunk (and each wait)."""

    done: int  # blocks read so far
    total: int  # blocks to read in this scan
    logs: int  # logs found so far
    calls: int  # eth_getLogs requests made so far
    waiting: float = 0.0  # seconds of the rate-limit pause now starting (0 when none)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


Progress = Callable[[ScanProgress], None]


@dataclass
class ScanStats:
    """What a scan cost: for the report, the tests and the benchmark."""

    calls: int = 0  # eth_getLogs requests (each filter of each attempt)
    splits: int = 0  # chunks shrunk after a range or result cap
    rate_limited: int = 0  # answers that were rate limits
    waited: float = 0.0  # seconds slept in backoff
    ranges: list[tuple[int, int]] = field(default_factory=list)  # chunks read, in order
    max_span: int | None = None  # the hard cap on the range width learned from the RPC

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "splits": self.splits, "rate_limited": self.rate_limited,
                "waited_s": round(self.waited, 3), "chunks": len(self.ranges), "max_span": self.max_span}


class ScanError(ChainError):
    """The logs could not be read (the RPC kept refusing, or answered nonsense)."""


MAX_RATE_RETRIES = 8
MAX_TIMEOUTS = 3
MAX_WAIT = 60.0
BASE_WAIT = 0.25  # the first backoff when the provider names no wait; doubles per retry


def scan_logs(rpc: Rpc, filters: list[dict[str, Any]], start: int, end: int, on_chunk: ChunkHandler, *,
              progress: Progress | None = None, stats: ScanStats | None = None, span: int | None = None,
              sleep: Callable[[float], None] = time.sleep, raw: bool = False) -> ScanStats:
    """Read the logs of every filter (an eth_getLogs filter without fromBlock/toBlock)
    over [start, end]. `span`: a known provider cap on the range width (never exceeded).
    `raw`: see ChunkHandler."""
    stats = stats if stats is not None else ScanStats()
    total = max(0, end - start + 1)
    if total == 0:
        return stats
    hard_cap = min(stats.max_span or total, span or total)  # never exceeded: given, or learned
    width = min(total, span or total, hard_cap or total)
    found = 0
    a = start
    streak = 0  # successes since the last shrink
    rate_tries = 0
    timeouts = 0
    while a <= end:
        b = min(end, a + width - 1)
        try:
            logs = _read_chunk(rpc, filters, a, b, stats, raw)
        except _Refused as refused:
            verdict = refused.verdict
            if verdict.kind in (limits.SPLIT_RANGE, limits.SPLIT_RESULTS):
                if b == a:
                    raise ScanError(f"RPC {rpc.shown} refuses eth_getLogs even for the single block {a}: "
                                    f"{refused.message}") from None
                narrower = b - a  # at least one block narrower than what failed
                new = min(narrower, verdict.max_span) if verdict.max_span else max(1, (b - a + 1) // 2)
                if verdict.kind == limits.SPLIT_RANGE:
                    # A width cap holds everywhere: remember it so the span never grows past it.
                    cap = min(narrower, verdict.max_span or narrower)
                    hard_cap = min(hard_cap or cap, cap)
                    stats.max_span = hard_cap
                width = max(1, new)
                stats.splits += 1
                streak = 0
                continue
            if verdict.kind in (limits.RATE_LIMITED, limits.TRANSIENT):
                rate_tries += 1
                stats.rate_limited += 1
                if rate_tries > MAX_RATE_RETRIES:
                    raise ScanError(f"RPC {rpc.shown} is rate limiting eth_getLogs: gave up after "
                                    f"{MAX_RATE_RETRIES} retries ({refused.message})") from None
                pause = _pause(verdict, rate_tries)
                if progress:
                    progress(ScanProgress(a - start, total, found, stats.calls, waiting=pause))
                sleep(pause)
                stats.waited += pause
                continue
            raise ScanError(f"RPC {rpc.shown} refused eth_getLogs for blocks {a}-{b}: {refused.message}") from None
        except RpcTimeoutError:
            timeouts += 1
            if timeouts > MAX_TIMEOUTS or b == a:
                raise
            width = max(1, (b - a + 1) // 2)
            stats.splits += 1
            streak = 0
            continue
        rate_tries = 0
        on_chunk(a, b, logs)
        stats.ranges.append((a, b))
        found += sum(len(x) for x in logs if isinstance(x, list)) if raw else len(logs)
        a = b + 1
        streak += 1
        if streak >= 4 and width < total:
            width = min(width * 2, hard_cap or width * 2)
            streak = 0
        if progress:
            progress(ScanProgress(a - start, total, found, stats.calls))
    return stats


class PatientRpc(Rpc):
    """The reader's RPC client, which waits out rate limits on any call (HTTP 429, or a
    JSON-RPC rate-limit error for the whole request) instead of failing at once."""

    def __init__(self, url: str, timeout: float, sleep: Callable[[float], None] = time.sleep):
        super().__init__(url, timeout)
        self.sleep = sleep
        self.rate_limited = 0
        self.waited = 0.0

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        for attempt in range(1, MAX_RATE_RETRIES + 2):
            try:
                return super()._batch(calls)
            except RpcCallError as exc:
                verdict = limits.classify(exc.detail or str(exc), code=exc.code, status=exc.status,
                                          retry_after=exc.retry_after)
                if verdict.kind not in (limits.RATE_LIMITED, limits.TRANSIENT) or attempt > MAX_RATE_RETRIES:
                    raise
                self.rate_limited += 1
                pause = _pause(verdict, attempt)
                self.sleep(pause)
                self.waited += pause
        raise AssertionError("unreachable")


def _pause(verdict: limits.Verdict, attempt: int) -> float:
    """The provider's wait when it named one, else BASE_WAIT doubling; capped, with 10 % jitter."""
    pause = verdict.wait if verdict.wait is not None else BASE_WAIT * 2 ** (attempt - 1)
    return min(MAX_WAIT, pause) * (1 + random.random() * 0.1)


class _Refused(Exception):
    def __init__(self, verdict: limits.Verdict, message: str):
        super().__init__(message)
        self.verdict = verdict
        self.message = message


def _read_chunk(rpc: Rpc, filters: list[dict[str, Any]], a: int, b: int, stats: ScanStats,
                raw: bool = False) -> list[Any]:
    merged: dict[int, Log] = {}
    answers: list[list[Any]] = []
    span = b - a + 1
    for flt in filters:
        stats.calls += 1
        query = {**flt, "fromBlock": hex(a), "toBlock": hex(b)}
        try:
            answer = (rpc.call_deferred("eth_getLogs", [query], over=DEFER_OVER) if raw
                      else rpc.batch([("eth_getLogs", [query])])[0])
        except RpcCallError as exc:
            verdict = limits.classify(exc.detail or str(exc), code=exc.code, status=exc.status,
                                      retry_after=exc.retry_after, span=span)
            raise _Refused(verdict, str(exc)) from None
        if isinstance(answer, CallFailed):
            raise _Refused(limits.classify(answer.detail, code=answer.code, span=span), answer.message)
        if isinstance(answer, Deferred):
            answers.append(answer)
            continue
        if not isinstance(answer, list):
            raise rpc.malformed("eth_getLogs", f"expected a list of logs, got {type(answer).__name__}")
        if raw:
            answers.append(answer)
        else:
            _check(rpc, answer, a, b, merged)
    if raw:
        return answers
    return [merged[k] for k in sorted(merged)]


def _check(rpc: Rpc, logs: list[Any], a: int, b: int, merged: dict[int, Log]) -> None:
    """Put each well-formed log inside [a, b] into `merged` by (block, log index), skipping
    removed ones. (The fields each reader decodes are checked by its decoder: a log that
    is not what it must be there is a one-line RpcResponseError too.)"""
    try:
        for log in logs:
            block = int(log["blockNumber"], 16)
            if not a <= block <= b:
                raise rpc.malformed("eth_getLogs", f"a log of block {block} came back for blocks {a}-{b}")
            if log.get("removed") is True:  # reorged out while we asked
                continue
            merged[block << 32 | int(log["logIndex"], 16)] = log
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        raise rpc.malformed("eth_getLogs", "a log lacks blockNumber, logIndex, topics, data or transactionHash") from None
