"""recompute-peak: set peak_balance from realized cash history (the Jan 16 fix).

The peak may never be above the highest cash ever recorded (journal and backups) and
never below current cash. When the bot was halted for a drawdown that disappears with
the corrected peak, the halt is cleared in the same write, and the diff shows it."""

from __future__ import annotations

from decimal import Decimal

from statetui.core.config import Config
from statetui.core.history import realized_cash_history
from statetui.core.model import derive
from statetui.core.money import to_json_number, to_money
from statetui.repair.base import Outcome, Plan, Precondition, Repair, register
from statetui.repair.restore import store_for


def corrected_peak(cash: Decimal, history_max: Decimal | None) -> Decimal:
    return max(cash, history_max) if history_max is not None else cash


def plan(config: Config) -> Plan:
    store = store_for(config)
    state = store.load()
    p = Plan("recompute-peak", "Recompute the peak from realized cash",
             "peak_balance = the highest realized cash recorded (never above it, never below current cash)",
             verify_checks=["peak-drawdown", "state-file"])
    cash = state.money("current_balance")
    if cash is None:
        p.blocked = "the state has no current_balance"
        return p
    history = realized_cash_history(store.journal, store.backups)
    top = history.max
    new_peak = corrected_peak(cash, top.value if top else None)
    p.evidence = {
        "cash_points": len(history),
        "highest_cash": f"{top.value} ({top.source})" if top else "no history (peak set to current cash)",
    }
    p.preconditions.append(Precondition(bool(top), f"{len(history)} realized cash value(s) in journal and backups"))
    old_peak = state.money("peak_balance")
    if old_peak != new_peak:
        p.changes.append(("peak_balance", state.peak_balance, to_json_number(new_peak, state.peak_balance)))
    after = derive(state.model_copy(update={"peak_balance": float(new_peak)}), config.halt_threshold)
    halted = state.halted is True or state.mode == "halted"
    for_drawdown = "drawdown" in (state.halt_reason or "").lower()
    if halted and for_drawdown and not after.at_or_past_halt:
        if state.halted is not None:
            p.changes.append(("halted", state.halted, False))
        if state.mode is not None:
            p.changes.append(("mode", state.mode, "normal"))
        if state.halt_reason is not None:
            p.changes.append(("halt_reason", state.halt_reason, None))
        p.evidence["halt"] = f"drawdown with the corrected peak is {after.drawdown * 100:.1f}%, below {config.halt_threshold * 100:.0f}%: the drawdown halt is cleared"
    p.nothing_to_do = not p.changes
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    with store.transaction(reason="repair recompute-peak", backup="pre-recompute-peak",
                           evidence={**p.evidence, "changes": {n: [a, b] for n, a, b in p.changes}}) as state:
        for name, _before, after in p.changes:
            setattr(state, name, after)
    result_backup = _last_backup(store)
    return Outcome(True, "peak recomputed from realized cash", backup=result_backup,
                   undo=f"statetui restore {result_backup}" if result_backup else None)


def _last_backup(store) -> str | None:
    last = store.journal.last()
    return last.get("backup") if last else None


register(Repair("recompute-peak", "recompute peak from realized cash", plan, apply))
