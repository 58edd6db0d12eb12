"""Realistic sandboxes for tests, the demo and screenshots: a state written through the
real store (so the journal and backups are genuine), then shaped into a scenario.

    healthy(dir)  -- a bot trading normally: journal, backups, peak == realized high.
    jan16(dir)    -- the Jan 16 desync: peak_balance includes $186 of position value,
                     so a false 48% drawdown halted the bot (cash really is 200.97)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from statetui.core.store import StateStore

CASH = 200.97
POSITION_VALUE = 186.00


@dataclass
class Scenario:
    root: Path
    state: Path
    backups: Path
    store: StateStore


def _positions() -> list[dict]:
    # Two unredeemed winning positions worth $186.00 in all (token ids as the CTF keys them).
    return [
        {"market": "Will BTC close above $100k on Jan 15?", "outcome": "Yes", "token_id": "71321045679252212594626385532706912750332728571942532289631379312455583992563",
         "size": 120.0, "avg_price": 0.41, "current_value": 120.0, "status": "resolved-unredeemed"},
        {"market": "Fed cuts rates in January?", "outcome": "No", "token_id": "52114319501245915516055106046884209969926127482827954674443846427813813222426",
         "size": 66.0, "avg_price": 0.62, "current_value": 66.0, "status": "resolved-unredeemed"},
    ]


def _base(cash: float) -> dict:
    from decimal import Decimal

    from statetui.core.model import default_state

    doc = default_state(Decimal(str(cash)), "2026-01-15T00:00:00Z")
    doc["starting_balance"] = 150.0
    # Fields statetui does not know: kept exactly as the bot wrote them.
    doc["strategy"] = {"name": "late-favourite", "max_position_usd": 25, "kelly_fraction": 0.25}
    doc["bot_version"] = "2.3.1"
    return doc


def _sandbox(root: Path) -> Scenario:
    root = Path(root)
    state = root / "state" / "trading_state.json"
    backups = root / "state" / "backups"
    state.parent.mkdir(parents=True, exist_ok=True)
    store = StateStore(state, backup_dir=backups, auto_backup_interval=None, writer="bot.py")
    return Scenario(root, state, backups, store)


def _trade(store: StateStore, pnl: float, won: bool) -> None:
    with store.transaction(reason="trade win" if won else "trade loss") as s:
        s.current_balance = round(s.current_balance + pnl, 2)
        s.daily_pnl = round((s.daily_pnl or 0) + pnl, 2)
        s.total_trades += 1
        if won:
            s.total_wins += 1
            s.consecutive_wins, s.consecutive_losses = s.consecutive_wins + 1, 0
        else:
            s.consecutive_wins, s.consecutive_losses = 0, s.consecutive_losses + 1
        if s.current_balance > s.peak_balance:
            s.peak_balance = s.current_balance


TRADES = [(12.5, True), (-4.2, False), (18.3, True), (9.1, True), (-6.0, False), (15.77, True), (5.5, True)]


def healthy(root: str | os.PathLike[str], backups_ages_h: tuple[float, ...] = (1.0, 25.0, 24 * 8)) -> Scenario:
    sc = _sandbox(Path(root))
    sc.store.init(_base(150.0), reason="init")
    for i, (pnl, won) in enumerate(TRADES):
        _trade(sc.store, pnl, won)
        if i in (1, 4):
            sc.store.backup(reason="daily")
    _age_backups(sc, backups_ages_h)
    return sc


def jan16(root: str | os.PathLike[str]) -> Scenario:
    """Cash 200.97 is right (it matches the chain); the peak 386.97 = cash + $186 of positions."""
    sc = healthy(root)
    with sc.store.transaction(reason="positions resolved") as s:
        s.positions = _positions()
    with sc.store.transaction(reason="mark-to-market peak update") as s:  # the bug: peak includes position value
        s.peak_balance = round(s.current_balance + POSITION_VALUE, 2)
    with sc.store.transaction(reason="drawdown halt") as s:
        dd = (s.peak_balance - s.current_balance) / s.peak_balance
        s.mode, s.halted = "halted", True
        s.halt_reason = f"drawdown {dd * 100:.1f}% >= 30%"
    return sc


def _age_backups(sc: Scenario, ages_h: tuple[float, ...]) -> None:
    """Give the backups realistic ages by renaming them (their names carry their time)."""
    from datetime import datetime, timezone

    from statetui.core.backups import TS_FORMAT, _OURS

    infos = [b for b in sc.store.backups.list(verify=False) if b.kind == "statetui"]
    now = time.time()
    for info, age_h in zip(infos, ages_h):
        m = _OURS.match(info.name)
        ts = datetime.fromtimestamp(now - age_h * 3600, timezone.utc).strftime(TS_FORMAT)
        new = info.path.with_name(f"{m['stem']}.{ts}.{m['reason']}.{m['sha']}.json")
        os.rename(info.path, new)
        os.utime(new, (now - age_h * 3600, now - age_h * 3600))
