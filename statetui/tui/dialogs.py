"""Small typed modal dialogs: confirm (bool), pick one (str), type a value (str), and the
detail view that shows every value of a row whole (y copies one)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from statetui.tui.plain import plain

from statetui.tui.messages import Copy
from statetui.tui.widgets.style import label
from statetui.tui.widgets.tables import VimOptionList


class ConfirmScreen(ModalScreen[bool]):
    """An explicit yes: `y` confirms; `n` or escape cancels. Enter does nothing, so a
    key pressed out of habit never applies a repair."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n", "answer(False)", "No", id="confirm-no"),
        Binding("escape", "answer(False)", "Cancel", show=False, id="confirm-cancel"),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "apply") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Static(Content.styled(self.question, "bold"), id="confirm-question")
            if self.detail:
                yield Static(plain(self.detail), id="confirm-detail")
            yield Static(Content.assemble(("y", "bold reverse"), f" {self.yes}   ", ("n", "bold reverse"), " / ",
                                          ("esc", "bold reverse"), " cancel"), id="confirm-keys")

    def on_mount(self) -> None:
        self.query_one("#confirm").border_title = "Confirm"
        self.query_one("#confirm").border_subtitle = f"y to {self.yes} · escape to cancel"

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
            yield VimOptionList(*[Option(text, id=oid) for oid, text in self.options], enter_label="Choose",
                                id="pick-list")

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


class DetailScreen(ModalScreen[None]):
    """Every value of the selected row (or panel), whole: nothing cut, wrapped to fit.
    j/k move between values, y copies the highlighted one."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="detail-close"),
        Binding("v", "close", "Close", show=False, id="detail-close-v"),
        Binding("y", "copy", "Copy value", id="detail-copy"),
    ]

    def __init__(self, title: str, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.items = [(k, "" if v is None else str(v)) for k, v in items]

    def compose(self) -> ComposeResult:
        options = [Option(Content.assemble(label(k), "\n", v or "—"), id=str(i)) for i, (k, v) in enumerate(self.items)]
        with Vertical(classes="dialog", id="detail"):
            yield VimOptionList(*options, enter_label="Copy", id="detail-list")

    def on_mount(self) -> None:
        box = self.query_one("#detail")
        box.border_title = self.title_text
        box.border_subtitle = "y copies the highlighted value · escape closes"
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_copy()

    def action_copy(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None or not self.items:
            return
        name, value = self.items[ol.highlighted]
        self.post_message(Copy(value, name))

    def action_close(self) -> None:
        self.dismiss(None)
