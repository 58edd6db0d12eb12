"""The demo's simulated trading bot: a real separate process that holds the pid lock
and trades every second or two, writing through statetui's store, with the wallet's
cash moved on the demo chain before each trade is recorded (settlement first, as on
Polygon), so the chain and the state agree while all is well.

    python -m statetui.demo.bot --config SANDBOX/config.toml
    python -m statetui.demo.bot --state S --pid-file P --rpc-url URL --wallet ADDR

It sizes each stake to its drawdown headroom (at most a quarter of what it may still
lose before its own 20% limit, well inside the 30% halt), so left alone it never halts:
a halt in the demo is an incident (tests/test_demo.py simulates an hour of it).

Incidents (`--incident NAME` after a few trades, or the file `incident.NAME` appearing in
`--triggers DIR`), each a real failure, staged by the bot's own hand:
  jan16       two positions resolve but stay unredeemed, the bot counts their $186 in
              peak_balance, the false drawdown halts it; it keeps running halted,
              holding its lock, as a real bot would, so the recovery must stop it first
  corrupt     a second writer without atomic replace is cut off mid-write: half a JSON
              file; the bot refuses to trade on it and keeps running
  stale-lock  the bot is killed (kill -9): its pid file stays, nobody holds the lock
  mismatch    $40 leaves the wallet outside the bot (a withdrawal it never saw): the
              state still counts it
SIGTERM, SIGINT or SIGHUP: a clean exit that releases the lock. The bot also exits when
the process that started it goes away (PR_SET_PDEATHSIG, and a check every tick)."""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from statetui.core.errors import StatetuiError
from statetui.core.money import to_money
from statetui.core.store import StateStore
from statetui.demo.chain import get_cash, set_wallet
from statetui.demo.sandbox import INCIDENT_IDS
from statetui.pidlock import AlreadyRunningError, PidLock, PidLockError

HALT_AT = Decimal("0.30")
SOFT_LIMIT = 0.20  # the bot's own drawdown limit, inside the halt's 30%
STAKE_SHARE = 0.25  # of the headroom left before SOFT_LIMIT: no loss, nor run of losses, reaches it
STAKES = (1.0, 6.0)  # dollars, on a ~$200 bankroll
MIN_STAKE = 0.01
AUTO_BACKUP_S = 600.0  # demo scale: the store's automatic backups show up within minutes
WITHDRAWAL = Decimal("40.00")  # the mismatch incident
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


@dataclass(frozen=True)
class Trade:
    market: str
    stake: float
    price: float
    won: bool
    pnl: float


def next_trade(rng: random.Random, cash: float, peak: float | None) -> Trade | None:
    """The bot's whole strategy: a stake of $1-6, never more than STAKE_SHARE of the cash
    it may still lose before its SOFT_LIMIT drawdown (None: a stake under a cent, sit
    out); a small edge that grows in a drawdown, so it climbs back instead of crawling."""
    top = max(cash, peak or cash)
    headroom = cash - top * (1 - SOFT_LIMIT)
    stake = int(min(rng.uniform(*STAKES), headroom * STAKE_SHARE) * 100) / 100  # cents, rounded down
    price = round(rng.uniform(0.35, 0.85), 2)
    market = rng.choice(MARKETS)
    p_win = price + 0.01 + 0.5 * (top - cash) / top
    won = rng.random() < p_win
    if stake < MIN_STAKE:
        return None
    pnl = round(stake * (1 - price) / price, 2) if won else -stake
    return Trade(market, stake, price, won, pnl)


def apply_trade(s, t: Trade) -> float:
    """Record a trade in the state `s` (a transaction's state); returns the new cash."""
    new = round(s.current_balance + t.pnl, 2)
    s.current_balance = new
    s.daily_pnl = round((s.daily_pnl or 0) + t.pnl, 2)
    s.total_trades = (s.total_trades or 0) + 1
    if t.won:
        s.total_wins = (s.total_wins or 0) + 1
        s.consecutive_wins, s.consecutive_losses = (s.consecutive_wins or 0) + 1, 0
    else:
        s.consecutive_wins, s.consecutive_losses = 0, (s.consecutive_losses or 0) + 1
    if s.peak_balance is None or new > s.peak_balance:
        s.peak_balance = new  # realized cash only
    s.mode = "conservative" if s.consecutive_losses >= 3 else "normal"
    halt_if_drawdown(s)
    return new


def halt_if_drawdown(s) -> None:
    cash, peak = s.money("current_balance"), s.money("peak_balance")
    if cash is None or not peak:
        return
    dd = (peak - cash) / peak
    if dd >= HALT_AT:
        s.mode, s.halted = "halted", True
        s.halt_reason = f"drawdown {dd * 100:.1f}% >= {HALT_AT * 100:.0f}%"


class Stop:
    """Set by SIGTERM/SIGINT/SIGHUP, and wakes a sleeping bot at once: the signal writes
    to a pipe (signal.set_wakeup_fd) that `wait` selects on (a threading.Event.wait in
    the main thread would sleep out its timeout first)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._r, w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)

    def set(self) -> None:
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True once stopped."""
        deadline = time.monotonic() + seconds
        while not self.event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            select.select([self._r], [], [], left)
            try:
                os.read(self._r, 512)
            except BlockingIOError:
                pass
        return self.event.is_set()


class Bot:
    def __init__(self, args: argparse.Namespace, stop: Stop):
        self.args = args
        self.stop = stop
        self.store = StateStore(args.state, backup_dir=args.backup_dir, auto_backup_interval=AUTO_BACKUP_S,
                                writer="demo-bot")
        self.rng = random.Random(args.seed)
        self.trades = 0
        self.scheduled = args.incident if args.incident not in (None, "none") else None
        self.triggers = Path(args.triggers) if args.triggers else None

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
        incident = self._due()
        if incident is not None:
            log(f"incident {incident}: staging it")
            getattr(self, "stage_" + incident.replace("-", "_"))()
            return
        state = self.store.load()
        if not _halted(state):
            self.trade(state)

    def _due(self) -> str | None:
        if self.triggers is not None:
            for name in INCIDENT_IDS:
                path = self.triggers / f"incident.{name}"
                if path.exists():
                    path.unlink(missing_ok=True)
                    return name
        if self.scheduled is not None and self.trades >= self.args.incident_after:
            name, self.scheduled = self.scheduled, None
            return name
        return None

    def trade(self, state) -> None:
        t = next_trade(self.rng, float(state.current_balance or 0), state.peak_balance)
        if t is None:
            log("sitting out: too close to the drawdown limit")
            return
        reason = "trade win" if t.won else "trade loss"
        evidence = {"market": t.market, "stake": t.stake, "price": t.price, "pnl": t.pnl}
        with self.store.transaction(reason=reason, evidence=evidence) as s:
            chain_cash = get_cash(self.args.rpc_url, self.args.wallet)
            if chain_cash + to_money(t.pnl) < 0:
                raise StatetuiError("the wallet cannot cover this loss; skipped")
            set_wallet(self.args.rpc_url, self.args.wallet, chain_cash + to_money(t.pnl))  # settled on chain first
            new = apply_trade(s, t)
            s.last_updated = now_iso()
        self.trades += 1
        log(f"{reason} {t.pnl:+.2f} on {t.market!r}: cash {new:.2f}")

    # --- incidents ---------------------------------------------------------------------

    def stage_jan16(self) -> None:
        """Two positions resolve unredeemed; the peak counts them; a false drawdown halt.
        One write at a time so a watcher sees each step."""
        from statetui.testing.scenarios import POSITION_VALUE, _positions

        if _halted(self.store.load()):
            log("incident jan16: already halted; not staged")
            return
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
            halt_if_drawdown(s)
            s.last_updated = now_iso()
        log("incident jan16: false drawdown halt; the bot keeps running, halted, holding its lock")

    def stage_corrupt(self) -> None:
        """A second writer (no temp file, no rename) cut off half-way through its write."""
        data = self.store.path.read_bytes()
        with open(self.store.path, "r+b") as f:
            f.truncate(len(data) // 2)
        log("incident corrupt: another writer was cut off mid-write; the state file is half a JSON document")

    def stage_stale_lock(self) -> None:
        log("incident stale-lock: killed with SIGKILL; the pid file stays behind, nobody holds its lock")
        os.kill(os.getpid(), signal.SIGKILL)

    def stage_mismatch(self) -> None:
        cash = get_cash(self.args.rpc_url, self.args.wallet)
        left = max(Decimal(0), cash - WITHDRAWAL)
        set_wallet(self.args.rpc_url, self.args.wallet, left)
        log(f"incident mismatch: ${cash - left} left the wallet outside the bot; the state still counts it")


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
    p.add_argument("--config", help="a demo sandbox's config.toml: state, backups, pid file, chain (and its "
                                    "folder for the incident.NAME files)")
    p.add_argument("--state", help="state file")
    p.add_argument("--backup-dir", help="backups folder (default: backups/ beside the state)")
    p.add_argument("--pid-file", help="the pid lock this bot holds while it runs")
    p.add_argument("--rpc-url", help="the demo chain's JSON-RPC URL")
    p.add_argument("--wallet", help="the funder address whose cash the bot moves")
    p.add_argument("--incident", choices=(*INCIDENT_IDS, "none"), help="stage this incident after --incident-after trades")
    p.add_argument("--incident-after", type=int, default=2, metavar="N")
    p.add_argument("--triggers", metavar="DIR", help="stage incident NAME when the file DIR/incident.NAME appears")
    p.add_argument("--interval", type=_interval, default=(1.0, 2.0), metavar="MIN,MAX", help="seconds between ticks")
    p.add_argument("--seed", type=int)
    args = p.parse_args(argv)
    if args.config:
        from statetui.core.config import load_config

        try:
            c = load_config({}, env={}, config_file=args.config)
        except StatetuiError as exc:
            p.error(str(exc))
        args.state = args.state or str(c.state)
        args.backup_dir = args.backup_dir or str(c.backups)
        args.pid_file = args.pid_file or str(c.pid_file)
        args.rpc_url = args.rpc_url or c.rpc_url
        args.wallet = args.wallet or c.wallet
        args.triggers = args.triggers or str(Path(args.config).resolve().parent)
    missing = [f"--{k.replace('_', '-')}" for k in ("state", "pid_file", "rpc_url", "wallet") if not getattr(args, k)]
    if missing:
        p.error(f"the following arguments are required (or --config): {', '.join(missing)}")
    return args


def main(argv: list[str] | None = None) -> int:
    from statetui.tui.children import die_with_parent

    parent = os.getppid()
    die_with_parent(signal.SIGTERM)  # the demo (or the console) that started us went away: so do we
    args = parse_args(argv)
    stop = Stop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    if os.getppid() != parent:
        return 0
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
    code = main()
    sys.stdout.flush()
    # Nothing is left to close (the lock is released, the store writes are durable): skip the
    # interpreter's teardown, ~0.4 s of freeing modules that would delay a demo's exit.
    os._exit(code)
