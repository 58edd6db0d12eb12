"""Fixtures for the console tests: real sandboxes built through the real store, the real
app under Textual's Pilot, real child processes. Waiting helpers poll the app's state and
fail with what they waited for; nothing here asserts a duration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from statetui.core.config import Config
from statetui.testing import scenarios

WAIT_S = 20.0  # an upper bound for slow CI machines, not a timing assertion


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio; test modules set `pytestmark = pytest.mark.anyio`


def config_for(sc: scenarios.Scenario, **kw) -> Config:
    return Config(state=sc.state, backup_dir=sc.backups, pid_file=sc.root / "bot.pid", **kw)


@pytest.fixture
def jan16(tmp_path: Path) -> Config:
    """The Jan 16 desync: cash 200.97, peak 386.97 (186.00 of positions), halted on drawdown."""
    return config_for(scenarios.jan16(tmp_path))


@pytest.fixture
def healthy(tmp_path: Path) -> Config:
    return config_for(scenarios.healthy(tmp_path))


@pytest.fixture(autouse=True)
def _no_statetui_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("STATETUI_") or key == "NO_COLOR":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


async def wait_for(pilot, cond: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n--- screen ---\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


async def ready(pilot, audit: bool = True) -> None:
    """Every view loaded, the watcher live, and (by default) the local checks run."""
    app = pilot.app
    await wait_for(pilot, lambda: app.ctx.state_view and app.ctx.lock_view and app.ctx.backups_view and app.ctx.history_view,
                   "the first views")
    if app.watch_enabled:
        await wait_for(pilot, lambda: app.ctx.live, "the watcher")
    if audit and app.audit_on_start:
        await wait_for(pilot, lambda: app.ctx.audit_ids and not app.ctx.audit_running
                       and all(c in app.ctx.audit for c in app.startup_checks()), "the startup checks")
    await wait_for(pilot, lambda: footer_drawn(app.screen), "the footer's keys")
    await pilot.pause()


def footer_drawn(screen) -> bool:
    """The screen's footer lists its keys, ^p included where there is room (the dashboard
    mounts its footer after the first frame)."""
    from textual.widgets._footer import FooterKey

    from statetui.tui.screens.dashboard import DashboardScreen
    from statetui.tui.widgets.footer import WIDE, ConsoleFooter

    footers = screen.query(ConsoleFooter)
    if not footers:
        return not isinstance(screen, DashboardScreen)
    footer = footers.first()
    keys = [k.action for k in footer.query(FooterKey)]
    wide = footer.size.width >= WIDE
    return bool(keys) and footer.show_command_palette == wide and (not wide or "command_palette" in keys)


def screen_text(app) -> str:
    """The current screen as plain text, line by line (what a person would read)."""
    try:
        strips = app.screen._compositor.render_strips()
    except Exception as exc:  # pragma: no cover - a Textual internals change
        return f"<cannot render: {exc}>"
    return "\n".join(s.text for s in strips)


def write_atomically(path: Path, data: bytes) -> None:
    """From a separate process, the way a bot without statetui replaces its file."""
    code = (
        "import os, sys\n"
        "p = sys.argv[1]; tmp = p + '.tmp-ext'\n"
        "with open(tmp, 'wb') as f:\n"
        "    f.write(sys.stdin.buffer.read()); f.flush(); os.fsync(f.fileno())\n"
        "os.replace(tmp, p)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], input=data, check=True, timeout=60)

