"""One watcher for the whole fleet (statetui.tui.fleet_watch): which bots a change
concerns, and a real watch over bots that share a folder."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.core.config import Config
from statetui.core.fleet import Bot
from statetui.core.model import default_state
from statetui.core.store import StateStore
from statetui.core.fleet import files_stamp as stamp
from statetui.tui.fleet_watch import FleetTargets, watch_fleet

pytestmark = pytest.mark.anyio


def two_in_one_folder(tmp_path: Path) -> list[Bot]:
    return [Bot(n, Config(state=tmp_path / "bots" / f"{n}.json", pid_file=tmp_path / f"{n}.pid")) for n in ("alpha", "beta")]


def test_a_change_concerns_only_its_bot(tmp_path):
    bots = two_in_one_folder(tmp_path)
    t = FleetTargets(bots)
    folder = tmp_path / "bots"
    assert t.bots_for(str(folder / "alpha.json")) == {"alpha"}
    assert t.bots_for(str(folder / "beta.journal.jsonl")) == {"beta"}
    assert t.bots_for(str(folder / ".alpha.json.tmp-123")) == set()  # the store's temp file
    assert t.bots_for(str(folder / "alpha.json.lock")) == set()
    assert t.bots_for(str(folder / "notes.txt")) == set()
    # Their default backups folder is shared: a new backup may be either's.
    assert t.bots_for(str(folder / "backups" / "alpha.20260116T000000Z.daily.abc.json")) == {"alpha", "beta"}
    assert t.folders() == [folder, folder / "backups"]  # each folder once


def test_stamp_changes_with_a_write(tmp_path):
    bots = two_in_one_folder(tmp_path)
    (tmp_path / "bots").mkdir()
    store = StateStore(bots[0].config.state, auto_backup_interval=None)
    before = stamp(bots[0].config)
    assert before == (None,) * 5  # state, journal, backups, pid file, lock file
    store.init(default_state(Decimal("10.00"), "2026-01-15T00:00:00Z"), reason="init")
    assert stamp(bots[0].config) != before
    assert stamp(bots[1].config) == (None,) * 5


async def test_one_watch_over_bots_sharing_a_folder(tmp_path):
    bots = two_in_one_folder(tmp_path)
    (tmp_path / "bots").mkdir()
    stores = {b.name: StateStore(b.config.state, auto_backup_interval=None) for b in bots}
    stop = asyncio.Event()
    seen: list[set[str]] = []

    async def collect() -> None:
        async for names in watch_fleet(bots, stop):
            seen.append(names)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.3)  # the watch is set up
    stores["beta"].init(default_state(Decimal("10.00"), "2026-01-15T00:00:00Z"), reason="init")
    for _ in range(200):
        if any("beta" in s for s in seen):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert any("beta" in s for s in seen)
    assert not any("alpha" in s for s in seen)  # alpha's file never changed
