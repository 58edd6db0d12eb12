"""Fleets for the console tests, snapshots and screenshots: every bot's state written
through the real store (statetui.testing.scenarios), each bot in its own folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from statetui.core.config import Config
from statetui.core.fleet import Bot
from statetui.testing import scenarios

from tests.tui import frozen


def _corrupt(root: Path) -> scenarios.Scenario:
    """A bot whose state file lost its closing brace (a write cut short)."""
    sc = scenarios.healthy(root)
    size = os.path.getsize(sc.state)
    with open(sc.state, "r+b") as f:
        f.truncate(size - 2)
    return sc


def _small(root: Path) -> scenarios.Scenario:
    """A bot with one trade and one backup: cheap enough to build fifty."""
    from decimal import Decimal

    from statetui.core.model import default_state

    sc = scenarios._sandbox(root)
    sc.store.init(default_state(Decimal("150.00"), "2026-01-15T00:00:00Z"), reason="init")
    sc.store.backup(reason="daily")
    with sc.store.transaction(reason="trade win") as s:
        s.current_balance = round(s.current_balance + 12.5, 2)
        s.peak_balance = max(s.peak_balance, s.current_balance)
        s.total_trades += 1
    return sc


KINDS: dict[str, Callable[[Path], scenarios.Scenario]] = {
    "healthy": scenarios.healthy, "jan16": scenarios.jan16, "corrupt": _corrupt, "small": _small,
}


def make_bot(root: Path, name: str, kind: str = "healthy", freeze: bool = False) -> Bot:
    """`freeze`: every time in it pinned (journal, file and backup times; tests/tui/frozen.py)."""
    sc = KINDS[kind](root / name)
    if freeze:
        frozen.freeze(sc)
    return Bot(name, Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid"))


def three(root: Path, freeze: bool = False) -> list[Bot]:
    """alpha trades normally; beta is the Jan 16 desync (halted on a false drawdown); gamma's
    state file is cut short."""
    return [make_bot(root, "alpha", "healthy", freeze), make_bot(root, "beta", "jan16", freeze),
            make_bot(root, "gamma", "corrupt", freeze)]


def many(root: Path, n: int = 50, freeze: bool = False) -> list[Bot]:
    """n bots: mostly small healthy ones, a halted one and a corrupt one among them."""
    out = []
    for i in range(n):
        kind = "jan16" if i == n // 3 else "corrupt" if i == 2 * n // 3 else "small"
        out.append(make_bot(root, f"bot-{i:02d}", kind, freeze))
    return out


# The README's fleet: (name, scenario, trades after it), each trade a P&L through the store.
SHOWCASE = [
    ("poly-favourites", "healthy", (35.2, 11.4)),
    ("poly-news", "jan16", ()),
    ("poly-weather", "corrupt", ()),
    ("btc-15m", "healthy", (-24.1,)),
    ("nba-props", "healthy", (-66.0,)),
    ("eth-hourly", "small", ()),
    ("fed-rates", "healthy", (8.25,)),
]


def showcase(root: Path, freeze: bool = False) -> list[Bot]:
    out = []
    for name, kind, trades in SHOWCASE:
        sc = KINDS[kind](root / name)
        for pnl in trades:
            scenarios._trade(sc.store, pnl, pnl > 0)
        if freeze:
            frozen.freeze(sc)
        out.append(Bot(name, Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid")))
    return out


def snapshot_fleet(name: str, n: int | str | None = None) -> list[Bot]:
    """A fleet at a fixed path with every time pinned (tests/tui/frozen.py): three bots,
    `n` bots, or n="showcase"."""
    import shutil

    root = frozen.ROOT / name
    shutil.rmtree(root, ignore_errors=True)
    if n == "showcase":
        return showcase(root, freeze=True)
    return three(root, freeze=True) if n is None else many(root, int(n), freeze=True)
