"""The console under fire: the dashboard is open (Textual's run_test, the real app with its
real file watcher) while another process saves 1,000 times in bursts of 50. Every state
view the app applies is checked as it arrives: a complete file (the store only ever
replaces it atomically) must never show as a parse error. The pilot keeps opening and
closing the help screen throughout: each round trip must complete (no freeze). At the
end the dashboard shows the final generation and the final count."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from statetui.core.config import Config
from statetui.core.store import StateStore
from statetui.testing.states import realistic_state
from tests.reliability.figures import publish
from tests.reliability.tier import SIZES

try:
    from textual import events

    from statetui.tui.app import StateTuiApp
    from statetui.tui.screens.help import HelpScreen
    from statetui.tui.widgets.panels import FilePanel
    IMPORT_ERROR = None
except Exception as exc:  # ImportError, or a SyntaxError mid-edit: the console is another engineer's work
    IMPORT_ERROR = f"the console cannot be imported: {exc}"

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(IMPORT_ERROR is not None, reason=IMPORT_ERROR or "")]
REPO = Path(__file__).resolve().parents[2]
STEP_S = 20.0  # an upper bound for one pilot round trip on a slow machine: a hang, not a timing check


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def until(pilot, cond, what: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def until_screen(cond, what: str) -> None:
    """Poll without waiting for the app to go idle (under a flood of file events it rarely
    is); STEP_S bounds a hang, it is not a timing check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_S
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"the app froze: no {what} after {STEP_S:g} s")
        await asyncio.sleep(0.002)


async def test_dashboard_under_1000_saves_in_bursts(tmp_path, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("STATETUI_")]:
        monkeypatch.delenv(key)
    saves = SIZES["console_saves"]
    path = tmp_path / "state" / "trading_state.json"
    path.parent.mkdir()
    doc = realistic_state(31)
    doc["total_trades"] = 0
    StateStore(path).init(doc)
    config = Config(state=path, pid_file=tmp_path / "bot.pid")
    writer = subprocess.Popen([sys.executable, "-m", "tests.reliability.workers", "burst", str(path), str(saves), "50"],
                              cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"

    app = StateTuiApp(config, audit_on_start=False)
    seen = {"views": 0, "errors": [], "counts": [], "round_trips": 0, "slowest_round_trip_s": 0.0}

    def on_change(kind: str) -> None:
        if kind != "state" or app.ctx.state_view is None:
            return
        v = app.ctx.state_view
        seen["views"] += 1
        if not v.ok:
            seen["errors"].append(f"{v.error_kind}: {v.error}")
        else:
            seen["counts"].append(v.values["total_trades"])

    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.ctx.state_view is not None and app.ctx.live, "the first view and the watcher")
            app.ctx.changed.subscribe(app.screen, on_change)
            writer.stdin.write("go\n")
            writer.stdin.flush()
            loop = asyncio.get_running_loop()
            while writer.poll() is None:
                # A key as the terminal sends it, then the screen it opens, and back: the app
                # must keep answering while the file changes under it.
                started = loop.time()
                app.post_message(events.Key("question_mark", "?"))
                await until_screen(lambda: isinstance(app.screen, HelpScreen), "the help screen to open")
                app.post_message(events.Key("escape", None))
                await until_screen(lambda: not isinstance(app.screen, HelpScreen), "the help screen to close")
                seen["round_trips"] += 1
                seen["slowest_round_trip_s"] = max(seen["slowest_round_trip_s"], loop.time() - started)
                await asyncio.sleep(0.02)
            # And through the pilot, the way a test drives it.
            await asyncio.wait_for(pilot.press("question_mark"), STEP_S)
            await asyncio.wait_for(pilot.pause(), STEP_S)
            assert isinstance(app.screen, HelpScreen)
            await asyncio.wait_for(pilot.press("escape"), STEP_S)
            out, _ = writer.communicate(timeout=60)
            assert writer.returncode == 0, out
            final = json.loads(out.strip().splitlines()[-1])
            await until(pilot, lambda: app.ctx.state_view is not None and app.ctx.state_view.ok
                        and app.ctx.state_view.values["total_trades"] == final["final"]
                        and app.ctx.state_view.generation == final["generation"], "the final state on screen")
            await pilot.pause()
            panel = app.screen.query_one(FilePanel).render().plain
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    counts = seen["counts"]
    publish("console", {"saves": saves, "bursts_of": 50, "state_views_applied": seen["views"],
                        "distinct_states_shown": len(set(counts)), "parse_errors_shown": len(seen["errors"]),
                        "key_round_trips": seen["round_trips"],
                        "slowest_round_trip_s (observed, not asserted)": round(seen["slowest_round_trip_s"], 3),
                        "final_generation": final["generation"]})
    assert not seen["errors"], f"a complete file was shown as an error: {seen['errors'][:5]}"
    assert counts == sorted(counts), "the dashboard showed an older state after a newer one"
    assert f"gen {final['generation']}" in panel, f"the final generation is not on screen: {panel!r}"
    assert seen["round_trips"] > 0 and len(set(counts)) > 2
