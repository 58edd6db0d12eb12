"""One bot's status at a glance, for the fleet screen, `statetui bots` and the metrics:
read-only, never blocks on the chain (the chain figure is the last one recorded, see
statetui.core.chain_status), figures through the role map so any bot's schema works.

A figure nobody can tell is None, never a guess: `running` None when the bot cannot be
identified, `peak_age` None when no journal entry records the peak."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from statetui.core.errors import StatetuiError
from statetui.core.fleet import Bot
from statetui.core.textsafe import one_line

# Status values by rank, as statetui.audit.base.Status (not imported: the checks pull in more).
RANK = {"PASS": 0, "SKIPPED": 0, "WARNING": 1, "FAIL": 2, "CRITICAL": 3}


@dataclass
class BotStatus:
    name: str
    loads: bool
    error: str | None = None  # one line: why the state does not load
    cash: Decimal | None = None
    peak: Decimal | None = None
    drawdown: Decimal | None = None  # ratio 0..1 of the peak lost
    halt_threshold: Decimal | None = None
    halted: bool | None = None
    running: bool | None = None  # statetui.core.botrunning.may_be_running; None: cannot tell
    state_age: float | None = None  # seconds since the state file's last write
    peak_age: float | None = None  # seconds since the peak last changed (the journal's record)
    backup_age: float | None = None  # seconds since the newest backup
    checks: dict[str, str] = field(default_factory=dict)  # check id -> PASS/SKIPPED/WARNING/FAIL/CRITICAL
    worst: str = "SKIPPED"  # the worst of `checks` (SKIPPED when none ran), CRITICAL if the state does not load
    chain_mismatch: Decimal | None = None  # state cash - chain cash at the last reading, dollars
    repair_hint: str | None = None  # the next step, a command
    summaries: dict[str, str] = field(default_factory=dict)  # check id -> its one-line summary
    state_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def bot_status(bot: Bot, *, checks: bool = True, now: float | None = None) -> BotStatus:
    """The bot's status now. Never raises for what it finds: an unreadable state is `loads`
    False with the reason in `error`."""
    config = bot.config
    now = time.time() if now is None else now
    status = BotStatus(bot.name, loads=False, halt_threshold=config.halt_threshold, state_path=os.path.abspath(config.state))
    entries = _state(config, status, now)
    _backup_age(config, status, now)
    verdict = _running(config, status, now)
    if config.chain_configured:
        from statetui.core.chain_status import last_mismatch

        found = last_mismatch(config, entries)
        status.chain_mismatch = found.mismatch if found is not None else None
    if checks:
        _checks(bot, status, now, verdict)
    elif not status.loads:
        status.worst = "CRITICAL"
    return status


def _state(config: Any, status: BotStatus, now: float) -> list[dict[str, Any]]:
    """Load the state and the journal; fill in the figures and ages. The landed entries."""
    from statetui.core.figures import figures
    from statetui.core.journal import landed
    from statetui.core.roles import roles_for
    from statetui.core.store import StateStore

    try:
        store = StateStore.for_config(config, auto_backup_interval=None, read_only=True)
        fs = store.status()
    except (StatetuiError, OSError) as exc:
        status.error = one_line(str(exc))
        return []
    if fs.mtime is not None:
        status.state_age = max(0.0, now - fs.mtime)
    if fs.error is not None or fs.state is None:
        status.error = one_line(str(fs.error) if fs.error else f"{config.state}: state file not found")
        return []
    doc = fs.state._document()
    roles = roles_for(config, doc)
    f = figures(doc, roles, config.halt_threshold)
    status.loads = True
    status.cash, status.peak, status.drawdown, status.halted = f.cash, f.peak, f.drawdown, f.halted
    status.peak_age = _peak_age(store, roles, fs.sha256, now)
    if not config.chain_configured:
        return []
    try:  # the last reconcile's reading (only a bot with a chain needs it)
        return landed(store.journal.scan().entries, fs.sha256)
    except (StatetuiError, OSError):
        return []


def _peak_age(store: Any, roles: Any, sha256: str | None, now: float) -> float | None:
    """Seconds since the journal's newest write that changed the peak, from its summary (the
    index and the active segment: the cost does not grow with the history). None when no
    write the journal keeps recorded the peak."""
    from statetui.core.journal_digest import digest

    try:
        summary = digest(store, roles, sha256).summary
    except (StatetuiError, OSError, ValueError):
        return None
    if summary.raise_ts is None or not summary.raise_ts:
        return None
    return max(0.0, now - summary.raise_ts)


def _backup_age(config: Any, status: BotStatus, now: float) -> None:
    from pathlib import Path

    from statetui.core.backups import Backups

    backup_dir = Path(os.path.abspath(config.backup_dir)) if config.backup_dir else None
    try:
        found = Backups(Path(os.path.abspath(config.state)), backup_dir).list(verify=False)
    except (StatetuiError, OSError):
        return
    if found:
        status.backup_age = max(0.0, now - max(b.created for b in found))


def _running(config: Any, status: BotStatus, now: float) -> Any:
    from statetui.core.botrunning import may_be_running

    try:
        verdict = may_be_running(config, now=now)
    except (StatetuiError, OSError):
        return None
    status.running = verdict.running
    return verdict


def running_of(config: Any, now: float | None = None) -> bool | None:
    """Only whether the bot runs (the exporter's fresh figure between full statuses)."""
    status = BotStatus("", loads=False)
    _running(config, status, time.time() if now is None else now)
    return status.running


def _checks(bot: Bot, status: BotStatus, now: float, verdict: Any) -> None:
    """The local checks (never the chain, never off-site storage), in read-only mode: a
    status writes nothing, not even the recovery check's scratch sandbox (it says SKIPPED)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import all_check_ids, run_audit

    config = bot.config if bot.config.read_only else bot.config.model_copy(update={"read_only": True})
    ctx = AuditContext(config, now=now, offsite="skip", network=False)
    if verdict is not None:
        ctx.cache["running_verdict"] = verdict
    results = run_audit(ctx, all_check_ids(local_only=True))
    status.checks = {r.id: r.status.value for r in results}
    status.summaries = {r.id: one_line(r.summary) for r in results}
    worst = max(results, key=lambda r: RANK[r.status.value], default=None)
    status.worst = worst.status.value if worst is not None and RANK[worst.status.value] > 0 else "PASS"
    if not status.loads and RANK[status.worst] < RANK["CRITICAL"]:
        status.worst = "CRITICAL"  # the bot cannot run on a state it cannot load
    status.repair_hint = repair_hint(bot.name, results)


def fleet_status(bots: list[Bot], *, checks: bool = True, now: float | None = None) -> list[BotStatus]:
    """Every bot's status, with one look at the host's processes, locks and timers for all."""
    from statetui.core.scanmemo import host_snapshot

    now = time.time() if now is None else now
    with host_snapshot():
        return [bot_status(b, checks=checks, now=now) for b in bots]


def repair_hint(name: str, results: list[Any]) -> str | None:
    """The next step for the worst failing check(s): a repair they name, else that check alone."""
    worst = max((RANK[r.status.value] for r in results), default=0)
    if worst == 0:
        return None
    failing = [r for r in results if RANK[r.status.value] == worst]
    for r in failing:
        if r.repairs:
            return f"statetui --bot {name} repair {r.repairs[0]}"
    return f"statetui --bot {name} audit --check {failing[0].id}"
