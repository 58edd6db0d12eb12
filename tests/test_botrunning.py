""""May the bot be running?" with real processes, real locks and real files (issue 10,
defects 3 and 4): every sign refuses a repair with exit 5 and leaves the state file, its
journal and its backups byte-identical; every face gets the same answer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from statetui.core import botcommand, procinfo
from statetui.core.botrunning import OUTSIDE_WRITE_WINDOW_S, may_be_running
from statetui.core.config import Config
from statetui.core.errors import StatetuiError
from statetui.core.systemd import systemd_unavailable_reason
from statetui.testing import scenarios
from statetui.testing.botsigns import SIGNS, bot_sign
from tests.conftest import run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and flock")

REPO = str(Path(__file__).resolve().parents[1])
_BOT_GATE = "the bot"  # "the bot may be running: ..." / "cannot tell whether the bot is running: ..."
SLEEPER = "import sys, time\nprint('ready', flush=True)\ntime.sleep(600)\n"


@pytest.fixture
def procs():
    """Real child processes, killed and reaped at teardown."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], cwd: str | None = None) -> subprocess.Popen:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": REPO})
        started.append(p)
        assert p.stdout.readline().strip() == "ready", f"child {argv} did not start"
        return p

    yield start
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()


@pytest.fixture
def jan16(tmp_path):
    return scenarios.jan16(tmp_path)


def config(sc, pid_file: Path, **kw) -> Config:
    return Config(state=sc.state, backup_dir=sc.backups, pid_file=pid_file, **kw)


def snapshot(sc) -> dict[str, bytes]:
    """The state, its journal and every backup, byte for byte."""
    files = [sc.state, sc.store.journal.path, *sorted(sc.backups.iterdir())]
    return {str(p): p.read_bytes() for p in files}


def refused_by_cli(sc, flags: list[str], env: dict | None = None) -> str:
    """`repair recompute-peak --apply --yes` (which would write on this state): exit 5, nothing changed."""
    before = snapshot(sc)
    r = run_cli("repair", "recompute-peak", "--apply", "--yes", "--state", str(sc.state),
                "--backup-dir", str(sc.backups), *flags, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 5, out
    assert _BOT_GATE in out  # refused because of the bot, not for another reason
    assert snapshot(sc) == before
    assert "pid None" not in out and "Traceback" not in out
    return out


def assert_every_writing_repair_refused(cfg):
    from statetui.repair.runner import get_repair, plan_repair, repair_ids

    for rid in repair_ids():
        repair = get_repair(rid)
        if not repair.needs_bot_stopped:
            continue
        try:
            plan = plan_repair(rid, cfg)
        except StatetuiError:  # cannot even plan here (restore-offsite without [offsite]): cannot write
            continue
        assert plan.nothing_to_do or not plan.can_apply, rid
        if not plan.nothing_to_do:
            assert any(not p.ok and _BOT_GATE in p.message for p in plan.preconditions), (rid, plan.render())
            assert "pid None" not in plan.render(), rid


# --- every sign refuses every repair that writes ------------------------------------------

@pytest.mark.parametrize("kind", SIGNS)
def test_every_sign_refuses_the_repair_and_changes_nothing(jan16, tmp_path, kind):
    with bot_sign(kind, tmp_path, jan16.state) as sign:
        cfg = config(jan16, **sign.config)
        v = may_be_running(cfg)
        assert v.running is True and v.refuses_writes, v.headline
        if sign.pid is not None:
            assert v.stop_command == f"kill {sign.pid}" and v.stop_as is None
        assert_every_writing_repair_refused(cfg)
        flags, env = sign.cli()
        out = refused_by_cli(jan16, flags, env)
        if sign.pid is not None:
            assert f"pid {sign.pid}" in out and f"kill {sign.pid}" in out


# --- defect 4: the pid lock holder, whatever happened to its pid file -------------------------

def test_lock_held_on_a_deleted_pid_file(jan16, tmp_path):
    with bot_sign("pid-file-deleted", tmp_path, jan16.state) as sign:
        pid_file = sign.config["pid_file"]
        v = may_be_running(config(jan16, **sign.config))
        assert not v.pidlock.exists  # the path says nothing ...
        assert v.holder_pid == sign.pid  # ... the kernel's lock table does
        found = next(e for e in v.evidence if e.kind == "deleted-pid-file")
        assert found.pid == sign.pid and f"{pid_file} (deleted)" in found.message


def test_lock_held_on_a_pid_file_replaced_by_another(jan16, tmp_path):
    from statetui.tui.playbook import evaluate

    with bot_sign("pid-file-replaced", tmp_path, jan16.state) as sign:
        cfg = config(jan16, **sign.config)
        v = may_be_running(cfg)
        assert v.pidlock.stale  # what the path says ...
        assert v.running is True and v.holder_pid == sign.pid  # ... is not the answer
        # The guided recovery does not offer to "clear the stale lock" of a running bot.
        step = evaluate("bot-stopped", cfg)
        assert step.status == "FAIL" and step.command == f"kill {sign.pid}" and step.suggested is None


def test_holder_behind_a_folder_the_operator_cannot_search(lock_holder):
    """The bot (root here) locks a pid file in a 0700 folder; the operator (nobody) cannot
    even stat it. That is "cannot tell", never "stopped": the repair is refused."""
    from statetui.testing.asuser import run_json, unprivileged

    user = unprivileged()
    if user.uid == os.geteuid():
        pytest.skip("needs root to run the operator as another user")
    shared = Path(tempfile.mkdtemp(prefix="statetui-botrun-", dir="/tmp"))
    try:
        os.chmod(shared, 0o755)
        sc = scenarios.jan16(shared / "bot")
        for p in [shared / "bot", *(shared / "bot").rglob("*")]:
            os.chown(p, user.uid, user.gid)  # the operator could write the state: only the verdict stops it
        private = shared / "run"
        private.mkdir(mode=0o700)
        pid_file = private / "bot.pid"
        bot = lock_holder(pid_file)
        before = snapshot(sc)
        got = run_json(user, textwrap.dedent("""
            import contextlib, io, json, sys
            from statetui.core.config import Config
            from statetui.core.botrunning import may_be_running
            err, out = io.StringIO(), io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code = statetui.cli.main(["repair", "recompute-peak", "--apply", "--yes", "--state", sys.argv[1],
                                          "--backup-dir", sys.argv[2], "--pid-file", sys.argv[3]])
            v = may_be_running(Config(state=sys.argv[1], pid_file=sys.argv[3]))
            seen = may_be_running(Config(state=sys.argv[1], pid_file=sys.argv[3], process_pattern=sys.argv[3]))
            print(json.dumps({"code": code, "out": out.getvalue() + err.getvalue(), "verdict": v.to_dict(),
                              "seen": seen.to_dict()}))
            """), str(sc.state), str(sc.backups), str(pid_file),
            prepare="import statetui.repair.runner, statetui.repair.repairs, statetui.core.botrunning, "
                    "statetui.cli.repair_verbs")
        assert got["code"] == 5, got["out"]
        assert snapshot(sc) == before
        v = got["verdict"]
        assert v["running"] is None and v["refuses_writes"] is True
        sign = next(e for e in v["evidence"] if e["kind"] == "pid-file")
        assert f"its folder {private} is not searchable by user {user.name}" in sign["message"]
        assert "stopped" not in v["headline"] and "not running" not in v["headline"]
        assert "pid None" not in got["out"] and f"not searchable by user {user.name}" in got["out"]
        # Seen by its command line instead (the pid file's path is in it): root's process, so the
        # operator stops it through sudo.
        seen = got["seen"]
        assert seen["running"] is True and seen["stop_command"] == f"sudo kill {bot.pid}" and seen["stop_as"] == "root"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# --- defect 3: a running bot without a pid lock ------------------------------------------

def test_every_face_gives_the_same_answer(jan16, tmp_path):
    """Defect 3: a bot seen only by its command line stops the repair, the audit check, the
    dashboard and the guided recovery alike."""
    from statetui.audit.base import REGISTRY, AuditContext, run_check
    from statetui.audit.checks import process_safety  # noqa: F401
    from statetui.tui.data import gather_lock
    from statetui.tui.playbook import evaluate

    with bot_sign("pattern-without-lock", tmp_path, jan16.state) as sign:
        cfg = config(jan16, **sign.config)
        v = may_be_running(cfg)
        assert [p.pid for p in v.processes] == [sign.pid] and "matches process_pattern" in v.headline
        r = run_check(REGISTRY["process-safety"], AuditContext(cfg))
        assert r.data["running"]["running"] is True and any(f"kill {sign.pid}" in f.message for f in r.findings)
        lock = gather_lock(cfg)
        assert lock.verdict.running is True and lock.stop_command == f"kill {sign.pid}"
        step = evaluate("bot-stopped", cfg)
        assert step.status == "FAIL" and step.command == f"kill {sign.pid}"
    assert may_be_running(cfg).running is False  # stopped: the same pattern now finds nothing


def test_entry_point_in_bot_source_is_the_bot_by_default(jan16, tmp_path, procs):
    src = tmp_path / "botsrc"
    src.mkdir()
    (src / "main.py").write_text("import time\nif __name__ == '__main__':\n    print('ready', flush=True)\n"
                                 "    time.sleep(600)\n")
    (src / "report.py").write_text("import time\nif __name__ == '__main__':\n    print('ready', flush=True)\n"
                                   "    time.sleep(600)\n")
    tool = procs([sys.executable, "report.py"], cwd=str(src))  # a tool of the bot's, not the bot
    cfg = config(jan16, tmp_path / "bot.pid", bot_source=src)
    assert may_be_running(cfg).running is False
    bot = procs([sys.executable, "main.py"], cwd=str(src))  # relative: resolved through its cwd
    v = may_be_running(cfg)
    assert v.running is True and [p.pid for p in v.processes] == [bot.pid] and tool.poll() is None
    assert f"runs {src / 'main.py'}" in v.headline and "entry point in bot_source" in v.headline
    assert may_be_running(config(jan16, tmp_path / "bot.pid", bot_source=src, detect_bot_command=False)).running is None


def test_command_of_the_configured_unit(jan16, tmp_path, procs, monkeypatch):
    """The unit's ExecStart names the bot even where systemd is not PID 1 (its unit file is read)."""
    units = tmp_path / "units"
    (units / "mybot.service.d").mkdir(parents=True)
    work = tmp_path / "opt"
    work.mkdir()
    (work / "trader.py").write_text(SLEEPER)
    (units / "mybot.service").write_text(f"[Service]\nWorkingDirectory={work}\nExecStart=/usr/bin/python3 old.py\n")
    (units / "mybot.service.d" / "override.conf").write_text(  # a drop-in replaces the command
        f"[Service]\nExecStart=\nExecStart=-/usr/bin/env PYTHONUNBUFFERED=1 {sys.executable} \\\n  trader.py --live\n")
    monkeypatch.setattr(botcommand, "UNIT_DIRS", [units])
    cfg = config(jan16, tmp_path / "bot.pid", systemd_unit="mybot")
    assert may_be_running(cfg).running is not True
    bot = procs([sys.executable, "trader.py", "--live"], cwd=str(work))
    v = may_be_running(cfg)
    assert v.running is True and [p.pid for p in v.processes] == [bot.pid]
    assert "the command of mybot" in v.headline


def test_an_outside_write_is_a_sign_until_it_is_old(jan16, tmp_path):
    cfg = config(jan16, tmp_path / "bot.pid")
    assert may_be_running(cfg).refuses_writes is False  # the store's own writes are accounted for
    with bot_sign("outside-write", tmp_path, jan16.state):
        v = may_be_running(cfg)
    sign = next(e for e in v.evidence if e.kind == "outside-write")
    assert v.running is True and sign.running is True and "outside statetui's store" in sign.message
    old = time.time() - OUTSIDE_WRITE_WINDOW_S - 60
    os.utime(jan16.state, (old, old))  # the same bytes, written before the window
    assert may_be_running(cfg).refuses_writes is False


@pytest.mark.skipif(systemd_unavailable_reason() is not None, reason=str(systemd_unavailable_reason()))
def test_active_systemd_unit(jan16, tmp_path):
    unit = f"statetui-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["systemd-run", f"--unit={unit}", "/bin/sleep", "600"], check=True, capture_output=True)
    try:
        cfg = config(jan16, tmp_path / "bot.pid", systemd_unit=unit)
        v = may_be_running(cfg)
        assert v.running is True and v.stop_command == f"systemctl stop {unit}"
        out = refused_by_cli(jan16, ["--pid-file", str(tmp_path / "bot.pid")], env={"STATETUI_SYSTEMD_UNIT": unit})
        assert f"systemctl stop {unit}" in out
    finally:
        subprocess.run(["systemctl", "stop", unit], capture_output=True)


# --- fail closed -------------------------------------------------------------------------

def test_no_proc_is_cannot_tell_and_refuses(jan16, tmp_path, monkeypatch):
    # Simulates a host without procfs (this CI machine cannot be one).
    monkeypatch.setattr(procinfo, "PROC", tmp_path / "no-proc")
    v = may_be_running(config(jan16, tmp_path / "bot.pid"))
    assert v.running is None and v.refuses_writes and "no /proc" in v.headline
    assert_every_writing_repair_refused(config(jan16, tmp_path / "bot.pid"))


def test_nothing_configured_says_cannot_tell_and_what_would(jan16, tmp_path):
    v = may_be_running(config(jan16, tmp_path / "bot.pid"))
    assert v.running is None and not v.refuses_writes and v.stop_command is None
    assert v.headline.startswith("no sign of the bot running") and "set process_pattern" in v.headline
    json.dumps(v.to_dict())
