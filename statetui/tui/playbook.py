"""The guided recovery: an incident playbook, step by step, with its progress kept in a
small JSON file beside the state (`.statetui-playbook.json`, never the state file) so it
survives quitting and reopening, and an incident log written at the end. No Textual import.

Each step is a question answered by the same checks and core calls the CLI uses, and
offers the repairs that fix it. Evaluating a step only reads; repairs run through the
repair wizard (plan -> confirm -> apply -> verify) and are recorded here."""

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

PROGRESS_NAME = ".statetui-playbook.json"
VERSION = 1
_RANK = {"PASS": 0, "SKIPPED": 0, "INFO": 0, "PENDING": 1, "WARNING": 1, "FAIL": 2, "CRITICAL": 3}


@dataclass(frozen=True)
class StepDef:
    id: str
    title: str
    why: str
    checks: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    short: str = ""  # for a narrow list


STEPS: tuple[StepDef, ...] = (
    StepDef("bot-stopped", "Is the bot stopped?",
            "A repair written while the bot runs is overwritten by the bot's next save.",
            ("process-safety",), ("clear-stale-lock",), short="Bot stopped?"),
    StepDef("state-readable", "Is the state readable?",
            "A missing, partial or invalid file stops the bot at start.",
            ("state-file",), ("restore-backup", "init-state"), short="State readable?"),
    StepDef("snapshot", "Snapshot it now",
            "Keep the evidence as it is before anything changes.",
            (), ("backup-now",), short="Snapshot now"),
    StepDef("backups", "Are the backups healthy?",
            "A restore is only as good as the newest backup that verifies.",
            ("backups",), ("backup-now", "prune-backups"), short="Backups healthy?"),
    StepDef("chain", "Does cash match the chain?",
            "The state's cash must be the wallet's real cash (the Jan 16 desync was $186).",
            ("chain-reconcile",), ("reconcile",), short="Cash = chain?"),
    StepDef("peak", "Is the peak sane?",
            "The peak must track realized cash only; a peak with position value halts the bot on a false drawdown.",
            ("peak-drawdown",), ("recompute-peak",), short="Peak sane?"),
    StepDef("audit", "Full audit",
            "Every check, once more, on the repaired state.",
            ("*",), (), short="Full audit"),
    StepDef("start-bot", "Start the bot",
            "Start it the usual way; the step passes when a live process holds the pid lock.",
            (), (), short="Start the bot"),
)
STEP_IDS = tuple(s.id for s in STEPS)


def step_def(step_id: str) -> StepDef:
    return next(s for s in STEPS if s.id == step_id)


def passes(status: str) -> bool:
    """A step may be left behind when nothing in it is a failure."""
    return _RANK.get(status, 2) < 2


@dataclass
class StepResult:
    status: str  # PASS | WARNING | FAIL | CRITICAL | SKIPPED | PENDING
    summary: str
    lines: list[str] = field(default_factory=list)  # evidence, one line each
    checks: list[dict[str, Any]] = field(default_factory=list)  # CheckResult.to_dict()
    suggested: str | None = None  # the repair that fixes what was found
    command: str | None = None  # a shell command the engineer must run (stop/start the bot)
    at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepResult":
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})


def _worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: _RANK.get(s, 2))


def _run_checks(config: Config, ids: tuple[str, ...], now: float) -> list[Any]:
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import all_check_ids, run_audit

    known = all_check_ids()
    wanted = known if ids == ("*",) else [i for i in ids if i in known]
    return run_audit(AuditContext(config, now=now), wanted) if wanted else []


def evaluate(step_id: str, config: Config, progress: "Progress", now: float | None = None) -> StepResult:
    """Answer the step's question now (reads only). Blocking: run it in a worker."""
    now = time.time() if now is None else now
    probe = _PROBES[step_id]
    result = probe(config, progress, now)
    d = step_def(step_id)
    if d.checks:
        checks = _run_checks(config, d.checks, now)
        result.checks = [r.to_dict() for r in checks]
        if step_id in _CHECKS_GATE:
            for r in checks:
                result.status = _worst(result.status, r.status.value)
            bad = [r for r in checks if _RANK.get(r.status.value, 0) >= 1]
            if bad and result.status != "PASS" and not result.summary:
                result.summary = "; ".join(f"{r.id}: {r.summary}" for r in bad[:3])
            if result.suggested is None:
                result.suggested = next((rid for r in bad for rid in r.repairs if rid in d.repairs), None)
    if not result.summary:
        result.summary = "ok" if result.status == "PASS" else result.status.lower()
    result.at = now
    return result


# Steps whose verdict includes the worst status of their checks (the others show them as evidence).
_CHECKS_GATE = {"backups", "chain", "peak", "audit"}


def _bot_stopped(config: Config, progress: "Progress", now: float) -> StepResult:
    from statetui.core.botrunning import may_be_running

    v = may_be_running(config)
    s = v.pidlock
    if v.refuses_writes:
        cmd = v.stop_command
        head = "the bot may be running" if v.running else "cannot tell whether the bot is running"
        return StepResult("FAIL", f"{head}: {v.deciding[0].message}", [f"stop it with: {cmd}"] if cmd else [],
                          command=cmd)
    if s.stale:
        return StepResult("WARNING", f"stale pid file: {s.reason}", ["clear it (no live process holds it)"],
                          suggested="clear-stale-lock")
    if s.regular is False:
        return StepResult("FAIL", s.reason)
    return StepResult("PASS", v.headline)


def _state_readable(config: Config, progress: "Progress", now: float) -> StepResult:
    from statetui.tui.data import gather_backups, store_for

    fs = store_for(config).status()
    if fs.error is not None:
        good = gather_backups(config).newest_good
        if good is not None:
            return StepResult("CRITICAL", str(fs.error), [f"newest good backup: {good.name}"], suggested="restore-backup")
        return StepResult("CRITICAL", str(fs.error), ["no backup verifies: create a default state, then reconcile its cash"],
                          suggested="init-state")
    writer = {True: "through the store", False: "OUTSIDE the store", None: "unknown (no journal)"}[fs.written_by_store]
    return StepResult("PASS", f"readable: {fs.size} bytes, generation {fs.generation or '—'}, last written {writer}")


def _snapshot(config: Config, progress: "Progress", now: float) -> StepResult:
    done = [a for a in progress.actions if a.get("repair") == "backup-now" and a.get("ok")]
    if done:
        return StepResult("PASS", f"snapshot taken: {done[-1].get('backup') or done[-1].get('message')}")
    if not os.path.lexists(config.state):
        return StepResult("SKIPPED", "no state file to snapshot")
    return StepResult("PENDING", "take a backup of the file as it is now", suggested="backup-now")


def _backups(config: Config, progress: "Progress", now: float) -> StepResult:
    from statetui.tui.data import gather_backups

    view = gather_backups(config)
    if view.error:
        return StepResult("FAIL", view.error)
    if not view.infos:
        return StepResult("WARNING", f"no backups in {view.dir}", suggested="backup-now")
    lines = [f"{len(view.infos)} backup(s), newest {view.infos[0].name}"]
    if view.failing:
        lines += [f"does not verify: {b.name} ({b.error or b.checksum})" for b in view.failing[:5]]
        return StepResult("WARNING", f"{len(view.failing)} backup(s) fail verification", lines)
    return StepResult("PASS", "", lines)


def _chain(config: Config, progress: "Progress", now: float) -> StepResult:
    if not config.chain_configured:
        return StepResult("SKIPPED", "chain not configured (rpc_url and wallet): cash cannot be compared")
    return StepResult("PASS", "")


def _peak(config: Config, progress: "Progress", now: float) -> StepResult:
    from statetui.repair.runner import plan_repair

    try:
        plan = plan_repair("recompute-peak", config)
    except StatetuiError as exc:
        return StepResult("FAIL", f"cannot plan recompute-peak: {exc}")
    if plan.changes:
        return StepResult("WARNING", "the peak does not match realized cash history",
                          [f"recompute-peak would change {line}" for line in plan.diff_lines()]
                          + [f"{k}: {v}" for k, v in plan.evidence.items()],
                          suggested="recompute-peak")
    return StepResult("PASS", "", [f"{k}: {v}" for k, v in plan.evidence.items()])


def _audit(config: Config, progress: "Progress", now: float) -> StepResult:
    return StepResult("PASS", "")


def _start_bot(config: Config, progress: "Progress", now: float) -> StepResult:
    from statetui.core.botrunning import may_be_running

    v = may_be_running(config)
    if v.running:
        return StepResult("PASS", v.headline)
    cmd = f"systemctl start {config.systemd_unit}" if config.systemd_unit else None
    how = f"start it: {cmd}" if cmd else "start it the usual way"
    return StepResult("PENDING", f"not running yet; {how}, then re-check (or mark done)", command=cmd)


_PROBES: dict[str, Callable[[Config, "Progress", float], StepResult]] = {
    "bot-stopped": _bot_stopped, "state-readable": _state_readable, "snapshot": _snapshot,
    "backups": _backups, "chain": _chain, "peak": _peak, "audit": _audit, "start-bot": _start_bot,
}


# --- progress -------------------------------------------------------------------------

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
                 saver: Callable[[bytes, int], None] | None = None):
        """`saver(data, seq)`: how to write progress (the console hands it to a thread
        worker, which calls write()); by default it is written at once."""
        self.config = config
        self.now = now
        self.path = progress_path(config)
        self.note: str | None = None  # why progress could not be loaded or saved
        self.saver = saver or self.write
        self._seq = 0
        self._written = 0
        self._write_lock = threading.Lock()
        self.progress = self._load() or self._new()

    def _new(self) -> Progress:
        return Progress(state=str(Path(os.path.abspath(self.config.state))), started=self.now())

    def _load(self) -> Progress | None:
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
        """Write the incident log (markdown) beside the state file; None in read-only mode."""
        p = self.progress
        p.finished = self.now()
        text = incident_markdown(p, self.config)
        if self.config.read_only:
            self.note = "read-only: the incident log was not written"
            p.log = None
            return None
        stamp = datetime.fromtimestamp(p.finished, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = Path(p.state).parent / f"incident-{stamp}.md"
        from statetui.core.fsio import default_file_mode, durable_replace

        try:
            durable_replace(path, text.encode("utf-8"), mode=default_file_mode())
        except (OSError, StatetuiError) as exc:
            self.note = f"{path}: cannot write the incident log ({getattr(exc, 'strerror', None) or exc})"
            return None
        p.log = str(path)
        self.save_now()
        return path


def incident_markdown(p: Progress, config: Config) -> str:
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
        if a.get("undo"):
            lines.append(f"  - undo: `{a['undo']}`")
        for v in a.get("verify", []):
            lines.append(f"  - verify `{v.get('id')}`: {v.get('status')} — {v.get('summary')}")
    lines.append("")
    return "\n".join(lines)
