"""Realistic Polymarket bot state documents for tests and benchmarks.

`realistic_state(seed)` returns a ~10 KB document shaped like a real bot's file: every
known field, open positions keyed by their CTF ERC-1155 token ids, and the kind of
extra, nested data bots keep (strategy parameters, recent trades, daily stats) that the
store must carry through untouched. Deterministic for a given seed.

`STYLES` are the ways bots write JSON (json.dump defaults, indent 2/4/tab, compact,
with or without ensure_ascii); `encode(doc, style)` gives the exact bytes."""

from __future__ import annotations

import json
import os
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

KNOWN_FIELDS = (
    "current_balance", "peak_balance", "day_start_balance", "starting_balance", "daily_pnl",
    "mode", "halted", "halt_reason", "consecutive_wins", "consecutive_losses",
    "total_trades", "total_wins", "positions", "last_updated",
)

# json.dumps keyword arguments, plus whether the file ends with a newline.
STYLES: dict[str, dict[str, Any]] = {
    "indent2": {"indent": 2},
    "indent4": {"indent": 4},
    "tab": {"indent": "\t"},
    "compact": {"separators": (",", ":")},
    "default": {},  # json.dump(state, f): ", " and ": " on one line
    "indent2-utf8": {"indent": 2, "ensure_ascii": False},
    "compact-utf8": {"separators": (",", ":"), "ensure_ascii": False},
    "indent2-newline": {"indent": 2, "newline": True},
}

_MARKETS = [
    "Will BTC close above $100k on Jan 31?",
    "Fed cuts rates in March 2026?",
    "Will ETH flip $4,000 this week?",
    "Lakers win the 2026 NBA title?",
    "Highest temperature in NYC on Jan 20 above 40°F?",
    "Will the UK hold a general election before 2027?",
    "SpaceX Starship reaches orbit in Q1?",
    "Will Taylor Swift announce a new album in February?",
    "US unemployment above 4.5% in the February report?",
    "Will Bitcoin dominance exceed 60% by March?",
    "Champions League winner: Real Madrid?",
    "Will OpenAI release GPT-6 before July?",
]


def encode(doc: Any, style: str = "indent2") -> bytes:
    """The bytes a bot writing in `style` would produce."""
    kw = dict(STYLES[style])
    newline = kw.pop("newline", False)
    text = json.dumps(doc, **kw)
    return (text + "\n" if newline else text).encode("utf-8")


def _token_id(rng: random.Random) -> str:
    # CTF position ids are uint256, written by Polymarket's APIs as decimal strings.
    return str(rng.getrandbits(255) | (1 << 254))


def _hex(rng: random.Random, nbytes: int) -> str:
    return "0x" + rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def _cents(x: float) -> float:
    return round(x, 2)


def realistic_state(seed: int = 0, *, positions: int = 7, trades: int = 10, days: int = 7,
                    now: datetime | None = None) -> dict[str, Any]:
    """A bot state document (~10 KB as indent-2 JSON with the defaults)."""
    rng = random.Random(seed)
    now = now or datetime(2026, 1, 16, 1, 56, 0, tzinfo=timezone.utc)
    iso = lambda t: t.isoformat(timespec="seconds").replace("+00:00", "Z")  # noqa: E731
    starting = 150.0
    cash = _cents(rng.uniform(150, 400))
    peak = _cents(cash + rng.uniform(0, 60))
    day_start = _cents(cash + rng.uniform(-20, 20))
    wins = rng.randint(20, 200)
    total = wins + rng.randint(10, 150)

    pos_list = []
    for i in range(positions):
        size = _cents(rng.uniform(5, 250))
        avg = round(rng.uniform(0.05, 0.95), 3)
        price = round(min(0.999, max(0.001, avg + rng.uniform(-0.2, 0.2))), 3)
        pos_list.append({
            "token_id": _token_id(rng),
            "condition_id": _hex(rng, 32),
            "market": _MARKETS[(seed + i) % len(_MARKETS)],
            "market_slug": f"market-{seed}-{i}",
            "outcome": rng.choice(["Yes", "No"]),
            "side": "BUY",
            "size": size,
            "avg_price": avg,
            "current_price": price,
            "cost_basis": _cents(size * avg),
            "opened_at": iso(now - timedelta(hours=rng.randint(1, 240))),
            "neg_risk": rng.random() < 0.3,
            "order_ids": [_hex(rng, 32) for _ in range(rng.randint(1, 2))],
            "status": rng.choice(["open", "open", "open", "resolved-unredeemed"]),
        })

    recent = []
    for i in range(trades):
        size = _cents(rng.uniform(2, 80))
        pnl = _cents(rng.uniform(-size * 0.8, size))
        recent.append({
            "ts": iso(now - timedelta(minutes=37 * (trades - i))),
            "token_id": _token_id(rng),
            "side": rng.choice(["BUY", "SELL"]),
            "size": size,
            "price": round(rng.uniform(0.02, 0.98), 3),
            "pnl": pnl,
            "tx": _hex(rng, 32),
        })

    stats = {}
    for d in range(days):
        day = (now - timedelta(days=days - d)).date().isoformat()
        stats[day] = {"trades": rng.randint(0, 30), "wins": rng.randint(0, 15),
                      "pnl": _cents(rng.uniform(-30, 40)), "max_drawdown": round(rng.uniform(0, 0.3), 4)}

    return {
        "current_balance": cash,
        "peak_balance": peak,
        "day_start_balance": day_start,
        "starting_balance": starting,
        "daily_pnl": _cents(cash - day_start),
        "mode": rng.choice(["normal", "normal", "conservative", "defensive", "recovery"]),
        "halted": False,
        "halt_reason": None,
        "consecutive_wins": rng.randint(0, 5),
        "consecutive_losses": rng.randint(0, 3),
        "total_trades": total,
        "total_wins": wins,
        "positions": pos_list,
        "last_updated": iso(now),
        # Fields statetui does not know: kept exactly, in place.
        "version": 3,
        "bot_id": f"polybot-{seed:04d}",
        "wallet": {"funder": _hex(rng, 20), "signer": _hex(rng, 20), "signature_type": 2, "chain_id": 137},
        "strategy": {
            "name": "edge-kelly",
            "params": {"kelly_fraction": 0.25, "max_position_pct": 0.05, "min_edge": 0.02,
                       "max_open_positions": 12, "drawdown_halt": 0.3, "markets": ["crypto", "politics", "sports"]},
        },
        "recent_trades": recent,
        "daily_stats": stats,
        "redemptions_pending": [p["condition_id"] for p in pos_list if p["status"] == "resolved-unredeemed"],
        "notes": None,
    }


def left_by_a_stopped_bot(path: str | os.PathLike[str], age_s: float = 3600.0) -> None:
    """Date a state file written by hand `age_s` back, as a bot that has stopped leaves it.
    (A state written seconds ago outside the store is a running bot's: repairs refuse it.)"""
    when = time.time() - age_s
    os.utime(path, (when, when))
