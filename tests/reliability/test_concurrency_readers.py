"""Writers and readers at once: W processes x N transaction() increments while 2 readers
poll status() throughout (CI 4 x 100; long tier 8 x 1,000). The final count and the Decimal
balance are exact, every counter value was written exactly once, the journal's
generations are gapless, no transaction failed (a lock wait past the store's timeout is
a typed LockTimeoutError the writer retries; counted), and no reader ever saw a parse error or a counter or generation
going backwards."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from statetui.core.money import to_money
from statetui.core.store import StateStore
from statetui.testing.states import realistic_state
from tests.reliability.figures import publish
from tests.reliability.tier import SIZES

REPO = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "tests.reliability.workers", *args], cwd=REPO,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready", f"worker {args} did not start"
    return p


def finish(p: subprocess.Popen, timeout: float = 600) -> dict:
    out, _ = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"worker exited {p.returncode}: {out[-500:]}"
    return json.loads(out.strip().splitlines()[-1])


def test_writers_lose_nothing_and_readers_never_see_a_torn_or_older_state(tmp_path):
    w, n, r = SIZES["writers"], SIZES["transactions"], SIZES["readers"]
    path = tmp_path / "trading_state.json"
    doc = realistic_state(21)
    doc["total_trades"], doc["current_balance"] = 0, 100.0
    store = StateStore(path)
    store.init(doc)
    readers = [start("poll", str(path)) for _ in range(r)]
    writers = [start("txn", str(path), str(n)) for _ in range(w)]
    for p in writers + readers:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [finish(p) for p in writers]
    wrote = [r["wrote"] for r in results]
    writer_errors = [e for r in results for e in r["errors"]]
    for p in readers:
        p.stdin.write("stop\n")
        p.stdin.flush()
    seen = [finish(p) for p in readers]

    state = store.load()
    values = sorted(v for vs in wrote for v in vs)
    publish("concurrency", {
        "writers": w, "transactions_each": n, "transactions": w * n, "readers": r,
        "final_count": state.total_trades, "lost_updates": w * n - state.total_trades,
        "writer_errors": sum(r["error_count"] for r in results),
        "lock_timeouts_retried": sum(r["lock_timeouts"] for r in results),
        "reader_polls": sum(s["polls"] for s in seen), "reader_parse_errors": sum(s["error_count"] for s in seen),
        "reader_backwards": sum(s["backwards_count"] for s in seen),
        "reader_distinct_states": [s["distinct_counts"] for s in seen],
    })
    assert state.total_trades == w * n, f"lost updates: {w * n - state.total_trades} of {w * n}"
    assert not writer_errors, f"transactions failed: {writer_errors[:5]}"
    assert to_money(state.current_balance) == Decimal("100.00") + Decimal("0.01") * w * n
    assert values == list(range(1, w * n + 1)), "a counter value was written twice or never"
    gens = [e["generation"] for e in store.journal.scan().entries]
    assert gens == list(range(1, w * n + 2)), "journal generations have a gap or a repeat"
    for s in seen:
        assert s["error_count"] == 0, f"a reader saw a parse error: {s['errors']}"
        assert s["backwards_count"] == 0, f"a reader saw the state go backwards: {s['backwards']}"
        assert s["polls"] > 0 and s["max_count"] <= w * n
    # The readers polled throughout, not just before or after the writers.
    assert max(s["distinct_counts"] for s in seen) > 2
