"""peak-drawdown: the Jan 16 class of bug, a peak that includes value that was never cash
makes a false drawdown and a false halt.

The verdict comes only from evidence independent of the file being judged
(statetui.core.evidence): the journal covering the moment the peak was raised, or the
chain's history of the wallet's realized cash (read when the chain is configured and the
audit is not --local). A snapshot of this same file proves nothing. With no covering evidence the answer
is "cannot tell", with what would settle it; a peak that was really reached makes the
halt genuine, and the check says so."""

from __future__ import annotations

from decimal import Decimal

from statetui.audit.base import AuditContext, Report, register
from statetui.audit.checks.state_file import backups_summary, store_for
from statetui.core.errors import StateLoadError
from statetui.core.evidence import CANNOT_TELL, FALSE, GENUINE, TOLERANCE, ChainWitness, judge_store_peak_fast, landed_entries
from statetui.core.journal_summary import Inexact
from statetui.core.figures import drawdown_with_peak, figures, label
from statetui.core.history import _ts, entry_value
from statetui.core.money import fmt_money
from statetui.core.roles import roles_for, top_field


@register("peak-drawdown", "Peak Balance & Drawdown")
def check(ctx: AuditContext, report: Report) -> None:
    store = store_for(ctx)
    try:
        doc = store.check(store.read_bytes())  # load() without the model (pydantic): the same errors
    except StateLoadError as exc:
        report.skip(f"state file unreadable ({exc.kind}); see state-file")
        return
    roles = roles_for(ctx.config, doc)
    if not roles.mapped("peak"):
        report.skip(f"this bot keeps no peak ({roles.hints.get('peak', 'statetui fields')}); nothing to check")
        return
    threshold = ctx.config.halt_threshold
    f = figures(doc, roles, threshold)
    report.data["derived"] = f.to_dict()
    report.data["roles"] = {r: roles.path(r) for r in ("cash", "equity", "peak", "halted", "mode")}
    peak_l, basis = label(roles, "peak"), f.basis
    if f.peak is None:
        report.warn(f"{peak_l} holds no number")
        return
    if basis is None or f.basis_value is None:
        what = "whether the peak tracks cash or equity" if basis is None else f"the {basis} figure"
        report.warn(f"cannot tell the drawdown: the bot's {what} is not mapped "
                    f"({roles.hints.get('peak_basis') or roles.hints.get(basis or 'cash') or 'statetui fields'})")
        report.recommend("Map it in the config's [fields] table (statetui fields shows the mapping)")
        return
    basis_l = label(roles, basis)
    if f.peak < f.basis_value:
        report.fail(f"{peak_l} {f.peak} < {basis_l} {f.basis_value}: the peak must always be >= {basis}")
        report.repair("recompute-peak")
    else:
        report.ok(f"peak {f.peak} >= {basis} {f.basis_value}")
    halted = f.halted is True
    if f.drawdown is not None:
        dd = f"{f.drawdown * 100:.1f}%"
        if f.at_or_past_halt and f.halted is False:
            report.fail(f"drawdown {dd} is at or past the halt threshold {threshold * 100:.0f}% but the bot is not halted")
        elif f.at_or_past_halt:
            report.info(f"drawdown {dd} >= halt threshold {threshold * 100:.0f}%: the bot is halted (right only if the peak is)")
        else:
            report.ok(f"drawdown {dd} (halt at {threshold * 100:.0f}%)")

    witness = chain_witness(ctx, roles)
    # The journal's summary, not its whole history (statetui.core.journal_digest); every
    # entry is read only when the bounded summary cannot answer exactly.
    verdict, digest = judge_store_peak_fast(store, roles, doc, backups_summary(ctx, store), witness)
    entries = None if digest is not None else landed_entries(store)
    report.data["peak_verdict"] = verdict.to_evidence()
    if isinstance(witness, ChainWitness):
        report.data["chain_curve"] = {"values": [str(v) for v in witness.curve], "cash": str(witness.cash),
                                      "high_water_mark": str(witness.high_water_mark), "block": witness.block,
                                      "tx": witness.tx, "policy": witness.policy, "state_peak": str(f.peak)}
    if verdict.chain_note:
        report.info(f"chain evidence not used: {verdict.chain_note}")
    if verdict.verdict == GENUINE:
        report.ok(verdict.message)
        if halted and f.at_or_past_halt:
            report.info(f"the halt is genuine: the {f.drawdown * 100:.1f}% drawdown is real (do not clear it)")
    elif verdict.verdict == FALSE:
        report.fail(f"FALSE PEAK: {verdict.message}")
        report.repair("recompute-peak")
        after = drawdown_with_peak(verdict.corrected, f.basis_value) if verdict.corrected is not None else None
        if halted and f.at_or_past_halt and after is not None and after < threshold:
            source = (f"the wallet's realized-cash high-water mark, cash peaked at {verdict.chain.cite()}"
                      if verdict.chain is not None else "what the evidence covers")
            report.fail(f"FALSE DRAWDOWN HALT: with the peak at {fmt_money(verdict.corrected)} ({source}), "
                        f"drawdown is {after * 100:.1f}%, not {f.drawdown * 100:.1f}%")
    elif verdict.verdict == CANNOT_TELL:
        report.warn(verdict.message)
        for hint in verdict.settle:
            report.recommend(f"To settle it: {hint}")
        report.repair("set-peak")

    if f.position_value is not None and f.position_value > 0 and f.peak > f.basis_value + TOLERANCE and basis == "cash":
        if abs(f.peak - (f.basis_value + f.position_value)) <= Decimal("1.00"):
            report.info(f"peak {f.peak} equals cash {f.basis_value} + open position value {f.position_value}: "
                        "it may include unredeemed positions (the verdict above says what the evidence shows)")

    if digest is not None:
        try:
            since, trades = digest.summary.stale_peak()
            _stale(ctx, report, roles, since, trades, digest.summary.writes)
        except Inexact:
            entries = landed_entries(store)
    if entries is not None:
        _staleness(ctx, report, roles, entries)
    if digest is not None and digest.problems:
        for problem in digest.problems:
            report.fail(f"journal: {problem}")
    if store.journal.exists() or (digest is not None and digest.segments):
        n = digest.summary.peak_changes if entries is None and digest is not None else \
            sum(1 for a, b in zip([None] + entries, entries) if _peak_changed(a, b, roles))
        report.ok(f"peak updates are journaled with a reason ({n} update(s) recorded)")
    else:
        report.warn("peak updates are not logged with a reason (no journal: writes bypass statetui.store)")
        report.recommend("Log peak updates with reason: write the state through statetui.store")

    if report.worst().rank == 0:
        dd = f"{f.drawdown * 100:.1f}%" if f.drawdown is not None else "—"
        report.summary = f"peak {f.peak} tracks realized {basis}; drawdown {dd} (halt at {threshold * 100:.0f}%)"
    if "recompute-peak" in report.repairs:
        report.recommend(f"The peak should ONLY track realized {basis} (not positions): statetui repair recompute-peak")
        report.recommend("Daily reconciliation: compare state vs on-chain balance (statetui audit --check chain-reconcile)")


def chain_witness(ctx: AuditContext, roles) -> object:
    """The chain's witness: the one a face passed in ctx.cache, else read now when the chain
    is configured, the audit may use the network and the peak tracks cash (a history scan,
    cached: see statetui.core.chainhist.witness); None otherwise."""
    if "chain_witness" in ctx.cache:
        return ctx.cache["chain_witness"]
    if not (ctx.network and ctx.config.chain_configured and roles.peak_basis == "cash"):
        return None
    from statetui.core.chainhist.witness import obtain

    witness = obtain(ctx.config, progress=ctx.cache.get("chain_progress"))
    ctx.cache["chain_witness"] = witness
    return witness


def _peak_changed(before: dict | None, entry: dict, roles) -> bool:
    known, value = entry_value(entry, roles, "peak")
    if not known:
        return False
    if before is None:
        return True
    was_known, was = entry_value(before, roles, "peak")
    return not was_known or was != value


def _staleness(ctx: AuditContext, report: Report, roles, entries: list[dict]) -> None:
    """Peak unchanged for more than N days while trades keep happening."""
    if not entries:
        return
    raises = [_ts(b) or 0 for a, b in zip([None] + entries, entries) if _peak_changed(a, b, roles)]
    trade_field = top_field(roles.path("trades")) or top_field(roles.path("cash"))
    trades = [_ts(e) or 0 for e in entries if trade_field and trade_field in (e.get("changes") or {})]
    since = max(raises) if raises else (_ts(entries[0]) or 0)
    _stale(ctx, report, roles, since, len([t for t in trades if t > since]), len(entries))


def _stale(ctx: AuditContext, report: Report, roles, since: float, recent: int, writes: int) -> None:
    """Peak unchanged since `since` while `recent` trade writes happened after it."""
    if not writes:
        return
    limit = ctx.config.stale_peak_days * 86400
    if recent and ctx.now - since > limit:
        days = (ctx.now - since) / 86400
        report.warn(f"{label(roles, 'peak')} unchanged for {days:.1f} days while {recent} trade write(s) happened: stale peak?")
        report.recommend(f"Alert if the peak is unchanged for more than {ctx.config.stale_peak_days:g} days")
