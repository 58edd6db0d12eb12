"""One watcher for a whole fleet: a single watchfiles awatch over every bot's state folder
and backups folder (non-recursive), each change mapped back to the bots it concerns.

Fifty bots cost one watch thread, not fifty. The per-bot meaning of a path (the state
file, its journal, a backup; the store's temp files and lock ignored) is
statetui.tui.watch.Targets', so the dashboard and the fleet agree on what a change is.
A folder that does not exist yet is looked for every MISSING_POLL_S; when one appears
or goes, the watch restarts over the new set. No Textual import."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import aclosing
from pathlib import Path
from typing import AsyncIterator, Callable, Iterable

from statetui.tui.watch import DEBOUNCE_MS, STEP_MS, Targets

MISSING_POLL_S = 2.0
MAX_BACKOFF_S = 60.0


class FleetTargets:
    """Which bots a changed path concerns."""

    def __init__(self, bots: Iterable[object]):
        self.targets: dict[str, Targets] = {b.name: Targets(b.config) for b in bots}  # type: ignore[attr-defined]
        # folder -> the bots with something in it (their state, journal or backups)
        self._by_dir: dict[Path, list[tuple[str, Targets]]] = defaultdict(list)
        for name, t in self.targets.items():
            for folder in {t.dir, t.backups, t.dir.parent, t.backups.parent}:
                self._by_dir[folder].append((name, t))

    def folders(self) -> list[Path]:
        """Every folder to watch, whether it exists or not."""
        out: dict[Path, None] = {}
        for t in self.targets.values():
            out[t.dir] = None
            out[t.backups] = None
        return list(out)

    def existing(self) -> list[Path]:
        return [p for p in self.folders() if p.is_dir()]

    def bots_for(self, path: str) -> set[str]:
        p = Path(path)
        hit = set()
        for name, t in self._by_dir.get(p.parent, ()):
            if t.kind(path) is not None:
                hit.add(name)
        return hit

    def wanted(self, path: str) -> bool:
        return bool(self.bots_for(path))


async def watch_fleet(bots: Iterable[object], stop: asyncio.Event,
                      watching: Callable[[bool], None] = lambda _on: None) -> AsyncIterator[set[str]]:
    """Yield the names of bots whose files changed (coalesced by awatch's debounce), until
    `stop`. A folder appearing or going yields every bot (their reads are light).
    `watching(False)` while the watch has failed, `watching(True)` once it is back."""
    from watchfiles import awatch

    targets = FleetTargets(bots)
    everyone = set(targets.targets)
    failures = 0
    watched: list[Path] | None = None
    while not stop.is_set():
        now_there = targets.existing()
        if watched is not None and now_there != watched:
            yield everyone
        watched = now_there
        missing = len(watched) < len(targets.folders())
        if not watched:
            await _pause(stop, MISSING_POLL_S)
            continue
        try:
            watching(True)
            # aclosing: leaving the loop closes the watch at once (not when collected).
            async with aclosing(awatch(*watched, watch_filter=lambda _c, path: targets.wanted(path),
                                       debounce=DEBOUNCE_MS, step=STEP_MS, recursive=False, stop_event=stop,
                                       ignore_permission_denied=True, yield_on_timeout=missing,
                                       rust_timeout=int(MISSING_POLL_S * 1000) if missing else None)) as batches:
                async for changes in batches:
                    failures = 0
                    names: set[str] = set()
                    for _change, path in changes:
                        names |= targets.bots_for(path)
                    if names:
                        yield names
                    if targets.existing() != watched:  # a folder appeared or went: watch the new set
                        break
        except (OSError, RuntimeError):
            # A folder went away under the watcher, or the host's watch limit was hit: every
            # bot may have changed. Watch again after a pause that grows while it keeps
            # failing (the fleet's sweep still reads every bot meanwhile).
            failures += 1
            watching(False)
            yield everyone
            await _pause(stop, min(MAX_BACKOFF_S, MISSING_POLL_S * 2 ** (failures - 1)))


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
