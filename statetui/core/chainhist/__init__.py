"""The chain as the witness: a wallet's realized-cash history, its true peak, its
positions and redemptions, read from Polygon alone (read-only; no key is ever asked for;
every RPC URL shown or stored is redacted; web3 is not imported).

The API (phase B's checks, repairs and the console call these; none touches the state):

    history = scan_cash_history(config, progress=None, cache_dir=None,
                                from_block=None, since=None, block=None)  -> CashHistory
        history.cash          cash at the pinned block (== sum of balanceOf there)
        history.high_water_mark(policy="adjust-flows" | "raw")
                              -> HighWaterMark(value, policy, block, tx, time, cash_at_peak, flows_since)
        history.covers(t), history.covers_all_time
                              whether the history reaches back to unix time t (all time: from the
                              wallet's first deposit, with nothing held before it)
        history.mismatches    where the rebuild and balanceOf disagree (never hidden)
        history.notes, history.scan   what was skipped or repaired; RPC cost (calls, splits, cache,
                              resumed_from: the checkpoint's last block when the scan resumed)
        history.sparkline_values(width)   the cash curve, evenly sampled (no re-read)
        history.points        the cash curve: CashPoint(block, cash, flow, tx, time), opening first
        history.flows         deposits and withdrawals (Transfer, kind "deposit"/"withdrawal")
        history.transfers     every collateral transfer, kind trade/deposit/withdrawal/migration
                              (these three are materialised on first use: a warm scan walks the
                              cache again for them)
        history.to_dict(policy=...)   JSON-safe summary (money as strings)

    witness.obtain(config, progress=None) -> evidence.ChainWitness | ChainUnread | None
                              the scan as evidence for a peak verdict (statetui.core.evidence)

    report = read_positions(config, condition_ids=(), from_block=None, cache_dir=None)
        -> PositionsReport: .positions (token id, balance, condition, outcome, resolved,
           redeemable value), .unredeemed_total, .unredeemed_markets, .redemptions,
           .unknown (positions whose market could not be found on chain), .summary()
           ("unredeemed: $X in N resolved markets")

Start point: `from_block`, else `since` (a date; the first block at or after it), else
config.history_from_block / config.history_since, else the wallet's first incoming
transfer. Errors are ChainError subclasses with one-line messages (the CLI maps them
to exit 4; ConfigError to exit 2). Scans run in the caller's thread: faces run them in
a worker and pass `progress` (a callable taking ScanProgress) for a bar.

Modules: limits (provider error texts), logscan (adaptive eth_getLogs), cache
(append-only hash-chained local cache), cash + scan + forward + rebuild (the curve:
the steps, the scan, the forward walk, the anchor and cross-check), checkpoint (the
walk saved, so a warm scan reads only what is new), curve (the data), positions
(ERC-1155 positions and redemptions), witness (the chain's evidence for a peak verdict),
abi (addresses, topics, selectors)."""

from statetui.core.chainhist.cash import parse_since
from statetui.core.chainhist.scan import scan_cash_history
from statetui.core.chainhist.curve import (ADJUST_FLOWS, POLICIES, RAW, CashHistory, CashPoint, HighWaterMark, Mismatch,
                                           Transfer)
from statetui.core.chainhist.logscan import ScanError, ScanProgress
from statetui.core.chainhist.positions import Position, PositionsReport, Redemption, read_positions

__all__ = ["scan_cash_history", "parse_since", "CashHistory", "CashPoint", "HighWaterMark", "Mismatch", "Transfer",
           "ScanProgress", "ScanError", "ADJUST_FLOWS", "RAW", "POLICIES", "read_positions", "PositionsReport",
           "Position", "Redemption"]
