"""Run checks by id (all by default), in registry order."""

from __future__ import annotations

import json
import os

from statetui.audit.base import REGISTRY, AuditContext, CheckResult, Finding, Status, run_check
from statetui.core.errors import UsageError


def all_check_ids(local_only: bool = False) -> list[str]:
    """Check ids in report order, without importing the checks (so the CLI can still fork
    the CPU-heavy one before the others pull in pydantic)."""
    from statetui.audit.checks import MODULES, NETWORK

    return [i for i in MODULES if not (local_only and i in NETWORK)]


# Checks that are CPU-bound and import nothing heavy at module level.
FORKABLE = {"persistence-code"}


def run_audit(ctx: AuditContext, ids: list[str] | None = None, *, fork: bool = False) -> list[CheckResult]:
    """Run checks in registry order. With `fork` (the single-threaded CLI only: forking a
    threaded process is unsafe), CPU-heavy checks run in a child on another core."""
    from statetui.audit.checks import MODULES, load

    wanted = ids or list(MODULES)
    unknown = [i for i in wanted if i not in MODULES]
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r} (known: {', '.join(MODULES)})")
    children = {}
    if fork and hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and len(wanted) > 1:
        # Fork the CPU-heavy checks first, before the parent imports pydantic and the store
        # for the others: the child's work then overlaps the parent's imports.
        for i in wanted:
            if i in FORKABLE:
                load([i])
                children[i] = _fork_check(i, ctx)
    load(wanted)
    done = {i: run_check(REGISTRY[i], ctx) for i in wanted if i not in children}
    for i, child in children.items():
        done[i] = _collect(i, *child)
    return [done[i] for i in wanted]


def _fork_check(check_id: str, ctx: AuditContext) -> tuple[int, int]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run one check, send its result as JSON, leave without cleanup handlers
        code = 0
        try:
            os.close(read)
            data = json.dumps(run_check(REGISTRY[check_id], ctx).to_dict()).encode()
            with os.fdopen(write, "wb") as out:
                out.write(data)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(check_id: str, pid: int, read: int) -> CheckResult:
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    try:
        return CheckResult.from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError):
        check = REGISTRY[check_id]
        return CheckResult(check.id, check.title, Status.FAIL, "the check's worker process died",
                           [Finding("FAIL", "the check's worker process died without a result")])
