"""One look at the host per fleet pass: inside `with host_snapshot():`, host-wide scans
(/proc/locks, the process list, a process's open files, crontabs, timer units) are read
once and shared by every bot's checks; outside it, every call looks afresh.

A scrape of 50 bots would otherwise read /proc 100 times for answers that cannot differ
between bots within one pass. Per context (contextvars): concurrent scrapes on other
threads never share a snapshot."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")
_MEMO: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar("host_snapshot", default=None)


@contextmanager
def host_snapshot() -> Iterator[None]:
    token = _MEMO.set({}) if _MEMO.get() is None else None  # nested: the outer snapshot holds
    try:
        yield
    finally:
        if token is not None:
            _MEMO.reset(token)


def memoized(key: Hashable, fn: Callable[[], T]) -> T:
    """fn()'s answer, shared within the current snapshot (computed afresh outside one)."""
    memo = _MEMO.get()
    if memo is None:
        return fn()
    if key not in memo:
        memo[key] = fn()
    return memo[key]
