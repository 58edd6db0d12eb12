"""The write journal, newest first, with a filter: every write made through the store with
its time, generation, writer, reason and changed fields. It reads the newest PAGE entries
from the journal's end and pages backwards on demand (o, or reaching the oldest row read),
so a year of history opens as fast as a day."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable

from statetui.tui.plain import notice
from statetui.tui import fmt
from statetui.tui.screens.base import screen_keys
from statetui.tui.screens.table import Column, Row, TableScreen
from statetui.tui.widgets.difftable import diff_table
from statetui.tui.widgets.style import label, lines, row, strong


def changed_names(entry: dict[str, Any]) -> list[str]:
    """Fields the write changed ([None, None]: a key only added or removed as null, not a change)."""
    return [k for k, v in entry.get("changes", {}).items() if not (isinstance(v, list) and v == [None, None])]


def writer_of(entry: dict[str, Any]) -> str:
    return f"{entry.get('writer') or '?'}[{entry.get('pid', '?')}]"


def matches(entry: dict[str, Any], query: str) -> bool:
    """Every word must match: `field:NAME` a changed field, otherwise reason, writer or a field."""
    for word in query.lower().split():
        if word.startswith("field:"):
            if word[6:] not in (k.lower() for k in entry.get("changes", {})):
                return False
            continue
        hay = " ".join([str(entry.get("reason", "")), str(entry.get("writer", "")), *entry.get("changes", {}).keys(),
                        "outside" if entry.get("replaced_outside_write") else ""]).lower()
        if word not in hay:
            return False
    return True


class JournalScreen(TableScreen):
    NAME = "journal"
    DETAIL = "Entry"
    ENTER = "View"
    FILTER_HINT = "/ filter: reason, writer, field:NAME, outside"
    HELP = """\
Every write made through the store, newest first: time (UTC), generation, writer and
pid, reason, and the fields it changed. / filters: words match the reason, the writer
or a changed field (`field:peak_balance` for that field only; `outside` for writes that
replaced a file changed outside the store). The panel below shows the highlighted
entry: each changed field before -> after, its backup and evidence. s sorts by a
column (S reverses), y copies the entry's backup name (or its generation), v or enter
shows the whole entry. (The journal opens with l on the dashboard: j/k move in lists.)
The newest entries are read first; o (or reaching the oldest row) reads the next older
page; the filter and the sort apply to what is read."""

    PAGE = 500

    COLUMNS = [
        Column("ts", "time (UTC)", 19),
        Column("gen", "gen", 5),
        Column("writer", "writer", 16),
        Column("reason", "reason", 22),
        Column("changed", "changed"),
    ]

    # o is not in the footer: the counts say "o: older" when older entries remain.
    BINDINGS = screen_keys(Binding("o", "older", "Older", id="journal-older", show=False), table=True, copy=True)

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []  # oldest first: the pages read so far
        self.bad_lines = 0
        self.more = False  # older entries remain to be read

    def _entry(self, key: str) -> dict[str, Any]:
        """Row keys count from the newest entry, so reading an older page keeps them."""
        return self.entries[len(self.entries) - 1 - int(key)]

    def on_mount(self) -> None:
        self._load()

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind == "history":
            self._load()

    @work(thread=True, exclusive=True, group="journal", exit_on_error=False)
    def _load(self, before: int | None = None) -> None:
        from statetui.tui.data import read_journal_page

        page = read_journal_page(self.ctx.config, self.PAGE, before)
        self.app.call_from_thread(self._loaded, page, before is not None)

    def _loaded(self, page, older: bool) -> None:
        entries, bad_lines, error = page
        if error:
            self.notify(notice(error), severity="error", markup=False)
        self.more = len(entries) >= self.PAGE
        if older:
            self.entries, self.bad_lines = entries + self.entries, self.bad_lines + bad_lines
        else:
            self.entries, self.bad_lines = entries, bad_lines
        self.fill()

    def action_older(self) -> None:
        if self.more and self.entries:
            self._load(before=self.entries[0].get("generation"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        super().on_data_table_row_highlighted(event)
        if self.more and event.cursor_row == event.data_table.row_count - 1:
            self.action_older()  # the oldest row read: read the page before it

    def rows(self) -> list[Row]:
        out = []
        n = len(self.entries)
        for i, e in reversed(list(enumerate(self.entries))):
            ts = fmt.iso_ts(e.get("ts"))
            flag = Content.styled(" OUTSIDE", "yellow") if e.get("replaced_outside_write") else Content("")
            gen = e.get("generation")
            cells = (fmt.utc_time(ts)[:19] if ts else str(e.get("ts", "?"))[:19], str(gen), writer_of(e),
                     str(e.get("reason", "")), Content.assemble(", ".join(changed_names(e)), flag))
            out.append(Row(str(n - 1 - i), cells, (ts, gen if isinstance(gen, int) else -1, writer_of(e), str(e.get("reason", "")),
                                           ", ".join(changed_names(e))), ""))
        return out

    def matches(self, r: Row, query: str) -> bool:
        return matches(self._entry(r.key), query)

    def counts(self, shown: int, total: int) -> str:
        bad = f" · {self.bad_lines} unreadable line(s)" if self.bad_lines else ""
        older = " · o: older" if self.more else ""
        return f"{shown} of {total} entries{older}{bad}"

    def empty_text(self) -> str:
        return "no entries" + (" match the filter" if self.query_text else "")

    def detail(self, key: str) -> Content:
        e = self._entry(key)
        width = self.detail_width
        body: list[Content | str] = [
            row(strong(f"#{e.get('generation')} "), str(e.get("reason", "")), label(f"  {e.get('ts')} · {writer_of(e)}")),
            row(label("sha256 "), str(e.get("sha256", ""))[:16], label(" · prev "), str(e.get("prev_sha256") or "—")[:16],
                label(" · "), fmt.size(e.get("size"))),
        ]
        if e.get("replaced_outside_write"):
            body.append(Content.styled("the file had been replaced outside the store before this write", "$warning"))
        if e.get("stale_base"):
            body.append(Content.styled("saved over a change made after this state was loaded (stale base)", "$warning"))
        if e.get("backup"):
            body.append(row(label("backup "), e["backup"]))
        changes = [(k, v[0], v[1]) for k, v in e.get("changes", {}).items() if isinstance(v, list) and len(v) == 2]
        body.extend(diff_table(changes, width))
        for k, v in (e.get("evidence") or {}).items():
            body.append(row(label(f"evidence {k}: "), fmt.show_value(v, width - len(k) - 11)))
        return lines(*body)

    def extra_items(self, key: str) -> list[tuple[str, str]]:
        e = self._entry(key)
        items = [("sha256", str(e.get("sha256", ""))), ("previous sha256", str(e.get("prev_sha256") or "—"))]
        if e.get("backup"):
            items.append(("backup", e["backup"]))
        for k, v in e.get("changes", {}).items():
            if isinstance(v, list) and len(v) == 2 and v != [None, None]:
                items.append((f"{k}", f"{fmt.show_value(v[0], 10_000)} → {fmt.show_value(v[1], 10_000)}"))
        for k, v in (e.get("evidence") or {}).items():
            items.append((f"evidence {k}", fmt.show_value(v, 10_000)))
        return items

    def copy_value(self) -> tuple[str, str] | None:
        key = self.selected()
        if key is None:
            return None
        e = self._entry(key)
        if e.get("backup"):
            return str(e["backup"]), "the backup taken before this write"
        return str(e.get("generation")), "the generation"

    def on_data_table_row_selected(self, event) -> None:
        self.action_view()
