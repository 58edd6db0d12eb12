"""The `persistence-code` check: how the bot's own source writes, loads and locks the
state file. The review lives in statetui.audit.review (a package, one module per
concern); this runs it for the configured bot and state and turns it into findings.
Code is not data, so no repair is offered.

Test code is left out unless the audit runs with --include-tests (AuditContext.include_tests)."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from statetui.audit.base import AuditContext, Report, register

REC_SOURCE = "Point --bot-source (or STATETUI_BOT_SOURCE) at the bot's source file or folder"


@register("persistence-code", "Code Review - State Persistence", cpu_heavy=True)
def check(ctx: AuditContext, report: Report) -> None:
    source = ctx.config.bot_source
    if source is None:
        report.skip("bot source not configured (--bot-source / STATETUI_BOT_SOURCE)")
        return
    source = Path(source)
    if not os.path.lexists(source):
        report.fail(f"bot source not found: {source}", file=str(source))
        report.recommend(REC_SOURCE)
        return
    from statetui.audit.review import review
    from statetui.audit.review.report import render

    try:
        r = review(source, Path(ctx.config.state), include_tests=ctx.include_tests)
    except RecursionError:  # a pathological tree; every ordinary failure is a problem inside the review
        report.warn(f"{source}: too deeply nested to analyze", file=str(source))
        return
    except Exception as exc:  # a bug in the review: say so plainly rather than let the runner guess
        where = traceback.extract_tb(exc.__traceback__)[-1]
        report.warn(f"the review of {source} could not finish ({type(exc).__name__}: {exc} at "
                    f"{Path(where.filename).name}:{where.lineno}); its findings are missing, not clean")
        return
    render(r, report, str(source))
    if r.tests_skipped and not ctx.include_tests:
        report.data["note"] = f"{r.tests_skipped} test file(s) left out (--include-tests reviews them too)"
