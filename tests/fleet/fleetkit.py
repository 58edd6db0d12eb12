"""Fleets of real bots for the fleet tests: state files written through the real store, a
config file with one [[bots]] table each."""

from __future__ import annotations

import json
from pathlib import Path

from statetui.core.store import StateStore
from statetui.testing.loopback import PostServer, send


def write_state(path: Path, cash: float, peak: float, halted: bool = False, backup: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    store = StateStore(path, auto_backup_interval=None, writer="fleet-test")
    store.init({"current_balance": cash, "peak_balance": peak, "halted": halted, "total_trades": 3})
    if backup:
        store.backup("fleet-test")


def fleet_config(root: Path, bots: dict[str, dict], top: str = "") -> Path:
    """bots: name -> {"cash", "peak", "halted", "state": False to leave the file out}."""
    lines = ['halt_threshold = 0.30', top]  # top may open a table: it comes last before [[bots]]
    for name, spec in bots.items():
        state = root / name / "state.json"
        if spec.get("state", True):
            write_state(state, spec.get("cash", 100), spec.get("peak", 100), spec.get("halted", False),
                        backup=spec.get("backup", True))
        lines += ["", "[[bots]]", f'name = "{name}"', f'state = "{state}"', f'pid_file = "{root / name / "bot.pid"}"']
        lines += spec.get("extra", [])
    path = root / "statetui.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Receiver(PostServer):
    """A loopback HTTP server that keeps every JSON body POSTed to it; `url` is Apprise's
    json:// form of it. Running from construction until close()."""

    def __init__(self):
        super().__init__()
        self.received = []
        self.url = f"json://127.0.0.1:{self.port}/hook"
        self.__enter__()

    def on_post(self, handler, body: bytes) -> None:
        self.received.append({"path": handler.path, "json": json.loads(body)})
        send(handler, 200, b"")

    def close(self):
        self.__exit__()
