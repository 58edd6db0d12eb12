"""Rebuild the wallet's realized-cash history from the chain (see __init__ for the API).

1. Pin one block (the head, or a given block) and read balanceOf(wallet) of every
   collateral token there: the anchor.
2. Read every ERC-20 Transfer from and to the wallet on those tokens (two topic filters,
   all tokens in one address list) from the start block to the pinned block: from the
   cache where it already holds finalized blocks, from the RPC for the rest.
3. Walk the transfers forward (forward.py), relative to the opening; the opening is the
   anchor minus what the walk moved. Tokens are summed per block, so a USDC.e -> pUSD
   swap is not a loss; a swap within one transaction is labelled a migration, not a flow.
   The walk's state at the last final block is saved (checkpoint.py): the next scan
   walks only what is new.
4. Cross-check the rebuilt balances with balanceOf at a few historic blocks (the opening,
   the peak, the middle) when the node serves historic state; any difference is reported
   as a Mismatch, never smoothed over."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import NamedTuple

from statetui.core.chain import ChainNotConfiguredError, WrongChainError, require_checksummed
from statetui.core.rpc import quantity
from statetui.core.chainhist.cache import default_cache_dir
from statetui.core.chainhist.logscan import PatientRpc
from statetui.core.config import Config
from statetui.core.errors import ChainError, ConfigError

# Without a finalized tag, blocks this deep are taken as final (Polygon PoS reorgs are far shallower).
REORG_DEPTH = 256


class Opened(NamedTuple):
    rpc: PatientRpc
    wallet: str  # checksummed
    head: int
    finalized: int | None  # None: the RPC has no "finalized" tag
    label: str  # the cache folder of this chain: "<chain id>-<genesis hash>" (another chain, another cache)


def open_rpc(config: Config) -> Opened:
    """A checked connection, the head and the finalized block, in one round trip. The
    chain id must match config (nothing read from another chain is used)."""
    if not config.rpc_url or not config.wallet:
        raise ChainNotConfiguredError("chain not configured: set rpc_url and wallet (STATETUI_RPC_URL, STATETUI_WALLET)")
    wallet = require_checksummed(config.wallet, "wallet")
    rpc = PatientRpc(config.rpc_url, config.rpc_timeout)
    answers = rpc.batch([("eth_chainId", []), ("eth_blockNumber", []), ("eth_getBlockByNumber", ["finalized", False]),
                         ("eth_getBlockByNumber", ["0x0", False])])
    chain_id = quantity(rpc.ok(answers[0], "eth_chainId"), "eth_chainId", rpc)
    if chain_id != config.chain_id:
        raise WrongChainError(f"RPC {rpc.shown} serves chain id {chain_id}, expected {config.chain_id}: "
                              "refusing to read history from another chain", expected=config.chain_id, got=chain_id)
    head = quantity(rpc.ok(answers[1], "eth_blockNumber"), "eth_blockNumber", rpc)
    final = answers[2]
    finalized = quantity(final.get("number"), "finalized block number", rpc) if isinstance(final, dict) else None
    genesis = answers[3].get("hash") if isinstance(answers[3], dict) else None
    label = f"{chain_id}-{genesis[2:14].lower()}" if isinstance(genesis, str) and len(genesis) >= 14 else str(chain_id)
    return Opened(rpc, wallet, head, finalized, label)


def parse_since(value: object) -> int:
    """A date ("2026-01-16"), an ISO date-time or unix seconds, as unix seconds (UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp())
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp())
    text = str(value).strip()
    try:
        if text.isdigit():
            return int(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"since: {text!r} is not a date (YYYY-MM-DD), an ISO date-time or unix seconds") from None
    return parse_since(moment)




def _configured_cache_dir(config: Config) -> Path:
    configured = getattr(config, "chain_cache_dir", None)
    return Path(configured) if configured else default_cache_dir()

