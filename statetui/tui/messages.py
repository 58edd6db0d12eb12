"""What screens and panels ask the app for. They post these (they bubble up to the app,
which routes them); no screen imports the app or another screen."""

from __future__ import annotations

from typing import Any, Callable

from textual.message import Message

Done = Callable[[Any], None] | None
KINDS = ("state", "lock", "backups", "history")


class Open(Message):
    """Go to a screen by name: dashboard, audit, backups, journal, recovery."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class OpenRepair(Message):
    """The repair wizard for `repair_id` (restore-backup without a backup picks one first).
    `on_done(outcome)` runs when the wizard closes (outcome None: nothing applied)."""

    def __init__(self, repair_id: str, params: dict[str, Any] | None = None, on_done: Done = None) -> None:
        super().__init__()
        self.repair_id = repair_id
        self.params = dict(params or {})
        self.on_done = on_done


class PickRepair(Message):
    """Choose among repairs (all of them when `ids` is None), then open the wizard."""

    def __init__(self, ids: list[str] | None = None, on_done: Done = None) -> None:
        super().__init__()
        self.ids = ids
        self.on_done = on_done


class Refresh(Message):
    """Read these kinds again; `fresh`: verify every backup again, even unchanged ones."""

    def __init__(self, kinds: tuple[str, ...] = KINDS, fresh: bool = False) -> None:
        super().__init__()
        self.kinds = kinds
        self.fresh = fresh


class RunChecks(Message):
    """Run these audit checks (None: every local check; ("*",): all, the chain included)."""

    def __init__(self, ids: tuple[str, ...] | list[str] | None = None) -> None:
        super().__init__()
        self.ids = tuple(ids) if ids is not None else None


class RecordResults(Message):
    """Check results run elsewhere (a repair's verify, the playbook's full audit)."""

    def __init__(self, results: list[Any]) -> None:
        super().__init__()
        self.results = list(results)


class ReadChain(Message):
    """Read the wallet's cash at one block, in the background."""


class StopBot(Message):
    """Ask for confirmation, then stop the bot (systemctl stop UNIT, else SIGTERM, wait,
    check). `on_done(StopOutcome | None)`: None when not confirmed."""

    def __init__(self, on_done: Done = None) -> None:
        super().__init__()
        self.on_done = on_done


class StartBot(Message):
    """Ask for confirmation, then start the bot the way we know (the demo's command, or
    systemctl start UNIT). `on_done(StopOutcome | None)`."""

    def __init__(self, on_done: Done = None) -> None:
        super().__init__()
        self.on_done = on_done


class StageIncident(Message):
    """Demo only: make the simulated bot stage an incident (None: pick one first)."""

    def __init__(self, incident: str | None = None) -> None:
        super().__init__()
        self.incident = incident


class IncidentLogged(Message):
    """The guided recovery wrote an incident log (its path is printed on exit)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class Copy(Message):
    """Put `text` on the clipboard (OSC 52 through Textual), and say what was copied."""

    def __init__(self, text: str, what: str = "") -> None:
        super().__init__()
        self.text = text
        self.what = what


class OpenBot(Message):
    """Show this bot's dashboard above the fleet (statetui.tui.fleet_nav)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ShowFleet(Message):
    """Leave the bot's dashboard for the fleet (escape on the dashboard, with several bots)."""
