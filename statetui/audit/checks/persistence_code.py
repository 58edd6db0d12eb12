"""Placeholder for the `persistence-code` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("persistence-code", "persistence-code")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
