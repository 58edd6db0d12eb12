"""Lists whose enter key is shown in the footer with what it does on this screen."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, OptionList


class ActionTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Select", id="table-select")]

    def __init__(self, enter_label: str, **kw) -> None:
        super().__init__(**kw)
        self.enter_label = enter_label

    def on_mount(self) -> None:
        # Rename the footer entry for enter on this table (the action stays select_cursor).
        self._bindings.key_to_bindings["enter"] = [
            Binding("enter", "select_cursor", self.enter_label, id="table-select")
        ]


class ActionOptionList(OptionList):
    """An OptionList whose enter key is shown in the footer with what it does here."""

    def __init__(self, enter_label: str, *options, **kw) -> None:
        super().__init__(*options, **kw)
        self.enter_label = enter_label

    def on_mount(self) -> None:
        self._bindings.key_to_bindings["enter"] = [
            Binding("enter", "select", self.enter_label, id="list-select")
        ]
