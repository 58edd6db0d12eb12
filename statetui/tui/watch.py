"""Watch the state file's directory (not the file: an atomic replace gives the target a
new inode, and a watch on the old one sees nothing after the first replace).

With watchfiles a replace shows as the target name *added*. The store's own temp files
(`.NAME.tmp-*`) and lock (`NAME.lock`) are filtered out by name, so a flood of writes
costs one event per write. awatch's default debounce is 1.6 s; 50 ms with a 10 ms step
keeps the latency near 20 ms. No Textual import."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import AsyncIterator, Callable

from statetui.core.config import Config
from statetui.core.journal import journal_path_for

DEBOUNCE_MS = 50
STEP_MS = 10
MISSING_DIR_POLL_S = 0.5


class Targets:
    """Which paths matter and what a change to each means."""

    def __init__(self, config: Config):
        self.state = Path(os.path.abspath(config.state))
        self.dir = self.state.parent
        self.journal = journal_path_for(self.state)
        backups = config.backup_dir if config.backup_dir is not None else self.dir / "backups"
        self.backups = Path(os.path.abspath(backups))

    def kind(self, path: str) -> str | None:
        p = Path(path)
        if p == self.state:
            return "state"
        if p == self.journal:
            return "journal"
        if p == self.backups:
            return "rewatch"  # the backups folder appeared or went: watch it (or stop)
        if p == self.dir:
            return "rewatch"
        if p.parent == self.backups and not p.name.startswith("."):
            return "backups"
        return None

    def watch_filter(self) -> Callable[[object, str], bool]:
        return lambda _change, path: self.kind(path) is not None

    def paths(self) -> list[Path]:
        out = [self.dir]
        if self.backups.is_dir() and self.backups != self.dir:
            out.append(self.backups)
        return out


async def watch_changes(config: Config, stop: asyncio.Event) -> AsyncIterator[set[str]]:
    """Yield sets of kinds ("state", "journal", "backups") as they change, until `stop`.
    A missing or deleted folder is polled until it is back (and reported as a change)."""
    from watchfiles import awatch

    targets = Targets(config)
    while not stop.is_set():
        if not targets.dir.is_dir():
            yield {"state", "journal", "backups"}
            while not targets.dir.is_dir() and not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), MISSING_DIR_POLL_S)
                except asyncio.TimeoutError:
                    pass
            continue
        watched = targets.paths()
        try:
            async for changes in awatch(*watched, watch_filter=targets.watch_filter(), debounce=DEBOUNCE_MS,
                                        step=STEP_MS, recursive=False, stop_event=stop, ignore_permission_denied=True):
                kinds = {k for k in (targets.kind(path) for _c, path in changes) if k}
                if "rewatch" in kinds:
                    kinds.discard("rewatch")
                    if targets.paths() != watched or not targets.dir.is_dir():
                        yield {"state", "journal", "backups"}
                        break
                    kinds.add("backups")
                if kinds:
                    yield kinds
        except (OSError, RuntimeError):
            # The folder went away under the watcher (or a watch limit was hit): say the
            # file may have changed, pause, and watch again.
            yield {"state", "journal", "backups"}
            try:
                await asyncio.wait_for(stop.wait(), MISSING_DIR_POLL_S)
            except asyncio.TimeoutError:
                pass
