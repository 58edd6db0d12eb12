"""From decoded transfers and today's balances to the cash curve (step 3 and 4 of cash.py):
classification, the backward rebuild, the historic cross-check and the block times."""

from __future__ import annotations

from collections import defaultdict
from decimal import Context, Decimal
from typing import Any

from statetui.core.chain import _CallFailed, _Rpc
from statetui.core.chainhist import abi
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

    # Each token's records are in chain order already: one sort merges them; duplicates
    # (a range two processes cached at once) are adjacent and dropped.
    ordered: list[tuple[str, list[Any]]] = []
    last = None
    for key in sorted((r[0], r[1], n, k) for n, t in enumerate(tokens) for k, r in enumerate(records[t])
                      if scan_start <= r[0] <= pinned):
        if key[:2] != last:
            t = tokens[key[2]]
            ordered.append((t, records[t][key[3]]))
            last = key[:2]
    start = scan_start
    if reason == "first-transfer-in":
        start = next((r[0] for _, r in ordered if int(r[4]) > 0), pinned)
        ordered = [(t, r) for t, r in ordered if r[0] >= start]

    # Sums run on integers at the finest scale of the tokens; Decimal only for what is kept.
    scale = max(decimals.values())
    mul = {t: 10 ** (scale - decimals[t]) for t in tokens}

    def money(t: str, raw: int) -> Decimal:
        return Decimal(raw).scaleb(-decimals[t], _EXACT)

    def total(raw: int) -> Decimal:
        return Decimal(raw).scaleb(-scale, _EXACT)

    trading = {**abi.TRADING_COUNTERPARTIES, **{k.lower(): v for k, v in (extra_trading or {}).items()}}
    migrations = _migration_legs(ordered, trading, money)
    transfers = []
    for t, r in ordered:
        block, index, tx, other, raw_text, stamp = r
        raw = int(raw_text)
        if other in trading:
            kind = TRADE
        elif (block, index) in migrations:
            kind = MIGRATION
        else:
            kind = DEPOSIT if raw > 0 else WITHDRAWAL
        transfers.append(Transfer(block, index, tx, t, other, raw, decimals[t], kind, stamp))

    # Backwards from the anchor: the balances after each block, then before it.
    balance = dict(anchor)
    cash = sum(balance[t] * mul[t] for t in tokens)
    after: dict[int, tuple[int, ...]] = {}
    after_cash: dict[int, int] = {}
    mismatches: list[Mismatch] = []
    warned: set[str] = set()
    i = len(transfers) - 1
    while i >= 0:
        block = transfers[i].block
        after[block] = tuple(balance[t] for t in tokens)
        after_cash[block] = cash
        while i >= 0 and transfers[i].block == block:
            t, raw = transfers[i].token, transfers[i].raw
            balance[t] -= raw
            cash -= raw * mul[t]
            if balance[t] < 0 and t not in warned:
                warned.add(t)
                mismatches.append(Mismatch(block - 1, t, money(t, balance[t]), None, "negative rebuilt balance: "
                                           "transfers into the wallet are missing from the history"))
            i -= 1
    opening = dict(balance)
    opening_block = max(0, start - 1)
    zero = Decimal(0)
    points = [CashPoint(opening_block, total(cash), zero, None, None)]
    j = 0
    while j < len(transfers):
        block, flow, stamp = transfers[j].block, zero, None
        while j < len(transfers) and transfers[j].block == block:
            tr = transfers[j]
            if tr.kind in (DEPOSIT, WITHDRAWAL):
                flow += tr.amount
            stamp = stamp if stamp is not None else tr.time
            j += 1
        points.append(CashPoint(block, total(after_cash[block]), flow, transfers[j - 1].tx, stamp))

    history = CashHistory(chain_id=config.chain_id, wallet=wallet, tokens=tokens, start_block=start, start_time=None,
                          start_reason=reason, pinned_block=pinned, pinned_time=pinned_time,
                          opening_cash=points[0].cash, points=points, transfers=transfers, mismatches=mismatches,
                          notes=notes)
    if reason == "first-transfer-in":
        for t in tokens:
            if opening[t] != 0:
                mismatches.append(Mismatch(opening_block, t, money(t, opening[t]), Decimal(0),
                                           "the history starts at the first transfer in, yet the rebuilt opening "
                                           "balance is not zero: transfers are missing, or the token moves balances "
                                           "without Transfer events"))
    expected = {b: dict(zip(tokens, v)) for b, v in after.items()}
    expected[opening_block] = opening
    _check_and_time(rpc, history, tokens, expected, money)
    return history


def _migration_legs(ordered: list[tuple[str, list[Any]]], trading: dict[str, str], money: Any) -> set[tuple[int, int]]:
    """Legs of transactions that swap one collateral token for another, value for value
    (USDC.e out, pUSD in): a migration, neither trading nor a flow."""
    by_tx: dict[str, list[tuple[str, list[Any]]]] = {}
    several = set()
    for item in ordered:
        tx = item[1][2]
        if tx in by_tx:
            by_tx[tx].append(item)
            several.add(tx)
        else:
            by_tx[tx] = [item]
    legs: set[tuple[int, int]] = set()
    for tx in several:
        items = by_tx[tx]
        ins = {t for t, r in items if int(r[4]) > 0}
        outs = {t for t, r in items if int(r[4]) < 0}
        if not ins or not outs or ins & outs or any(r[3] in trading for _, r in items):
            continue
        if sum((money(t, int(r[4])) for t, r in items), Decimal(0)) == 0:
            legs |= {(r[0], r[1]) for _, r in items}
    return legs


def _check_and_time(rpc: _Rpc, history: CashHistory, tokens: list[str], after: dict[int, dict[str, int]],
                    money: Any) -> None:
    """One batch: balanceOf at the opening, the peaks and the middle of the history (to
    check the rebuild), and the times of the blocks the report names."""
    checks = set()
    if history.start_block > 0:
        checks.add(history.points[0].block)
    peaks = {history.high_water_mark(p).block for p in (ADJUST_FLOWS, RAW)}
    checks |= peaks & set(after)
    if len(history.points) > 2:
        checks.add(history.points[len(history.points) // 2].block)
    owner = abi.word(history.wallet)
    order = [(b, t) for b in sorted(checks) for t in tokens]
    known = {p.block: p.time for p in history.points if p.time is not None}
    wanted = {history.points[0].block, history.start_block} | checks | peaks
    wanted |= {t.block for t in history.flows[:MAX_FLOW_TIMES] if t.time is None}
    blocks = sorted(b for b in wanted if b not in known)
    calls = [abi.call(t, abi.BALANCE_OF + owner, hex(b)) for b, t in order]
    calls += [("eth_getBlockByNumber", [hex(b), False]) for b in blocks]
    try:
        answers = rpc.batch(calls)
    except ChainError as exc:
        history.notes.append(f"cross-check and block times skipped: {exc}")
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
        if actual != after[b][t]:
            history.mismatches.append(Mismatch(b, t, money(t, after[b][t]), money(t, actual),
                                               "balanceOf at this block differs from the balance rebuilt from transfers"))
        elif b not in history.checked_blocks:
            history.checked_blocks.append(b)
    times = dict(known)
    for b, answer in zip(blocks, answers[len(order):]):
        if isinstance(answer, dict) and isinstance(answer.get("timestamp"), str):
            times[b] = int(answer["timestamp"], 16)
    history.points = [p if p.time is not None or p.block not in times else p._replace(time=times[p.block])
                      for p in history.points]
    history.transfers = [t if t.time is not None or t.block not in times else t._replace(time=times[t.block])
                         for t in history.transfers]
    history.start_time = times.get(history.start_block)


def _uint(rpc: _Rpc, answer: object, what: str) -> int:
    data = rpc.ok(answer, what)
    if not isinstance(data, str) or len(data) < 66:
        raise rpc.malformed(what, f"expected a 32-byte word, got {str(data)[:40]!r}")
    return int(data[2:66], 16)
