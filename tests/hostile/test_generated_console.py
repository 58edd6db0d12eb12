"""The console (Textual's Pilot) on generated hostile sandboxes: a hostile state (strings,
numbers, shapes), hostile journal lines and hostile backup files at once, every screen
visited; and the state file turned into a FIFO, an over-cap file and back while it watches.
The app must never crash, keep watching, show state text literally (markup and escapes), and
write nothing."""

from __future__ import annotations

import json
import os
import random

import pytest

from statetui.core.config import Config
from statetui.core.limits import LIMITS
from statetui.testing import scenarios
from tests.hostile.harness import changes, snapshot
from tests.hostile.inputs_gen import BACKUP_CONTENTS, BACKUP_NAMES, journal_line, state_inputs
from tests.hostile.sizes import SIZES, seed
from tests.reliability.figures import publish
from tests.tui.conftest import screen_text, wait_for
from tests.tui.conftest import ready as _ready

WAIT_S = 120.0  # an upper bound for a loaded shared machine, not a timing assertion


async def ready(pilot, audit: bool = True) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.ctx.state_view and app.ctx.lock_view and app.ctx.backups_view and app.ctx.history_view,
                   "the first views", timeout=WAIT_S)
    await wait_for(pilot, lambda: app.ctx.live, "the watcher", timeout=WAIT_S)
    if audit:
        await wait_for(pilot, lambda: app.ctx.audit_ids and not app.ctx.audit_running
                       and all(c in app.ctx.audit for c in app.startup_checks()), "the local checks", timeout=WAIT_S)
    await _ready(pilot, audit=audit)

pytestmark = pytest.mark.anyio

MARKUP = "[bold red]literal[/]"


def _hostile_sandbox(rng: random.Random, root):
    sc = scenarios.healthy(root)
    name, raw = state_inputs(rng, 1)[0]
    doc_note = f"{MARKUP} \u001b[2J"
    sc.state.write_bytes(raw)
    try:  # a known marker in the journal, whatever the state is
        from statetui.core.store import StateStore

        store = StateStore(sc.state, backup_dir=sc.backups)
        s = store.load()
        s.total_trades = (s.total_trades or 0) + 1
        store.save(s, reason=doc_note)
        marker = True
    except Exception:  # an unloadable generated state: the journal gets its line by hand
        marker = False
    journal = sc.state.with_name("trading_state.journal.jsonl")
    with open(journal, "ab") as f:
        for _ in range(2):
            f.write(journal_line(rng, LIMITS.journal_line_bytes)[1] + b"\n")
        if not marker:
            f.write(json.dumps({"generation": 999, "reason": doc_note, "changes": {}}).encode() + b"\n")
    planted = []
    for _ in range(2):
        bname, (what, make) = rng.choice(BACKUP_NAMES), rng.choice(list(BACKUP_CONTENTS.items()))
        p = sc.backups / bname
        if not os.path.lexists(p):
            make(p)
            planted.append(f"{bname[:20]!r} {what}")
    return sc, f"{name}; backups {', '.join(planted)}"


async def test_generated_hostile_sandboxes_in_the_console(tmp_path):
    from statetui.tui.app import StateTuiApp

    s = seed()
    rng = random.Random(s + 9)
    screens = 0
    for i in range(SIZES["console"]):
        sc, label = _hostile_sandbox(rng, tmp_path / f"c{i}")
        cfg = Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid")
        before = snapshot(sc.root)
        app = StateTuiApp(cfg)
        async with app.run_test(size=(160, 48)) as pilot:
            await ready(pilot)
            assert app.ctx.live, label
            for key in ("j", "b", "a", "g", "?"):
                await pilot.press(key)
                await pilot.pause(0.3)
                assert app.is_running, f"{label}: closed after {key}"
                text = screen_text(app)
                if key == "j":
                    await wait_for(pilot, lambda: MARKUP in screen_text(app), f"{label}: the reason, literally", timeout=WAIT_S)
                screens += 1
                assert "\x1b" not in text, label
                await pilot.press("escape")
                await pilot.pause(0.1)
        # the guided recovery keeps its progress (not read-only); nothing else is written
        assert changes(before, snapshot(sc.root), ignore=[".statetui-playbook.json"]) == [], label
    publish("hostile_input-console", {"cases": SIZES["console"] + 1, "screens": screens, "seed": s})


async def test_the_console_watches_a_state_turned_into_a_fifo_a_giant_and_back(tmp_path):
    from statetui.tui.app import StateTuiApp
    from statetui.tui.widgets.panels import BalancesPanel

    sc = scenarios.healthy(tmp_path / "bot")
    good = sc.state.read_bytes()
    cfg = Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid")
    app = StateTuiApp(cfg, audit_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, audit=False)
        sc.state.unlink()
        os.mkfifo(sc.state)
        await wait_for(pilot, lambda: app.ctx.state_view and app.ctx.state_view.error_kind == "not-regular", "the FIFO refused",
                       timeout=WAIT_S)
        os.unlink(sc.state)
        with open(sc.state, "wb") as f:
            f.truncate(65 * 1024 * 1024)
        await wait_for(pilot, lambda: app.ctx.state_view and app.ctx.state_view.error_kind == "too-large", "the giant refused",
                       timeout=WAIT_S)
        tmp = sc.state.with_name("swap.json")
        tmp.write_bytes(good.replace(b"200.97", b"123.45"))
        os.replace(tmp, sc.state)
        await wait_for(pilot, lambda: "cash (current_balance) 123.45" in app.screen.query_one(BalancesPanel).render().plain, "readable again",
                       timeout=WAIT_S)
        assert app.ctx.live
