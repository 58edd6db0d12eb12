"""Read-only writes nothing anywhere: every verb (and the console's writes) under
--read-only leaves the sandbox, the working folder and the scratch folders exactly as they
were; a write is refused with exit 5. And a verb that fails its input checks creates no
lock file, no folder and no temp file either."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from statetui.core.config import Config
from statetui.testing import scenarios
from statetui.testing.states import left_by_a_stopped_bot
from tests.hostile.harness import changes, cli, judge, left_behind, snapshot

pytestmark = pytest.mark.anyio

SCRATCH = [Path(p) for p in ("/dev/shm", "/tmp") if os.path.isdir(p)]


# What statetui itself makes in scratch folders (other test runs share the machine's /tmp).
OURS = ("statetui-recovery-", "statetui-restore-test-", "statetui-demo-", "statetui-audit-")


def _scratch_names() -> set[str]:
    return {f"{d}/{n}" for d in SCRATCH for n in os.listdir(d) if n.startswith(OURS)}


READ_ONLY_RUNS = [  # (argv, exit codes)
    (["show"], {0}), (["show", "--json"], {0}), (["backups"], {0}), (["verify"], {0}), (["journal"], {0}),
    (["config"], {0}), (["audit"], {2}), (["audit", "--format", "md"], {2}), (["audit", "--output", "-"], {2}),
    (["repair"], {0}), (["repair", "recompute-peak"], {5}), (["reconcile"], {2}),
    (["init", "--balance", "5"], {5}), (["backup"], {5}), (["prune"], {5}), (["prune", "--dry-run"], {0}),
    (["restore", "latest"], {5}), (["restore", "latest", "--yes"], {5}), (["restore", "latest", "--plan"], {5}),
    (["repair", "recompute-peak", "--apply", "--yes"], {5}), (["repair", "backup-now", "--apply", "--yes"], {5}),
    (["repair", "prune-backups", "--apply", "--yes"], {5}), (["repair", "clear-stale-lock", "--apply", "--yes"], {0, 5}),
    (["audit", "--output", "REPORT"], {5}), (["audit", "--format", "json", "--output", "REPORT"], {5}),
    (["demo"], {5}), (["fields"], {0}), (["fields", "--json"], {0}), (["chain-history"], {2}),
]


def test_every_verb_in_read_only_mode_writes_nothing_anywhere(jan16, tmp_path):
    before = snapshot(tmp_path)
    scratch = _scratch_names()
    cwd = os.getcwd()
    problems = []
    for argv, codes in READ_ONLY_RUNS:
        argv = [str(tmp_path / "report.out") if a == "REPORT" else a for a in argv]
        res = cli(["--read-only", *argv, "--state", str(jan16.state), "--backup-dir", str(jan16.backups),
                   "--pid-file", str(jan16.root / "bot.pid")], tmp_path)
        found = judge(res, codes, error_line=(5 in codes and res.code == 5) or None)
        if found:
            problems.append(f"{argv}: {found}\n{res}")
        # the same through the environment
        res = cli([*argv], tmp_path, {"STATETUI_READ_ONLY": "yes", "STATETUI_STATE": str(jan16.state),
                                      "STATETUI_BACKUP_DIR": str(jan16.backups), "STATETUI_PID_FILE": str(jan16.root / "bot.pid")})
        if res.code not in codes:
            problems.append(f"env {argv}: exit {res.code}\n{res}")
    assert os.getcwd() == cwd
    problems += changes(before, snapshot(tmp_path))
    problems += [f"scratch created: {n}" for n in sorted(left_behind(_scratch_names, scratch))]
    assert not problems, "\n".join(problems)


async def test_the_console_in_read_only_mode_writes_nothing(jan16, tmp_path):
    from statetui.tui.app import StateTuiApp
    from tests.tui.conftest import ready, wait_for

    cfg = Config(state=jan16.state, backup_dir=jan16.backups, pid_file=jan16.root / "bot.pid", read_only=True)
    before = snapshot(tmp_path)
    scratch = _scratch_names()
    app = StateTuiApp(cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)  # every local check has run (recovery and backups would use sandboxes)
        await pilot.press("a")
        await pilot.press("x")  # export: refused
        await pilot.pause(0.2)
        await pilot.press("escape")
        await pilot.press("g")  # guided recovery: progress kept in memory
        await pilot.pause(0.5)
        await pilot.press("d")
        await pilot.press("e")
        await pilot.pause(0.5)
    assert app.ctx.audit["recovery"].result.status.value == "SKIPPED"
    assert changes(before, snapshot(tmp_path)) == []
    assert left_behind(_scratch_names, scratch) == set()


@pytest.mark.parametrize("case", ["missing folder", "state is a folder", "state is a FIFO", "state is a symlink",
                                  "backups folder is a symlink", "backups folder is a file", "state over the cap",
                                  "restore: no such backup", "restore: backup is a FIFO", "init: state exists",
                                  "restore over a FIFO", "restore over a giant"])
def test_a_verb_that_fails_its_input_checks_creates_nothing(tmp_path, case):
    root = tmp_path / "bot"
    sc = scenarios.healthy(root)
    state, backups = sc.state, sc.backups
    argv = ["backup"]
    if case == "missing folder":
        state = root / "nowhere" / "trading_state.json"
    elif case == "state is a folder":
        state.unlink()
        state.mkdir()
    elif case == "state is a FIFO":
        state.unlink()
        os.mkfifo(state)
    elif case == "state is a symlink":
        target = root / "elsewhere.json"
        shutil.copy(state, target)
        state.unlink()
        state.symlink_to(target)
    elif case == "backups folder is a symlink":
        real = root / "real-backups"
        backups.rename(real)
        backups.symlink_to(real)
    elif case == "backups folder is a file":
        shutil.rmtree(backups)
        backups.write_text("not a folder")
    elif case == "state over the cap":
        with open(state, "r+b") as f:
            f.truncate(65 * 1024 * 1024)
    elif case == "restore: no such backup":
        argv = ["restore", "no-such-backup", "--yes"]
    elif case == "restore: backup is a FIFO":
        os.mkfifo(backups / "trading_state.backup-fifo.json")
        argv = ["restore", str(backups / "trading_state.backup-fifo.json"), "--yes"]
    elif case == "init: state exists":
        argv = ["init", "--balance", "5"]  # (init asks for the cash first: never a silent $0.00)
    elif case in ("restore over a FIFO", "restore over a giant"):
        argv = ["restore", "latest", "--yes"]
        if case == "restore over a FIFO":
            state.unlink()
            os.mkfifo(state)
        else:
            with open(state, "r+b") as f:
                f.truncate(65 * 1024 * 1024)
            left_by_a_stopped_bot(state)  # a fresh outside write is a running bot's sign
    lock = state.with_name(state.name + ".lock")
    if os.path.lexists(lock):
        os.unlink(lock)  # the scenario's own writes made it: start without one
    before = snapshot(tmp_path)
    res = cli([*argv, "--state", str(state), "--backup-dir", str(backups), "--pid-file", str(root / "bot.pid")], tmp_path)
    assert judge(res, 4, error_line=True) == [], res
    assert changes(before, snapshot(tmp_path)) == []
