"""The full write journal, newest first, with a filter: every write made through the
store with its time, generation, writer, reason and changed fields."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Static

from statetui.tui.plain import notice, plain
from statetui.tui import fmt
from statetui.tui.screens.base import BaseScreen
from statetui.tui.screens.repair import diff_table
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.style import label, lines, row, strong


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


class JournalScreen(BaseScreen):
    NAME = "journal"
    HELP = """\
Every write made through the store, newest first: time (UTC), generation, writer and
pid, reason, and the fields it changed. / focuses the filter: words match the reason,
the writer or a changed field (`field:peak_balance` for that field only; `outside`
for writes that replaced a file changed outside the store). The panel below shows
the highlighted entry: each changed field before -> after, its backup and evidence."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="journal-filter", key_display="/"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []
        self.bad_lines = 0
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield TopBar("journal")
        with Vertical(id="journal-body"):
            yield Input(placeholder="/ filter: reason, writer, field:NAME, outside", id="journal-filter", compact=True)
            yield DataTable(id="journal-table", cursor_type="row")
            with VerticalScroll(id="journal-detail"):
                yield Static(id="journal-entry")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("time (UTC)", key="ts", width=19)
        table.add_column("gen", key="gen", width=4)
        table.add_column("writer", key="writer", width=14)
        table.add_column("reason", key="reason", width=22)
        table.add_column("changed", key="changed")
        self.query_one("#journal-detail").border_title = "Entry"
        super().on_mount()
        self._load()
        table.focus()

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind == "history":
            self._load()

    @work(thread=True, exclusive=True, group="journal", exit_on_error=False)
    def _load(self) -> None:
        from statetui.tui.data import gather_history

        view = gather_history(self.sapp.config, limit=None)
        self.app.call_from_thread(self._loaded, view)

    def _loaded(self, view) -> None:
        self.entries, self.bad_lines = view.entries, view.bad_lines
        if view.error:
            self.notify(notice(view.error), severity="error", markup=False)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        shown = [(i, e) for i, e in reversed(list(enumerate(self.entries))) if matches(e, self.query_text)]
        for i, e in shown:
            ts = fmt.iso_ts(e.get("ts"))
            flag = Content.styled(" OUTSIDE", "yellow") if e.get("replaced_outside_write") else Content("")
            table.add_row(
                fmt.utc_time(ts)[:19] if ts else plain(str(e.get("ts", "?"))[:19]),
                str(e.get("generation")),
                plain(f"{e.get('writer', '?')}[{e.get('pid', '?')}]"),
                plain(e.get("reason", "")),
                Content.assemble(", ".join(e.get("changes", {}).keys()), flag),
                key=str(i),
            )
        total = len(self.entries)
        bad = f" · {self.bad_lines} unreadable line(s)" if self.bad_lines else ""
        self.query_one("#journal-detail").border_subtitle = f"{len(shown)} of {total} entries{bad}"
        self._show()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show()

    def _show(self) -> None:
        table = self.query_one(DataTable)
        out = self.query_one("#journal-entry", Static)
        if not table.row_count:
            out.update(label("no entries" + (" match the filter" if self.query_text else "")))
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        e = self.entries[int(key)]
        width = max(40, self.query_one("#journal-detail").size.width - 4)
        body: list[Content | str] = [
            row(strong(f"#{e.get('generation')} "), str(e.get("reason", "")), label(f"  {e.get('ts')} · {e.get('writer')}[{e.get('pid')}]")),
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
        out.update(lines(*body))

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_back(self) -> None:
        inp = self.query_one(Input)
        if inp.has_focus:
            self.query_one(DataTable).focus()
            return
        super().action_back()
