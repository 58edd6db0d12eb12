"""What every console screen shares: the top bar, help, copy (y), the whole values (v),
theme (T), and a hook when the data changes. (The table-plus-detail screens build on
statetui.tui.screens.table.)

Screens read `self.ctx` (statetui.tui.context) and post messages (statetui.tui.messages);
nothing here imports the app or another screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from textual.binding import Binding
from textual.screen import Screen

from statetui.tui.messages import Copy
from statetui.tui.widgets.bars import TopBar


@dataclass(frozen=True)
class PaletteCommand:
    title: str  # "category: verb"
    help: str
    run: Callable[[], Any]


TABLE_KEYS = [
    Binding("slash", "filter", "Filter", id="table-filter", key_display="/"),
    Binding("s", "sort", "Sort", id="table-sort"),
    Binding("S", "sort_reverse", "Reverse", show=False, id="table-sort-reverse"),
]


def screen_keys(*own: Binding, table: bool = False, copy: bool = False) -> list[Binding]:
    """A screen's bindings in footer order: its own keys, the table's, then copy, view,
    theme, help and quit (Textual lists inherited bindings first, so the common ones are
    added here, last, rather than inherited)."""
    return [
        *own,
        *(TABLE_KEYS if table else []),
        Binding("y", "copy", "Copy", show=copy, id="copy"),
        Binding("v", "view", "View whole", show=False, id="view"),
        Binding("T", "app.change_theme", "Theme", show=False, id="theme"),
        Binding("question_mark", "app.help", "Help", id="help", key_display="?"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]


class BaseScreen(Screen):
    NAME: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    BINDINGS = [Binding("escape", "back", "Back", show=False, id="back")]

    @property
    def ctx(self):
        """statetui.tui.context.ConsoleContext: the latest views, the config, the demo."""
        return self.app.ctx  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        # Textual calls every class's on_mount (subclass first): none of them calls super().
        self.ctx.changed.subscribe(self, self.on_data, immediate=True)
        self.on_data("all")

    def on_data(self, kind: str) -> None:
        """The app has a new view of `kind` (state, lock, backups, history, audit, chain, tick)."""
        for bar in self.query(TopBar):
            bar.update_view()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # --- copy and view whole ----------------------------------------------------------------

    def copy_value(self) -> tuple[str, str] | None:
        """(text, what it is) that `y` copies: the selected command, path or backup name."""
        return None

    def detail_items(self) -> list[tuple[str, str]]:
        """(label, value) pairs `v` shows whole."""
        return []

    def action_copy(self) -> None:
        found = self.copy_value()
        if not found:
            self.notify("nothing to copy here", severity="warning", timeout=3)
            return
        self.post_message(Copy(*found))

    def action_view(self) -> None:
        from statetui.tui.dialogs import DetailScreen  # not on the dashboard's first paint

        items = self.detail_items()
        if items:
            self.app.push_screen(DetailScreen(f"{self.NAME} · whole values", items))

    def palette(self) -> list[PaletteCommand]:
        """This screen's own commands for the command palette."""
        return []
