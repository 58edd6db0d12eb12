"""The one table-plus-detail screen the audit, backups and journal are built on: j/k and
g/G, `/` filter, `s`/`S` sort by column (or click a header), `y` copy, `v` the whole row.
A subclass gives COLUMNS, rows() and detail(key); nothing here imports another screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from rich.text import Text
from textual.widgets import DataTable, Input, Static

from statetui.tui.plain import plain
from statetui.tui.screens.base import BaseScreen
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.footer import ConsoleFooter
from statetui.tui.widgets.style import label
from statetui.tui.widgets.tables import VimTable


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: the rest of the row


@dataclass
class Row:
    key: str
    cells: tuple[Any, ...]  # str or Content, one per column
    sort: tuple[Any, ...]  # one comparable value per column
    text: str  # what the filter searches


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, (Content, Text)) else str(cell)


def _cell(cell: Any) -> Any:
    """A str cell is outside text (a check's summary, a writer, a reason, a backup's name):
    shown literally, control characters escaped (plain)."""
    return plain(cell) if isinstance(cell, str) else cell


class TableScreen(BaseScreen):
    """A table over a detail pane. Subclasses give COLUMNS, rows() and detail(key)."""

    COLUMNS: ClassVar[list[Column]] = []
    ENTER: ClassVar[str] = "Select"
    TITLE: ClassVar[str] = ""
    DETAIL: ClassVar[str] = "Detail"
    FILTER_HINT: ClassVar[str] = "/ filter: words in any column"

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._rows: dict[str, Row] = {}

    def compose(self) -> ComposeResult:
        yield TopBar(self.title_text())
        with Vertical(classes="table-body"):
            yield Input(placeholder=self.FILTER_HINT, id="table-filter", compact=True, classes="-hidden")
            yield from self.table_area(VimTable(self.ENTER, id="table"))
            with VerticalScroll(id="table-detail"):
                yield Static(id="table-text")
        yield ConsoleFooter()

    def title_text(self) -> str:
        return self.TITLE or self.NAME

    def table_area(self, table: DataTable) -> ComposeResult:
        """Where the table goes (the backups screen sets the off-site list beside it)."""
        yield table

    def on_mount(self) -> None:
        table = self.table
        for c in self.COLUMNS:
            table.add_column(c.label, key=c.key, width=c.width)
        self.query_one("#table-detail").border_title = self.DETAIL
        table.focus()

    @property
    def table(self) -> VimTable:
        return self.query_one("#table", VimTable)

    # --- rows ------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        raise NotImplementedError

    def matches(self, row: Row, query: str) -> bool:
        hay = row.text.lower()
        return all(word in hay for word in query.lower().split())

    def fill(self) -> None:
        """Rebuild the table from rows(): filtered, sorted, cursor kept on the same key."""
        table = self.table
        keep = self.selected()
        all_rows = self.rows()
        self._rows = {r.key: r for r in all_rows}
        shown = [r for r in all_rows if self.matches(r, self.query_text)]
        if self.sort_column is not None:
            i = self.sort_column
            shown.sort(key=lambda r: (r.sort[i] is None, r.sort[i] if r.sort[i] is not None else 0), reverse=self.sort_reverse)
        existing = [k.value for k in table.rows]
        if existing == [r.key for r in shown]:
            for r in shown:  # same rows, same order: update in place (no flicker, cursor kept)
                for c, cell in zip(self.COLUMNS, r.cells):
                    table.update_cell(r.key, c.key, _cell(cell))
        else:
            table.clear()
            for r in shown:
                table.add_row(*(_cell(c) for c in r.cells), key=r.key)
            if keep is not None and keep in table.rows:
                table.move_cursor(row=table.get_row_index(keep))
        self._label_columns()
        self.query_one("#table-detail").border_subtitle = self.counts(len(shown), len(all_rows))
        self.show_detail()

    def counts(self, shown: int, total: int) -> str:
        return f"{shown} of {total}" if shown != total else f"{total}"

    def _label_columns(self) -> None:
        for i, c in enumerate(self.COLUMNS):
            col = self.table.columns.get(c.key)  # type: ignore[call-overload]
            if col is None:
                continue
            mark = (" ▼" if self.sort_reverse else " ▲") if i == self.sort_column else ""
            col.label = Content(c.label + mark)

    def selected(self) -> str | None:
        return self.table.selected_key()

    def selected_row(self) -> Row | None:
        key = self.selected()
        return self._rows.get(key) if key is not None else None

    # --- the detail pane ---------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        key = self.selected()
        self.query_one("#table-text", Static).update(self.detail(key) if key is not None else label(self.empty_text()))

    def detail(self, key: str) -> Content:
        raise NotImplementedError

    def empty_text(self) -> str:
        return "nothing matches the filter" if self.query_text else "nothing here yet"

    @property
    def detail_width(self) -> int:
        return max(40, self.query_one("#table-detail").size.width - 4)

    def detail_items(self) -> list[tuple[str, str]]:
        r = self.selected_row()
        if r is None:
            return []
        extra = self.extra_items(r.key)
        named = {k for k, _v in extra}
        return [(c.label, _plain(cell)) for c, cell in zip(self.COLUMNS, r.cells) if c.label and c.label not in named] + extra

    def extra_items(self, key: str) -> list[tuple[str, str]]:
        return []

    # --- filter and sort ----------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#table-filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "table-filter":
            self.query_text = event.value
            self.fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "table-filter":
            self.table.focus()

    def action_sort(self) -> None:
        n = len(self.COLUMNS)
        self.sort_column = 0 if self.sort_column is None else (self.sort_column + 1 if self.sort_column + 1 < n else None)
        self.fill()
        name = self.COLUMNS[self.sort_column].label if self.sort_column is not None else "the default order"
        self.notify(f"sorted by {name}", timeout=2)

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.fill()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        i = event.column_index
        if self.sort_column == i:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = i, False
        self.fill()

    def action_back(self) -> None:
        box = self.query_one("#table-filter", Input)
        if box.has_focus or self.query_text:
            box.value = ""
            self.query_text = ""
            box.add_class("-hidden")
            self.table.focus()
            self.fill()
            return
        super().action_back()
