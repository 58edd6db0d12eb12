"""Render audit results: Markdown in the shape of the reference report, and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from statetui.audit.base import CheckResult, Status, overall
from statetui.core.config import Config
from statetui.core.display import chain_curve_line

_SEVERITY_ICON = {"OK": "✅", "INFO": "ℹ️", "WARNING": "⚠️", "FAIL": "❌", "CRITICAL": "🔴"}
_OVERALL_ICON = {Status.PASS: "🟢", Status.SKIPPED: "🟢", Status.WARNING: "🟡", Status.FAIL: "🟠", Status.CRITICAL: "🔴"}


def to_json(results: list[CheckResult], config: Config, generated_at: datetime | None = None) -> dict[str, Any]:
    generated_at = generated_at or datetime.now(timezone.utc)
    return {
        "overall": overall(results).value,
        "generated_at": generated_at.isoformat(),
        "state_path": str(config.state),
        "counts": counts(results),
        "checks": [r.to_dict() for r in results],
    }


def counts(results: list[CheckResult]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for r in results:
        out[r.status.value] += 1
    return out


def to_markdown(results: list[CheckResult], config: Config, generated_at: datetime | None = None) -> str:
    generated_at = generated_at or datetime.now(timezone.utc)
    status = overall(results)
    c = counts(results)
    crit = [r for r in results if r.status == Status.CRITICAL]
    lines = [
        "# State Management Audit Report",
        "",
        "**Auditor:** statetui audit",
        "",
        f"**Date:** {generated_at.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        "",
        f"**State file:** `{config.state}`",
        "",
        "---",
        "",
        "## Executive Summary",
        "",
        f"**Overall Assessment:** {_OVERALL_ICON[status]} {status.value}",
        "",
    ]
    if crit:
        lines += [f"System has {len(crit)} critical issue(s) requiring immediate attention", ""]
    lines += [
        f"- ✅ Passed: {c['PASS']} areas",
        f"- ⚠️ Warnings: {c['WARNING']} areas",
        f"- ❌ Failures: {c['FAIL']} areas",
        f"- 🔴 Critical: {c['CRITICAL']} areas",
        f"- ⏭️ Skipped: {c['SKIPPED']} areas",
        "",
        "---",
        "",
        "## Detailed Audit Findings",
        "",
    ]
    for r in results:
        lines += [f"### {r.title}", "", f"**Status:** {r.status.icon} {r.status.value} (`{r.id}`, {r.duration_ms:.0f} ms)", ""]
        lines += [f"_{r.summary}_", ""]
        if r.findings:
            lines += ["**Findings:**", ""]
            for f in r.findings:
                where = f" (`{f.where}`)" if f.where else ""
                lines.append(f"- {_SEVERITY_ICON.get(f.severity, '')} {f.message}{where}")
            lines.append("")
        if r.data.get("chain_curve"):
            lines += [f"**Chain:** {chain_curve_line(r.data['chain_curve'])}", ""]
        if r.recommendations:
            lines += ["**Recommendations:**", ""]
            lines += [f"- {rec}" for rec in r.recommendations]
            lines.append("")
        if r.repairs:
            lines += ["**Repairs:** " + ", ".join(f"`statetui repair {rid}`" for rid in r.repairs), ""]
        lines += ["---", ""]
    lines += ["## Priority Action Items", "", "### 🔴 Critical (Immediate)", ""]
    critical_items = _actions(results, (Status.CRITICAL, Status.FAIL))
    lines += [f"{i}. {a}" for i, a in enumerate(critical_items, 1)] or ["None."]
    lines += ["", "### 🟡 Important (Within 1 Week)", ""]
    important = _actions(results, (Status.WARNING,))
    lines += [f"{i}. {a}" for i, a in enumerate(important, 1)] or ["None."]
    lines += ["", "---", "", "**END OF REPORT**", ""]
    return "\n".join(lines)


def _actions(results: list[CheckResult], statuses: tuple[Status, ...]) -> list[str]:
    items: list[str] = []
    for r in results:
        if r.status in statuses:
            for rec in r.recommendations or [r.summary]:
                item = f"[{r.id}] {rec}"
                if item not in items:
                    items.append(item)
    return items


def to_text(results: list[CheckResult]) -> str:
    """The terminal summary: one line a check, then the findings that matter."""
    lines = []
    for r in results:
        lines.append(f"{r.status.value:8} {r.id:18} {r.summary}")
        if r.data.get("chain_curve"):
            lines.append(f"         {chain_curve_line(r.data['chain_curve'])}")
        for f in r.findings:
            if f.severity in ("WARNING", "FAIL", "CRITICAL"):
                where = f" [{f.where}]" if f.where else ""
                lines.append(f"         - {f.severity}: {f.message}{where}")
        if r.repairs and r.status.rank > 0:
            lines.append(f"         repair: {', '.join('statetui repair ' + x for x in r.repairs)}")
    lines.append(f"overall: {overall(results).value}")
    return "\n".join(lines)


def dumps_json(results: list[CheckResult], config: Config) -> str:
    return json.dumps(to_json(results, config), indent=2, ensure_ascii=False)
