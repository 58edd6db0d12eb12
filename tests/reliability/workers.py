"""Processes for the concurrency run (tests/reliability/test_concurrency_readers.py).

    python -m tests.reliability.workers txn STATE N    # N transaction() increments
    python -m tests.reliability.workers poll STATE     # status() in a loop until stdin says stop
    python -m tests.reliability.workers burst STATE N B  # N saves in bursts of B, short pauses between

Each prints "ready" and waits for "go" on stdin, so the race starts with every process up;
the last line each prints is a JSON summary. A reader checks every poll: the file parses
(a complete file never shows a parse error), and neither the file's counter nor the
journal's generation ever goes backwards."""

from __future__ import annotations

import json
import sys
import threading
from decimal import Decimal


def _go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def txn(path: str, n: int) -> dict:
    from statetui.core.money import to_money
    from statetui.core.store import StateStore

    store = StateStore(path, writer="reliability-txn")
    _go()
    from statetui.core.errors import LockTimeoutError, StatetuiError

    wrote: list[int] = []
    errors: list[str] = []
    lock_timeouts = 0
    done = 0
    while done < n and len(errors) < 1000:
        try:
            with store.transaction(reason="increment") as s:
                s.total_trades += 1
                s.current_balance = float(to_money(s.current_balance) + Decimal("0.01"))
                value = s.total_trades
        except LockTimeoutError:
            # Waited longer than the store's lock timeout (flock is not fair: under heavy
            # contention a writer can lose many rounds). Typed and harmless: try again.
            lock_timeouts += 1
            continue
        except StatetuiError as exc:  # a finding: reported, and the increment is tried again
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        wrote.append(value)
        done += 1
    return {"wrote": wrote, "errors": errors[:20], "error_count": len(errors), "lock_timeouts": lock_timeouts}


def poll(path: str) -> dict:
    from statetui.core.store import StateStore

    store = StateStore(path)
    stop = threading.Event()
    _go()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    polls = 0
    errors: list[str] = []
    backwards: list[str] = []
    last_count = last_gen = -1
    counts, gens = set(), set()
    while not stop.is_set():
        fs = store.status()
        polls += 1
        if fs.error is not None or fs.state is None:
            errors.append(f"{fs.error.kind if fs.error else '?'}: {fs.error}")
            continue
        count = fs.state.total_trades
        gen = fs.generation if fs.generation is not None else -1
        if count < last_count:
            backwards.append(f"file counter {last_count} -> {count}")
        if gen < last_gen:
            backwards.append(f"journal generation {last_gen} -> {gen}")
        last_count, last_gen = max(last_count, count), max(last_gen, gen)
        counts.add(count)
        gens.add(gen)
    return {"polls": polls, "errors": errors[:20], "error_count": len(errors), "backwards": backwards[:20],
            "backwards_count": len(backwards), "distinct_counts": len(counts), "distinct_generations": len(gens),
            "max_count": last_count, "max_generation": last_gen}


def burst(path: str, n: int, size: int) -> dict:
    import random
    import time

    from statetui.core.store import StateStore

    store = StateStore(path, writer="reliability-burst")
    rng = random.Random(n)
    _go()
    state = store.load()
    for i in range(n):
        state.total_trades += 1
        store.save(state, reason="burst")
        if (i + 1) % size == 0:
            time.sleep(rng.uniform(0.02, 0.15))  # a quiet moment between bursts
    return {"final": state.total_trades, "generation": store.journal.last()["generation"]}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "txn":
        out = txn(sys.argv[2], int(sys.argv[3]))
    elif kind == "poll":
        out = poll(sys.argv[2])
    elif kind == "burst":
        out = burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"unknown worker {kind}")
    print(json.dumps(out), flush=True)
