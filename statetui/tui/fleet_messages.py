"""What the fleet screen and a bot's dashboard ask the app for (statetui.tui.fleet_nav
routes them): screens post these and never call the app."""

from __future__ import annotations

from textual.message import Message


class OpenBot(Message):
    """Show this bot's dashboard above the fleet."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ShowFleet(Message):
    """Leave the bot's dashboard for the fleet (escape on the dashboard, with several bots)."""
