"""What the console shows, gathered from the core in a worker thread. No Textual import.

Each gather_* function does blocking I/O and returns a small view; the app keeps views,
never live core objects, so a 10 MB state is parsed, summarised and dropped (its memory
is not held between refreshes). Views unpickle without importing pydantic (the first
ones come from a helper process, statetui.tui.prefetch)."""

from __future__ import annotations

import os
import threading
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.config import Config
from statetui.core.errors import StatetuiError
from statetui.core.lazy_dataclass import lazy_dataclass

# What the dashboard shows, by the names its panels use -> the role that fills it (the bot's
# own field comes from the role map); everything else in the state is counted, not kept.
SHOWN_ROLES = {
    "current_balance": "cash", "equity": "equity", "peak_balance": "peak", "day_start_balance": "day_start",
    "starting_balance": "starting", "daily_pnl": "daily_pnl", "mode": "mode", "halted": "halted",
    "halt_reason": "halt_reason", "total_trades": "trades", "total_wins": "wins", "last_updated": "updated_at",
}
SHOWN_RAW = ("consecutive_wins", "consecutive_losses")  # statetui's own schema; absent elsewhere
HISTORY_ENTRIES = 400  # journal entries the dashboard and history keep

# Views are lazy dataclasses (the console unpickles them before its first paint: see
# statetui.core.lazy_dataclass), eq=False and not frozen: replaced whole, never compared.


def store_for(config: Config):
    from statetui.core.store import StateStore

    # auto_backup_interval=None: the console never writes on its own.
    return StateStore.for_config(config, auto_backup_interval=None, writer="statetui-console")


@lazy_dataclass(eq=False)
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


@lazy_dataclass(eq=False)
class ProblemView:
    severity: str
    field: str
    message: str


@lazy_dataclass(eq=False)
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
    hints: dict[str, str] = field(default_factory=dict)  # role -> why detection left it unmapped
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
    fs = store.status(model=False)  # checked like the model would, without pydantic (the console's 50 MB)
    view = StateView(
        path=str(config.state), exists=fs.exists, size=fs.size, mtime=fs.mtime, sha256=fs.sha256,
        generation=fs.generation, last_entry=fs.last_entry, written_by_store=fs.written_by_store,
        stray_temp_files=list(fs.stray_temp_files) + list(fs.bot_temp_files),
    )
    if fs.error is not None:
        view.error, view.error_kind = str(fs.error), fs.error.kind
        return view
    doc = fs.document
    if doc is None:  # exists but vanished between the read and the stat: the next event tells
        view.error, view.error_kind = f"{config.state}: state file not found", "missing"
        return view
    roles = roles_for(config, doc)
    view.values = {name: (roles.halted(doc) if role == "halted" else
                          roles.money(doc, role) if role in ("cash", "equity", "peak", "day_start", "starting", "daily_pnl") else
                          roles.raw(doc, role)) for name, role in SHOWN_ROLES.items()}
    view.values.update({k: doc.get(k) for k in SHOWN_RAW})
    view.fields = {role: _field_label(roles, role) for role in set(SHOWN_ROLES.values()) | {"positions"}
                   if roles.mapped(role)}
    view.hints = {role: hint for role, hint in roles.hints.items() if not roles.mapped(role)}
    f = figures(doc, roles, config.halt_threshold)
    view.derived = DerivedView(f.cash, f.peak, f.drawdown, f.halt_threshold, f.halt_distance, f.at_or_past_halt,
                               f.position_value, f.basis, f.currency)
    view.problems = [ProblemView(p.severity, p.role, p.message)
                     for p in sanity_problems(doc, roles, config.halt_threshold, raw=fs.raw)]
    pos = roles.positions(doc)
    view.positions = len(pos) if isinstance(pos, (list, dict)) else None
    view.position_tokens = position_token_ids(pos)
    bound = {top for top in (b.plain_path.split(".")[0] for b in roles.bindings.values() if b.path) if top}
    view.other_fields = len([k for k in doc if k not in bound and k not in SHOWN_RAW])
    return view


def _field_label(roles: Any, role: str) -> str:
    """The bot's own field as a label shows it: `bankroll_current`, `account.cash`,
    `traders.*.balance`, `not trading_enabled` (a flag that means the opposite)."""
    name = roles.field_name(role) or ""
    b = roles.bindings.get(role)
    return f"not {name}" if b is not None and b.inverted else name


# --- the balances panel's values: one small object, so naming them is one place -----------

@lazy_dataclass(eq=False)
class Figure:
    """One value as the dashboard shows it: our label, the bot's own field (from the role
    map; None when the figure is derived or the bot has no such field), and the value."""

    label: str
    field: str | None
    value: Any
    role: str | None = None  # None: not a role (derived, or statetui's own counters)
    hint: str | None = None  # why the role is unmapped (detection's words), when it is

    @property
    def mapped(self) -> bool:
        return self.field is not None


@lazy_dataclass(eq=False)
class BalancesView:
    cash: Figure
    equity: Figure
    peak: Figure
    day_start: Figure
    daily_pnl: Figure
    starting: Figure
    mode: Figure
    halted: Figure
    halt_reason: Figure
    wins: Figure
    trades: Figure
    win_streak: Figure
    loss_streak: Figure
    positions: Figure
    position_value: Figure
    derived: DerivedView | None
    problems: tuple[ProblemView, ...]
    is_halted: bool


def balances_of(view: StateView | None) -> BalancesView | None:
    """Which value of the state file each figure on the Balances panel is."""
    if view is None or view.values is None:
        return None
    v, d = view.values, view.derived

    def f(label: str, name: str) -> Figure:
        role = SHOWN_ROLES.get(name)
        if role is None:
            return Figure(label, name, v.get(name))
        return Figure(label, view.fields.get(role), v.get(name), role, view.hints.get(role))

    return BalancesView(
        cash=f("cash", "current_balance"), equity=f("equity", "equity"), peak=f("peak", "peak_balance"), day_start=f("day start", "day_start_balance"),
        daily_pnl=f("P&L", "daily_pnl"), starting=f("starting", "starting_balance"), mode=f("mode", "mode"),
        halted=f("halted", "halted"), halt_reason=f("halt reason", "halt_reason"), wins=f("wins", "total_wins"),
        trades=f("trades", "total_trades"), win_streak=f("won in a row", "consecutive_wins"),
        loss_streak=f("lost in a row", "consecutive_losses"), positions=Figure("positions", view.fields.get("positions"), view.positions, "positions"),
        position_value=Figure("worth", None, d.position_value if d else None), derived=d,
        problems=tuple(view.problems), is_halted=view.halted,
    )


# --- the bot and its lock --------------------------------------------------------------

def gather_lock(config: Config):
    """statetui.tui.botstatus.BotStatus: may the bot be running, and how to stop it."""
    from statetui.tui.botstatus import bot_status

    return bot_status(config)


# --- backups: only a new or changed backup is read again ------------------------------------

@lazy_dataclass(eq=False)
class BackupsView:
    dir: str
    infos: list[Any] = field(default_factory=list)  # BackupInfo, newest first, verified (with a summary: the newest few)
    error: str | None = None
    summary: Any = None  # statetui.core.backup_summary.BackupSummary: the dashboard's figures without a listing
    listing: int | None = None  # the listing's fingerprint when read (backup_summary.take_listing)

    @property
    def count(self) -> int:
        return self.summary.count if self.summary is not None else len(self.infos)

    @property
    def newest(self):
        return self.infos[0] if self.infos else None

    @property
    def newest_good(self):
        if self.summary is not None:
            return self.summary.newest_good[0] if self.summary.newest_good else None
        return next((b for b in self.infos if b.ok), None)

    @property
    def failing(self) -> list[Any]:
        """The failing backups (with a summary: the newest backup_summary.FAILED_KEPT of them)."""
        if self.summary is not None:
            return list(self.summary.failed)
        return [b for b in self.infos if b.checksum in ("bad", "unreadable") or b.valid is False]

    @property
    def failing_count(self) -> int:
        return self.summary.failed_count if self.summary is not None else len(self.failing)

    @property
    def key(self) -> tuple[Any, ...]:
        """What changes when a backup comes or goes (the checks that read backups run again)."""
        return (self.count, tuple(b.name for b in self.infos[:4]))


_verified: dict[tuple[str, int, int, int], Any] = {}  # (path, size, mtime_ns, inode) -> verified BackupInfo
_verified_lock = threading.Lock()


def gather_backups(config: Config, verify: bool = True, fresh: bool = False, whole: bool = False) -> BackupsView:
    """The dashboard's backups: from the backups' summary (statetui.core.backup_summary) when it
    describes the folder, its cost the same for 30 backups or 3,000; else, and with `whole`
    (the backups screen), every backup, newest first, verified. A backup whose size, mtime
    and inode have not changed since it was verified is not read again (unless `fresh`:
    "verify all")."""
    store = store_for(config)
    view = BackupsView(str(store.backups.dir))
    if verify and not (fresh or whole):
        from statetui.core.backup_summary import summarize

        try:
            summary = summarize(store.backups, full_listing=False)
            if summary is not None:
                view.summary, view.infos, view.listing = summary, list(summary.newest), summary.listing
                return view
        except (OSError, StatetuiError):
            pass  # the full listing below says what is wrong
    try:
        infos = store.backups.list(verify=False)
    except (OSError, StatetuiError) as exc:
        view.error = str(exc)
        return view
    if verify:
        with _verified_lock:
            keep = {}
            for i, info in enumerate(infos):
                key = _file_key(info.path)
                known = None if fresh or key is None else _verified.get(key)
                infos[i] = known if known is not None else store.backups.verify(info)
                if key is not None:
                    keep[key] = infos[i]
            _verified.clear()
            _verified.update(keep)
    view.infos = infos
    return view


def _file_key(path) -> tuple[str, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino)


# --- the journal ----------------------------------------------------------------------------

@lazy_dataclass(eq=False)
class Point:
    ts: float
    value: Decimal


@lazy_dataclass(eq=False)
class HistoryView:
    journal: str
    stat: tuple[int, int] | None = None  # the journal's (size, mtime_ns) when read
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

    from statetui.core.journal_read import ReadStats, newest

    store = store_for(config)
    view = HistoryView(str(store.journal.path), stat=file_stat(store.journal.path))
    stats = ReadStats()
    try:  # the newest `limit` entries, read backwards: the cost does not grow with the history
        entries = newest(store.journal.path, limit or 10**12, stats=stats)
    except (OSError, StatetuiError) as exc:
        view.error = str(exc)
        return view
    view.entries, view.bad_lines = entries, stats.bad_lines
    if stats.bad:
        view.first_bad = f"line {stats.bad[0].number}: {stats.bad[0].cause}"
    roles = roles_from_journal(entries, config.fields)
    view.cash = [Point(p.ts, p.value) for p in role_series(entries, roles, "cash")]
    view.peak = [Point(p.ts, p.value) for p in role_series(entries, roles, "peak")]
    return view


def read_journal_page(config: Config, n: int, before: int | None = None) -> tuple[list[dict[str, Any]], int, str | None]:
    """(entries oldest first, bad lines met, error): the newest `n` journal entries older than
    generation `before` (None: the newest), read backwards from the journal's end."""
    from statetui.core.journal_read import ReadStats, newest

    stats = ReadStats()
    try:
        return newest(store_for(config).journal.path, n, stats=stats, before=before), stats.bad_lines, None
    except (OSError, StatetuiError) as exc:
        return [], 0, str(exc)


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


# --- has it changed since it was read? (a stat, never a parse) ------------------------------

def file_stat(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def changed_since(kind: str, view: Any, config: Config) -> bool:
    """Whether `kind` may differ from `view` on disk now, by stat alone: the read the
    watcher's start-up needs (a write may have landed before the watch was set) without
    parsing what did not change."""
    if view is None:
        return True
    if kind == "state":
        try:
            st = os.stat(config.state)
        except OSError:
            return view.exists
        return not view.exists or st.st_size != view.size or st.st_mtime != view.mtime
    if kind == "history":
        from statetui.core.journal import journal_path_for

        return file_stat(journal_path_for(Path(os.path.abspath(config.state)))) != view.stat
    if kind == "backups":
        from statetui.core.backups import Backups

        try:
            backups = Backups(Path(os.path.abspath(config.state)), config.backup_dir)
            if view.listing is not None:  # a summary view: the listing's fingerprint, no objects
                from statetui.core.backup_summary import take_listing

                return take_listing(backups).fp != view.listing
            names = [b.name for b in backups.list(verify=False)]
        except (OSError, StatetuiError):
            return True
        return names != [b.name for b in view.infos]
    if kind == "lock":
        # A bot taking the lock writes its pid; one leaving is seen by a pidfd (statetui.tui.views).
        s = view.lock
        try:
            st = os.lstat(config.pid_file)
        except OSError:
            return s is None or s.exists
        return s is None or not s.exists or st.st_mtime != s.file_mtime
    return True


def state_dir_exists(config: Config) -> bool:
    return os.path.isdir(os.path.dirname(os.path.abspath(config.state)))
