"""The footer: the keys that work now. At 80 columns every character counts, so the
command palette's ^p is listed only where there is room (help lists it always)."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

WIDE = 110


class ConsoleFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def on_resize(self, event: events.Resize) -> None:
        self.show_command_palette = event.size.width >= WIDE
