"""Losing the terminal ends the console and every process it started: `statetui demo`
(console, simulated bot, chain) in a real terminal (tmux), ended at random moments of
start-up, of an audit and of a repair, by the ways a terminal goes: the tmux server
killed (what an SSH drop does: the pty closes, SIGHUP), the tmux server killed -9 (the
pty closes with nobody to say goodbye), SIGTERM to the console.

Every process the run starts carries a marker in its environment; afterwards none may be
left. The bound waited on is generous (a shared CI machine); the seconds measured are
printed (the console's own watchdog leaves at 0.9 s whatever happens)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from statetui.demo.chain import pyevm_available

RUNS = int(os.environ.get("STATETUI_LOSS_RUNS", "6"))  # STATETUI_LOSS_RUNS=60 for a long loop
GONE_WITHIN_S = 5.0  # generous: the figure to watch is printed, this only fails a hang

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
    pytest.mark.skipif(not pyevm_available(), reason="needs py-evm (the demo's chain)"),
]


def tagged(tag: str) -> list[int]:
    """Live processes (not zombies) whose environment carries `tag`."""
    needle = f"STATETUI_TEST_TAG={tag}".encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
        except OSError:
            continue
        out.append(int(entry))
    return out


class Terminal:
    def __init__(self, tmp: Path, tag: str):
        self.sock = f"statetui-loss-{tag[:8]}"
        env = {"STATETUI_TEST_TAG": tag, "XDG_STATE_HOME": str(tmp / "xdg"), "TMPDIR": str(tmp),
               "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TERM": "xterm-256color"}
        exports = " ".join(f"{k}={v!s}" for k, v in env.items())
        cmd = f"cd {tmp} && exec env {exports} {sys.executable} -m statetui demo"
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", cmd],
                       check=True, timeout=30)
        self.server_pid = int(self.tmux("display", "-p", "#{pid}"))
        self.console_pid = int(self.tmux("display", "-p", "#{pane_pid}"))

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=30).stdout.strip()

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} on the screen:\n{self.screen()}")
            time.sleep(0.1)

    def lose(self, how: str) -> None:
        if how == "kill-server":
            self.tmux("kill-server")
        elif how == "kill -9 tmux":
            os.kill(self.server_pid, signal.SIGKILL)
        elif how == "SIGTERM":
            os.kill(self.console_pid, signal.SIGTERM)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)


def phases(rng: random.Random):
    def startup(t: Terminal) -> None:
        time.sleep(rng.uniform(0.0, 2.5))  # imports, the prefetch helper, the chain, the bot starting

    def audit(t: Terminal) -> None:
        t.wait_for("q Quit")
        t.keys("a")
        t.wait_for("Run all")
        t.keys("r")  # every check, the chain read included
        time.sleep(rng.uniform(0.0, 0.8))

    def repair(t: Terminal) -> None:
        t.wait_for("q Quit")
        t.keys("p")
        t.wait_for("Repairs")
        t.keys("j", "Enter")  # a repair's wizard: planning, the lock check
        time.sleep(rng.uniform(0.0, 0.8))

    return {"start-up": startup, "audit": audit, "repair": repair}


def test_losing_the_terminal_ends_everything(tmp_path):
    seed = int(os.environ.get("STATETUI_LOSS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    steps = phases(rng)
    hows = ("kill-server", "kill -9 tmux", "SIGTERM")
    plan = [(phase, hows[i % len(hows)]) for i, phase in enumerate(list(steps) * ((RUNS + 2) // 3))][:RUNS]
    measured = []
    for n, (phase, how) in enumerate(plan):
        tag = uuid.uuid4().hex
        run_dir = tmp_path / f"run{n}"
        run_dir.mkdir()
        t = Terminal(run_dir, tag)
        try:
            steps[phase](t)
            before = tagged(tag)
            assert t.console_pid in before or phase == "start-up", f"run {n}: the console is not running"
            t0 = time.monotonic()
            t.lose(how)
            while tagged(tag) and time.monotonic() - t0 < GONE_WITHIN_S:
                time.sleep(0.02)
            left = tagged(tag)
            took = time.monotonic() - t0
            measured.append((phase, how, round(took, 2), len(before)))
            assert not left, (f"seed {seed} run {n} ({phase}, {how}): still running after {GONE_WITHIN_S} s: "
                              + "; ".join(_describe(p) for p in left))
        finally:
            t.close()
            for pid in tagged(tag):  # never leave anything behind, even when the test fails
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        assert not any(p.name.startswith("statetui-demo-") for p in run_dir.iterdir()), f"run {n}: sandbox left behind"
    print(f"\nterminal loss (seed {seed}): " + ", ".join(f"{p}/{h}: {s:.2f} s ({k} proc)" for p, h, s, k in measured))
    print(f"slowest: {max(s for _p, _h, s, _k in measured):.2f} s")


def _describe(pid: int) -> str:
    try:
        return f"{pid} " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return str(pid)
