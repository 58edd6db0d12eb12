"""Small typed modal dialogs: confirm (bool), pick one (str), type a value (str)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from statetui.tui.plain import plain

if TYPE_CHECKING:
    from statetui.tui.app import StateTuiApp


class ConfirmScreen(ModalScreen[bool]):
    """An explicit yes: `y` confirms; `n` or escape cancels. Enter does nothing, so a
    key pressed out of habit never applies a repair."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes, apply", id="confirm-yes"),
        Binding("n", "answer(False)", "No", id="confirm-no"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Static(Content.styled(self.question, "bold"), id="confirm-question")
            if self.detail:
                yield Static(plain(self.detail), id="confirm-detail")
            yield Static(Content.assemble(("y", "bold reverse"), " apply   ", ("n", "bold reverse"), " / ",
                                          ("esc", "bold reverse"), " cancel"), id="confirm-keys")

    def on_mount(self) -> None:
        self.query_one("#confirm").border_title = "Confirm"
        self.query_one("#confirm").border_subtitle = "y to apply · escape to cancel"

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PickScreen(ModalScreen["str | None"]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick-cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        """options: (id, label)."""
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick"):
            yield OptionList(*[Option(label, id=oid) for oid, label in self.options], id="pick-list")

    def on_mount(self) -> None:
        box = self.query_one("#pick")
        box.border_title = self.title_text
        box.border_subtitle = "enter to choose · escape to cancel"
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InputScreen(ModalScreen["str | None"]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="input-cancel")]

    def __init__(self, title: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="ask"):
            if self.hint:
                yield Static(self.hint)
            yield Input(value=self.value, id="ask-input")

    def on_mount(self) -> None:
        box = self.query_one("#ask")
        box.border_title = self.title_text
        box.border_subtitle = "enter to accept · escape to cancel"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def repair_titles(ids: list[str] | None = None) -> list[tuple[str, str]]:
    from statetui.repair.runner import get_repair, repair_ids

    known = repair_ids()
    wanted = [i for i in (ids or known) if i in known]
    return [(rid, f"{get_repair(rid).title}  ({rid})") for rid in wanted]


def pick_repair(app: "StateTuiApp", ids: list[str] | None = None, on_done: Callable[[Any], None] | None = None) -> None:
    """Open the repair wizard; with more than one candidate, ask which first."""
    options = repair_titles(ids)
    if not options:
        app.notify("no repair for this in this build", severity="warning")
        return
    if len(options) == 1:
        app.open_repair(options[0][0], on_done)
        return

    def chosen(rid: str | None) -> None:
        if rid:
            app.open_repair(rid, on_done)

    app.push_screen(PickScreen("Repairs", options), chosen)
