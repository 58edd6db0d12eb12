"""Placeholder for the `chain-reconcile` check (being written)."""

from statetui.audit.base import AuditContext, Report, register


@register("chain-reconcile", "chain-reconcile")
def check(ctx: AuditContext, report: Report) -> None:
    report.skip("not implemented yet")
