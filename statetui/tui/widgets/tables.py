"""Lists with the keys operators' fingers know (k9s, lazygit, htop): j/k move, g/G go to
the top/bottom, and the enter key shown in the footer with what it does here."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, OptionList

VIM_TABLE = [
    Binding("j", "cursor_down", "Down", show=False, id="list-down"),
    Binding("k", "cursor_up", "Up", show=False, id="list-up"),
    Binding("g", "scroll_top", "Top", show=False, id="list-top"),
    Binding("G", "scroll_bottom", "Bottom", show=False, id="list-bottom"),
]


class VimTable(DataTable):
    """A row-cursor table: j/k, g/G, and enter labelled for this screen."""

    BINDINGS = VIM_TABLE

    def __init__(self, enter_label: str = "Select", **kw) -> None:
        kw.setdefault("cursor_type", "row")
        super().__init__(**kw)
        self.enter_label = enter_label

    def on_mount(self) -> None:
        # Rename the footer entry for enter on this table (the action stays select_cursor).
        self._bindings.key_to_bindings["enter"] = [Binding("enter", "select_cursor", self.enter_label, id="table-select")]

    def action_scroll_top(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor; None with no rows (or while being rebuilt)."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the rows are being replaced
            return None


class VimOptionList(OptionList):
    """An OptionList with j/k, g/G, and enter labelled for this screen."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="list-down"),
        Binding("k", "cursor_up", "Up", show=False, id="list-up"),
        Binding("g", "first", "Top", show=False, id="list-top"),
        Binding("G", "last", "Bottom", show=False, id="list-bottom"),
    ]

    def __init__(self, *options, enter_label: str = "Select", **kw) -> None:
        super().__init__(*options, **kw)
        self.enter_label = enter_label

    def on_mount(self) -> None:
        self._bindings.key_to_bindings["enter"] = [Binding("enter", "select", self.enter_label, id="list-select")]
