"""PidLock and pid lock inspection, with real child processes holding real flocks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from statetui.core import procinfo
from statetui.core.botrunning import may_be_running
from statetui.core.config import Config
from statetui.core.errors import BotRunningError, NotRegularFileError
from statetui.core.pidlock import (
    AlreadyRunningError,
    clear_stale_pidlock,
    inspect_pidlock,
    parse_pid_text,
    stop_command,
)
from statetui.core.systemd import systemd_status, systemd_unavailable_reason
from statetui.pidlock import PidLock

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and flock")

REPO = str(Path(__file__).resolve().parents[1])

# Takes the lock, says "ready", holds it until stdin closes (or it is killed).
# With FORK=1 it also forks a worker first, which keeps the same argv.
HOLDER = """
import os, sys
from statetui.pidlock import PidLock
lock = PidLock(sys.argv[1])
if os.environ.get("NO_LOCK") != "1":
    lock.acquire()
if os.environ.get("FORK") == "1":
    if os.fork() == 0:
        sys.stdin.read(); os._exit(0)
print("ready", os.getpid(), flush=True)
sys.stdin.read()
lock.release()
"""

SECOND = """
import sys
from statetui.pidlock import PidLock, AlreadyRunningError
try:
    with PidLock(sys.argv[1]):
        print("acquired", flush=True)
except AlreadyRunningError as exc:
    print(exc, flush=True)
    sys.exit(3)
"""

WAITER = "import sys; print('ready', flush=True); sys.stdin.read()"


class Children:
    """Real child processes; every one is killed and reaped at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def spawn(self, code: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        full_env = {**os.environ, "PYTHONPATH": REPO, **(env or {})}
        p = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=full_env)
        self.procs.append(p)
        line = p.stdout.readline()
        assert line.startswith("ready"), f"child did not start: {line!r}"
        return p

    def holder(self, pid_file: Path, marker: str, **env: str) -> subprocess.Popen:
        return self.spawn(HOLDER, str(pid_file), marker, env=env)

    def waiter(self, marker: str) -> subprocess.Popen:
        return self.spawn(WAITER, marker)

    @staticmethod
    def kill9(p: subprocess.Popen) -> None:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout):
                if f:
                    f.close()


@pytest.fixture
def children():
    c = Children()
    yield c
    c.close()


@pytest.fixture
def pid_file(tmp_path) -> Path:
    return tmp_path / "bot.pid"


def marker() -> str:
    return "statetui-test-" + uuid.uuid4().hex


# --- the bot side ---------------------------------------------------------------------

def test_child_holds_a_real_flock_and_the_file_says_who(children, pid_file):
    m = marker()
    before = time.time()
    holder = children.holder(pid_file, m)
    lines = pid_file.read_text().splitlines()
    assert lines[0] == str(holder.pid)  # `kill $(head -n1 FILE)` works
    meta = json.loads(lines[1])
    assert meta["pid"] == holder.pid and m in meta["cmdline"]

    held = procinfo.locks_on(os.stat(pid_file))
    assert [(e.kind, e.pid) for e in held] == [("FLOCK", holder.pid)]

    s = inspect_pidlock(pid_file)
    assert s.exists and s.regular and s.alive and s.running and s.holds_lock and s.locked
    assert not s.stale and not s.pid_reused
    assert s.pid == holder.pid and s.lock_pids == [holder.pid] and m in s.cmdline
    assert before - 2 <= s.started_at <= time.time() + 2
    assert abs(s.started_at - meta["started_at"]) < 2
    assert s.uptime_s is not None and s.uptime_s >= 0
    assert "holds the lock" in s.reason
    assert json.loads(json.dumps(s.to_dict()))["pid"] == holder.pid


def test_second_instance_in_another_process_is_refused_naming_the_holder(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m)
    second = subprocess.run([sys.executable, "-c", SECOND, str(pid_file)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": REPO})
    assert second.returncode == 3, second.stderr
    msg = second.stdout.strip()
    assert "\n" not in msg and f"pid {holder.pid}" in msg and m in msg and str(pid_file) in msg
    assert pid_file.read_text().splitlines()[0] == str(holder.pid)  # the refused one wrote nothing


def test_second_instance_in_the_same_process_is_refused(children, pid_file):
    with PidLock(pid_file) as lock:
        assert lock.held and lock.pid == os.getpid()
        with pytest.raises(AlreadyRunningError) as err:
            PidLock(pid_file).acquire()
        assert f"pid {os.getpid()}" in str(err.value)
        assert err.value.stop_command == f"kill {os.getpid()}"
        assert err.value.status.holds_lock
    assert not pid_file.exists()  # a clean exit leaves nothing that looks stale
    with PidLock(pid_file):  # and the lock is free again
        pass


def test_clean_exit_of_the_holder_releases_and_removes(children, pid_file):
    holder = children.holder(pid_file, marker())
    holder.stdin.close()
    assert holder.wait() == 0
    assert not pid_file.exists()
    assert inspect_pidlock(pid_file).exists is False


def test_kill9_leaves_a_stale_file_that_a_new_lock_takes_over(children, pid_file):
    holder = children.holder(pid_file, marker())
    children.kill9(holder)
    s = inspect_pidlock(pid_file)
    assert s.exists and s.pid == holder.pid and s.alive is False
    assert s.stale and not s.running and s.locked is False and "not running" in s.reason
    with PidLock(pid_file) as lock:
        assert pid_file.read_text().splitlines()[0] == str(os.getpid())
        assert lock.held


def test_lock_survives_in_a_forked_worker(children, pid_file):
    # The flock belongs to the open file description the worker shares.
    m = marker()
    holder = children.holder(pid_file, m, FORK="1")
    s = inspect_pidlock(pid_file)
    assert s.holds_lock and s.running
    worker = [p.pid for p in procinfo.find_processes(m) if p.pid != holder.pid]
    assert len(worker) == 1
    children.kill9(holder)  # the worker keeps the lock: not stale, and it is named
    s = inspect_pidlock(pid_file)
    assert s.alive is False and s.locked and s.running and not s.stale
    assert s.lock_pids == worker and s.holder_pid == worker[0]
    assert stop_command(Config(pid_file=pid_file), s) == f"kill {worker[0]}"
    with pytest.raises(BotRunningError):
        clear_stale_pidlock(pid_file)
    with pytest.raises(AlreadyRunningError) as err:
        PidLock(pid_file).acquire()
    assert f"pid {worker[0]}" in str(err.value)


RACER = """
import os, sys
from statetui.pidlock import PidLock, AlreadyRunningError
path, log, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
got = 0
for _ in range(rounds):
    try:
        lock = PidLock(path).acquire()
    except AlreadyRunningError:
        continue
    me = os.getpid()
    os.write(fd, f"E {me}\\n".encode())
    with open(path) as fh:
        if fh.readline().strip() != str(me):
            os.write(fd, f"BAD {me}\\n".encode())
    os.write(fd, f"X {me}\\n".encode())
    lock.release()
    got += 1
print(got)
"""


def test_racing_instances_never_hold_the_lock_together(tmp_path, pid_file):
    # Releases unlink the file while others may have it open: the acquire loop
    # must notice it locked an orphan inode, or two "holders" would overlap here.
    log = tmp_path / "log"
    env = {**os.environ, "PYTHONPATH": REPO}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(pid_file), str(log), "300"],
                               stdout=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    wins = [int(p.communicate()[0]) for p in racers]
    assert all(p.returncode == 0 for p in racers)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 * sum(wins) and sum(wins) > 0
    for enter, leave in zip(lines[::2], lines[1::2]):
        assert enter.startswith("E ") and leave == "X " + enter[2:], (enter, leave)


# --- stale, garbage, reuse ----------------------------------------------------------------

@pytest.mark.parametrize("content", ["not-a-pid\n", "", "-5\n", "0\n", '{"pid": true}', "[1, 2]", "12abc"])
def test_garbage_pid_file_is_stale(pid_file, content):
    pid_file.write_text(content)
    s = inspect_pidlock(pid_file)
    assert s.exists and s.pid is None and s.pid_error
    assert s.stale and not s.running
    assert "removed stale pid file" in clear_stale_pidlock(pid_file)
    assert not pid_file.exists()


def test_garbage_while_a_holder_has_the_lock_is_not_stale(children, pid_file):
    holder = children.holder(pid_file, marker())
    pid_file.write_text("garbage\n")  # someone scribbled over it; the lock still stands
    s = inspect_pidlock(pid_file)
    assert s.pid is None and s.running and not s.stale and s.lock_pids == [holder.pid]
    assert f"pid {holder.pid}" in s.reason
    with pytest.raises(BotRunningError):
        clear_stale_pidlock(pid_file)
    assert pid_file.exists()


def test_pid_reuse_detected_from_file_mtime(children, pid_file):
    waiter = children.waiter(marker())
    pid_file.write_text(f"{waiter.pid}\n")  # a bare pid, as other tools write it
    old = time.time() - 3600
    os.utime(pid_file, (old, old))  # written an hour before this process started
    s = inspect_pidlock(pid_file)
    assert s.alive and s.pid_reused and s.stale and not s.running and s.holds_lock is False
    assert "reused" in s.reason
    assert may_be_running(Config(pid_file=pid_file)).running is False
    clear_stale_pidlock(pid_file)
    assert not pid_file.exists()
    assert waiter.poll() is None  # the unrelated process was left alone


def test_pid_reuse_detected_from_recorded_start_time(children, pid_file):
    waiter = children.waiter(marker())
    real = procinfo.start_time(waiter.pid)
    pid_file.write_text(f"{waiter.pid}\n" + json.dumps({"pid": waiter.pid, "started_at": real - 1000}) + "\n")
    s = inspect_pidlock(pid_file)
    assert s.pid_reused and s.stale and s.recorded_started_at == real - 1000


def test_live_pid_without_lock_counts_as_running(children, pid_file):
    # A bot that writes its pid without flock: never call that stale, never clear it.
    waiter = children.waiter(marker())
    pid_file.write_text(f"{waiter.pid}\n")
    s = inspect_pidlock(pid_file)
    assert s.alive and s.pid_reused is False and s.holds_lock is False and s.locked is False
    assert s.running and not s.stale and "holds no lock" in s.reason
    v = may_be_running(Config(pid_file=pid_file))
    assert v.running and v.holder_pid == waiter.pid and v.stop_command == f"kill {waiter.pid}"
    with pytest.raises(BotRunningError) as err:
        clear_stale_pidlock(pid_file)
    assert err.value.stop_command == f"kill {waiter.pid}"
    assert pid_file.exists()


# --- clearing --------------------------------------------------------------------------

def test_clear_refuses_while_held_and_works_after_kill9(children, pid_file):
    m = marker()
    holder = children.holder(pid_file, m)
    cfg = Config(pid_file=pid_file)
    v = may_be_running(cfg)
    assert v.running and v.holder_pid == holder.pid
    with pytest.raises(BotRunningError) as err:
        clear_stale_pidlock(pid_file)
    assert f"pid {holder.pid}" in str(err.value) and "\n" not in str(err.value)
    assert err.value.stop_command == f"kill {holder.pid}"
    assert pid_file.read_text().splitlines()[0] == str(holder.pid)

    children.kill9(holder)
    assert may_be_running(cfg).running is False
    assert "removed stale pid file" in clear_stale_pidlock(pid_file)
    assert not pid_file.exists()
    assert "nothing to clear" in clear_stale_pidlock(pid_file)


def test_clear_refuses_a_posix_lock_holder_too(children, pid_file):
    code = ("import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "os.write(fd, b'999999\\n')\nfcntl.lockf(fd, fcntl.LOCK_EX)\nprint('ready', flush=True)\nsys.stdin.read()")
    holder = children.spawn(code, str(pid_file))
    s = inspect_pidlock(pid_file)
    assert s.running and s.lock_pids == [holder.pid]
    with pytest.raises(BotRunningError):
        clear_stale_pidlock(pid_file)
    assert pid_file.exists()


# --- refusing what is not a regular file -----------------------------------------------

def test_symlink_at_pid_path_is_refused_and_nothing_written_through_it(tmp_path, pid_file):
    target = tmp_path / "precious.txt"
    target.write_text("precious\n")
    pid_file.symlink_to(target)
    with pytest.raises(NotRegularFileError) as err:
        PidLock(pid_file).acquire()
    assert "symlink" in str(err.value) and str(pid_file) in str(err.value)
    s = inspect_pidlock(pid_file)
    assert s.exists and s.regular is False and not s.stale and not s.running and "symlink" in s.reason
    with pytest.raises(NotRegularFileError):
        clear_stale_pidlock(pid_file)
    assert target.read_text() == "precious\n" and pid_file.is_symlink()


def test_dangling_symlink_does_not_create_its_target(tmp_path, pid_file):
    target = tmp_path / "elsewhere.pid"
    pid_file.symlink_to(target)
    with pytest.raises(NotRegularFileError):
        PidLock(pid_file).acquire()
    assert not target.exists()


def test_fifo_and_directory_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "fifo.pid"
    os.mkfifo(fifo)
    folder = tmp_path / "dir.pid"
    folder.mkdir()
    for path in (fifo, folder):
        with pytest.raises(NotRegularFileError):
            PidLock(path).acquire()
        s = inspect_pidlock(path)
        assert s.regular is False and not s.stale
        with pytest.raises(NotRegularFileError):
            clear_stale_pidlock(path)
        assert path.exists()


# --- /proc helpers ----------------------------------------------------------------------

def test_parse_proc_locks_lines():
    text = (
        "1: FLOCK  ADVISORY  WRITE 4032 fe:00:2146321 0 EOF\n"
        "1: -> FLOCK  ADVISORY  WRITE 4040 fe:00:2146321 0 EOF\n"
        "2: POSIX  ADVISORY  READ 77 103:0a:12 0 100\n"
        "3: OFDLCK ADVISORY  WRITE -1 00:2e:99 0 EOF\n"
        "4: POSIX  ADVISORY  WRITE 5 <none>:0 0 EOF\n"
    )
    e = procinfo.parse_locks(text)
    assert [(x.kind, x.pid, x.major, x.minor, x.inode, x.waiting) for x in e] == [
        ("FLOCK", 4032, 0xFE, 0, 2146321, False),
        ("FLOCK", 4040, 0xFE, 0, 2146321, True),
        ("POSIX", 77, 0x103, 0x0A, 12, False),
        ("OFDLCK", -1, 0, 0x2E, 99, False),
    ]


def test_find_processes_and_group_roots(children, pid_file):
    m = marker()
    a, b = children.waiter(m), children.waiter(m)
    found = procinfo.find_processes(m)
    assert sorted(p.pid for p in found) == sorted([a.pid, b.pid])
    assert os.getpid() not in [p.pid for p in procinfo.find_processes(".")]
    assert [p.pid for p in procinfo.find_processes("[" + m)] == []  # bad regex: a substring, matches nothing
    # A bot that forked a worker with the same argv counts once.
    forked = children.holder(pid_file, m + "-fork", FORK="1")
    same = procinfo.find_processes(m + "-fork")
    assert len(same) == 2
    assert [p.pid for p in procinfo.group_roots(same)] == [forked.pid]


def test_dead_process_reads_as_dead(children):
    w = children.waiter(marker())
    assert procinfo.pid_alive(w.pid) and procinfo.start_time(w.pid) is not None
    children.kill9(w)
    assert not procinfo.pid_alive(w.pid) and procinfo.cmdline(w.pid) is None
    assert not procinfo.pid_alive(0) and not procinfo.pid_alive(-1)


def test_parse_pid_text_formats():
    assert parse_pid_text("123\n")[0] == 123
    pid, meta, err = parse_pid_text('123\n{"pid": 123, "started_at": 5.5}\n')
    assert (pid, meta["started_at"], err) == (123, 5.5, None)
    assert parse_pid_text('{"pid": 42, "cmdline": "x"}')[0] == 42
    assert parse_pid_text("abc")[2].startswith("not a pid")


# --- systemd / stop command ---------------------------------------------------------------

def test_parse_cgroup_unit():
    assert procinfo.parse_cgroup_unit("0::/system.slice/polymarket-bot.service\n") == ("polymarket-bot.service", False)
    assert procinfo.parse_cgroup_unit("1:name=systemd:/system.slice/bot.service\n2:cpu:/x\n") == ("bot.service", False)
    user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/bot.service"
    assert procinfo.parse_cgroup_unit(user) == ("bot.service", True)
    # A process in a login session is not in a bot unit, even under the user manager.
    assert procinfo.parse_cgroup_unit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope") is None
    assert procinfo.parse_cgroup_unit("0::/user.slice/user-1000.slice/session-3.scope") is None


def test_stop_command_prefers_the_configured_unit(children, pid_file):
    holder = children.holder(pid_file, marker())
    s = inspect_pidlock(pid_file)
    assert stop_command(Config(pid_file=pid_file, systemd_unit="bot.service"), s) == "systemctl stop bot.service"
    expected = f"kill {holder.pid}" if s.unit is None else f"systemctl stop {s.unit}"
    assert stop_command(Config(pid_file=pid_file), s) == expected


def test_systemd_status_answers_or_says_why_not():
    reason = systemd_unavailable_reason()
    result = systemd_status("statetui-no-such-unit.service")
    if reason is None:
        assert result["unit"] == "statetui-no-such-unit.service"
        assert result.get("LoadState") == "not-found" or "error" in result
    else:
        assert result is None and reason.startswith("systemd not available")
