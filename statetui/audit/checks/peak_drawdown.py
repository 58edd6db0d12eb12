"""peak-drawdown: the Jan 16 class of bug — a peak that includes unrealized value makes a false drawdown."""

from __future__ import annotations

import time
from decimal import Decimal

from statetui.audit.base import AuditContext, Report, register
from statetui.audit.checks.state_file import store_for
from statetui.core.errors import StateLoadError
from statetui.core.history import _ts, realized_cash_history
from statetui.core.model import derive

TOLERANCE = Decimal("0.01")  # one cent: float noise in the bot's own arithmetic


@register("peak-drawdown", "Peak Balance & Drawdown")
def check(ctx: AuditContext, report: Report) -> None:
    store = store_for(ctx)
    try:
        state = store.load()
    except StateLoadError as exc:
        report.skip(f"state file unreadable ({exc.kind}); see state-file")
        return
    if state.peak_balance is None or state.current_balance is None:
        report.skip("this bot's state keeps no peak_balance/current_balance; nothing to check")
        return
    threshold = ctx.config.halt_threshold
    d = derive(state, threshold)
    report.data["derived"] = d.to_dict()
    cash, peak = d.cash, d.peak
    halted = state.halted is True or state.mode == "halted"

    if peak < cash:
        report.fail(f"peak_balance {peak} < current_balance {cash}: the peak must always be >= cash")
        report.repair("recompute-peak")
    else:
        report.ok(f"peak {peak} >= cash {cash}")

    if d.drawdown is not None:
        dd = f"{d.drawdown * 100:.1f}%"
        if d.at_or_past_halt and not halted:
            report.fail(f"drawdown {dd} is at or past the halt threshold {threshold * 100:.0f}% but the bot is not halted")
        elif d.at_or_past_halt:
            report.info(f"drawdown {dd} >= halt threshold {threshold * 100:.0f}%: bot is halted (correct only if the peak is right)")
        else:
            report.ok(f"drawdown {dd} (halt at {threshold * 100:.0f}%)")

    scan = store.journal.scan()
    history = realized_cash_history(store.journal, store.backups, scan.entries)
    top = history.max
    report.data["highest_realized_cash"] = str(top.value) if top else None
    if top is not None:
        ceiling = max(top.value, cash)
        if peak > ceiling + TOLERANCE:
            report.fail(f"peak {peak} is above the highest realized cash ever recorded ({ceiling}, {top.source}) "
                        f"by {peak - ceiling}: the peak includes value that was never cash")
            report.repair("recompute-peak")
            if halted and d.at_or_past_halt:
                true_dd = (ceiling - cash) / ceiling if ceiling > 0 else Decimal(0)
                report.fail(f"FALSE DRAWDOWN HALT: with the peak at realized cash {ceiling}, drawdown is "
                                f"{true_dd * 100:.1f}%, not {d.drawdown * 100:.1f}%")
        else:
            report.ok(f"peak is within realized cash history ({len(history)} values, max {top.value})")
    else:
        report.info("no realized cash history (no journal, no backups): the peak cannot be cross-checked")

    if d.position_value is not None and d.position_value > 0 and peak > cash + TOLERANCE:
        if abs(peak - (cash + d.position_value)) <= Decimal("1.00"):
            report.fail(f"peak {peak} equals cash {cash} + open position value {d.position_value}: "
                        "peak_balance must track realized cash only")
            report.repair("recompute-peak")

    _staleness(ctx, report, scan.entries)
    if store.journal.exists():
        n = sum(1 for e in scan.entries if "peak_balance" in e.get("changes", {}))
        report.ok(f"peak_balance updates are journaled with a reason ({n} update(s) recorded)")
    else:
        report.warn("peak_balance updates are not logged with a reason (no journal: writes bypass statetui.store)")
        report.recommend("Log peak_balance updates with reason: write the state through statetui.store")

    if report.worst().rank == 0:
        dd = f"{d.drawdown * 100:.1f}%" if d.drawdown is not None else "—"
        report.summary = f"peak {peak} tracks realized cash; drawdown {dd} (halt at {threshold * 100:.0f}%)"
    if report.repairs:
        report.recommend("peak_balance should ONLY track realized cash (not positions): recompute it (statetui repair recompute-peak)")
        report.recommend("Daily reconciliation: compare state vs on-chain balance (statetui audit --check chain-reconcile)")


def _staleness(ctx: AuditContext, report: Report, entries: list[dict]) -> None:
    """Peak unchanged for more than N days while trades keep happening."""
    if not entries:
        return
    last_peak = max((_ts(e) or 0 for e in entries if "peak_balance" in e.get("changes", {})), default=None)
    trades = [_ts(e) or 0 for e in entries if "total_trades" in e.get("changes", {})]
    limit = ctx.config.stale_peak_days * 86400
    since = last_peak if last_peak is not None else _ts(entries[0]) or 0
    recent_trades = [t for t in trades if t > since]
    if recent_trades and ctx.now - since > limit:
        days = (ctx.now - since) / 86400
        report.warn(f"peak_balance unchanged for {days:.1f} days while {len(recent_trades)} trade write(s) happened: stale peak?")
        report.recommend(f"Alert if peak_balance is unchanged for more than {ctx.config.stale_peak_days:g} days")
