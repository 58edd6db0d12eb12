"""`?`: help for the screen it was opened from: what it shows, and every key."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from statetui.tui.widgets.style import label, lines, row, strong


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss_help", "Close", id="help-close"),
        Binding("question_mark", "dismiss_help", "Close", show=False),
        Binding("q", "dismiss_help", "Close", show=False),
    ]

    def __init__(self, target: Screen) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(self._text(), id="help-text")

    def on_mount(self) -> None:
        box = self.query_one("#help")
        name = getattr(self.target, "NAME", "") or type(self.target).__name__
        box.border_title = f"Help · {name}"
        box.border_subtitle = "escape to dismiss"
        box.focus()

    def _text(self) -> Content:
        text = getattr(self.target, "HELP", "") or "No help for this screen."
        text = re.sub(r"(?<!\n)\n(?!\n)", " ", text.strip())  # reflow: the dialog wraps
        keys: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for binding in [*self._bindings_of(self.target), *self._bindings_of(self.app)]:
            if binding.id in (None, "palette"):  # Textual's own (focus next, copy), and the palette: listed below
                continue
            action = binding.action.removeprefix("app.")
            if self.target.check_action(action, ()) is False:
                continue
            key = binding.key_display or self.app.get_key_display(binding)
            if binding.description and key not in seen:
                seen.add(key)
                keys.append((key, binding.description, binding.id))
        keys.append(("ctrl+p", "command palette: every action as \"category: verb\"", "palette"))
        keys.append(("j k g G", "in every list: down, up, top, bottom", "list-down…"))
        width = max(len(k) for k, _d, _i in keys)
        out: list[Content | str] = [Content(text), "", strong("Keys"), label("(in brackets: the id to remap it, "
                                    "[console.keys] in the config file, e.g. journal = \"J\")")]
        out += [row(Content.styled(k.rjust(width), "bold"), "  ", d, label(f"  [{i}]")) for k, d, i in keys]
        out += ["", label("The footer shows the keys that work right now; greyed ones are not available yet.")]
        return lines(*out)

    @staticmethod
    def _bindings_of(node) -> list[Binding]:
        """The node's bindings, inherited ones included (q, ? and a come from the base screen)."""
        return [b for _key, b in node._bindings]

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
