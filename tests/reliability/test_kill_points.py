"""Real `kill -9` at random points of save, backup, restore and reconcile (the reconcile
repair against a real anvil node when node_modules/.bin/anvil is there; skipped otherwise,
and the figures say so). CI: 300 kill points; the long tier: 10,000. See killloop.py for
what is checked after every kill."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from statetui.core.store import StateStore
from tests.reliability.journalcheck import journal_problems
from statetui.testing.states import realistic_state
from tests.reliability.figures import publish
from tests.reliability.killloop import KillChecker, Server
from tests.reliability.tier import SIZES, seed

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork and SIGKILL semantics of Linux")

REPO = Path(__file__).resolve().parents[2]
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SEALS_COVERED = 5  # journal segments sealed during the kills, at least
FIRST_GUESS = {"save": 0.01, "backup": 0.008, "restore": 0.015, "reconcile": 0.06}  # seconds per call


def anvil_binary() -> tuple[str | None, str]:
    if not (REPO / "node_modules" / ".bin" / "anvil").exists():
        return None, "no node_modules/.bin/anvil (run `npm ci`): reconcile kill points skipped"
    from statetui.testing.anvil import AnvilUnavailable, find_anvil

    try:
        return find_anvil(install=False), ""
    except AnvilUnavailable as exc:
        return None, f"anvil unavailable ({exc}): reconcile kill points skipped"


@pytest.fixture(scope="module")
def chain():
    binary, why = anvil_binary()
    if binary is None:
        yield None, why
        return
    from statetui.testing import anvil

    with anvil.polymarket_node(binary) as node:
        yield node, ""


def delay(rng: random.Random, mode: str, took: dict[str, float]) -> float:
    """Somewhere in the writer's first two calls: each call's duration is learnt from the
    acks (a reconcile slows down as the journal it reads grows)."""
    if rng.random() < 0.05:
        return 0.0  # while it is still starting
    if rng.random() < 0.3:
        # Long enough for a journal seal (fsync, rename, folder fsync, index write) to finish,
        # or to be cut anywhere in it: the writers' journals rotate every few entries.
        return rng.uniform(0.0, 0.08)
    return rng.uniform(0.0, 2 * took[mode])


def test_kill9_during_save_backup_restore_and_reconcile(tmp_path, chain):
    node, skipped = chain
    first = seed()
    rng = random.Random(first)
    kills = SIZES["kill_points"]
    path = tmp_path / "state" / "trading_state.json"
    path.parent.mkdir()
    store = StateStore(path)
    doc = realistic_state(first % 1000)
    doc["current_balance"], doc["peak_balance"] = 200.0, 250.0
    store.init(doc)
    a = store.backup(reason="restore-a").name
    state = store.load()
    state.total_trades += 1000
    state.current_balance = 321.0
    store.save(state, reason="second state")
    b = store.backup(reason="restore-b").name

    modes = ["save", "backup", "restore"] + (["reconcile"] if node else [])
    weights = [0.35, 0.2, 0.25, 0.2] if node else [0.45, 0.25, 0.3]
    checker = KillChecker(path, keep={a, b})
    server = Server(path, (node.url, WALLET) if node else None)
    problems: list[str] = []
    took = dict(FIRST_GUESS)
    started = time.monotonic()
    try:
        # `kills` kills, then more while the journal has sealed fewer than SEALS_COVERED
        # segments (at most as many again): on a loaded machine fewer writes finish between
        # kills, and the kills must still land around seals.
        for i in range(2 * kills):
            if i >= kills and checker.tally.segments_sealed >= SEALS_COVERED:
                break
            mode = rng.choices(modes, weights)[0]
            pid = server.fork(mode, *((a, b) if mode == "restore" else ()))
            time.sleep(delay(rng, mode, took))
            os.kill(pid, signal.SIGKILL)
            rnd = server.reap(pid)
            for d in rnd.durations:
                took[mode] = 0.8 * took[mode] + 0.2 * d
            problems += [f"kill {i + 1} ({mode}, STATETUI_SEED={first}): {p}" for p in checker.after_kill(rnd)]
            if len(problems) >= 20:
                break
            if i % 25 == 24:
                checker.tidy_backups()
    finally:
        server.close()
    elapsed = time.monotonic() - started

    problems += journal_problems(store)
    after = StateStore(path)
    state = after.load()
    state.total_trades += 1
    res = after.save(state, reason="after the kills")
    if after.stray_temp_files():
        problems.append(f"temp files left after the next save: {after.stray_temp_files()}")
    problems += [f"after the next save: {p}" for p in journal_problems(after)]
    from statetui.core.journal_digest import verify

    # The journal index may lag a seal a kill interrupted (the next seal catches up), but the
    # summary it holds must be the one the segments give: a summary that differs is a bug.
    problems += [f"journal --verify: {p}" for p in verify(after, after.roles(state._document()))
                 if "differs from one rebuilt" in p or "checksum" in p or "not entries" in p or "before the previous" in p]
    if res.generation != after.journal.scan().entries[-1]["generation"]:
        problems.append("the next save is not the journal's newest entry")
    t = checker.tally
    publish("kill9", {
        "seed": first, "kill_points": t.kills, "by_mode": t.by_mode, "acknowledged_writes": t.acks,
        "file_was_last_acknowledged": t.last_acked, "file_was_in_flight": t.in_flight,
        "kills_leaving_a_temp": t.strays, "hidden_backup_temps": t.hidden_backup_temps,
        "backups_verified": t.backups_verified, "reconcile": "against anvil" if node else skipped,
        "journal_segments_sealed": t.segments_sealed, "kills_after_seal_before_append": t.kills_after_seal_before_append,
        "kills_before_index_written": t.kills_before_index,
        "seconds_per_call_at_the_end": {m: round(v, 4) for m, v in took.items()},
        "violations": len(problems), "seconds": round(elapsed, 1),
    })
    assert not problems, "\n".join(problems)
    assert kills <= t.kills <= 2 * kills
    assert t.segments_sealed >= SEALS_COVERED, f"only {t.segments_sealed} journal rotations in {t.kills} kills: the kills did not cover sealing"
