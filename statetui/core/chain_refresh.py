"""The exporter's background chain reading: every chain_refresh_interval, each bot's wallet
cash beside its state's, remembered through statetui.core.chain_status. Scrapes only read
what this left; an RPC that hangs delays this thread, never a scrape."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any


def refresh_once(bot: Any) -> None:
    """Read one bot's chain cash and state cash now and remember the difference."""
    from statetui.core.chain import read_chain
    from statetui.core.chain_status import remember
    from statetui.core.roles import roles_for
    from statetui.core.store import StateStore

    config = bot.config
    doc = StateStore.for_config(config, auto_backup_interval=None, read_only=True).load()._document()
    cash = roles_for(config, doc).money(doc, "cash")
    if cash is None:
        return
    reading = read_chain(config)
    remember(config, cash, reading.cash, reading.block_number, "refresh")


def start_chain_refresh(bots: list[Any], stop: threading.Event) -> threading.Thread | None:
    """A daemon thread refreshing every bot whose chain is configured; None when none is."""
    chained = [b for b in bots if b.config.chain_configured]
    if not chained:
        return None

    def loop() -> None:
        due = {b.name: 0.0 for b in chained}
        while not stop.is_set():
            now = time.time()
            for bot in chained:
                if now >= due[bot.name]:
                    due[bot.name] = now + bot.config.chain_refresh_interval
                    try:
                        refresh_once(bot)
                    except Exception as exc:  # reported, and tried again at the next interval
                        from statetui.core.textsafe import one_line

                        print(f"statetui: warning: bot {bot.name!r}: chain refresh failed: {one_line(str(exc))}",
                              file=sys.stderr, flush=True)
            stop.wait(max(0.5, min(due.values()) - time.time()))

    thread = threading.Thread(target=loop, name="statetui-chain-refresh", daemon=True)
    thread.start()
    return thread
