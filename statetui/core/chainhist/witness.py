"""The chain's history as evidence for a peak verdict: a ChainWitness (statetui.core.evidence)
from a realized-cash scan, under the configured high-water mark policy.

Who calls this, and when (the network is touched only here, never by `audit --local`):
- the peak-drawdown check, when the chain is configured and the audit may use the network
  (AuditContext.network: the CLI's `audit` without --local, a repair's verify step); a
  face that read the witness already passes it in ctx.cache["chain_witness"];
- recompute-peak's plan (and the reconcile repair's, for the peak);
- the console, in its chain worker, with a progress bar.
The scan is resumable and cached (chainhist.cache, chainhist.checkpoint): the first read
of a wallet walks its whole history; later ones read only the blocks since."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from statetui.core.config import Config
from statetui.core.evidence import ChainUnread, ChainWitness
from statetui.core.redact import redact_url

CURVE_POINTS = 60  # sparkline width the faces use at most


def witness_from_history(history: Any, config: Config, *, curve: bool = True) -> ChainWitness:
    """The evidence a CashHistory gives about the wallet's realized cash."""
    hwm = history.high_water_mark(config.hwm_policy)
    problems = [f"block {m.block}: {m.what}" for m in history.mismatches]
    return ChainWitness(
        high_water_mark=hwm.value, policy=hwm.policy, block=hwm.block, tx=hwm.tx, when=hwm.time, cash=history.cash,
        pinned_block=history.pinned_block, start_block=history.start_block, covers_from=history.start_time,
        all_time=history.covers_all_time and not history.mismatches, threshold=config.mismatch_threshold,
        problems=problems, curve=history.sparkline_values(CURVE_POINTS) if curve else [],
        rpc=redact_url(config.rpc_url) if config.rpc_url else None)


def read_witness(config: Config, *, progress: Callable[[Any], None] | None = None,
                 cache_dir: str | Path | None = None, curve: bool = True) -> ChainWitness:
    """Scan the wallet's history (cached) and return the witness; ChainError or ConfigError
    when the chain cannot be read."""
    from statetui.core.chainhist.scan import scan_cash_history

    return witness_from_history(scan_cash_history(config, progress=progress, cache_dir=cache_dir), config, curve=curve)


def obtain(config: Config, *, progress: Callable[[Any], None] | None = None,
           curve: bool = True) -> ChainWitness | ChainUnread | None:
    """The witness; ChainUnread (with the reason, redacted) when the chain is configured but
    cannot be read; None when no chain is configured."""
    from statetui.core.errors import StatetuiError

    if not config.chain_configured:
        return None
    try:
        return read_witness(config, progress=progress, curve=curve)
    except StatetuiError as exc:  # ChainError, ConfigError (a bad token or wallet address)
        return ChainUnread(str(exc))
