"""Which bots the fleet screen reads next, and how (ReadQueue: the scheduling of its one
reading worker; times are passed in, monotonic), and the worker's loop (read_statuses).
No Textual import.

A full read (bot_status with its local checks, tens of ms) runs at start, on `r` and on
every sweep; a sweep's is light for a bot none of whose files changed since its last
full read, less than REUSE_S ago (whether it runs is still asked afresh). A file change
asks for a light read (the figures, ages and whether the bot runs: a few ms), at most
one per bot every LIGHT_MIN_S however often it writes; its checks follow with a full
read once it has been quiet for CHECKS_QUIET_S, or every CHECKS_MAX_S while it keeps
writing. So fifty bots writing every second cost light reads, not fifty audits a second.

A read's mode: LIGHT (0), FULL (1, may be light as above) or FORCED (2, always full)."""

from __future__ import annotations

import time
from typing import Any, Callable

LIGHT_MIN_S = 1.0
CHECKS_QUIET_S = 2.0
CHECKS_MAX_S = 15.0
REUSE_S = 60.0  # the checks' time-based findings (ages, windows) move slowly: this stale at most
LIGHT, FULL, FORCED = 0, 1, 2


class ReadQueue:
    def __init__(self) -> None:
        self.wanted: dict[str, int] = {}  # name -> mode; in the order asked (the strongest ask wins)
        self.checks_due: dict[str, float] = {}  # name -> when its checks re-run after writes
        self._writing_since: dict[str, float] = {}  # name -> first write since its last full read
        self._last_light: dict[str, float] = {}

    def __bool__(self) -> bool:
        return bool(self.wanted or self.checks_due)

    def want_full(self, names: list[str], mode: int = FORCED) -> None:
        for n in names:
            self.wanted[n] = max(self.wanted.get(n, LIGHT), mode)

    def changed(self, names: list[str] | set[str], now: float) -> None:
        """Files of these bots changed: a light read now, their checks after the quiet."""
        for n in names:
            self.wanted.setdefault(n, LIGHT)
            since = self._writing_since.setdefault(n, now)
            self.checks_due[n] = min(now + CHECKS_QUIET_S, since + CHECKS_MAX_S)

    def take(self, now: float) -> list[tuple[str, int]]:
        """What to read now, in order: (name, mode). Light reads not due yet stay queued."""
        for n, due in list(self.checks_due.items()):
            if due <= now:  # files changed: the checks must run, whatever they found before
                self.wanted[n] = FORCED
        out = [(n, full) for n, full in self.wanted.items()
               if full or now - self._last_light.get(n, float("-inf")) >= LIGHT_MIN_S]
        for n, full in out:
            del self.wanted[n]
            if full:
                self.checks_due.pop(n, None)
                self._writing_since.pop(n, None)
            else:
                self._last_light[n] = now
        return out

    def put_back(self, items: list[tuple[str, int]]) -> None:
        """Reads that did not happen (a dashboard opened above the fleet): first next time."""
        merged = dict(items)
        for n, mode in self.wanted.items():
            merged[n] = max(merged.get(n, LIGHT), mode)
        self.wanted = merged

    def next_due(self, now: float) -> float | None:
        """Seconds until take() has something it holds back now (None: nothing waits)."""
        times = [self._last_light.get(n, now) + LIGHT_MIN_S for n, full in self.wanted.items() if not full]
        times += list(self.checks_due.values())
        return None if not times else max(0.0, min(times) - now)


def read_statuses(bots: dict[str, Any], items: list[tuple[str, int]], now: Callable[[], float],
                  stop: Callable[[], bool], deliver: Callable[[list[tuple[Any, float, bool]]], None],
                  stamps: dict[str, tuple], full_reads: dict[str, tuple[tuple, float]],
                  batch_s: float) -> list[tuple[str, int]]:
    """Read `items` in turn (in a worker thread), handing (status, at, full) to `deliver` in
    batches at most every `batch_s`; returns the items left unread because `stop()` said so.
    `stamps`: name -> its files at its last read; `full_reads`: at its last full read, and when."""
    from statetui.core.fleet_status import bot_status
    from statetui.core.scanmemo import host_snapshot
    from statetui.tui.fleet_rows import unread
    from statetui.core.fleet import files_stamp as stamp

    batch: list[tuple[Any, float, bool]] = []
    flushed = time.monotonic()
    left: list[tuple[str, bool]] = []
    with host_snapshot():  # one look at the host's processes, locks and timers for the pass
        for i, (name, mode) in enumerate(items):
            if stop():
                left = items[i:]
                break
            bot = bots[name]
            at = now()
            stamps[name] = seen = stamp(bot.config)  # before the read: a write during it is read again
            last = full_reads.get(name)
            full = mode == FORCED or (mode == FULL and not (last and last[0] == seen
                                                             and time.monotonic() - last[1] < REUSE_S))
            if full:
                full_reads[name] = (seen, time.monotonic())
            try:
                status = bot_status(bot, checks=full, now=at)
            except Exception as exc:  # bot_status says what it finds: this is a bug, shown, never a traceback
                status = unread(name, f"status failed: {type(exc).__name__}: {exc}")
            batch.append((status, at, full))
            if time.monotonic() - flushed >= batch_s:
                deliver(batch)
                batch, flushed = [], time.monotonic()
    if batch:
        deliver(batch)
    return left
