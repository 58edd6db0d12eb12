"""Check results, the registry, and the runner that never lets a check raise."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from statetui.core.config import Config


class Status(str, Enum):
    PASS = "PASS"
    SKIPPED = "SKIPPED"
    WARNING = "WARNING"
    FAIL = "FAIL"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        from statetui.cli.exits import AUDIT_STATUS  # the one exit-code table

        return AUDIT_STATUS[self.value]

    @property
    def icon(self) -> str:
        return {Status.PASS: "✅", Status.SKIPPED: "⏭️", Status.WARNING: "⚠️", Status.FAIL: "❌", Status.CRITICAL: "🔴"}[self]


_RANK = {Status.PASS: 0, Status.SKIPPED: 0, Status.WARNING: 1, Status.FAIL: 2, Status.CRITICAL: 3}

# A finding's severity: OK and INFO explain, the others weigh on the check's status.
SEVERITIES = ("OK", "INFO", "WARNING", "FAIL", "CRITICAL")


@dataclass
class Finding:
    severity: str  # one of SEVERITIES
    message: str
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "file": self.file, "line": self.line}

    @property
    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    findings: list[Finding] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)  # figures a face may show (JSON-safe)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CheckResult":
        return cls(
            id=d["id"], title=d["title"], status=Status(d["status"]), summary=d["summary"],
            findings=[Finding(**f) for f in d["findings"]], recommendations=d["recommendations"],
            repairs=d["repairs"], duration_ms=d["duration_ms"], data=d["data"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
            "recommendations": list(self.recommendations),
            "repairs": list(self.repairs),
            "duration_ms": round(self.duration_ms, 2),
            "data": self.data,
        }


class Report:
    """What a check function fills in; `finish` turns it into a CheckResult.

    The status is the worst finding severity unless set explicitly (skip())."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.recommendations: list[str] = []
        self.repairs: list[str] = []
        self.data: dict[str, Any] = {}
        self.summary: str | None = None
        self.status: Status | None = None

    def add(self, severity: str, message: str, file: str | None = None, line: int | None = None) -> Finding:
        assert severity in SEVERITIES, severity
        f = Finding(severity, message, file, line)
        self.findings.append(f)
        return f

    def ok(self, message: str, **kw: Any) -> Finding:
        return self.add("OK", message, **kw)

    def info(self, message: str, **kw: Any) -> Finding:
        return self.add("INFO", message, **kw)

    def warn(self, message: str, **kw: Any) -> Finding:
        return self.add("WARNING", message, **kw)

    def fail(self, message: str, **kw: Any) -> Finding:
        return self.add("FAIL", message, **kw)

    def critical(self, message: str, **kw: Any) -> Finding:
        return self.add("CRITICAL", message, **kw)

    def recommend(self, text: str) -> None:
        if text not in self.recommendations:
            self.recommendations.append(text)

    def repair(self, repair_id: str) -> None:
        if repair_id not in self.repairs:
            self.repairs.append(repair_id)

    def skip(self, reason: str) -> None:
        self.status = Status.SKIPPED
        self.summary = reason

    def worst(self) -> Status:
        worst = Status.PASS
        for f in self.findings:
            if f.severity in ("WARNING", "FAIL", "CRITICAL"):
                s = Status(f.severity)
                if s.rank > worst.rank:
                    worst = s
        return worst


@dataclass
class AuditContext:
    """Everything a check may look at. Checks read; they never write the live state."""

    config: Config
    now: float = field(default_factory=time.time)
    # Filled in by the chain checks so a face can show the reading ("chain", "chain_witness",
    # "chain_positions"); a face may put a witness it read itself there, and a progress
    # callback for long chain scans under "chain_progress".
    cache: dict[str, Any] = field(default_factory=dict)
    # The backups check's off-site part: "skip" (audit --local), "age" (list the bucket when
    # [offsite] is configured), "restore-test" (audit --offsite: also restore the newest in a sandbox).
    offsite: str = "age"
    include_tests: bool = False  # the persistence-code review reads the bot's test code too
    # May checks read the chain? False for `audit --local` and the console's own runs (the
    # console reads the chain in its chain worker and passes the witness in `cache`).
    network: bool = True


CheckFn = Callable[[AuditContext, Report], None]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    fn: CheckFn
    local: bool = True  # False: needs the network (the chain)
    cpu_heavy: bool = False  # worth running in a forked child beside the others (CLI only)


REGISTRY: dict[str, Check] = {}


def register(check_id: str, title: str, *, local: bool = True, cpu_heavy: bool = False) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY[check_id] = Check(check_id, title, fn, local, cpu_heavy)
        return fn

    return deco


def run_check(check: Check, ctx: AuditContext) -> CheckResult:
    """Run one check. An exception inside it becomes a FAIL finding; it never raises."""
    report = Report()
    started = time.perf_counter()
    try:
        check.fn(ctx, report)
    except Exception as exc:  # a bug or an unexpected environment: report it, never raise
        tb = traceback.extract_tb(exc.__traceback__)
        where = tb[-1] if tb else None
        report.fail(
            f"the check itself failed: {type(exc).__name__}: {exc}",
            file=where.filename if where else None,
            line=where.lineno if where else None,
        )
    duration = (time.perf_counter() - started) * 1000
    status = report.status or report.worst()
    summary = report.summary or _default_summary(status, report)
    return CheckResult(
        id=check.id,
        title=check.title,
        status=status,
        summary=summary,
        findings=report.findings,
        recommendations=report.recommendations,
        repairs=report.repairs,
        duration_ms=duration,
        data=report.data,
    )


def _default_summary(status: Status, report: Report) -> str:
    worst = [f for f in report.findings if f.severity == status.value]
    if worst:
        first = worst[0].message
        more = len(worst) - 1
        return first + (f" (+{more} more)" if more else "")
    oks = [f for f in report.findings if f.severity == "OK"]
    return oks[0].message if oks else status.value


def overall(results: list[CheckResult]) -> Status:
    worst = Status.PASS
    for r in results:
        if r.status.rank > worst.rank:
            worst = r.status
    return worst
