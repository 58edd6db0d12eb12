"""The footer: the keys that work now. At 80 columns every character counts, so the
command palette's ^p is listed only where there is room (help lists it always)."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Footer

WIDE = 110


class ConsoleFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._keys_shown: tuple[Any, ...] | None = None

    def on_resize(self, event: events.Resize) -> None:
        self.show_command_palette = event.size.width >= WIDE

    def watch_show_command_palette(self) -> None:
        # Textual's footer draws ^p only when it recomposes for a bindings signal; the first
        # one may come before the first resize decides there is room.
        if self._bindings_ready and self.is_attached:
            self.bindings_changed(self.screen)  # what it shows changed: it recomposes

    def bindings_changed(self, screen: Any) -> None:
        # Textual's footer re-mounts every key on each bindings signal; the dashboard sends
        # one with every state or lock update. Only a change in what it shows does that here.
        keys = (self.show_command_palette, *((b.key, b.action, b.description, b.key_display, b.show, enabled, tip)
                                             for _node, b, enabled, tip in screen.active_bindings.values()))
        if self._bindings_ready and keys == self._keys_shown:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:  # it did recompose
            self._keys_shown = keys
