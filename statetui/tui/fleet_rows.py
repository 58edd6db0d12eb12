"""The fleet screen's rows: each bot's BotStatus (statetui.core.fleet_status) as the words a
tired engineer reads on 16 colours. No Textual import.

Every verdict is a word or a mark first, colour second: a halted or failing bot reads
as such with NO_COLOR. A figure that could not be read is "?" (the detail says why),
never a guess; "—" is a figure that does not exist (no backup yet, no threshold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rich.table import Table
from rich.text import Text

from statetui.core.display import age
from statetui.core.money import fmt_money
from statetui.tui.plain import safe

_CHECK_RANK = {"WARNING": 1, "FAIL": 2, "CRITICAL": 3}
UNKNOWN = "?"
ABSENT = "—"

# Worst first: the order the fleet sorts by, and the mark before the bot's name.
VERDICTS = ("UNREADABLE", "HALTED", "CRITICAL", "FAIL", "WARNING", "READING", "PASS")
RANK = {v: len(VERDICTS) - i for i, v in enumerate(VERDICTS)}
MARK = {"UNREADABLE": "‼", "HALTED": "‼", "CRITICAL": "‼", "FAIL": "✖", "WARNING": "!", "READING": "…", "PASS": " "}
# The row's first cell: a mark and a word, so the verdict reads without colour.
VERDICT_CELL = {"UNREADABLE": "‼ ERROR", "HALTED": "‼ HALT", "CRITICAL": "‼ CRIT", "FAIL": "✖ FAIL",
                "WARNING": "! WARN", "READING": "…", "PASS": "  ok"}
NAME_WIDTH_COMPACT = 12  # a longer name is cut at 80 columns (the detail pane shows it whole)
AUDIT_WORD = {"PASS": "pass", "SKIPPED": "skip", "WARNING": "WARN", "FAIL": "FAIL", "CRITICAL": "CRIT"}
# How each verdict is styled in a DataTable cell (plain colour names: cells do not resolve
# theme variables). Bold and reverse read on a terminal that shows no colour at all.
STYLE = {"UNREADABLE": "bold reverse red", "HALTED": "bold reverse red", "CRITICAL": "bold reverse red",
         "FAIL": "bold red", "WARNING": "yellow", "READING": "dim", "PASS": ""}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    compact: str  # the label at 80 columns


COLUMNS = (
    Column("verdict", "", ""),
    Column("bot", "bot", "bot"),
    Column("cash", "cash", "cash"),
    Column("peak", "peak", "peak"),
    Column("drawdown", "drawdown/halt", "dd/halt"),
    Column("halted", "halted", "halt"),
    Column("running", "running", "run"),
    Column("written", "written", "write"),
    Column("backup", "backup", "bkup"),
    Column("audit", "audit", "audit"),
)


@dataclass
class Unread:
    """A status the core could not give (bot_status raised: a bug): shown as unreadable,
    with the cause, in place of a traceback. Same attribute names as BotStatus."""

    name: str
    error: str
    loads: bool = False
    cash: Any = None
    peak: Any = None
    drawdown: Any = None
    halt_threshold: Any = None
    halted: Any = None
    running: Any = None
    state_age: Any = None
    peak_age: Any = None
    backup_age: Any = None
    checks: dict[str, str] = field(default_factory=dict)
    worst: str = ""
    chain_mismatch: Any = None
    repair_hint: Any = None


def unread(name: str, error: str) -> Unread:
    return Unread(name, error)


@dataclass
class Seen:
    """A bot's latest status and when (by the console's clock) it was read: ages on screen
    grow from there without reading the files again."""

    status: Any  # BotStatus
    at: float
    checks_at: float | None = None  # when the checks shown ran (a light read keeps older ones)


def carry_checks(status: Any, old: Seen | None) -> float | None:
    """A light read (no checks) takes the checks of the bot's last full read while its
    state still loads; returns when they ran (None: no checks to show yet)."""
    if old is None or old.checks_at is None or not status.loads or not old.status.loads or not old.status.checks:
        return None
    for attr in ("checks", "worst", "summaries", "repair_hint"):
        if hasattr(old.status, attr):
            setattr(status, attr, getattr(old.status, attr))
    return old.checks_at


def verdict(status: Any | None) -> str:
    """One word for the whole row: the worst of unreadable, halted, and the audit."""
    if status is None:
        return "READING"
    if not status.loads:
        return "UNREADABLE"
    if status.halted is True:
        return "HALTED"
    if not status.checks:  # read without its checks, none run yet: no verdict guessed
        return "READING"
    worst = str(status.worst or "")
    return worst if worst in ("CRITICAL", "FAIL", "WARNING") else "PASS"


def sort_key(name: str, seen: Seen | None) -> tuple[int, str]:
    return (-RANK[verdict(seen.status if seen else None)], name)


def _later(value: float | None, seen: Seen, now: float) -> float | None:
    return None if value is None else value + max(0.0, now - seen.at)


def _money(value: Decimal | None, compact: bool = False) -> str:
    if value is None:
        return UNKNOWN
    text = fmt_money(value)
    if compact and len(text) > 9:  # $1,234,567.89 at 80 columns: whole dollars, then thousands
        text = fmt_money(value, places=0)
        if len(text) > 9:
            text = fmt_money(value / 1000, places=0) + "k"
    return "$" + text if not text.startswith("-") else "-$" + text[1:]


def _pct(value: Decimal) -> str:
    return f"{float(value) * 100:.1f}"


def drawdown_cell(status: Any) -> str:
    """'12.0<30%' under the halt threshold, '48.1≥30%' at or past it: the comparison is
    the point, so it is a character, not a colour."""
    dd, limit = status.drawdown, status.halt_threshold
    if dd is None:
        return UNKNOWN
    if limit is None:
        return f"{_pct(dd)}%"
    sign = "≥" if dd >= limit else "<"
    return f"{_pct(dd)}{sign}{float(limit) * 100:.0f}%"


def yes_no(value: bool | None, yes: str, no: str) -> str:
    return UNKNOWN if value is None else yes if value else no


def cells(name: str, seen: Seen | None, now: float, compact: bool = False) -> tuple[str, ...]:
    """The row's text, one string per COLUMNS entry."""
    v = verdict(seen.status if seen else None)
    head = (VERDICT_CELL[v], _clip(name, NAME_WIDTH_COMPACT) if compact else name)
    if seen is None:
        return (*head, "…", "…", "…", "…", "…", "…", "…", "…")
    s = seen.status
    backup = _later(s.backup_age, seen, now)
    written = _later(s.state_age, seen, now)
    return (
        *head,
        _money(s.cash, compact),
        _money(s.peak, compact),
        drawdown_cell(s),
        yes_no(s.halted, "HALTED", "no") if not compact else yes_no(s.halted, "HALT", "no"),
        yes_no(s.running, "yes", "no"),
        age(written) if written is not None else UNKNOWN,
        age(backup) if backup is not None else ABSENT,  # none found (the detail says so)
        audit_word(s),
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def audit_word(status: Any) -> str:
    if not status.checks:  # not run yet (the detail says so)
        return UNKNOWN
    return AUDIT_WORD.get(str(status.worst), str(status.worst)[:4])


def style_of(column: str, seen: Seen | None) -> str:
    """The style of one cell: the bot's name carries the row's verdict; the cells that say
    why (halted, drawdown past the threshold, the audit) carry their own."""
    if seen is None:
        return "dim"
    s = seen.status
    v = verdict(s)
    if column == "verdict":
        return STYLE[v]
    if column == "bot":  # only the rows that need acting on: a fleet of warnings stays calm
        return STYLE[v] if RANK[v] >= RANK["FAIL"] else ""
    if column == "halted" and s.halted is True:
        return STYLE["HALTED"]
    if column == "drawdown" and s.drawdown is not None and s.halt_threshold is not None and s.drawdown >= s.halt_threshold:
        return "bold red"
    if column == "audit":
        return STYLE.get(str(s.worst), "") if s.checks else "dim"
    if column == "running" and s.running is False:
        return "yellow"
    return ""


def _without_path(message: str | None, path: str | None) -> str | None:
    """An error that starts with the state's path (already in the pane's title), without it."""
    if message and path and message.startswith(path + ": "):
        return message[len(path) + 2:]
    return message


def detail_lines(name: str, seen: Seen | None, now: float, state_path: str | None = None) -> list[tuple[str, str]]:
    """(label, text) lines for the highlighted bot, most urgent first (what is wrong, why,
    the next step; then the figures and, for every "?" in its row, the reason)."""
    if seen is None:
        return [("", f"{name}: reading its state, lock, backups and checks…")]
    s = seen.status
    out: list[tuple[str, str]] = []
    if not s.loads:
        out.append(("state", f"UNREADABLE: {_without_path(s.error, state_path) or 'no reason given'}"))
    bad = sorted(((cid, st) for cid, st in s.checks.items() if st in _CHECK_RANK), key=lambda x: -_CHECK_RANK[x[1]])
    summary = (getattr(s, "summaries", None) or {}).get(bad[0][0]) if bad else None
    if summary and s.loads:  # the worst check's own line, in its words (an unreadable state's is above)
        out.append(("why", f"{bad[0][0]}: {_without_path(summary, state_path)}"))
    if s.repair_hint:
        out.append(("next", s.repair_hint))
    if not s.loads:
        out.append(("?", "cash, peak, drawdown, halted: the state does not load"))
    else:
        dd = f"{_pct(s.drawdown)}%" if s.drawdown is not None else "? (no peak or cash to compare)"
        limit = f"{float(s.halt_threshold) * 100:.0f}%" if s.halt_threshold is not None else "none set"
        out.append(("figures", f"cash {_money(s.cash)} · peak {_money(s.peak)} · drawdown {dd} (halts at {limit})"))
        if s.cash is None or s.peak is None:
            missing = [n for n, x in (("cash", s.cash), ("peak", s.peak)) if x is None]
            out.append(("?", f"{' and '.join(missing)}: no such field found in the state (set [fields] for this bot)"))
        if s.halted is None:
            out.append(("?", "halted: the state has no halt flag statetui recognises"))
    ran = ""
    if seen.checks_at is not None and seen.at - seen.checks_at >= 1:  # a light read since: older checks
        ran = f" (run {age(now - seen.checks_at)} ago; they re-run once the bot's writes pause)"
    if bad:
        out.append(("checks", ", ".join(f"{cid} {AUDIT_WORD.get(st, st)}" for cid, st in bad) + ran))
    elif s.checks:
        out.append(("checks", f"all {len(s.checks)} local checks pass or are skipped{ran}"))
    else:
        out.append(("checks", "? not run yet"))
    if s.running is None:
        out.append(("running", "? cannot tell: no lock holder, process or unit answers (its dashboard lists them)"))
    written = _later(s.state_age, seen, now)
    backup = _later(s.backup_age, seen, now)
    peak_age = _later(s.peak_age, seen, now)
    ages = [f"written {age(written)} ago" if written is not None else "written: ? (no state file)"]
    if peak_age is not None:
        ages.append(f"peak set {age(peak_age)} ago")
    ages.append(f"newest backup {age(backup)} old" if backup is not None else "no backup found")
    out.append(("ages", " · ".join(ages)))
    if s.chain_mismatch is not None:
        out.append(("chain", f"state cash minus chain cash: {_money(s.chain_mismatch)} (last reconcile)"))
    return out


# --- the head line and the detail pane, as rich renderables (outside text escaped) ----------


def head_text(verdicts: list[str], live: bool) -> Text:
    """'statetui fleet · 50 bots · 1 unreadable · 1 halted · 48 warning  ● live'."""
    counts = {v: verdicts.count(v) for v in VERDICTS}
    parts: list[Any] = [Text(" statetui ", style="bold reverse"), " ", Text("fleet", style="bold"),
                        f" · {len(verdicts)} bots"]
    for v in VERDICTS:
        if counts[v] and v != "PASS":
            parts += [" · ", Text(f"{counts[v]} {v.lower()}", style=STYLE[v] or "")]
    parts += ["  ", Text(" ● live " if live else " ○ not watching ", style="green" if live else "yellow")]
    return Text.assemble(*parts, no_wrap=True, end="")


def detail_title(name: str, seen: Seen | None, path: str) -> Text:
    v = verdict(seen.status if seen else None)
    word = f"{MARK[v].strip()} {v}".strip() if v != "PASS" else "✓ ok"
    return Text(f"{safe(name)} · {word} · {safe(path)}")


def detail_grid(rows: list[tuple[str, str]]) -> Table:
    """A grid: a long line (an error) wraps under its own column, not under the labels."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, justify="right")
    grid.add_column(ratio=1)
    for key, text in rows:
        grid.add_row(Text(safe(key)), Text(safe(text)))
    return grid
