"""The guided recovery's progress and its incident log. Progress is a small JSON file
beside the state (`.statetui-playbook.json`, never the state file), saved after every
change, so quitting and reopening the console carries on where you were. The incident
log (Markdown) is written under the user's state directory (~/.local/state/statetui/
incidents/ on Linux), so it outlives a demo's temporary sandbox. No Textual import."""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from statetui.core.config import Config
from statetui.core.errors import StatetuiError
from statetui.tui.playbook import STEP_IDS, STEPS, Situation, StepResult, passes

PROGRESS_NAME = ".statetui-playbook.json"
VERSION = 1


def incident_dir() -> Path:
    """Where incident logs go: the user's state directory (XDG_STATE_HOME on Linux)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("statetui")) / "incidents"


def progress_path(config: Config) -> Path:
    return Path(os.path.abspath(config.state)).parent / PROGRESS_NAME


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Progress:
    """What has been found and done in this incident. Saved after every change."""

    state: str
    started: float
    results: dict[str, StepResult] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # step -> "done" | "skipped" (by the engineer)
    actions: list[dict[str, Any]] = field(default_factory=list)
    current: int = 0
    finished: float | None = None
    log: str | None = None

    def status(self, step_id: str) -> str:
        mark = self.marks.get(step_id)
        if mark == "done":
            return "DONE"
        if mark == "skipped":
            return "SKIPPED"
        r = self.results.get(step_id)
        return r.status if r else "TODO"

    def settled(self, step_id: str) -> bool:
        """The engineer may move on: the step passed, or was marked done or skipped."""
        if step_id in self.marks:
            return True
        r = self.results.get(step_id)
        return r is not None and passes(r.status) and r.status != "PENDING"

    def situation(self, demo_start: list[str] | None = None) -> Situation:
        unit = next((a.get("unit") for a in reversed(self.actions) if a.get("unit")), None)
        return Situation(tuple(demo_start) if demo_start else None, unit, tuple(self.actions))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION, "state": self.state, "started": self.started, "current": self.current,
            "results": {k: v.to_dict() for k, v in self.results.items()}, "marks": self.marks,
            "actions": self.actions, "finished": self.finished, "log": self.log,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Progress":
        return cls(
            state=str(d["state"]), started=float(d["started"]),
            results={k: StepResult.from_dict(v) for k, v in dict(d.get("results", {})).items() if k in STEP_IDS},
            marks={k: v for k, v in dict(d.get("marks", {})).items() if k in STEP_IDS and v in ("done", "skipped")},
            actions=[a for a in d.get("actions", []) if isinstance(a, dict)],
            current=min(max(int(d.get("current", 0)), 0), len(STEPS) - 1),
            finished=d.get("finished"), log=d.get("log"),
        )


class Playbook:
    """Progress on disk. In read-only mode nothing is written and progress lives in memory."""

    def __init__(self, config: Config, now: Callable[[], float] = time.time,
                 saver: Callable[[bytes, int], None] | None = None, demo: bool = False,
                 log_dir: Path | None = None):
        """`saver(data, seq)`: how to write progress (the console hands it to a thread
        worker, which calls write()); by default it is written at once."""
        self.config = config
        self.now = now
        self.path = progress_path(config)
        self.note: str | None = None  # why progress could not be loaded or saved
        self.saver = saver or self.write
        self.demo = demo
        self.log_dir = log_dir
        self._seq = 0
        self._written = 0
        self._write_lock = threading.Lock()
        self.progress = self._load() or self._new()

    def _new(self) -> Progress:
        return Progress(state=str(Path(os.path.abspath(self.config.state))), started=self.now())

    def _load(self) -> Progress | None:
        from statetui.core.errors import StatetuiError
        from statetui.core.fsio import read_capped
        from statetui.core.limits import LIMITS

        try:  # never blocks on a FIFO, never reads a planted 2 GiB file
            raw = read_capped(self.path, "playbook progress", LIMITS.playbook_bytes)
        except FileNotFoundError:
            return None
        except (OSError, StatetuiError) as exc:
            self.note = f"{self.path}: cannot read playbook progress ({getattr(exc, 'strerror', None) or exc}); starting afresh"
            return None
        try:
            d = json.loads(raw)
            p = Progress.from_dict(d)
        except (ValueError, KeyError, TypeError):
            self.note = f"{self.path}: playbook progress unreadable; starting afresh"
            return None
        if p.state != str(Path(os.path.abspath(self.config.state))):
            return None
        return p

    def save(self) -> None:
        if self.config.read_only:
            self.note = "read-only: playbook progress is kept in memory only"
            return
        self.saver(*self._snapshot())

    def save_now(self) -> None:
        """Write at once, in the calling thread (finish() runs in a worker already)."""
        if not self.config.read_only:
            self.write(*self._snapshot())

    def _snapshot(self) -> tuple[bytes, int]:
        self._seq += 1
        data = (json.dumps(self.progress.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n").encode()
        return data, self._seq

    def write(self, data: bytes, seq: int) -> None:
        """Atomic and durable (temp file, fsync, rename); an older snapshot never
        overwrites a newer one, whatever order the writer threads run in."""
        from statetui.core.fsio import default_file_mode, durable_replace

        with self._write_lock:
            if seq <= self._written:
                return
            try:
                durable_replace(self.path, data, mode=default_file_mode())
                self._written = seq
            except (OSError, StatetuiError) as exc:
                self.note = f"{self.path}: cannot save playbook progress ({getattr(exc, 'strerror', None) or exc})"

    def restart(self) -> None:
        self.progress = self._new()
        self.save()

    # --- recording ----------------------------------------------------------------

    def record(self, step_id: str, result: StepResult) -> None:
        self.progress.results[step_id] = result
        self.save()

    def mark(self, step_id: str, mark: str) -> None:
        self.progress.marks[step_id] = mark
        self.progress.actions.append({"ts": self.now(), "step": step_id, "action": f"marked {mark}", "ok": True})
        self.save()

    def record_action(self, step_id: str, action: str, ok: bool, message: str, command: str | None = None,
                      unit: str | None = None) -> None:
        """Something done that is not a repair: the bot stopped or started from the console."""
        self.progress.actions.append({"ts": self.now(), "step": step_id, "action": action, "ok": ok,
                                      "message": message, "command": command, "unit": unit})
        self.progress.results.pop(step_id, None)
        self.save()

    def record_repair(self, step_id: str, repair_id: str, ok: bool, message: str,
                      backup: str | None = None, undo: str | None = None, verify: list[dict[str, Any]] | None = None) -> None:
        self.progress.actions.append({
            "ts": self.now(), "step": step_id, "action": f"repair {repair_id}", "repair": repair_id, "ok": ok,
            "message": message, "backup": backup, "undo": undo,
            "verify": [{"id": v.get("id"), "status": v.get("status"), "summary": v.get("summary")} for v in verify or []],
        })
        self.progress.marks.pop(step_id, None)  # a repair calls for a fresh answer
        self.progress.results.pop(step_id, None)
        self.save()

    def move(self, index: int) -> None:
        self.progress.current = min(max(index, 0), len(STEPS) - 1)
        self.save()

    # --- the end ----------------------------------------------------------------------

    def finish(self) -> Path | None:
        """Write the incident log (Markdown) under the user's state directory; None in
        read-only mode or when it cannot be written (self.note says why)."""
        p = self.progress
        p.finished = self.now()
        text = incident_markdown(p, self.config, self.demo)
        if self.config.read_only:
            self.note = "read-only: the incident log was not written"
            p.log = None
            return None
        stamp = datetime.fromtimestamp(p.finished, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        folder = self.log_dir or incident_dir()
        path = folder / f"incident-{stamp}{'-demo' if self.demo else ''}.md"
        from statetui.core.fsio import default_file_mode, durable_replace

        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            durable_replace(path, text.encode("utf-8"), mode=default_file_mode())
        except (OSError, StatetuiError) as exc:
            self.note = f"{path}: cannot write the incident log ({getattr(exc, 'strerror', None) or exc})"
            return None
        p.log = str(path)
        self.save_now()
        return path


def incident_markdown(p: Progress, config: Config, demo: bool = False) -> str:
    try:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError):
        who = "unknown"
    lines = [
        "# Incident log",
        "",
        f"- **State file:** `{p.state}`",
        f"- **Started:** {_iso(p.started)}",
        f"- **Finished:** {_iso(p.finished) if p.finished else 'not finished'}",
        f"- **Operator:** {who} (statetui console, guided recovery)",
        *(["- **Demo:** staged by `statetui demo` on a simulated bot and a local chain"] if demo else []),
        "",
        "## Steps",
        "",
        "| # | Step | Result | Summary |",
        "|---|------|--------|---------|",
    ]
    for i, s in enumerate(STEPS, 1):
        r = p.results.get(s.id)
        summary = (r.summary if r else "not checked").replace("|", "\\|")
        lines.append(f"| {i} | {s.title} | {p.status(s.id)} | {summary} |")
    lines += ["", "## What was found", ""]
    for s in STEPS:
        r = p.results.get(s.id)
        if r is None:
            continue
        lines.append(f"### {s.title} — {r.status}")
        lines.append("")
        lines.append(f"_{_iso(r.at) if r.at else ''}_ {r.summary}")
        lines += [f"- {line}" for line in r.lines]
        for c in r.checks:
            lines.append(f"- check `{c.get('id')}`: {c.get('status')} — {c.get('summary')}")
        lines.append("")
    lines += ["## What was done", ""]
    if not p.actions:
        lines.append("Nothing was changed.")
    for a in p.actions:
        ok = "ok" if a.get("ok") else "FAILED"
        line = f"- {_iso(a['ts'])} [{a.get('step')}] {a.get('action')}: {ok}"
        if a.get("message"):
            line += f" — {a['message']}"
        lines.append(line)
        if a.get("command"):
            lines.append(f"  - command: `{a['command']}`")
        if a.get("undo"):
            lines.append(f"  - undo: `{a['undo']}`")
        for v in a.get("verify", []):
            lines.append(f"  - verify `{v.get('id')}`: {v.get('status')} — {v.get('summary')}")
    lines.append("")
    return "\n".join(lines)
