"""Debian's promtool and prometheus for the metrics tests. CI installs them (.ci/run) and
sets STATETUI_REQUIRE_PROMETHEUS=1: there a missing binary fails the test, never skips it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "examples" / "prometheus" / "statetui.rules.yml"
RULE_TESTS = ROOT / "examples" / "prometheus" / "statetui.rules.test.yml"


def binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("STATETUI_REQUIRE_PROMETHEUS") == "1":
        pytest.fail(f"{name} not installed (apt-get install prometheus); CI requires it")
    pytest.skip(f"{name} not installed (apt-get install prometheus)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MetricsServer:
    """`statetui metrics --listen 127.0.0.1:0` as a real child process; its port from stderr."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "statetui", *args, "metrics", "--listen", "127.0.0.1:0"],
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=full_env)
        line = self.proc.stderr.readline()
        assert "serving metrics" in line, f"metrics server did not start: {line!r}"
        self.url = line.strip().rsplit(" ", 1)[-1]
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.stderr: list[str] = []  # what it says after starting (chain refresh warnings), drained here
        self._drain = threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)
        self._drain.start()

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(timeout=10)
        self._drain.join(timeout=10)
        self.proc.stderr.close()
        return code


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
