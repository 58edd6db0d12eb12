"""Placeholder for the `process-safety` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("process-safety", "process-safety")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
