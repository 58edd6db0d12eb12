"""`statetui` on a config with several [[bots]], in a real terminal (tmux at 80x24): it
opens on the fleet, enter opens a bot's dashboard, escape comes back, q leaves with 0;
`--bot NAME` opens that bot's dashboard first. The CLI, the config and the console, all
real; no time is asserted (the bound only fails a hang)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.tui import fleets

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

WAIT_S = 60.0


class Terminal:
    def __init__(self, cwd: Path, *args: str):
        self.sock = f"statetui-fleet-{uuid.uuid4().hex[:8]}"
        root = Path(__file__).resolve().parents[2]
        env = {"PYTHONPATH": os.environ.get("PYTHONPATH") or str(root), "TERM": "xterm-256color",
               "XDG_STATE_HOME": str(cwd / "xdg")}
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        done = cwd / "exit-code"
        cmd = f"cd {cwd} && env {exports} {sys.executable} -m statetui {' '.join(args)}; echo $? > {done}; sleep 60"
        self.done = done
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", cmd],
                       check=True, timeout=30)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, what, label: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not what(self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {label}\n--- screen ---\n{self.screen()}")
            time.sleep(0.1)

    def exit_code(self) -> int:
        deadline = time.monotonic() + WAIT_S
        while not self.done.exists() or not self.done.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not exit\n--- screen ---\n{self.screen()}")
            time.sleep(0.1)
        return int(self.done.read_text())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)


def write_config(tmp_path: Path) -> Path:
    bots = fleets.three(tmp_path)
    lines = []
    for b in bots:
        lines += ["[[bots]]", f'name = "{b.name}"', f'state = "{b.config.state}"',
                  f'backup_dir = "{b.config.backup_dir}"', f'pid_file = "{b.config.pid_file}"', ""]
    path = tmp_path / "statetui.toml"
    path.write_text("\n".join(lines))
    return path


def test_fleet_in_a_real_terminal(tmp_path):
    config = write_config(tmp_path)
    term = Terminal(tmp_path, "--config", str(config))
    try:
        term.wait_for(lambda s: "fleet · 3 bots" in s and "‼ HALT" in s and "beta" in s and "● live" in s, "the fleet")
        assert "‼ ERROR  gamma" in term.screen()  # the corrupt bot on top, in words
        term.keys("Down", "Enter")  # beta
        term.wait_for(lambda s: "beta · dashboard" in s, "beta's dashboard")
        term.keys("Escape")
        term.wait_for(lambda s: "fleet · 3 bots" in s, "the fleet again")
        term.keys("q")
        assert term.exit_code() == 0
    finally:
        term.close()


def test_bot_flag_opens_its_dashboard_first(tmp_path):
    config = write_config(tmp_path)
    term = Terminal(tmp_path, "--config", str(config), "--bot", "alpha")
    try:
        term.wait_for(lambda s: "alpha · dashboard" in s, "alpha's dashboard")
        term.keys("Escape")
        term.wait_for(lambda s: "fleet · 3 bots" in s and "alpha" in s, "the fleet under it")
        term.keys("q")
        assert term.exit_code() == 0
    finally:
        term.close()
