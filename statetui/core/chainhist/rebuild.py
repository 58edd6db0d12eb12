"""From decoded transfers and today's balances to the cash curve (step 3 and 4 of cash.py):
classification, the backward rebuild, the historic cross-check and the block times."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Context, Decimal
from typing import Any

from statetui.core.chain import _CallFailed, _Rpc
from statetui.core.chainhist import abi
from statetui.core.chainhist.blocks import block_times
from statetui.core.chainhist.curve import (ADJUST_FLOWS, DEPOSIT, MIGRATION, RAW, TRADE, WITHDRAWAL, CashHistory,
                                           CashPoint, Mismatch, Transfer)
from statetui.core.config import Config
from statetui.core.errors import ChainError

_EXACT = Context(prec=100)
MAX_FLOW_TIMES = 500  # block times read for at most this many flows (one batch)
# Words with which nodes say they no longer hold a block's state (not an archive node).
_NO_HISTORY = ("missing trie node", "header not found", "state", "pruned", "archive", "not available", "unknown block",
               "historical", "too old")


def assemble(rpc: _Rpc, config: Config, wallet: str, tokens: list[str], records: dict[str, list[list[Any]]],
             scan_start: int, reason: str, pinned: int, notes: list[str],
             extra_trading: dict[str, str] | None = None) -> CashHistory:
    tag = hex(pinned)
    owner = abi.word(wallet)
    calls = []
    for t in tokens:
        calls += [abi.call(t, abi.BALANCE_OF + owner, tag), abi.call(t, abi.DECIMALS, tag)]
    answers = rpc.batch(calls + [("eth_getBlockByNumber", [tag, False])])
    anchor: dict[str, int] = {}
    decimals: dict[str, int] = {}
    for i, t in enumerate(tokens):
        anchor[t] = _uint(rpc, answers[2 * i], f"balanceOf at token {t}")
        decimals[t] = _uint(rpc, answers[2 * i + 1], f"decimals() at token {t}")
        if decimals[t] > 77:
            raise rpc.malformed(f"decimals() at token {t}", f"{decimals[t]} decimals is not a token's")
    header = rpc.ok(answers[-1], "eth_getBlockByNumber")
    pinned_time = int(header["timestamp"], 16) if isinstance(header, dict) else 0

    rows: dict[tuple[int, int], tuple[str, list[Any]]] = {}
    for t in tokens:
        for r in records[t]:
            if scan_start <= r[0] <= pinned:
                rows[(r[0], r[1])] = (t, r)
    ordered = [rows[k] for k in sorted(rows)]
    start = scan_start
    if reason == "first-transfer-in":
        start = next((r[0] for _, r in ordered if int(r[4]) > 0), pinned)
        ordered = [(t, r) for t, r in ordered if r[0] >= start]

    def money(t: str, raw: int) -> Decimal:
        return Decimal(raw).scaleb(-decimals[t], _EXACT)

    trading = {**abi.TRADING_COUNTERPARTIES, **{k.lower(): v for k, v in (extra_trading or {}).items()}}
    migrations = _migration_legs(ordered, trading, money)
    transfers = []
    for t, r in ordered:
        block, index, tx, other, raw, stamp = r
        amount = money(t, int(raw))
        if other in trading:
            kind = TRADE
        elif (block, index) in migrations:
            kind = MIGRATION
        else:
            kind = DEPOSIT if amount > 0 else WITHDRAWAL
        transfers.append(Transfer(block, index, tx, t, other, amount, kind, stamp))

    # Backwards from the anchor: balances after each block, then before it.
    balance = dict(anchor)
    after: dict[int, dict[str, int]] = {}
    by_block: dict[int, list[tuple[str, Transfer, int]]] = defaultdict(list)
    for (t, r), tr in zip(ordered, transfers):
        by_block[tr.block].append((t, tr, int(r[4])))
    mismatches: list[Mismatch] = []
    for block in sorted(by_block, reverse=True):
        after[block] = dict(balance)
        for t, _, raw in by_block[block]:
            balance[t] -= raw
        for t in tokens:
            if balance[t] < 0 and not any(m.token == t and m.what.startswith("negative") for m in mismatches):
                mismatches.append(Mismatch(block - 1, t, money(t, balance[t]), None,
                                           "negative rebuilt balance: transfers into the wallet are missing from the history"))
    opening = dict(balance)
    opening_block = max(0, start - 1)
    points = [CashPoint(opening_block, _sum(money, opening), Decimal(0), None, None)]
    for block in sorted(by_block):
        legs = by_block[block]
        flow = sum((tr.amount for _, tr, _ in legs if tr.kind in (DEPOSIT, WITHDRAWAL)), Decimal(0))
        stamp = next((tr.time for _, tr, _ in legs if tr.time is not None), None)
        points.append(CashPoint(block, _sum(money, after[block]), flow, legs[-1][1].tx, stamp))

    history = CashHistory(chain_id=config.chain_id, wallet=wallet, tokens=tokens, start_block=start, start_time=None,
                          start_reason=reason, pinned_block=pinned, pinned_time=pinned_time,
                          opening_cash=points[0].cash, points=points, transfers=transfers, mismatches=mismatches,
                          notes=notes)
    if reason == "first-transfer-in" and any(opening[t] != 0 for t in tokens):
        for t in tokens:
            if opening[t] != 0:
                mismatches.append(Mismatch(opening_block, t, money(t, opening[t]), Decimal(0),
                                           "the history starts at the first transfer in, yet the rebuilt opening "
                                           "balance is not zero: transfers are missing, or the token moves balances "
                                           "without Transfer events"))
    _cross_check(rpc, history, tokens, opening, after, money)
    _fill_times(rpc, history)
    return history


def _sum(money: Any, raws: dict[str, int]) -> Decimal:
    total = Decimal(0)
    for t, raw in raws.items():
        total = _EXACT.add(total, money(t, raw))
    return total


def _migration_legs(ordered: list[tuple[str, list[Any]]], trading: dict[str, str], money: Any) -> set[tuple[int, int]]:
    """Legs of transactions that swap one collateral token for another, value for value
    (USDC.e out, pUSD in): a migration, neither trading nor a flow."""
    by_tx: dict[str, list[tuple[str, list[Any]]]] = defaultdict(list)
    for t, r in ordered:
        by_tx[r[2]].append((t, r))
    legs: set[tuple[int, int]] = set()
    for items in by_tx.values():
        ins = {t for t, r in items if int(r[4]) > 0}
        outs = {t for t, r in items if int(r[4]) < 0}
        if not ins or not outs or ins & outs or any(r[3] in trading for _, r in items):
            continue
        if sum((money(t, int(r[4])) for t, r in items), Decimal(0)) == 0:
            legs |= {(r[0], r[1]) for _, r in items}
    return legs


def _cross_check(rpc: _Rpc, history: CashHistory, tokens: list[str], opening: dict[str, int],
                 after: dict[int, dict[str, int]], money: Any) -> None:
    """balanceOf at the opening, the peaks and the middle of the history against the rebuild."""
    expected: dict[int, dict[str, int]] = {}
    if history.start_block > 0:
        expected[history.points[0].block] = opening
    for policy in (ADJUST_FLOWS, RAW):
        peak = history.high_water_mark(policy).block
        if peak in after:
            expected[peak] = after[peak]
    if len(history.points) > 2:
        middle = history.points[len(history.points) // 2].block
        expected[middle] = after[middle]
    if not expected:
        return
    owner = abi.word(history.wallet)
    order = [(b, t) for b in sorted(expected) for t in tokens]
    try:
        answers = rpc.batch([abi.call(t, abi.BALANCE_OF + owner, hex(b)) for b, t in order])
    except ChainError as exc:
        history.notes.append(f"cross-check skipped: {exc}")
        return
    skipped = False
    for (b, t), answer in zip(order, answers):
        if isinstance(answer, _CallFailed) or not isinstance(answer, str) or len(answer) < 66:
            if not skipped:
                why = answer.message if isinstance(answer, _CallFailed) else "no balance returned"
                archive = isinstance(answer, _CallFailed) and any(w in why.lower() for w in _NO_HISTORY)
                history.notes.append(f"cross-check at block {b} skipped: "
                                     + ("the node does not serve historic state (not an archive node)" if archive else why))
                skipped = True
            continue
        actual = int(answer[2:66], 16)
        if actual != expected[b][t]:
            history.mismatches.append(Mismatch(b, t, money(t, expected[b][t]), money(t, actual),
                                               "balanceOf at this block differs from the balance rebuilt from transfers"))
        elif b not in history.checked_blocks:
            history.checked_blocks.append(b)


def _fill_times(rpc: _Rpc, history: CashHistory) -> None:
    """Block times where the logs did not carry them: start, peaks, checked blocks, flows."""
    wanted = {history.points[0].block, history.start_block} | set(history.checked_blocks)
    wanted |= {history.high_water_mark(p).block for p in (ADJUST_FLOWS, RAW)}
    wanted |= {t.block for t in history.flows[:MAX_FLOW_TIMES] if t.time is None}
    known = {p.block: p.time for p in history.points if p.time is not None}
    try:
        times = block_times(rpc, [b for b in wanted if b not in known])
    except ChainError as exc:
        history.notes.append(f"block times not read: {exc}")
        times = {}
    times.update(known)
    history.points = [p if p.time is not None or p.block not in times else dataclasses.replace(p, time=times[p.block])
                      for p in history.points]
    history.transfers = [t if t.time is not None or t.block not in times else dataclasses.replace(t, time=times[t.block])
                         for t in history.transfers]
    history.start_time = times.get(history.start_block)


def _uint(rpc: _Rpc, answer: object, what: str) -> int:
    data = rpc.ok(answer, what)
    if not isinstance(data, str) or len(data) < 66:
        raise rpc.malformed(what, f"expected a 32-byte word, got {str(data)[:40]!r}")
    return int(data[2:66], 16)
