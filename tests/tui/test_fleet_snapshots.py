"""SVG snapshots of the fleet screen at 80x24 and 120x40 (pytest-textual-snapshot), on
fleets at fixed paths with every time pinned and the app on a fixed clock
(tests/tui/frozen.py, tests/tui/fleets.py). Update with `--snapshot-update` after a
deliberate change, and look at the SVGs before committing them."""

from __future__ import annotations

import pytest

from statetui.tui.app import StateTuiApp

from tests.tui import fleets, frozen
from tests.tui.test_fleet import fleet_ready

SIZES = [(80, 24), (120, 40)]


def fleet_app(name: str, n: int | None = None) -> StateTuiApp:
    bots = fleets.snapshot_fleet(name, n)
    return StateTuiApp(bots[0].config, fleet=bots, now=frozen.clock)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_of_three(snap_compare, size):
    assert snap_compare(fleet_app(f"fleet-3-{size[0]}"), terminal_size=size, run_before=fleet_ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_of_fifty(snap_compare, size):
    assert snap_compare(fleet_app(f"fleet-50-{size[0]}", 50), terminal_size=size, run_before=fleet_ready)


def test_fleet_halted_bot_detail(snap_compare):
    async def halted(pilot) -> None:
        await fleet_ready(pilot)
        await pilot.press("down")  # beta, the Jan 16 desync
        await pilot.pause()

    assert snap_compare(fleet_app("fleet-3-beta"), terminal_size=(80, 24), run_before=halted)
