"""Placeholder for the `state-file` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("state-file", "state-file")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
