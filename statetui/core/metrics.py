"""Prometheus metrics of a fleet: a custom prometheus_client collector over bot statuses
(statetui.core.fleet_status). No exposition text is written by hand: prometheus_client
renders it, so the format (escaping, HELP/TYPE lines, NaN) is the library's.

Every family is labelled `bot`; a figure the status cannot tell (None) is left out rather
than exported as a guess, so an alert on it stays silent instead of firing on a zero.
A collection reads files and /proc; it never writes and never calls the chain."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from statetui.core.fleet import Bot
from statetui.core.fleet_status import RANK, BotStatus, fleet_status

# (name, help, BotStatus attribute); each exported only where the status knows it.
FIGURES = (
    ("statetui_cash", "Cash the state file holds (the bot's cash role), in its currency.", "cash"),
    ("statetui_peak", "Peak the state file holds (the bot's peak role).", "peak"),
    ("statetui_drawdown_ratio", "Drawdown from the peak, 0..1 (0.3 = 30% of the peak lost).", "drawdown"),
    ("statetui_halted", "1 when the state says the bot is halted, 0 when it says it is not.", "halted"),
    ("statetui_state_age_seconds", "Seconds since the state file was last written.", "state_age"),
    ("statetui_peak_age_seconds", "Seconds since the peak last changed, by the store's journal.", "peak_age"),
    ("statetui_backup_age_seconds", "Seconds since the newest backup of the state file.", "backup_age"),
    ("statetui_bot_running", "1 when the bot is running, 0 when it is not (absent: cannot tell).", "running"),
    ("statetui_chain_mismatch", "State cash minus on-chain cash at the last chain reading, in dollars.", "chain_mismatch"),
)


def _number(value: Decimal | float | bool) -> float:
    return float(value)


class FleetCollector(Collector):
    """Collects `statuses()` on every scrape (a list of BotStatus)."""

    def __init__(self, statuses: Callable[[], list[BotStatus]]):
        self._statuses = statuses

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # not collected at registration: a scrape is the only time we look

    def collect(self) -> Iterable[GaugeMetricFamily]:
        statuses = self._statuses()
        up = GaugeMetricFamily("statetui_up", "1 when the bot's state file loads, 0 when it does not.", labels=["bot"])
        for s in statuses:
            up.add_metric([s.name], 1.0 if s.loads else 0.0)
        yield up
        for name, text, attr in FIGURES:
            family = GaugeMetricFamily(name, text, labels=["bot"])
            for s in statuses:
                value = getattr(s, attr)
                if value is not None:
                    family.add_metric([s.name], _number(value))
            yield family
        checks = GaugeMetricFamily("statetui_check_status", "Audit check status: 0 pass or skipped, 1 warning, "
                                   "2 fail, 3 critical (local checks).", labels=["bot", "check"])
        for s in statuses:
            for check_id, value in s.checks.items():
                checks.add_metric([s.name, check_id], float(RANK[value]))
        yield checks


def registry_for(statuses: Callable[[], list[BotStatus]]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(statuses))
    return registry


def render(bots: list[Bot], *, checks: bool = True) -> str:
    """The text exposition format of every bot's metrics, computed now."""
    from prometheus_client import generate_latest

    return generate_latest(registry_for(lambda: fleet_status(bots, checks=checks))).decode("utf-8")


# A status's check results are reused while nothing they read has changed, for at most this
# long (the ages, the outside-write window and the processes move with time alone).
CHECKS_MAX_AGE_S = 60.0


class CachedFleet:
    """Statuses for a long-running exporter. While a bot's files are unchanged (state,
    journal, backups folder, pid file, lock file: inode, size and mtime in ns) and its last
    full status is younger than max_age, a scrape reuses that status with its ages moved on
    by the time passed, and asks afresh only whether the bot runs. Any change to those files
    recomputes it whole. Thread-safe: concurrent scrapes take turns."""

    def __init__(self, bots: list[Bot], *, checks: bool = True, max_age: float = CHECKS_MAX_AGE_S):
        self.bots = bots
        self.checks = checks
        self.max_age = max_age
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, float, BotStatus]] = {}

    def __call__(self) -> list[BotStatus]:
        import dataclasses

        from statetui.core.fleet_status import bot_status, running_of
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
    """What a bot's local checks read, as (inode, size, mtime) keys: a change to any re-runs them."""
    import os

    from statetui.core.journal import journal_path_for

    config = bot.config
    state = os.path.abspath(config.state)
    paths = (state, str(journal_path_for(type(config.state)(state))), str(config.backups), str(config.pid_file),
             state + ".lock")
    keys = []
    for path in paths:
        try:
            st = os.stat(path)
            keys.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            keys.append(None)
    return tuple(keys)
