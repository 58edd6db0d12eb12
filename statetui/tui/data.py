"""What the console shows, gathered from the core in a worker thread. No Textual import.

Each gather_* function does blocking I/O and returns a small, immutable-ish view; the
app keeps views, never live core objects, so a 10 MB state is parsed, summarised and
dropped (its memory is not held between refreshes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.config import Config
from statetui.core.errors import StatetuiError

# What the dashboard shows, by the names its panels use -> the role that fills it (the bot's
# own field comes from the role map); everything else in the state is counted, not kept.
SHOWN_ROLES = {
    "current_balance": "cash", "peak_balance": "peak", "day_start_balance": "day_start",
    "starting_balance": "starting", "daily_pnl": "daily_pnl", "mode": "mode", "halted": "halted",
    "halt_reason": "halt_reason", "total_trades": "trades", "total_wins": "wins", "last_updated": "updated_at",
}
SHOWN_RAW = ("consecutive_wins", "consecutive_losses")  # statetui's own schema; absent elsewhere
HISTORY_ENTRIES = 400  # journal entries the dashboard and history keep


def store_for(config: Config):
    from statetui.core.store import StateStore

    # auto_backup_interval=None: the console never writes on its own.
    return StateStore.for_config(config, auto_backup_interval=None, writer="statetui-console")


@dataclass(frozen=True)
class DerivedView:
    """statetui.core.figures.Figures, as a plain copy: a view must unpickle without
    importing the core model (see statetui.tui.prefetch)."""

    cash: Decimal | None
    peak: Decimal | None
    drawdown: Decimal | None
    halt_threshold: Decimal
    halt_distance: Decimal | None
    at_or_past_halt: bool
    position_value: Decimal | None
    basis: str | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class ProblemView:
    severity: str
    field: str
    message: str


@dataclass
class StateView:
    path: str
    exists: bool
    size: int | None = None
    mtime: float | None = None
    sha256: str | None = None
    error: str | None = None
    error_kind: str | None = None
    generation: int | None = None
    last_entry: dict[str, Any] | None = None
    written_by_store: bool | None = None
    stray_temp_files: list[str] = field(default_factory=list)
    values: dict[str, Any] | None = None  # SHOWN_ROLES' names; None when the file is unusable
    fields: dict[str, str] = field(default_factory=dict)  # role -> the bot's own field (for labels)
    derived: DerivedView | None = None
    problems: list[ProblemView] = field(default_factory=list)
    positions: int | None = None
    position_tokens: list[int] = field(default_factory=list)
    other_fields: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.values is not None

    @property
    def halted(self) -> bool:
        return (self.values or {}).get("halted") is True


def gather_state(config: Config) -> StateView:
    """The file on disk now: status, values and derived figures (one read, one parse)."""
    from statetui.core.figures import figures, position_token_ids, sanity_problems
    from statetui.core.roles import roles_for

    store = store_for(config)
    fs = store.status()
    view = StateView(
        path=str(config.state), exists=fs.exists, size=fs.size, mtime=fs.mtime, sha256=fs.sha256,
        generation=fs.generation, last_entry=fs.last_entry, written_by_store=fs.written_by_store,
        stray_temp_files=list(fs.stray_temp_files) + list(fs.bot_temp_files),
    )
    if fs.error is not None:
        view.error, view.error_kind = str(fs.error), fs.error.kind
        return view
    state = fs.state
    if state is None:  # exists but vanished between the read and the stat: the next event tells
        view.error, view.error_kind = f"{config.state}: state file not found", "missing"
        return view
    doc = state._document()
    roles = roles_for(config, doc)
    view.values = {name: (roles.halted(doc) if role == "halted" else
                          roles.money(doc, role) if role in ("cash", "peak", "day_start", "starting", "daily_pnl") else
                          roles.raw(doc, role)) for name, role in SHOWN_ROLES.items()}
    view.values.update({k: doc.get(k) for k in SHOWN_RAW})
    view.fields = {role: roles.field_name(role) for role in set(SHOWN_ROLES.values()) | {"positions"}
                   if roles.mapped(role)}
    f = figures(doc, roles, config.halt_threshold)
    view.derived = DerivedView(f.cash, f.peak, f.drawdown, f.halt_threshold, f.halt_distance, f.at_or_past_halt,
                               f.position_value, f.basis, f.currency)
    view.problems = [ProblemView(p.severity, p.role, p.message)
                     for p in sanity_problems(doc, roles, config.halt_threshold, raw=state._origin.raw if state._origin else None)]
    pos = roles.positions(doc)
    view.positions = len(pos) if isinstance(pos, (list, dict)) else None
    view.position_tokens = position_token_ids(pos)
    bound = {top for top in (b.plain_path.split(".")[0] for b in roles.bindings.values() if b.path) if top}
    view.other_fields = len([k for k in doc if k not in bound and k not in SHOWN_RAW])
    return view


@dataclass
class LockView:
    status: Any  # PidLockStatus
    stop_command: str | None = None
    systemd: dict[str, Any] | None = None
    systemd_note: str | None = None
    verdict: Any = None  # botrunning.RunningVerdict: may the bot be running (what repairs obey)


def gather_lock(config: Config) -> LockView:
    from statetui.core.botrunning import may_be_running
    from statetui.core.pidlock import systemd_status, systemd_unavailable_reason

    verdict = may_be_running(config)
    status = verdict.pidlock
    view = LockView(status, verdict.stop_command, verdict=verdict)
    unit = config.systemd_unit or status.unit
    if unit:
        view.systemd = (verdict.systemd if config.systemd_unit and verdict.systemd is not None
                        else systemd_status(unit, user=status.user_unit and not config.systemd_unit))
        if view.systemd is None:
            view.systemd_note = systemd_unavailable_reason()
    else:
        view.systemd_note = "no unit configured"
    return view


@dataclass
class BackupsView:
    dir: str
    infos: list[Any] = field(default_factory=list)  # BackupInfo, newest first, verified
    error: str | None = None

    @property
    def newest(self):
        return self.infos[0] if self.infos else None

    @property
    def newest_good(self):
        return next((b for b in self.infos if b.ok), None)

    @property
    def failing(self) -> list[Any]:
        return [b for b in self.infos if b.checksum in ("bad", "unreadable") or b.valid is False]


def gather_backups(config: Config, verify: bool = True) -> BackupsView:
    store = store_for(config)
    view = BackupsView(str(store.backups.dir))
    try:
        view.infos = store.backups.list(verify=verify)
    except (OSError, StatetuiError) as exc:
        view.error = str(exc)
    return view


@dataclass
class Point:
    ts: float
    value: Decimal


@dataclass
class HistoryView:
    journal: str
    entries: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    bad_lines: int = 0
    first_bad: str | None = None  # "line N: cause" of the first malformed journal line
    cash: list[Point] = field(default_factory=list)
    peak: list[Point] = field(default_factory=list)
    error: str | None = None

    @property
    def last_reconcile(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.entries) if str(e.get("reason", "")).startswith("reconcile")), None)


def gather_history(config: Config, limit: int | None = HISTORY_ENTRIES) -> HistoryView:
    from statetui.core.history import role_series, roles_from_journal

    store = store_for(config)
    view = HistoryView(str(store.journal.path))
    try:
        scan = store.journal.scan(limit=limit)
    except (OSError, StatetuiError) as exc:
        view.error = str(exc)
        return view
    view.entries, view.bad_lines = scan.entries, scan.bad_lines
    if scan.bad:
        view.first_bad = f"line {scan.bad[0].number}: {scan.bad[0].cause}"
    roles = roles_from_journal(scan.entries, config.fields)
    view.cash = [Point(p.ts, p.value) for p in role_series(scan.entries, roles, "cash")]
    view.peak = [Point(p.ts, p.value) for p in role_series(scan.entries, roles, "peak")]
    return view


@dataclass
class ChainView:
    at: float
    configured: bool
    rpc: str | None = None  # redacted
    reading: Any = None  # ChainReading
    error: str | None = None
    state_cash: Decimal | None = None
    threshold: Decimal = Decimal("1.00")
    witness: Any = None  # the realized-cash history (ChainWitness), or why it is unread (ChainUnread)
    unredeemed: str | None = None  # "unredeemed: $X in N resolved markets", or why it could not be read

    @property
    def mismatch(self) -> Decimal | None:
        if self.reading is None or self.state_cash is None:
            return None
        return self.state_cash - self.reading.cash

    @property
    def matches(self) -> bool | None:
        m = self.mismatch
        return None if m is None else abs(m) <= self.threshold


def gather_chain(config: Config, state_cash: Decimal | None, tokens: list[int], now: float,
                 progress: Any = None) -> ChainView:
    """One on-chain reading at a pinned block, then the wallet's realized-cash history (a
    cached scan; `progress` gets its ScanProgress) and its unredeemed positions. Imported
    here, never at console start."""
    from statetui.core.redact import redact_url

    view = ChainView(at=now, configured=config.chain_configured, state_cash=state_cash,
                     threshold=config.mismatch_threshold,
                     rpc=redact_url(config.rpc_url) if config.rpc_url else None)
    if not config.chain_configured:
        view.error = "chain not configured: set rpc_url and wallet (--rpc-url/--wallet or STATETUI_RPC_URL/STATETUI_WALLET)"
        return view
    from statetui.core.chain import read_chain

    try:
        view.reading = read_chain(config, tokens)
    except StatetuiError as exc:
        view.error = str(exc)
        return view
    from statetui.core.chainhist import read_positions
    from statetui.core.chainhist.witness import obtain

    view.witness = obtain(config, progress=progress)
    try:
        view.unredeemed = read_positions(config, block=view.reading.block_number, progress=progress).summary()
    except StatetuiError as exc:
        view.unredeemed = f"positions unread: {exc}"
    return view


def failed_view(kind: str, config: Config, exc: BaseException) -> Any:
    """A view that says a first read failed (the console shows it and keeps watching)."""
    cause = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StatetuiError) else str(exc)
    if kind == "state":
        return StateView(path=str(config.state), exists=os.path.lexists(config.state), error=cause, error_kind="load-error")
    if kind == "backups":
        return BackupsView(str(config.backups), error=cause)
    if kind == "history":
        return HistoryView("", error=cause)
    return None  # the lock: never guessed (a failed read must not say "not running")


def state_dir_exists(config: Config) -> bool:
    return os.path.isdir(Path(os.path.abspath(config.state)).parent)
