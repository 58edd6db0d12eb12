"""Prometheus metrics of a fleet: a custom prometheus_client collector over bot statuses
(statetui.core.fleet_status). No exposition text is written by hand: prometheus_client
renders it, so the format (escaping, HELP/TYPE lines, NaN) is the library's.

Every family is labelled `bot`; a figure the status cannot tell (None) is left out rather
than exported as a guess, so an alert on it stays silent instead of firing on a zero.
A collection reads files and /proc; it never writes and never calls the chain."""

from __future__ import annotations

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
    ("statetui_peak_age_seconds", "Seconds since the peak last changed, per the store's journal (at least: since its oldest "
     "entry when none changed it).", "peak_age"),
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
