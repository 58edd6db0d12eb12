"""chain-reconcile: the state's cash against the wallet's cash on chain.

The Jan 16 incident (state $386.97, chain $200.97) was found by hand; this check finds
it. The state claiming more than the chain is a FAIL (drawdown and sizing run on money
that is not there); the chain holding more is a WARNING (a redemption or deposit the
state missed). Positions listed in the state with token ids are read too: shares still
held are cash not yet redeemed, the root cause of that incident."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from statetui.audit.base import AuditContext, Report, register
from statetui.core.money import fmt_money

_CLOSED = {"closed", "resolved", "redeemed", "settled", "sold", "won", "lost", "expired"}
_SHARE_DECIMALS = 6  # CTF position tokens carry the collateral's 6 decimals


@register("chain-reconcile", "Chain Reconciliation", local=False)
def check(ctx: AuditContext, report: Report) -> None:
    config = ctx.config
    if not config.chain_configured:
        report.skip("chain not configured (set rpc_url and wallet)")
        return
    if not config.tokens:
        report.skip("no collateral token configured: the wallet's cash cannot be read (set [chain] tokens)")
        return
    # Imported here: the chain reader is only needed when a chain is configured.
    from statetui.core.chain import read_chain
    from statetui.core.errors import ChainError, StateLoadError
    from statetui.core.store import StateStore

    from statetui.core.roles import roles_for

    doc = roles = None
    try:
        doc = StateStore(config.state, fields=config.fields).load()._document()
        roles = roles_for(config, doc)
    except StateLoadError as exc:
        # Still read the chain: its cash is what a rebuilt state should start from.
        report.fail(f"cannot reconcile: {exc}", file=str(config.state))

    tracked = _tracked_positions(roles.positions(doc) if roles is not None else None)
    try:
        reading = read_chain(config, [token_id for token_id, _ in tracked])
    except ChainError as exc:
        report.fail(f"cannot read the chain: {exc}")
        report.recommend("Check rpc_url, wallet and chain_id (`statetui config`), then run the audit again")
        return
    ctx.cache["chain"] = reading
    report.data["chain"] = reading.to_dict()
    evidence = _evidence(reading)

    if roles is not None:
        _compare_cash(config, doc, roles, reading, evidence, report)
    else:
        report.info(f"on-chain cash is ${fmt_money(reading.cash)} {evidence}")
    _report_positions(tracked, reading.positions, report)
    _unredeemed(ctx, roles.positions(doc) if roles is not None else None, reading.block_number, report)


def _evidence(reading: Any) -> str:
    when = datetime.fromtimestamp(reading.block_time, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = " + ".join(f"{t.symbol or t.address} {fmt_money(t.amount)}" for t in reading.tokens)
    return f"at block {reading.block_number} ({when}; {parts or 'no tokens configured'})"


def _compare_cash(config: Any, doc: Any, roles: Any, reading: Any, evidence: str, report: Report) -> None:
    from statetui.core.figures import label

    chain_cash: Decimal = reading.cash
    threshold: Decimal = config.mismatch_threshold
    shown = f"${fmt_money(chain_cash)}"
    if not roles.mapped("cash"):
        report.skip(f"the bot keeps no cash figure to compare ({roles.hints.get('cash', 'statetui fields')}); "
                    f"the wallet holds {shown}")
        return
    if roles.currency != "USD":
        report.skip(f"the bot's cash is in {roles.currency}; the chain holds USD stablecoins ({shown}): nothing to compare")
        return
    state_cash = roles.money(doc, "cash")
    cash_l = label(roles, "cash")
    if state_cash is None:
        report.fail(f"the state's {cash_l} holds no number; the wallet holds {shown} {evidence}", file=str(config.state))
        report.repair("reconcile")
        return
    diff = state_cash - chain_cash
    report.data["state_cash"] = str(state_cash)
    report.data["cash_field"] = roles.path("cash")
    report.data["difference"] = str(diff)
    report.data["threshold"] = str(threshold)
    if abs(diff) <= threshold:
        report.ok(f"state {cash_l} ${fmt_money(state_cash)} matches on-chain {shown} {evidence}, "
                  f"difference ${fmt_money(abs(diff))} within ${fmt_money(threshold)}")
        return
    if diff > 0:
        report.fail(f"state {cash_l} claims ${fmt_money(state_cash)} but the wallet holds {shown} {evidence}: "
                    f"${fmt_money(diff)} that is not on chain", file=str(config.state))
        report.recommend(f"The bot sizes trades and measures drawdown on cash it does not have: "
                         f"correct {cash_l} to the on-chain cash")
    else:
        report.warn(f"the wallet holds {shown} {evidence}, ${fmt_money(-diff)} more than the state's "
                    f"${fmt_money(state_cash)} (a redemption or deposit the state missed?)", file=str(config.state))
        report.recommend(f"Correct {cash_l} to the on-chain cash; keep the peak on realized cash only")
    report.recommend("Review the correction with `statetui reconcile`, then apply it with `statetui reconcile --apply`")
    report.repair("reconcile")


def _tracked_positions(positions: Any) -> list[tuple[int, dict[str, Any]]]:
    """(token id, position) for each position in the state that names its ERC-1155 token."""
    from statetui.core.figures import position_token_ids

    items = positions.values() if isinstance(positions, dict) else (positions or [])
    out: list[tuple[int, dict[str, Any]]] = []
    seen: set[int] = set()
    for pos in items:
        if not isinstance(pos, dict):
            continue
        ids = [i for i in position_token_ids([pos]) if i < 2**256]
        if ids and ids[0] not in seen:
            seen.add(ids[0])
            out.append((ids[0], pos))
    return out


def _closed_as(pos: dict[str, Any]) -> str | None:
    """How the state says a position ended (None while it says it is open)."""
    status = pos.get("status") or pos.get("state")
    if isinstance(status, str) and status.strip().lower() in _CLOSED:
        return status.strip().lower()
    for flag in ("redeemed", "closed", "resolved", "settled"):
        if pos.get(flag) is True:
            return flag
    return None


def _report_positions(tracked: list[tuple[int, dict[str, Any]]], held: dict[int, int], report: Report) -> None:
    rows = []
    for token_id, pos in tracked:
        raw = held.get(token_id, 0)
        shares = fmt_money(Decimal(raw).scaleb(-_SHARE_DECIMALS), 2)
        closed = _closed_as(pos)
        rows.append({"token_id": str(token_id), "balance": str(raw), "state_says": closed or "open"})
        if raw and closed:
            report.warn(f"position {token_id}: the state marks it {closed} but the wallet still holds {shares} shares "
                        "(unredeemed: that cash is not in the wallet yet)")
            report.recommend("Redeem resolved positions, then reconcile; never count unredeemed positions as cash or peak")
        elif raw:
            report.info(f"position {token_id} still held on chain: {shares} shares (unredeemed, not counted as cash)")
        elif not closed:
            report.warn(f"position {token_id}: the state lists it as open but the wallet holds none "
                        "(sold or redeemed since: the state is stale)")
    if rows:
        report.data["positions"] = rows


def _unredeemed(ctx: AuditContext, positions: Any, block: int, report: Report) -> None:
    """The wallet's positions in resolved markets not yet redeemed, from the chain alone
    (Conditional Tokens events, cached): the value that inflated the Jan 16 peak."""
    from statetui.core.chainhist import read_positions
    from statetui.core.errors import StatetuiError

    try:
        found = read_positions(ctx.config, condition_ids=_condition_ids(positions), block=block,
                               progress=ctx.cache.get("chain_progress"))
    except StatetuiError as exc:
        report.warn(f"positions and redemptions could not be read from the chain: {exc}")
        return
    ctx.cache["chain_positions"] = found
    report.data["unredeemed"] = {"summary": found.summary(), "total": str(found.unredeemed_total),
                                 "markets": found.unredeemed_markets, "unknown": len(found.unknown)}
    report.info(f"{found.summary()} (on chain, at block {found.pinned_block})")
    oks = [f.message for f in report.findings if f.severity == "OK"]
    if report.worst().rank == 0 and oks and report.summary is None:
        report.summary = f"{oks[0]}; {found.summary()}"
    if found.unredeemed_total > 0:
        report.recommend("Redeem resolved positions; until then their value is not cash: never count it in cash or the peak")


def _condition_ids(positions: Any) -> list[str]:
    """Market (condition) ids the state names, to name the wallet's positions by."""
    items = positions.values() if isinstance(positions, dict) else (positions or [])
    out = []
    for pos in items:
        if isinstance(pos, dict):
            for key, value in pos.items():
                if "condition" in str(key).lower() and isinstance(value, str) and _CONDITION.fullmatch(value):
                    out.append(value.lower())
    return out


_CONDITION = re.compile(r"0x[0-9a-fA-F]{64}")
