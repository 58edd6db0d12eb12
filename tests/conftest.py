import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from statetui.core.config import Config
from statetui.testing import anvil


@pytest.fixture(autouse=True, scope="session")
def _chain_cache_in_tmp(tmp_path_factory):
    """Chain-history caches (the user's cache folder by default) go to a folder of this run:
    nothing a test scans lands in the home directory, or leaks into another run."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)  # read by platformdirs, here and in subprocesses
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(autouse=True, scope="session")
def _user_state_in_tmp(tmp_path_factory):
    """The user's state folder (notification status, the last chain reading) in this run's tmp."""
    folder = tmp_path_factory.mktemp("xdg-state")
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(folder)
    yield
    if saved is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = saved


@pytest.fixture
def sandbox(tmp_path):
    """A state folder and a config pointing at it (pid file inside the sandbox, never /tmp's real one)."""
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir()
    return Config(state=state, pid_file=tmp_path / "bot.pid")


def run_cli(*args, env=None, cwd=None, input=None, process=False):
    """Run a `statetui` command line as a user would: the environment less the caller's
    STATETUI_*, plus `env`, in `cwd`. In this process through statetui.cli.main (the same
    parsing, configuration, verb and one-line errors as the command; ~0.5 s of interpreter
    start saved per run), or as a real `python -m statetui` with process=True, or when the
    run is given stdin. The hostile suite's subprocess share, the bad-file corpus and the
    console/demo tests run the real command."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    full_env.update(env or {})
    argv = [sys.executable, "-m", "statetui", *args]
    if process or input is not None:
        return subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=cwd, input=input, timeout=120)
    from tests.hostile.harness import run_main

    res = run_main([str(a) for a in args], full_env, timeout=120, cwd=cwd)
    return subprocess.CompletedProcess(argv, res.code, res.out, res.err)


class LockHolder:
    """A real child process holding the bot's pid lock (statetui.pidlock.PidLock)."""

    def __init__(self, pid_file: Path):
        code = (
            "import sys, time\n"
            "from statetui.pidlock import PidLock\n"
            "lock = PidLock(sys.argv[1]).acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(600)\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(pid_file)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", f"lock holder did not start: {line!r}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture
def lock_holder():
    holders: list[LockHolder] = []

    def start(pid_file: Path) -> LockHolder:
        h = LockHolder(pid_file)
        holders.append(h)
        return h

    yield start
    for h in holders:
        h.stop()


@pytest.fixture(scope="session")
def anvil_binary() -> str:
    """A real anvil (npm's @foundry-rs/anvil). Skipped only where npm itself is missing: with
    npm here, a failed install is a failure, not a skip."""
    try:
        return anvil.find_anvil()
    except anvil.AnvilUnavailable as exc:
        if shutil.which("npm") is None:
            pytest.skip(f"needs anvil: {exc}")
        raise
