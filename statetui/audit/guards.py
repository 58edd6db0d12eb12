"""Single-instance guards: what stops a second copy of the bot from running beside the first.

Two copies of a bot each keep the state in memory and each save it: the last save wins and
the other copy's trades, peak and halt are lost. A guard makes the second copy refuse to
start. Found here: in the bot's config (a pid lock that is held, a systemd unit) and, through
the persistence review, in its code. A pid file path that nobody created is not a guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Guard:
    source: str  # "config" or "code"
    kind: str  # "pid-lock", "systemd-unit", or the code review's kind
    message: str  # what it is, what it protects against, and what it does not
    file: str | None = None
    line: int | None = None
    bypassed_by: list[str] = field(default_factory=list)  # programs that write the state without taking it

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "message": self.message, "file": self.file, "line": self.line,
                "bypassed_by": list(self.bypassed_by)}


def config_guards(config, verdict) -> tuple[list[Guard], list[str]]:
    """Guards the config shows working, and why each other candidate is not one."""
    guards: list[Guard] = []
    notes: list[str] = []
    s = verdict.pidlock
    path = str(config.pid_file)
    if s is not None and s.running and s.locked:
        who = f"pid {s.holder_pid}" if s.holder_pid is not None else "a live process"
        guards.append(Guard("config", "pid-lock", (
            f"pid lock {path} held by {who}: a second copy that takes the same lock is refused; it does not stop "
            "a copy started with another pid file or config, nor a program that writes the state without the lock")))
    elif s is not None and s.exists and s.regular and s.recorded_started_at is not None:
        guards.append(Guard("config", "pid-lock", (
            f"pid file {path} was written by PidLock (not held now): the bot takes the lock when it starts, so a "
            "second copy is refused; a copy started with another pid file is not")))
    elif s is not None and not s.exists:
        notes.append(f"no pid file at {path}: a pid file nobody created is not a guard")
    elif s is not None and s.running and not s.locked:
        notes.append(f"pid file {path} names a live process that holds no lock on it: a second copy would start")
    for e in verdict.evidence:
        if e.kind == "deleted-pid-file" and e.running is True:
            notes.append(f"pid {e.pid} locks a deleted pid file: the path is free, so a second copy would start")
    unit = getattr(config, "systemd_unit", None) or (s.unit if s is not None and s.unit else None)
    sd = verdict.systemd
    if unit and sd is not None and "error" not in sd and sd.get("LoadState") not in (None, "not-found"):
        restart = sd.get("Restart") or "?"
        guards.append(Guard("config", "systemd-unit", (
            f"systemd unit {unit}: systemd runs at most one instance of it (Restart={restart}); it does not stop "
            "a copy started by hand outside systemd (python bot.py in tmux, cron)")))
    elif getattr(config, "systemd_unit", None):
        notes.append(f"systemd unit {config.systemd_unit} configured but not seen working here")
    else:
        notes.append("no systemd unit configured")
    return guards, notes


def code_guards(root, state_path=None) -> tuple[list[Guard], list[str]]:
    """The guards the persistence review finds in the bot's code (a PidLock, an flock or
    O_EXCL pid file taken at startup, a unit file in the tree), and notes on what is not one."""
    if root is None:
        return [], ["bot_source not set: the bot's code was not searched for a guard"]
    from pathlib import Path

    from statetui.audit.review.locks import find_single_instance_guards  # heavy: only when asked

    found = find_single_instance_guards(Path(root), Path(state_path) if state_path is not None else None)
    guards: list[Guard] = []
    notes: list[str] = []
    for g in found:
        where = f"{g.file}:{g.line}" if g.line else g.file
        if g.kind == "pid file":  # written, never locked: a second copy overwrites it and runs
            notes.append(f"{where}: a pid file nobody locks is not a guard")
            continue
        guards.append(Guard("code", g.kind, g.message or f"{where}: {g.kind} ({g.detail})", g.file, g.line,
                            list(g.bypassed_by or [])))
    if not found:
        notes.append(f"no single-instance guard in the code under {root}")
    return guards, notes
