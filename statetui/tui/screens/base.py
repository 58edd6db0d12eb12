"""What every console screen shares: the top bar, the footer, help text, and a hook
called whenever the app's data changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:
    from statetui.tui.app import StateTuiApp


class BaseScreen(Screen):
    NAME: ClassVar[str] = ""
    HELP: ClassVar[str] = ""
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("a", "app.open('audit')", "Audit", id="audit", show=False),
        Binding("question_mark", "app.help", "Help", id="help", key_display="?"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    @property
    def sapp(self) -> "StateTuiApp":
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.sapp.changed.subscribe(self, self.on_data, immediate=True)
        self.on_data("all")

    def on_data(self, kind: str) -> None:
        """The app has a new view of `kind` (state, lock, backups, history, audit, chain, tick)."""
        from statetui.tui.widgets.bars import TopBar

        for bar in self.query(TopBar):
            bar.refresh()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
