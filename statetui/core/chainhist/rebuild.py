"""From the walk and today's balances to the history (steps 3 and 4 of cash.py): the
anchor at the pinned block, the opening it implies, the contradictions that shows, and
the historic cross-check with the block times the report names."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from statetui.core.rpc import CallFailed, Rpc
from statetui.core.chainhist import abi
from statetui.core.chainhist.curve import ADJUST_FLOWS, RAW, CashHistory, Mismatch
from statetui.core.chainhist.forward import Walk
from statetui.core.errors import ChainError

_EXACT = Context(prec=100)
MAX_FLOW_TIMES = 64  # block times read for the latest this many flows (one batch)
# Words with which nodes say they no longer hold a block's state (not an archive node).
_NO_HISTORY = ("missing trie node", "header not found", "state", "pruned", "archive", "not available", "unknown block",
               "historical", "too old")


class Anchor:
    """balanceOf and decimals() of every token at the pinned block, its time, and the
    hashes of the blocks asked for (the checkpoint's), in one round trip."""

    def __init__(self, rpc: Rpc, wallet: str, tokens: list[str], pinned: int, hashes_of: list[int]):
        tag = hex(pinned)
        owner = abi.word(wallet)
        calls = []
        for t in tokens:
            calls += [abi.call(t, abi.BALANCE_OF + owner, tag), abi.call(t, abi.DECIMALS, tag)]
        calls.append(("eth_getBlockByNumber", [tag, False]))
        calls += [("eth_getBlockByNumber", [hex(b), False]) for b in hashes_of]
        answers = rpc.batch(calls)
        self.balances = [uint(rpc, answers[2 * i], f"balanceOf at token {t}") for i, t in enumerate(tokens)]
        self.decimals = [uint(rpc, answers[2 * i + 1], f"decimals() at token {t}") for i, t in enumerate(tokens)]
        for t, d in zip(tokens, self.decimals):
            if d > 77:
                raise rpc.malformed(f"decimals() at token {t}", f"{d} decimals is not a token's")
        header = rpc.ok(answers[2 * len(tokens)], "eth_getBlockByNumber")
        self.time = int(header["timestamp"], 16) if isinstance(header, dict) else 0
        self.hashes = {b: block_hash(a) for b, a in zip(hashes_of, answers[2 * len(tokens) + 1:])}


def block_hash(answer: object) -> str | None:
    return answer.get("hash") if isinstance(answer, dict) and isinstance(answer.get("hash"), str) else None


def opening_of(walk: Walk, anchor: Anchor) -> list[int]:
    """Each token's balance just before the history starts: the anchor minus what the walk moved."""
    return [a - r for a, r in zip(anchor.balances, walk.rel)]


def contradictions(walk: Walk, opening: list[int], start_block: int, first_transfer_in: bool) -> list[Mismatch]:
    """What the opening says is wrong with the history: a balance held before the first
    transfer in, or a balance that went below zero (transfers into the wallet are missing)."""
    out = []
    money = _money_of(walk)
    for ti, t in enumerate(walk.tokens):
        lowest, where = walk.low[ti]
        if opening[ti] + lowest < 0:
            out.append(Mismatch(where, t, money(ti, opening[ti] + lowest), None, "negative rebuilt balance: "
                                "transfers into the wallet are missing from the history"))
        if first_transfer_in and opening[ti] != 0:
            out.append(Mismatch(max(0, start_block - 1), t, money(ti, opening[ti]), Decimal(0),
                                "the history starts at the first transfer in, yet the rebuilt opening balance is not "
                                "zero: transfers are missing, or the token moves balances without Transfer events"))
    return out


def _money_of(walk: Walk) -> Any:
    return lambda ti, raw: Decimal(raw).scaleb(-walk.decimals[ti], _EXACT)


def check_and_time(rpc: Rpc, history: CashHistory, walk: Walk, opening: list[int], *, check_opening: bool,
                   times: dict[int, int]) -> None:
    """One batch: balanceOf at the opening, the peaks and the last block of what this scan
    walked (to check the rebuild), and the times of the blocks the report names that
    `times` does not hold yet. Results go into `history` (mismatches, checked blocks,
    notes) and `times`."""
    expected: dict[int, tuple[int, ...]] = {}
    if check_opening and history.start_block > 0:
        expected[history.opening_block] = tuple(opening)
    peaks = set()
    for policy in (ADJUST_FLOWS, RAW):
        _, index, _, _, block, _, _ = walk.best[policy]
        peaks.add(history.opening_block if index < 0 else block)
        rel = walk.token_balances_at(index) if index >= 0 else None
        if rel is not None:
            expected[block] = tuple(o + r for o, r in zip(opening, rel))
    if walk.walked:  # the last block that moved cash (this scan's)
        expected[walk.last_block] = tuple(o + r for o, r in zip(opening, walk.rel))
    owner = abi.word(history.wallet)
    order = [(b, ti) for b in sorted(expected) for ti in range(len(walk.tokens))]
    wanted = {history.opening_block, history.start_block} | set(expected) | peaks
    flows = [r for kind, r in walk.notable if kind != "migration"]
    wanted |= {r[0] for r in flows[-MAX_FLOW_TIMES:] if r[5] is None}
    blocks = sorted(b for b in wanted if b not in times)
    calls = [abi.call(walk.tokens[ti], abi.BALANCE_OF + owner, hex(b)) for b, ti in order]
    calls += [("eth_getBlockByNumber", [hex(b), False]) for b in blocks]
    if not calls:
        return
    try:
        answers = rpc.batch(calls)
    except ChainError as exc:
        history.notes.append(f"cross-check and block times skipped: {exc}")
        return
    skipped = False
    money = _money_of(walk)
    for (b, ti), answer in zip(order, answers):
        if isinstance(answer, CallFailed) or not isinstance(answer, str) or len(answer) < 66:
            if not skipped:
                why = answer.message if isinstance(answer, CallFailed) else "no balance returned"
                archive = isinstance(answer, CallFailed) and any(w in why.lower() for w in _NO_HISTORY)
                history.notes.append(f"cross-check at block {b} skipped: "
                                     + ("the node does not serve historic state (not an archive node)" if archive else why))
                skipped = True
            continue
        actual = int(answer[2:66], 16)
        if actual != expected[b][ti]:
            history.mismatches.append(Mismatch(b, walk.tokens[ti], money(ti, expected[b][ti]), money(ti, actual),
                                               "balanceOf at this block differs from the balance rebuilt from transfers"))
        elif b not in history.checked_blocks:
            history.checked_blocks.append(b)
    for b, answer in zip(blocks, answers[len(order):]):
        if isinstance(answer, dict) and isinstance(answer.get("timestamp"), str):
            times[b] = int(answer["timestamp"], 16)


def uint(rpc: Rpc, answer: object, what: str) -> int:
    data = rpc.ok(answer, what)
    if not isinstance(data, str) or len(data) < 66:
        raise rpc.malformed(what, f"expected a 32-byte word, got {str(data)[:40]!r}")
    return int(data[2:66], 16)
