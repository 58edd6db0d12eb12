"""Block times, and the first block at or after a date (binary search on block timestamps)."""

from __future__ import annotations

from typing import Iterable

from statetui.core.rpc import Rpc, quantity
from statetui.core.errors import ChainError


def block_times(rpc: Rpc, blocks: Iterable[int]) -> dict[int, int]:
    """Unix time of each block, read in batches."""
    wanted = sorted(set(blocks))
    out: dict[int, int] = {}
    if not wanted:
        return out
    answers = rpc.batch([("eth_getBlockByNumber", [hex(b), False]) for b in wanted])
    for b, answer in zip(wanted, answers):
        header = rpc.ok(answer, "eth_getBlockByNumber")
        if not isinstance(header, dict):
            raise ChainError(f"RPC {rpc.shown} has no block {b}")
        out[b] = quantity(header.get("timestamp"), "block timestamp", rpc)
    return out


def first_block_at_or_after(rpc: Rpc, when: int, head: int) -> int:
    """The first block whose time is >= `when` (head + 1 when none is): ~log2(head) reads."""
    lo, hi = 0, head + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if block_times(rpc, [mid])[mid] >= when:
            hi = mid
        else:
            lo = mid + 1
    return lo
