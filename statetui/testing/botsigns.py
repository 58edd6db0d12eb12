"""Real signs of a running bot, for tests: each starts what a running bot leaves behind
(a real process, a real lock, a real write) and says how to point statetui at it.

    with bot_sign("pid-file-deleted", tmp_path, state) as sign:
        cfg = Config(state=state, **sign.config)
        ...   # may_be_running(cfg).running is True; repairs refuse

Every repair's "never worse" test can iterate over SIGNS."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

REPO = str(Path(__file__).resolve().parents[2])
SIGNS = ("lock-held", "pid-file-deleted", "pid-file-replaced", "pattern-without-lock", "outside-write")

_HOLD = ("import sys, time\nfrom statetui.pidlock import PidLock\nPidLock(sys.argv[1]).acquire()\n"
         "print('ready', flush=True)\ntime.sleep(600)\n")
_SLEEP = "import time\nprint('ready', flush=True)\ntime.sleep(600)\n"


@dataclass
class Sign:
    kind: str
    pid: int | None  # the process a stop command must name (None: no process, e.g. an outside write)
    config: dict[str, Any] = field(default_factory=dict)  # Config fields: pid_file, process_pattern

    def cli(self) -> tuple[list[str], dict[str, str]]:
        """(flags, environment) that give the CLI the same config."""
        env = {"STATETUI_PROCESS_PATTERN": self.config["process_pattern"]} if "process_pattern" in self.config else {}
        return ["--pid-file", str(self.config["pid_file"])], env


@contextmanager
def bot_sign(kind: str, root: Path, state: Path) -> Iterator[Sign]:
    """Start the sign `kind` (one of SIGNS) in `root` for the state at `state`; stop it on exit."""
    root = Path(root)
    pid_file = root / f"bot-{uuid.uuid4().hex[:8]}.pid"
    procs: list[subprocess.Popen] = []
    try:
        if kind in ("lock-held", "pid-file-deleted", "pid-file-replaced"):
            p = _start(procs, [sys.executable, "-c", _HOLD, str(pid_file)])
            if kind == "pid-file-deleted":
                pid_file.unlink()
            elif kind == "pid-file-replaced":  # a dead pid in a new file: the path alone says "stale"
                other = root / "replacement.pid"
                other.write_text("999999\n")
                os.replace(other, pid_file)
            yield Sign(kind, p.pid, {"pid_file": pid_file})
        elif kind == "pattern-without-lock":
            marker = "statetui-bot-" + uuid.uuid4().hex[:12]
            p = _start(procs, [sys.executable, "-c", _SLEEP, marker])
            yield Sign(kind, p.pid, {"pid_file": pid_file, "process_pattern": marker})
        elif kind == "outside-write":
            state = Path(state)
            state.write_bytes(state.read_bytes() + b"\n")  # the bot saved: new bytes, no journal entry
            yield Sign(kind, None, {"pid_file": pid_file})
        else:
            raise ValueError(f"unknown sign {kind!r} (known: {', '.join(SIGNS)})")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()


def _start(procs: list[subprocess.Popen], argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    procs.append(p)
    line = p.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"bot sign {argv[-1]!r} did not start: {line!r}")
    return p
