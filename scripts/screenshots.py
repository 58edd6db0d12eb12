"""Produce the console screenshots in screenshots/ from real app runs.

    python3 scripts/screenshots.py [--out screenshots]

Each screenshot is the real app (Textual's headless driver, the same code as over SSH)
on a real sandbox built through the store (statetui.testing.scenarios), with times,
pids and paths pinned (tests/tui/frozen.py) so a re-run gives the same SVGs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from statetui.testing import scenarios  # noqa: E402
from statetui.tui.app import StateTuiApp  # noqa: E402
from statetui.tui.screens.audit import AuditScreen  # noqa: E402
from statetui.tui.screens.recovery import RecoveryScreen  # noqa: E402
from statetui.tui.screens.repair import RepairScreen  # noqa: E402
from tests.tui import frozen  # noqa: E402
from tests.tui.conftest import ready, wait_for  # noqa: E402
from tests.tui.test_recovery import checked, fix  # noqa: E402
from tests.tui.test_repairs import confirm_and_apply, pick  # noqa: E402

Steps = Callable[[object], Awaitable[None]]


async def settle(pilot) -> None:
    await ready(pilot)
    for entry in pilot.app.ctx.audit.values():
        entry.result.duration_ms = 0.0  # the one measured figure on screen
    pilot.app.ctx.changed.publish("audit")
    await pilot.pause()


async def nothing(pilot) -> None:
    pass


async def corrupt(pilot) -> None:
    path = pilot.app.config.state
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 2)
    when = frozen.FIXED_NOW - 5
    os.utime(path, (when, when))
    await wait_for(pilot, lambda: pilot.app.ctx.state_view.error_kind == "corrupt" and pilot.app.ctx.state_view.mtime == when,
                   "the truncated file")
    # The checks that read the file re-run a second after it changes.
    await wait_for(pilot, lambda: pilot.app.ctx.audit["state-file"].result.status.value != "PASS"
                   and not pilot.app.ctx.audit_running, "the state-file check re-run")
    await settle(pilot)


async def audit(pilot) -> None:
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, AuditScreen), "the audit screen")
    while pilot.app.screen.selected() != "peak-drawdown":
        await pilot.press("down")


async def repair_plan(pilot) -> None:
    await pilot.press("p")
    await pick(pilot, "recompute-peak")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RepairScreen) and not pilot.app.screen.busy, "the plan")


async def repair_result(pilot) -> None:
    await repair_plan(pilot)
    await confirm_and_apply(pilot)
    for r in pilot.app.screen.outcome.verify:
        r.duration_ms = 0.0


async def recovery(pilot) -> None:
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecoveryScreen) and pilot.app.screen.book, "the playbook")
    screen = pilot.app.screen
    for step in ("bot-stopped", "state-readable"):
        await checked(pilot, screen, step)
        await pilot.press("n")
    await checked(pilot, screen, "snapshot")
    await fix(pilot, screen, "snapshot")
    await checked(pilot, screen, "snapshot")
    for step in ("snapshot", "backups", "chain"):
        await pilot.press("n") if step != "snapshot" else None
        await checked(pilot, screen, step)
    await pilot.press("n")
    await checked(pilot, screen, "peak")


SHOTS: list[tuple[str, Callable, tuple[int, int], Steps]] = [
    ("dashboard-healthy", scenarios.healthy, (120, 40), nothing),
    ("dashboard-jan16", scenarios.jan16, (120, 40), nothing),
    ("dashboard-jan16-80x24", scenarios.jan16, (80, 24), nothing),
    ("dashboard-file-corrupt-80x24", scenarios.healthy, (80, 24), corrupt),
    ("audit-results", scenarios.jan16, (120, 40), audit),
    ("repair-diff", scenarios.jan16, (120, 40), repair_plan),
    ("repair-result", scenarios.jan16, (120, 40), repair_result),
    ("guided-recovery", scenarios.jan16, (120, 40), recovery),
]


async def shoot(name: str, build, size: tuple[int, int], steps: Steps, out: Path) -> Path:
    app = StateTuiApp(frozen.sandbox(f"shot-{name}", build), now=frozen.clock)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await steps(pilot)
        await pilot.pause(0.2)
        svg = app.export_screenshot(title=f"statetui — {name}")
    path = out / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


# The fleet screen (issue 16): several bots in one config, one row each (tests/tui/fleets.py).
FLEET_SHOTS: list[tuple[str, int | str | None, tuple[int, int]]] = [
    ("fleet", "showcase", (120, 40)),
    ("fleet-50-80x24", 50, (80, 24)),
]


async def shoot_fleet(name: str, n: int | str | None, size: tuple[int, int], out: Path) -> Path:
    from tests.tui import fleets
    from tests.tui.test_fleet import fleet_ready

    bots = fleets.snapshot_fleet(f"shot-{name}", n)
    app = StateTuiApp(bots[0].config, fleet=bots, now=frozen.clock)
    async with app.run_test(size=size) as pilot:
        await fleet_ready(pilot)
        await pilot.press("down")  # the halted bot's detail: why it halted and the next step
        await pilot.pause(0.2)
        svg = app.export_screenshot(title=f"statetui — {name}")
    path = out / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def main() -> int:
    # The screenshots show the default theme whatever terminal runs this script.
    os.environ["TERM"] = "xterm-256color"
    os.environ.pop("NO_COLOR", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, build, size, steps in SHOTS:
        path = asyncio.run(shoot(name, build, size, steps, out))
        print(f"{path}  {size[0]}x{size[1]}")
    for name, n, size in FLEET_SHOTS:
        path = asyncio.run(shoot_fleet(name, n, size, out))
        print(f"{path}  {size[0]}x{size[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
