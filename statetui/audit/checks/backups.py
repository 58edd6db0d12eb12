"""Placeholder for the `backups` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("backups", "backups")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
