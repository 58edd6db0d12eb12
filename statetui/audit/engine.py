"""Run checks by id (all by default), in registry order."""

from __future__ import annotations

from statetui.audit.base import REGISTRY, AuditContext, CheckResult, run_check
from statetui.core.errors import StatetuiError


def all_check_ids(local_only: bool = False) -> list[str]:
    import statetui.audit.checks  # noqa: F401  (registers every check)

    return [c.id for c in REGISTRY.values() if c.local or not local_only]


def run_audit(ctx: AuditContext, ids: list[str] | None = None) -> list[CheckResult]:
    known = all_check_ids()
    wanted = ids or known
    unknown = [i for i in wanted if i not in REGISTRY]
    if unknown:
        raise StatetuiError(f"unknown check {unknown[0]!r} (known: {', '.join(known)})")
    return [run_check(REGISTRY[i], ctx) for i in wanted]
