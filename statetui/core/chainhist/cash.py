"""Rebuild the wallet's realized-cash history from the chain (see __init__ for the API).

1. Pin one block (the head, or a given block) and read balanceOf(wallet) of every
   collateral token there: the anchor.
2. Read every ERC-20 Transfer from and to the wallet on those tokens (two topic filters,
   all tokens in one address list) from the start block to the pinned block: from the
   cache where it already holds finalized blocks, from the RPC for the rest.
3. Walk backwards from the anchor: the balance before a block is the balance after it
   minus what the block moved. Tokens are summed per block, so a USDC.e -> pUSD swap is
   not a loss; a swap within one transaction is labelled a migration, not a flow.
4. Cross-check the rebuilt balances with balanceOf at a few historic blocks (the opening,
   the peak, the middle) when the node serves historic state; any difference is reported
   as a Mismatch, never smoothed over."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from statetui.core.chain import ChainNotConfiguredError, WrongChainError, _quantity, require_checksummed
from statetui.core.chainhist import abi
from statetui.core.chainhist.blocks import first_block_at_or_after
from statetui.core.chainhist.cache import StreamCache, default_cache_dir, missing
from statetui.core.chainhist.curve import CashHistory
from statetui.core.chainhist.rebuild import assemble
from statetui.core.chainhist.logscan import PatientRpc, Progress, ScanProgress, ScanStats, scan_logs
from statetui.core.config import Config
from statetui.core.errors import ChainError, ConfigError

# Without a finalized tag, blocks this deep are taken as final (Polygon PoS reorgs are far shallower).
REORG_DEPTH = 256


class Opened(NamedTuple):
    rpc: PatientRpc
    wallet: str  # checksummed
    head: int
    finalized: int | None  # None: the RPC has no "finalized" tag


def open_rpc(config: Config) -> Opened:
    """A checked connection, the head and the finalized block, in one round trip. The
    chain id must match config (nothing read from another chain is used)."""
    if not config.rpc_url or not config.wallet:
        raise ChainNotConfiguredError("chain not configured: set rpc_url and wallet (STATETUI_RPC_URL, STATETUI_WALLET)")
    wallet = require_checksummed(config.wallet, "wallet")
    rpc = PatientRpc(config.rpc_url, config.rpc_timeout)
    answers = rpc.batch([("eth_chainId", []), ("eth_blockNumber", []), ("eth_getBlockByNumber", ["finalized", False])])
    chain_id = _quantity(rpc.ok(answers[0], "eth_chainId"), "eth_chainId", rpc)
    if chain_id != config.chain_id:
        raise WrongChainError(f"RPC {rpc.shown} serves chain id {chain_id}, expected {config.chain_id}: "
                              "refusing to read history from another chain", expected=config.chain_id, got=chain_id)
    head = _quantity(rpc.ok(answers[1], "eth_blockNumber"), "eth_blockNumber", rpc)
    final = answers[2]
    finalized = _quantity(final.get("number"), "finalized block number", rpc) if isinstance(final, dict) else None
    return Opened(rpc, wallet, head, finalized)


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


def scan_cash_history(config: Config, *, progress: Progress | None = None, cache_dir: str | Path | None = None,
                      from_block: int | None = None, since: object = None, block: int | None = None,
                      use_cache: bool = True, extra_trading: dict[str, str] | None = None,
                      max_span: int | None = None) -> CashHistory:
    """The wallet's realized-cash history from the start point to one pinned block.
    `max_span`: a known cap on eth_getLogs block ranges (else learned from refusals);
    `extra_trading`: more counterparties (address -> name) whose transfers are trading."""
    started = time.perf_counter()
    tokens = [require_checksummed(t, "token") for t in dict.fromkeys(config.tokens)]
    if not tokens:
        raise ConfigError("tokens: no collateral token configured")
    rpc, wallet, head, finalized = open_rpc(config)
    pinned = head if block is None else block
    if not 0 <= pinned <= head:
        raise ChainError(f"block {pinned} is not on the chain (head is {head})")
    final = min(pinned, finalized if finalized is not None else max(-1, head - REORG_DEPTH))

    from_block = from_block if from_block is not None else getattr(config, "history_from_block", None)
    since = since if since is not None else getattr(config, "history_since", None)
    if from_block is not None:
        if isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0:
            raise ConfigError(f"from_block: {from_block!r} is not a block number")
        scan_start, reason = min(from_block, pinned), "from-block"
    elif since is not None:
        scan_start, reason = min(first_block_at_or_after(rpc, parse_since(since), pinned), pinned), "since"
    else:
        scan_start, reason = 0, "first-transfer-in"

    directory = Path(cache_dir) if cache_dir is not None else _configured_cache_dir(config)
    caches = {t: StreamCache(directory, config.chain_id, wallet, "erc20", t) for t in tokens}
    records: dict[str, list[list[Any]]] = {t: [] for t in tokens}
    notes: list[str] = []
    covered: dict[str, list[tuple[int, int]]] = {t: [] for t in tokens}
    if use_cache:
        for t, cache in caches.items():
            state = cache.load()
            if state.problem:
                notes.append(state.problem)
            covered[t] = state.covered
            records[t] = state.records

    stats = ScanStats()
    groups: dict[tuple[tuple[int, int], ...], list[str]] = defaultdict(list)
    for t in tokens:
        gaps = []
        for a, b in missing(covered[t], scan_start, pinned):
            # Split at the finalized block: only the final part is cached (no reorged records).
            if a <= final < b:
                gaps += [(a, final), (final + 1, b)]
            else:
                gaps.append((a, b))
        groups[tuple(gaps)].append(t)
    total = sum(b - a + 1 for gaps in groups for a, b in gaps)
    first_gaps = next(gaps for gaps, group in groups.items() if tokens[0] in group)
    cached_blocks = (pinned - scan_start + 1) - sum(b - a + 1 for a, b in first_gaps)
    done = 0
    wallet_topic = abi.topic(wallet)
    for gaps, group in groups.items():
        filters = [{"address": group, "topics": [abi.TRANSFER, wallet_topic]},
                   {"address": group, "topics": [abi.TRANSFER, None, wallet_topic]}]
        for a, b in gaps:
            def on_chunk(x: int, y: int, logs: list[dict[str, Any]], group: list[str] = group) -> None:
                try:
                    fresh = _decode_transfers(logs, wallet)
                except (ValueError, TypeError, AttributeError):
                    raise rpc.malformed("eth_getLogs", f"a Transfer log in blocks {x}-{y} is not hex where it must be") from None
                for t in group:
                    mine = [r for tok, r in fresh if tok == t.lower()]
                    records[t].extend(mine)
                    if use_cache and y <= final:
                        caches[t].append(x, y, mine)

            offset = done
            relay = (lambda p, offset=offset: progress(ScanProgress(offset + p.done, total, p.logs, p.calls, p.waiting))) \
                if progress else None
            scan_logs(rpc, filters, a, b, on_chunk, progress=relay, stats=stats, span=max_span)
            done += b - a + 1

    history = assemble(rpc, config, wallet, tokens, records, scan_start, reason, pinned, notes, extra_trading)
    stats.rate_limited += rpc.rate_limited
    stats.waited += rpc.waited
    history.scan = {**stats.to_dict(), "blocks_from_cache": max(0, cached_blocks), "blocks_read": total,
                    "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)}
    return history


def _configured_cache_dir(config: Config) -> Path:
    configured = getattr(config, "chain_cache_dir", None)
    return Path(configured) if configured else default_cache_dir()


def _decode_transfers(logs: list[dict[str, Any]], wallet: str) -> list[tuple[str, list[Any]]]:
    """(token, record) per Transfer that moves the wallet's cash: record =
    [block, log index, tx, counterparty, signed raw amount as text, block time or None]."""
    me = wallet[2:].lower()
    transfer = abi.TRANSFER
    out = []
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3 or topics[0].lower() != transfer:
            continue  # not an ERC-20 Transfer (an ERC-721 one has 4 topics)
        src, dst = topics[1][-40:].lower(), topics[2][-40:].lower()
        data = log["data"]
        value = int(data[2:66], 16) if len(data) >= 66 else 0
        if src == dst or value == 0:
            continue
        signed, other = (value, src) if dst == me else (-value, dst)
        stamp = log.get("blockTimestamp")
        out.append((log["address"].lower(), [int(log["blockNumber"], 16), int(log["logIndex"], 16),
                                             log["transactionHash"], "0x" + other, signed,
                                             int(stamp, 16) if isinstance(stamp, str) else None]))
    return out
