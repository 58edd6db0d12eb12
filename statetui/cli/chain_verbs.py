"""`statetui chain-history`: the wallet's realized-cash history, true peak, flows and
unredeemed positions, from the chain alone. Exit 0, 1 when the rebuilt history
disagrees with balanceOf somewhere (a mismatch), 2 bad configuration, 4 chain unreadable."""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

from statetui.cli.exits import EXIT_OK, EXIT_WARNING
from statetui.cli.output import print_json


def configure_chain_history(p: argparse.ArgumentParser) -> None:
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from-block", type=int, metavar="N", help="start the history at block N (config history_from_block)")
    start.add_argument("--since", metavar="DATE", help="start at the first block on or after DATE (YYYY-MM-DD or ISO time)")
    p.add_argument("--block", type=int, metavar="N", help="pin the history at block N (default: the head)")
    p.add_argument("--policy", choices=("adjust-flows", "raw"),
                   help="high-water mark policy (config hwm_policy; default adjust-flows: deposits raise it, withdrawals lower it)")
    p.add_argument("--cache-dir", metavar="DIR", help="history cache folder (config chain_cache_dir; default: the user's cache dir)")
    p.add_argument("--no-cache", action="store_true", help="read everything from the chain; write no cache")
    p.add_argument("--no-positions", action="store_true", help="skip positions and redemptions")
    p.add_argument("--full", action="store_true", help="with --json: the whole curve and every transfer")


def run_chain_history(args: argparse.Namespace, config) -> int:
    from statetui.core.chainhist import read_positions, scan_cash_history

    policy = args.policy or config.hwm_policy
    use_cache = not args.no_cache and not config.read_only  # read-only writes nothing, the cache included
    progress = StderrProgress() if sys.stderr.isatty() and not args.json else None
    history = scan_cash_history(config, progress=progress, cache_dir=args.cache_dir, from_block=args.from_block,
                                since=args.since, block=args.block, use_cache=use_cache)
    if progress:
        progress.done()
    positions = None
    if not args.no_positions:
        positions = read_positions(config, from_block=args.from_block, since=args.since, cache_dir=args.cache_dir,
                                   block=history.pinned_block, use_cache=use_cache)
    if args.json:
        doc = history.to_dict(policy=policy, full=args.full)
        doc["positions"] = positions.to_dict() if positions else None
        print_json(doc)
    else:
        _print_text(history, positions, policy)
    return EXIT_WARNING if history.mismatches else EXIT_OK


def _usd(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _when(ts: int | None) -> str:
    return "time unknown" if ts is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def _print_text(history, positions, policy: str) -> None:
    from statetui.core.chainhist import RAW

    hwm = history.high_water_mark(policy)
    raw = history.high_water_mark(RAW)
    starts = {"from-block": "configured block", "since": "first block of the date", "first-transfer-in": "first transfer in"}
    print(f"chain history of {history.wallet} on chain {history.chain_id}, pinned at block {history.pinned_block} "
          f"({_when(history.pinned_time)})")
    print(f"  from block {history.start_block} ({starts.get(history.start_reason, history.start_reason)}, "
          f"{_when(history.start_time)}): {len(history.transfers)} transfers, opening cash {_usd(history.opening_cash)}")
    print(f"  cash now          {_usd(history.cash)}")
    explain = "deposits raise it, withdrawals lower it" if policy != RAW else "highest cash seen, flows included"
    print(f"  high-water mark   {_usd(hwm.value)}  (policy {policy}: {explain})")
    print(f"    cash peaked     {_usd(hwm.cash_at_peak)} at block {hwm.block} ({_when(hwm.time)}) tx {hwm.tx or '-'}")
    if hwm.flows_since and policy != RAW:
        print(f"    flows since     {_usd(hwm.flows_since)}")
    if policy != RAW:
        print(f"  raw peak          {_usd(raw.value)} at block {raw.block} tx {raw.tx or '-'}")
    deposits = [t for t in history.flows if t.amount > 0]
    withdrawals = [t for t in history.flows if t.amount < 0]
    print(f"  flows             deposits {_usd(sum((t.amount for t in deposits), Decimal(0)))} ({len(deposits)}), "
          f"withdrawals {_usd(-sum((t.amount for t in withdrawals), Decimal(0)))} ({len(withdrawals)})")
    migrations = [t for t in history.transfers if t.kind == "migration" and t.amount > 0]
    if migrations:
        print(f"  migrations        {_usd(sum((t.amount for t in migrations), Decimal(0)))} swapped between collateral tokens (not a flow)")
    if history.mismatches:
        for m in history.mismatches:
            chain = "not read" if m.on_chain is None else _usd(m.on_chain)
            print(f"  MISMATCH          block {m.block} token {m.token}: rebuilt {_usd(m.rebuilt)}, on chain {chain}: {m.what}")
    elif history.checked_blocks:
        print(f"  cross-check       balanceOf agrees at blocks {', '.join(map(str, history.checked_blocks))}")
    for note in history.notes:
        print(f"  note              {note}")
    if positions is not None:
        print(f"  {positions.summary()}")
        for note in positions.notes:
            print(f"  note              {note}")
    s = history.scan
    print(f"  scan              {s.get('calls', 0)} eth_getLogs calls, {s.get('splits', 0)} splits, "
          f"{s.get('rate_limited', 0)} rate-limit waits, {s.get('blocks_from_cache', 0)} blocks from cache")


class StderrProgress:
    """Progress on stderr, rewritten in place (only when stderr is a terminal)."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and p.done < p.total and not p.waiting:
            return
        self._last = now
        wait = f", rate limited: waiting {p.waiting:.1f} s" if p.waiting else ""
        sys.stderr.write(f"\rreading blocks: {p.fraction:4.0%} ({p.done:,}/{p.total:,}), {p.logs:,} logs, "
                         f"{p.calls:,} calls{wait}\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
