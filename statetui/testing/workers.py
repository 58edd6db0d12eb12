"""Real processes hammering one state file, for concurrency tests.

    python -m statetui.testing.workers increment STATE N   # N transaction() increments
    python -m statetui.testing.workers read STATE          # load() in a loop until stdin closes

Both print "ready" and wait for a line on stdin before starting, so every process is up
(imports done) when the race begins. The last line each prints is a JSON summary.

An increment adds 1 to `total_trades` and 0.01 to `current_balance`, the money in Decimal
(statetui.core.money) so a thousand additions land on the exact cent. It reports the
counter value it wrote each time: across all workers those must be distinct and
consecutive, which is a stronger check than the final count alone."""

from __future__ import annotations

import json
import sys
from decimal import Decimal


def _wait_for_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def increment(path: str, n: int) -> dict:
    from statetui.core.money import to_money
    from statetui.core.store import StateStore

    store = StateStore(path, writer="increment-worker")
    _wait_for_go()
    written = []
    for _ in range(n):
        with store.transaction(reason="worker increment") as state:
            state.total_trades += 1
            state.current_balance = float(to_money(state.current_balance) + Decimal("0.01"))
            written.append(state.total_trades)
    return {"written": written}


def read(path: str) -> dict:
    """Poll until stdin closes: every read must parse, and nothing may go backwards."""
    import select

    from statetui.core.errors import StatetuiError
    from statetui.core.store import StateStore

    store = StateStore(path)
    _wait_for_go()
    reads, errors, backwards, last = 0, [], 0, -1
    while True:
        try:
            count = store.load().total_trades
            reads += 1
            if count < last:
                backwards += 1
            last = max(last, count)
        except StatetuiError as exc:
            errors.append(str(exc))
        if select.select([sys.stdin], [], [], 0)[0]:  # stdin closed or written: stop
            break
    return {"reads": reads, "errors": errors[:5], "error_count": len(errors), "backwards": backwards, "last": last}


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "increment":
        result = increment(argv[1], int(argv[2]))
    elif len(argv) == 2 and argv[0] == "read":
        result = read(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
