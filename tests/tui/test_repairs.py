"""Every repair end to end by key presses: wizard -> plan -> confirm -> apply -> verify,
with the file on disk checked afterwards, and the refusals."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from statetui.core.config import Config
from statetui.core.store import StateStore
from statetui.tui.app import StateTuiApp
from statetui.tui.screens.backups import BackupsScreen
from statetui.tui.dialogs import ConfirmScreen, InputScreen, PickScreen
from statetui.tui.screens.repair import RepairScreen

from tests.tui.conftest import ready, screen_text, wait_for

pytestmark = pytest.mark.anyio


def load(config: Config) -> dict:
    return json.loads(config.state.read_bytes())


async def pick(pilot, option_id: str) -> None:
    """In the repair picker, move down to `option_id` and choose it."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PickScreen), "the picker")
    ol = pilot.app.screen.query_one("OptionList")
    for _ in range(ol.option_count + 1):
        if ol.highlighted_option is not None and ol.highlighted_option.id == option_id:
            break
        await pilot.press("down")
    assert ol.highlighted_option.id == option_id
    await pilot.press("enter")


async def planned(pilot) -> RepairScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RepairScreen) and not pilot.app.screen.busy, "the plan")
    return pilot.app.screen


async def confirm_and_apply(pilot) -> RepairScreen:
    wizard = await planned(pilot)
    assert wizard.plan.can_apply, screen_text(pilot.app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
    await pilot.press("y")
    await wait_for(pilot, lambda: wizard.step == "result" and not wizard.busy, "the result")
    return wizard


async def test_restore_a_backup_by_keys(healthy):
    store = StateStore(healthy.state, backup_dir=healthy.backup_dir)
    older = store.backups.list()[-1]  # the oldest backup
    app = StateTuiApp(healthy)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen), "the backups screen")
        table = app.screen.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 2, "two backups listed")
        await pilot.press("down")  # newest first: down is the older one
        assert app.screen.selected() == older.name
        await wait_for(pilot, lambda: "Diff: the current state → this backup" in screen_text(app), "the preview diff")
        await pilot.press("enter")
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok
        text = screen_text(app)
        assert "DONE" in text and "undo: statetui restore" in text
    assert healthy.state.read_bytes() == store.backups.read(older)
    names = [b.name for b in store.backups.list(verify=False)]
    assert any(".pre-restore." in n for n in names), names
    assert store.journal.last()["reason"] == f"repair restore-backup {older.name}"


async def test_refused_while_a_real_process_holds_the_lock_then_applied(jan16, lock_holder):
    before = jan16.state.read_bytes()
    holder = lock_holder(jan16.pid_file)
    app = StateTuiApp(jan16)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("p")
        await pick(pilot, "recompute-peak")
        wizard = await planned(pilot)
        assert wizard.plan.blocked and wizard.plan.stop_command == f"kill {holder.pid}"
        text = screen_text(app)
        assert "REFUSED" in text and f"kill {holder.pid}" in text
        await pilot.press("enter")  # continue is disabled: no confirmation, nothing written
        assert not isinstance(app.screen, ConfirmScreen) and wizard.step == "preconditions"
        assert jan16.state.read_bytes() == before

        holder.stop()
        await pilot.press("r")  # re-check after stopping the bot
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok
        assert {r.id: r.status.value for r in wizard.outcome.verify}["peak-drawdown"] == "PASS"
    doc = load(jan16)
    assert doc["peak_balance"] == 200.97 and doc["halted"] is False and doc["mode"] == "normal"


async def test_apply_rechecks_the_lock_taken_after_the_plan(jan16, lock_holder):
    before = jan16.state.read_bytes()
    app = StateTuiApp(jan16)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("p")
        await pick(pilot, "recompute-peak")
        wizard = await planned(pilot)
        assert wizard.plan.can_apply
        holder = lock_holder(jan16.pid_file)  # the bot starts while the plan is on screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: wizard.step == "result", "the refusal")
        assert wizard.outcome is None and wizard.error_stop == f"kill {holder.pid}"
        assert "NOT APPLIED" in screen_text(app)
    assert jan16.state.read_bytes() == before


async def test_init_state_when_there_is_no_file(tmp_path):
    cfg = Config(state=tmp_path / "state" / "trading_state.json", pid_file=tmp_path / "bot.pid")
    cfg.state.parent.mkdir()
    app = StateTuiApp(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        assert "STATE FILE MISSING" in screen_text(app)
        assert "i create a new state" in screen_text(app)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InputScreen), "the starting cash question")
        for ch in "123.45":
            await pilot.press("full_stop" if ch == "." else ch)
        await pilot.press("enter")
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok
        await pilot.press("enter")  # close the result
        await wait_for(pilot, lambda: app.ctx.state_view.ok, "the new file on the dashboard")
        assert "STATE FILE MISSING" not in screen_text(app)
    doc = load(cfg)
    assert doc["current_balance"] == 123.45 and doc["peak_balance"] == 123.45 and doc["mode"] == "normal"


async def test_backup_now_and_prune_from_the_backups_screen(healthy):
    cfg = Config(state=healthy.state, backup_dir=healthy.backup_dir, pid_file=healthy.pid_file,
                 retention_days=1, keep_min=1)
    store = StateStore(cfg.state, backup_dir=cfg.backup_dir)
    start = [b.name for b in store.backups.list(verify=False)]
    assert len(start) == 2  # 1 h and 25 h old
    app = StateTuiApp(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen), "the backups screen")
        await pilot.press("b")
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok and wizard.outcome.backup
        taken = wizard.outcome.backup
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen), "back on the backups screen")
        assert taken in [b.name for b in store.backups.list(verify=False)]

        await pilot.press("P")
        wizard = await planned(pilot)
        assert [c[0] for c in wizard.plan.changes] == [start[-1]]  # the 25 h one only
        assert "removed" in screen_text(app)
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok
    left = [b.name for b in store.backups.list(verify=False)]
    assert start[-1] not in left and taken in left and start[0] in left


async def test_clear_stale_lock_only_when_nobody_holds_it(healthy, lock_holder):
    holder = lock_holder(healthy.pid_file)
    app = StateTuiApp(healthy)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("p")
        await pick(pilot, "clear-stale-lock")
        wizard = await planned(pilot)
        assert wizard.plan.blocked and "not stale" in screen_text(app)
        await pilot.press("escape")

        holder.proc.kill()  # kill -9: the pid file stays, the kernel drops the lock
        holder.proc.wait()
        assert healthy.pid_file.exists()
        app.request("lock")
        await wait_for(pilot, lambda: app.ctx.lock_view.lock.stale, "the stale lock on the dashboard")
        assert "STALE" in screen_text(app)
        await pilot.press("p")
        await pick(pilot, "clear-stale-lock")
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok
    assert not healthy.pid_file.exists()


async def test_read_only_refuses_every_write(jan16):
    cfg = Config(state=jan16.state, backup_dir=jan16.backup_dir, pid_file=jan16.pid_file, read_only=True)
    before = hashlib.sha256(jan16.state.read_bytes()).hexdigest()
    backups_before = sorted(os.listdir(jan16.backup_dir))
    app = StateTuiApp(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        assert "READ-ONLY" in screen_text(app)
        await pilot.press("p")
        await pick(pilot, "recompute-peak")
        wizard = await planned(pilot)
        assert not wizard.plan.can_apply and "read-only" in wizard.plan.blocked
        await pilot.press("enter")
        assert not isinstance(app.screen, ConfirmScreen)
        assert "READ-ONLY" in screen_text(app)
    assert hashlib.sha256(jan16.state.read_bytes()).hexdigest() == before
    assert not (jan16.state.parent / ".statetui-playbook.json").exists()
    assert sorted(os.listdir(jan16.backup_dir)) == backups_before
