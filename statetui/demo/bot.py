"""The demo's simulated trading bot: a real separate process that holds the pid lock
and trades every second or two, writing through statetui's store, with the wallet's
cash moved on the demo chain before each trade is recorded (settlement first, as on
Polygon), so the chain and the state agree while all is well.

    python -m statetui.demo.bot --state S --pid-file P --rpc-url URL --wallet ADDR

The Jan 16 incident (`--incident jan16`, or the file `--trigger` appearing): two
positions resolve but stay unredeemed, the bot counts their $186 in peak_balance,
the false drawdown halts it, and it keeps running halted, holding its lock, as a real
bot would, so the recovery must stop it first. SIGTERM or SIGINT: a clean exit that
releases the lock."""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from statetui.core.errors import StatetuiError
from statetui.core.money import to_money
from statetui.core.store import StateStore
from statetui.demo.chain import set_wallet
from statetui.pidlock import AlreadyRunningError, PidLock, PidLockError

HALT_AT = Decimal("0.30")
AUTO_BACKUP_S = 600.0  # demo scale: the store's automatic backups show up within minutes
MARKETS = [
    "Will BTC close above $100k this week?",
    "Fed cuts rates in March?",
    "Will ETH flip $4k by Friday?",
    "Lakers win tonight?",
    "CPI above 3.0% in February?",
    "Will it snow in NYC on Saturday?",
]


def log(message: str) -> None:
    print(f"{datetime.now().strftime('%H:%M:%S')} bot[{os.getpid()}] {message}", flush=True)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Bot:
    def __init__(self, args: argparse.Namespace, stop: threading.Event):
        self.args = args
        self.stop = stop
        self.store = StateStore(args.state, backup_dir=args.backup_dir, auto_backup_interval=AUTO_BACKUP_S,
                                writer="demo-bot")
        self.rng = random.Random(args.seed)
        self.trades = 0
        self.incident_after = args.incident_after if args.incident else None
        self.trigger = Path(args.trigger) if args.trigger else None

    def run(self) -> None:
        parent = os.getppid()
        lo, hi = self.args.interval
        log(f"trading on {self.store.path} (wallet {self.args.wallet}, chain {self.args.rpc_url})")
        while not self.stop.wait(self.rng.uniform(lo, hi)):
            if os.getppid() != parent or not self.store.path.parent.exists():
                log("the demo is gone: exiting")  # never outlive the demo that started us
                return
            try:
                self.tick()
            except (StatetuiError, OSError) as exc:
                # A bot survives a bad tick (a file the user broke, the chain going away).
                log(f"tick failed: {exc}")

    def tick(self) -> None:
        state = self.store.load()
        due = self.incident_after is not None and self.trades >= self.incident_after
        triggered = self.trigger is not None and self.trigger.exists()
        if (due or triggered) and not _halted(state):
            self.incident_after = None
            if self.trigger is not None:
                self.trigger.unlink(missing_ok=True)
            self.jan16()
        elif not _halted(state):
            self.trade(state)

    def trade(self, state) -> None:
        cash = state.money("current_balance") or Decimal(0)
        stake = round(self.rng.uniform(4, 25), 2)
        price = round(self.rng.uniform(0.35, 0.85), 2)
        # A small edge, and a pull back to ~$220 so a long demo stays in a readable range.
        p_win = price + 0.04 + float(max(Decimal("-0.1"), min(Decimal("0.1"), (Decimal(220) - cash) / 1000)))
        won = self.rng.random() < p_win
        pnl = round(stake * (1 - price) / price, 2) if won else -stake
        market = self.rng.choice(MARKETS)
        reason = "trade win" if won else "trade loss"
        evidence = {"market": market, "stake": stake, "price": price, "pnl": pnl}
        with self.store.transaction(reason=reason, evidence=evidence) as s:
            new = round(s.current_balance + pnl, 2)
            if new < 0:
                raise StatetuiError("a trade would make the balance negative; skipped")
            set_wallet(self.args.rpc_url, self.args.wallet, to_money(new))  # settled on chain first
            s.current_balance = new
            s.daily_pnl = round((s.daily_pnl or 0) + pnl, 2)
            s.total_trades = (s.total_trades or 0) + 1
            if won:
                s.total_wins = (s.total_wins or 0) + 1
                s.consecutive_wins, s.consecutive_losses = (s.consecutive_wins or 0) + 1, 0
            else:
                s.consecutive_wins, s.consecutive_losses = 0, (s.consecutive_losses or 0) + 1
            if s.peak_balance is None or new > s.peak_balance:
                s.peak_balance = new  # realized cash only
            s.mode = "conservative" if s.consecutive_losses >= 3 else "normal"
            s.last_updated = now_iso()
            self._halt_if_drawdown(s)
        self.trades += 1
        log(f"{reason} {pnl:+.2f} on {market!r}: cash {new:.2f}")

    def jan16(self) -> None:
        """Stage the Jan 16 incident, one write at a time so a watcher sees each step."""
        from statetui.testing.scenarios import POSITION_VALUE, _positions

        positions = _positions()
        held = {int(p["token_id"]): int(Decimal(str(p["size"])) * 10**6) for p in positions}
        log("incident jan16: two positions resolved, shares still in the wallet (unredeemed)")
        with self.store.transaction(reason="positions resolved") as s:
            set_wallet(self.args.rpc_url, self.args.wallet, positions=held)
            s.positions = positions
            s.last_updated = now_iso()
        self.stop.wait(0.5)
        with self.store.transaction(reason="mark-to-market peak update") as s:
            # The bug: the peak counts position value that is not cash.
            s.peak_balance = round(s.current_balance + POSITION_VALUE, 2)
            s.last_updated = now_iso()
        self.stop.wait(0.5)
        with self.store.transaction(reason="drawdown halt") as s:
            self._halt_if_drawdown(s)
            s.last_updated = now_iso()
        log("incident jan16: false drawdown halt; the bot keeps running, halted, holding its lock")

    @staticmethod
    def _halt_if_drawdown(s) -> None:
        cash, peak = s.money("current_balance"), s.money("peak_balance")
        if cash is None or not peak:
            return
        dd = (peak - cash) / peak
        if dd >= HALT_AT:
            s.mode, s.halted = "halted", True
            s.halt_reason = f"drawdown {dd * 100:.1f}% >= {HALT_AT * 100:.0f}%"


def _halted(state) -> bool:
    return state.halted is True or state.mode == "halted"


def _interval(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition(",")
    a, b = float(lo), float(hi or lo)
    if not 0 < a <= b:
        raise argparse.ArgumentTypeError("expected MIN,MAX seconds with 0 < MIN <= MAX")
    return a, b


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m statetui.demo.bot", description=__doc__.split("\n\n")[0])
    p.add_argument("--state", required=True, help="state file")
    p.add_argument("--backup-dir", help="backups folder (default: backups/ beside the state)")
    p.add_argument("--pid-file", required=True, help="the pid lock this bot holds while it runs")
    p.add_argument("--rpc-url", required=True, help="the demo chain's JSON-RPC URL")
    p.add_argument("--wallet", required=True, help="the funder address whose cash the bot moves")
    p.add_argument("--incident", choices=("jan16",), help="stage this incident after --incident-after trades")
    p.add_argument("--incident-after", type=int, default=3, metavar="N")
    p.add_argument("--trigger", metavar="FILE", help="stage the Jan 16 incident when FILE appears")
    p.add_argument("--interval", type=_interval, default=(1.0, 2.0), metavar="MIN,MAX", help="seconds between ticks")
    p.add_argument("--seed", type=int)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        lock = PidLock(args.pid_file).acquire()
    except AlreadyRunningError as exc:
        print(f"demo bot: {exc}", file=sys.stderr)
        return 5
    except (PidLockError, StatetuiError) as exc:
        print(f"demo bot: {exc}", file=sys.stderr)
        return 4
    try:
        Bot(args, stop).run()
    finally:
        lock.release()
        log("stopped; pid lock released")
    return 0


if __name__ == "__main__":
    sys.exit(main())
