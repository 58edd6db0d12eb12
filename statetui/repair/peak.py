"""recompute-peak and set-peak: correct a false peak, from evidence or from the operator.

recompute-peak uses only evidence independent of the file being judged
(statetui.core.evidence): it sets the peak back to the highest realized figure the
evidence covers when the evidence covers the peak's origin (the journal, or the chain's
realized-cash high-water mark, with the block and tx in the plan and the journal entry),
keeps a peak that was really reached (the halt it caused is genuine), and refuses when
nothing covers the origin (exit 4 when the chain is configured but cannot be read).
set-peak takes the value from a human who knows better, with a reason, journaled as
manual. Either clears a drawdown halt only when the corrected drawdown is below the
threshold, each clearing change on its own line of the plan, the bot's own way."""

from __future__ import annotations

import getpass
from decimal import Decimal, InvalidOperation
from typing import Any

from statetui.core.config import Config
from statetui.core.evidence import FALSE, GENUINE, judge_store_peak
from statetui.core.figures import drawdown_with_peak, label
from statetui.core.money import fmt_money
from statetui.repair.base import Outcome, Plan, Repair, register
from statetui.repair.edits import PastDocs, apply_changes, halt_clear_changes, is_drawdown_halt, load_for_plan, money_change
from statetui.repair.restore import store_for

VERIFY = ["peak-drawdown", "state-file"]


def _loaded(config: Config, p: Plan) -> tuple[Any, dict[str, Any], Any] | None:
    """(store, document, role map), or None with the plan refused."""
    store = store_for(config)
    loaded = load_for_plan(p, store, config, "peak")
    return (store, *loaded) if loaded is not None else None


def chain_evidence_for(config: Config, roles: Any) -> Any:
    """The chain's witness for a cash peak when a chain is configured (read now: a cached,
    resumable scan), ChainUnread when it cannot be read, None otherwise."""
    if not config.chain_configured or roles.peak_basis != "cash":
        return None
    from statetui.core.chainhist.witness import obtain

    return obtain(config, curve=False)


def with_halt(p: Plan, config: Config, store: Any, doc: dict[str, Any], roles: Any, new_peak: Decimal,
              basis_after: Decimal | None = None) -> None:
    """Plan the halt's clearing when the corrected peak ends a drawdown halt (never otherwise).
    `basis_after`: the figure the peak tracks after this repair (default: as it is now). The
    bot's earlier states are read from the journal's end, only as far as needed (PastDocs)."""
    if roles.halted(doc) is not True:
        return
    after = drawdown_with_peak(new_peak, basis_after if basis_after is not None else roles.basis_value(doc))
    if after is None or after >= config.halt_threshold:
        shown = f"{after * 100:.1f}%" if after is not None else "unknown"
        p.notes.append(f"the bot stays halted: the drawdown with the corrected peak is {shown} "
                       f"(halt at {config.halt_threshold * 100:.0f}%)")
        return
    cause = is_drawdown_halt(doc, roles)
    if cause is not True:
        why = ("its halt reason does not name the drawdown" if cause is False
               else "the bot does not record why it halted")
        p.notes.append(f"the halt is kept: {why}; clear it in the bot if the drawdown was its cause")
        return
    changes, why = halt_clear_changes(doc, roles, PastDocs(store, roles))
    if why:
        p.notes.append(f"the halt is kept: {why}")
        return
    p.changes += changes
    p.halt_fields |= {path for path, _, _ in changes}
    p.evidence["halt"] = (f"drawdown with the corrected peak is {after * 100:.1f}%, below "
                          f"{config.halt_threshold * 100:.0f}%: the drawdown halt is cleared")


def plan(config: Config) -> Plan:
    p = Plan("recompute-peak", "Recompute the peak from evidence",
             "the peak = the highest realized figure that independent evidence covers (journal, chain)",
             verify_checks=list(VERIFY))
    loaded = _loaded(config, p)
    if loaded is None:
        return p
    store, doc, roles = loaded
    verdict = judge_store_peak(store, roles, doc, chain=chain_evidence_for(config, roles))
    p.evidence.update(verdict.to_evidence())
    if verdict.verdict == GENUINE:
        p.require(True, "evidence: " + verdict.message)
        current = roles.basis_value(doc)
        peak = roles.money(doc, "peak")
        if current is not None and peak is not None and peak < current:
            change = money_change(doc, roles, "peak", current)
            if change:
                p.changes.append(change)
                p.evidence["why"] = f"the peak may never be below {verdict.basis} ({fmt_money(current)})"
                return p
        p.nothing_to_do = True
        if roles.halted(doc):
            p.notes.append("the halt is genuine: the peak was really reached; it is not cleared")
        return p
    if verdict.verdict != FALSE or verdict.corrected is None:
        # The chain was the evidence that could have settled it and could not be read: that
        # is a failed read (exit 4), not a missing piece of evidence.
        p.refuse(f"no independent evidence covers the peak's origin: {verdict.message}",
                 code=4 if verdict.chain_unreadable else 5)
        p.notes += [f"to settle it: {s}" for s in verdict.settle]
        return p
    p.require(True, "evidence covers the peak's origin: " + verdict.message)
    change = money_change(doc, roles, "peak", verdict.corrected)
    if change is None:
        p.nothing_to_do = True
        return p
    p.changes.append(change)
    with_halt(p, config, store, doc, roles, verdict.corrected)
    return p


def _apply(p: Plan, config: Config, reason: str, backup_label: str, manual: bool = False) -> Outcome:
    store = store_for(config)
    evidence = {**p.evidence, "changes": {n: [a, b] for n, a, b in p.changes}}
    if manual:
        evidence["manual"] = True
    with store.transaction(reason=reason, backup=backup_label, evidence=evidence) as state:
        apply_changes(state, p.changes, str(store.path))
    backup = _last_backup(store)
    cleared = " and the drawdown halt cleared" if p.halt_fields else ""
    return Outcome(True, f"peak set to {p.changes[0][2]}{cleared}", backup=backup,
                   undo=f"statetui restore {backup}" if backup else None)


def apply(p: Plan, config: Config) -> Outcome:
    return _apply(p, config, "repair recompute-peak", "pre-recompute-peak")


def _last_backup(store: Any) -> str | None:
    last = store.journal.last()
    return last.get("backup") if last else None


# --- set-peak: the operator's value ----------------------------------------------------


def plan_set(config: Config, value: str | None = None, reason: str | None = None) -> Plan:
    p = Plan("set-peak", "Set the peak by hand", "the peak = a value the operator typed (journaled as manual, with the reason)",
             verify_checks=list(VERIFY))
    try:
        amount = Decimal(str(value).strip()) if value is not None else None
        ok = amount is not None and amount.is_finite() and amount > 0
    except (InvalidOperation, ValueError):
        amount, ok = None, False
    if not p.require(ok, f"a positive amount was typed (--value {value})" if ok else
                     f"--value must be a positive amount, got {value!r}", code=2):
        return p
    if not p.require(bool(reason and reason.strip()), "a reason was given (--reason)" if reason and reason.strip()
                     else "--reason is required: say why you know the peak", code=2):
        return p
    loaded = _loaded(config, p)
    if loaded is None:
        return p
    store, doc, roles = loaded
    current = roles.basis_value(doc)
    if current is not None and amount < current:
        p.refuse(f"{fmt_money(amount)} is below {label(roles, roles.peak_basis or 'cash')} {fmt_money(current)}: "
                 "a peak is never below the figure it tracks")
        return p
    p.evidence = {"manual": f"typed by {_user()}", "reason": reason.strip(), "value": str(amount)}
    change = money_change(doc, roles, "peak", amount)
    if change is None:
        p.nothing_to_do = True
        return p
    p.changes.append(change)
    with_halt(p, config, store, doc, roles, amount)
    return p


def apply_set(p: Plan, config: Config) -> Outcome:
    return _apply(p, config, f"repair set-peak (manual): {p.evidence.get('reason', '')}"[:200], "pre-set-peak", manual=True)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


register(Repair("recompute-peak", "recompute the peak from independent evidence", plan, apply))
register(Repair("set-peak", "set the peak to a value you know (manual, with a reason)", plan_set, apply_set,
                params=("value", "reason")))
