"""Bot state schemas written for the tests: the patterns real bots use (flat, nested, per
symbol, positions as a list, an object or the whole document, EUR, only a peak, only a
kill switch, neither cash nor peak ...), each with the roles detection must find (None:
the role must stay unmapped) and a healthy and a halted variant where the bot has a halt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Schema:
    name: str
    doc: dict[str, Any]
    roles: dict[str, str | None]  # what detection must assign (None: nothing)
    basis: str | None = None
    currency: str = "USD"
    halted_doc: dict[str, Any] | None = None  # the same bot, halted by its drawdown
    notes: list[str] = field(default_factory=list)


SCHEMAS = [
    Schema("flat", {
        "cash_usd": 180.5, "peak_usd": 220.0, "starting_capital": 150.0, "pnl_today": -3.25,
        "halted": False, "halt_reason": "", "trade_count": 42, "wins": 25, "losses": 17,
        "updated_at": "2026-11-01T10:00:00Z", "positions": [],
    }, {"cash": "cash_usd", "peak": "peak_usd", "starting": "starting_capital", "daily_pnl": "pnl_today",
        "halted": "halted", "halt_reason": "halt_reason", "trades": "trade_count", "wins": "wins",
        "losses": "losses", "updated_at": "updated_at", "positions": "positions", "equity": None},
        basis="cash",
        halted_doc={"cash_usd": 140.0, "peak_usd": 220.0, "starting_capital": 150.0, "pnl_today": -20.0,
                    "halted": True, "halt_reason": "max drawdown 36% reached", "trade_count": 50, "wins": 26,
                    "losses": 24, "updated_at": "2026-11-02T10:00:00Z", "positions": []}),
    Schema("nested-account", {
        "version": 3,
        "account": {"cash": 95.25, "equity": 120.0, "high_water_mark": 130.0, "currency": "USD"},
        "risk": {"kill_switch_latched": False, "kill_reason": None, "max_drawdown_pct": 25},
        "daily_stats": {"date": "2026-11-01", "trades": 4, "wins": 3, "losses": 1, "pnl": 2.5},
        "open_positions": {},
    }, {"cash": "account.cash", "equity": "account.equity", "peak": "account.high_water_mark",
        "halted": "risk.kill_switch_latched", "halt_reason": "risk.kill_reason", "trades": "daily_stats.trades",
        "wins": "daily_stats.wins", "losses": "daily_stats.losses", "daily_pnl": "daily_stats.pnl",
        "positions": "open_positions", "starting": None}, basis=None,
        notes=["high_water_mark alone does not say cash or equity, and the bot keeps both: basis unknown"]),
    Schema("per-symbol", {
        "traders": {
            "BTC": {"balance": 60.0, "open": False, "trades": 10},
            "ETH": {"balance": 45.5, "open": True, "trades": 7},
            "SOL": {"balance": 20.25, "open": False, "trades": 3},
        },
        "emergency_stopped": False, "last_update": 1761990000.0,
    }, {"cash": "traders.*.balance", "halted": "emergency_stopped", "updated_at": "last_update", "peak": None}),
    Schema("positions-object", {
        "bankroll_current": 310.0, "bankroll_initial": 250.0, "highest_value": 335.0,
        "trading_paused": False,
        "positions": {"0x1a2b": {"token_id": "123", "shares": 10.0, "avg_price": 0.4},
                      "0x3c4d": {"token_id": "456", "shares": 5.0, "avg_price": 0.7}},
    }, {"cash": "bankroll_current", "starting": "bankroll_initial", "peak": "highest_value",
        "halted": "trading_paused", "positions": "positions"}, basis="equity",
        notes=["'highest_value' names value: an equity peak, and this bot keeps no equity figure"]),
    Schema("positions-root", {
        "0xa1b2c3": {"side": "BUY", "size": 5.0, "price": 0.62, "token_id": "8841"},
        "0xd4e5f6": {"side": "SELL", "size": 2.0, "price": 0.31, "token_id": "9932"},
    }, {"positions": "$", "cash": None, "peak": None, "halted": None}),
    Schema("eur", {
        "available_capital_eur": 1800.0, "peak_equity_eur": 2100.0, "equity_eur": 1950.0,
        "mode": "normal", "positions": [],
    }, {"cash": "available_capital_eur", "peak": "peak_equity_eur", "equity": "equity_eur", "mode": "mode",
        "positions": "positions"}, basis="equity", currency="EUR",
        halted_doc={"available_capital_eur": 1200.0, "peak_equity_eur": 2100.0, "equity_eur": 1300.0,
                    "mode": "halted", "positions": []}),
    Schema("only-peak", {"peak_balance": 500.0, "strategy": "grid", "grid_levels": 12},
           {"peak": "peak_balance", "cash": None}, basis="cash",
           notes=["a cash peak and no cash figure to compare it with: drawdown cannot be told"]),
    Schema("only-kill-switch", {"kill_switch": True, "kill_switch_reason": "manual", "symbols": ["BTC", "ETH"]},
           {"halted": "kill_switch", "halt_reason": "kill_switch_reason", "cash": None, "peak": None}),
    Schema("neither", {"current_stake": 2.0, "win_streak": 3, "last_asset": "BTC",
                       "daily_stats": {"trades_count": 5, "wins": 3, "losses": 2}},
           {"cash": None, "peak": None, "trades": "daily_stats.trades_count", "wins": "daily_stats.wins",
            "losses": "daily_stats.losses"}),
    Schema("inverted-flag", {"balance": 75.0, "peak_balance": 90.0, "trading_enabled": True,
                             "stop_reason": None, "total_trades": 9},
           {"cash": "balance", "peak": "peak_balance", "halted": "!trading_enabled", "halt_reason": "stop_reason",
            "trades": "total_trades"}, basis="cash",
           halted_doc={"balance": 60.0, "peak_balance": 90.0, "trading_enabled": False,
                       "stop_reason": "drawdown limit hit", "total_trades": 12}),
    Schema("status-string", {"paper_balance": 1000.0, "peak_balance": 1000.0, "status": "running",
                             "stats": {"total_bets": 3, "total_wins": 2, "total_losses": 1}},
           {"cash": "paper_balance", "peak": "peak_balance", "mode": "status", "trades": "stats.total_bets",
            "wins": "stats.total_wins", "losses": "stats.total_losses"}, basis="cash",
           halted_doc={"paper_balance": 600.0, "peak_balance": 1000.0, "status": "paused",
                       "stats": {"total_bets": 9, "total_wins": 3, "total_losses": 6}}),
    Schema("ambiguous-cash", {"paper_balance": 100.0, "live_balance": 40.0, "peak_balance": 120.0},
           {"cash": None, "peak": "peak_balance"}, basis="cash",
           notes=["two balances: neither is guessed, so the drawdown cannot be told"]),
    Schema("camel-case", {"cashBalance": 88.0, "peakBalance": 99.0, "isHalted": False, "haltReason": None,
                          "totalTrades": 4, "totalWins": 2, "lastUpdated": "2026-11-01T00:00:00Z"},
           {"cash": "cashBalance", "peak": "peakBalance", "halted": "isHalted", "halt_reason": "haltReason",
            "trades": "totalTrades", "wins": "totalWins", "updated_at": "lastUpdated"}, basis="cash",
           halted_doc={"cashBalance": 50.0, "peakBalance": 99.0, "isHalted": True, "haltReason": "drawdown 49%",
                       "totalTrades": 8, "totalWins": 2, "lastUpdated": "2026-11-02T00:00:00Z"}),
]

BY_NAME = {s.name: s for s in SCHEMAS}
