"""Bot statuses for whoever asks again and again (the exporter's scrapes, the console's fleet
screen): a bot whose files have not changed is not re-audited on every pass.

While a bot's state, journal, backups folder, pid file and lock file are unchanged (inode,
size and mtime in ns) and its last full status is younger than max_age, a pass reuses that
status with its ages moved on by the time passed, and asks afresh only whether the bot runs.
Any change to those files, or a newer chain reading, recomputes it whole at the next pass."""

from __future__ import annotations

import dataclasses
import threading
import time

from statetui.core.fleet import Bot, files_stamp
from statetui.core.fleet_status import BotStatus, bot_status, running_of

# A status's check results are reused while nothing they read has changed, for at most this
# long (the ages, the outside-write window and the processes move with time alone).
CHECKS_MAX_AGE_S = 60.0


class CachedFleet:
    """Call it for every bot's status (see the module's docstring). Thread-safe: concurrent
    passes take turns."""

    def __init__(self, bots: list[Bot], *, checks: bool = True, max_age: float = CHECKS_MAX_AGE_S):
        self.bots = bots
        self.checks = checks
        self.max_age = max_age
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, float, BotStatus]] = {}

    def __call__(self) -> list[BotStatus]:
        from statetui.core.scanmemo import host_snapshot

        now = time.time()
        with self._lock, host_snapshot():
            out = []
            for bot in self.bots:
                key = fingerprint(bot)
                hit = self._cache.get(bot.name)
                if hit is not None and hit[0] == key and now - hit[1] < self.max_age:
                    passed = now - hit[1]
                    status = dataclasses.replace(hit[2], running=running_of(bot.config, now))
                    for age in ("state_age", "peak_age", "backup_age"):
                        if getattr(status, age) is not None:
                            setattr(status, age, getattr(status, age) + passed)
                else:
                    status = bot_status(bot, checks=self.checks, now=now)
                    self._cache[bot.name] = (key, now, status)
                out.append(status)
            return out


def fingerprint(bot: Bot) -> tuple:
    """What a bot's local checks read (statetui.core.fleet.files_stamp), and the newest chain
    reading where a chain is configured: a change to any re-runs them."""
    keys = files_stamp(bot.config)
    if bot.config.chain_configured:  # a new chain reading (reconcile, audit, the refresh) is news too
        from statetui.core.chain_status import reading_key

        return (*keys, reading_key(bot.config))
    return keys
