import os
import subprocess
import sys
from pathlib import Path

import pytest

from statetui.core.config import Config


@pytest.fixture
def sandbox(tmp_path):
    """A state folder and a config pointing at it (pid file inside the sandbox, never /tmp's real one)."""
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir()
    return Config(state=state, pid_file=tmp_path / "bot.pid")


def run_cli(*args, env=None, cwd=None, input=None):
    """Run the real `statetui` entry point as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "statetui", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, input=input, timeout=120)
