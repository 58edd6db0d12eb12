"""Placeholder for the `recovery` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("recovery", "recovery")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
