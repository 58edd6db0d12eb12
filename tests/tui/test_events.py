"""The console's event sources on real files, processes and a real pty: what changed is
reported once, what did not is not; a stopped child is reaped at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from statetui.core.config import Config
from statetui.tui import children
from statetui.tui.events import FileEvents, HangupWatch, pidfd

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify, pidfd and epoll are Linux")


def test_file_events_name_what_changed_and_nothing_else(tmp_path):
    cfg = Config(state=tmp_path / "state" / "s.json", pid_file=tmp_path / "run" / "bot.pid")
    (tmp_path / "state").mkdir()
    (tmp_path / "run").mkdir()
    fe = FileEvents(cfg)
    try:
        assert fe.missing == {tmp_path / "state" / "backups"} and fe.read() == set()
        (tmp_path / "state" / ".s.json.tmp-1").write_text("{}")  # the store's temp file: no event
        assert fe.read() == set()
        os.replace(tmp_path / "state" / ".s.json.tmp-1", cfg.state)  # an atomic replace
        assert fe.read() == {"state"}
        (tmp_path / "state" / "other.txt").write_text("x")  # not ours
        (tmp_path / "run" / "other.pid").write_text("1")
        assert fe.read() == set()
        with open(cfg.pid_file, "w") as f:  # a bot taking its lock writes its pid
            f.write("123")
        assert fe.read() == {"lock"}
        with open(tmp_path / "state" / "s.journal.jsonl", "a") as f:
            f.write("{}\n")
        assert fe.read() == {"journal"}
        (tmp_path / "state" / "backups").mkdir()  # the folder appears: now watched
        assert "backups" in fe.read() and fe.missing == set()
        (tmp_path / "state" / "backups" / "s.backup.json").write_text("{}")
        assert fe.read() == {"backups"}
        idle_start = time.monotonic()
        assert fe.read() == set() and time.monotonic() - idle_start < 1  # nothing happened: nothing to read
    finally:
        fe.close()


def test_pidfd_becomes_readable_when_the_process_exits():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    fd = pidfd(proc.pid)
    if fd is None:
        proc.kill()
        pytest.skip("no pidfd_open on this kernel")
    import select

    try:
        assert select.select([fd], [], [], 0)[0] == []
        proc.terminate()
        assert select.select([fd], [], [], 10)[0] == [fd]
    finally:
        os.close(fd)
        proc.wait()


def test_hangup_watch_sees_the_terminal_close():
    master, slave = os.openpty()
    h = HangupWatch(slave)
    try:
        assert not h.hung_up()
        os.close(master)
        assert h.hung_up()
    finally:
        h.close()
        os.close(slave)


def test_a_stopped_child_is_reaped_at_once():
    proc = children.spawn([sys.executable, "-c", "import time; time.sleep(30)"])
    assert proc.pid in children.alive()
    os.kill(proc.pid, 15)  # stopped by someone else (the console's "stop the bot", a kill by hand)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{proc.pid}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{proc.pid}")  # gone, not <defunct>
    assert proc.pid not in children.alive()
