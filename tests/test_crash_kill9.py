"""Crash safety with a real `kill -9`: writers save in a loop and die at random moments.

CI runs 500 kill points (about 10 s); STATETUI_LONG=1 runs 5,000. STATETUI_SEED reuses a
run's sequence of kill delays. After every kill (statetui.testing.crashloop.CrashChecker):
the file loads and holds the last acknowledged generation or the one in flight, every
leftover temp file is reported by stray_temp_files() and removed by the next save, and the
journal's newest entry is the file's write or an older one, never older than the last
acknowledged write. The counts go to tests/.results/ and are printed with -s."""

from __future__ import annotations

import os
import random
import signal
import sys
import time

import pytest

from statetui.core.store import StateStore
from statetui.testing.crashloop import GEN_FIELD, CrashChecker, ForkServer, journal_chain_problems
from statetui.testing.states import realistic_state
from tests.store_results import record

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork and SIGKILL semantics of Linux")

LONG = os.environ.get("STATETUI_LONG") == "1"
KILLS = 5000 if LONG else 500


def kill_delay(rng: random.Random) -> float:
    """Mostly somewhere in a writer's first few saves (one takes ~1-3 ms here); sometimes
    at once, while it is still loading."""
    r = rng.random()
    if r < 0.05:
        return 0.0
    if r < 0.15:
        return rng.uniform(0.0, 0.004)
    return rng.uniform(0.002, 0.025)


def test_kill9_at_random_points_never_loses_or_corrupts(tmp_path):
    seed = int(os.environ.get("STATETUI_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    path = tmp_path / "trading_state.json"
    doc = realistic_state(seed % 1000)
    doc[GEN_FIELD] = 0
    store = StateStore(path)
    init = store.init(doc, reason="crash test start")
    state = store.load()
    setattr(state, GEN_FIELD, 1)
    first = store.save(state, reason="first save (takes the automatic backup before the kills)")
    assert first.backup is not None

    checker = CrashChecker(path, 1, first.sha256, init.sha256)
    server = ForkServer(path)
    started = time.monotonic()
    scale = 1.0  # stretched while few saves complete before their kill (a loaded machine is slower)
    try:
        for i in range(KILLS):
            if i and i % 50 == 0 and checker.tally.acks < i // 5 and scale < 16:
                scale *= 2
            mode = "transaction" if i % 4 == 3 else "save"
            pid = server.fork(mode)
            time.sleep(kill_delay(rng) * scale)
            os.kill(pid, signal.SIGKILL)
            rnd = server.reap(pid)
            try:
                checker.after_kill(rnd, mode)
            except AssertionError as exc:
                raise AssertionError(f"kill {i + 1} (seed {seed}, {mode}): {exc}") from None
    finally:
        server.close()
    elapsed = time.monotonic() - started

    # One more save after the last kill: it removes whatever temp the last kill left.
    leftover = set(store.stray_temp_files())
    assert leftover == checker.pending_strays
    after = StateStore(path)
    state = after.load()
    setattr(state, GEN_FIELD, getattr(state, GEN_FIELD) + 1)
    res = after.save(state, reason="after the kills")
    assert set(res.removed_temp_files) == leftover
    assert after.stray_temp_files() == []
    assert journal_chain_problems(after) == []
    t = checker.tally
    assert t.kills == KILLS
    assert t.last_acked + t.in_flight == KILLS
    # The random kill points must actually land mid-save, or this test proves nothing. (How
    # many saves complete before a kill depends on the machine's load: only ask for some.)
    assert t.in_flight > 0 and t.journal_ahead_of_file > 0 and t.acks >= KILLS // 10

    figures = {**t.as_dict(), "seed": seed, "delay_scale": scale, "failures": 0, "seconds": round(elapsed, 1),
               "final_generation": getattr(state, GEN_FIELD),
               "journal_entries": len(after.journal.scan().entries)}
    record("crash_kill9_long" if LONG else "crash_kill9", figures)
