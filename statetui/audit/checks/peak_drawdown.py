"""Placeholder for the `peak-drawdown` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("peak-drawdown", "peak-drawdown")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
