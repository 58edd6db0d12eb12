"""The app's half that knows about several bots: the fleet screen under the dashboards,
and switching which bot the dashboard's views follow (statetui.tui.console mixes it in).

The dashboard and its screens read one bot's views, refreshed by the app's workers.
Switching bots starts a new "epoch": every worker the app starts is stamped with the
epoch it was started in, and whatever a worker of an older epoch still delivers (a
result, a call_from_thread from its thread, which cannot be stopped) is dropped on the
UI thread, so bot A's figures can never land on bot B's dashboard."""

from __future__ import annotations

from typing import Any, Callable

from textual.message import Message
from textual.worker import Worker, active_worker

from statetui.tui.messages import OpenBot, ShowFleet

EPOCH_ATTR = "statetui_epoch"


class FleetNav:
    """Mixed into StateTuiApp before App."""

    fleet: list[Any]  # statetui.core.fleet.Bot, in config order; [] for a single-bot config
    bot_name: str | None  # the bot the dashboard follows (None: single-bot config)
    bot_open: bool  # a bot's views are being read (False while only the fleet is shown)
    _bot_epoch: int

    def _init_fleet(self, fleet: list[Any] | None, start_bot: str | None) -> None:
        self.fleet = list(fleet or [])
        self._bot_epoch = 0
        self.bot_name = start_bot if start_bot is not None else (self.fleet[0].name if len(self.fleet) == 1 else None)
        # Several bots and none named: the fleet first, no bot's views read until one is opened.
        self.bot_open = len(self.fleet) <= 1 or start_bot is not None

    @property
    def has_fleet(self) -> bool:
        return len(self.fleet) > 1

    def fleet_screen(self):
        from statetui.tui.screens.fleet import FleetScreen

        return FleetScreen(self.fleet, now=self.now, watch=self.watch_enabled)  # type: ignore[attr-defined]

    # --- opening and leaving a bot ---------------------------------------------------

    def on_open_bot(self, message: OpenBot) -> None:
        self.open_bot(message.name)

    def on_show_fleet(self, message: ShowFleet) -> None:
        self.close_bot()

    def open_bot(self, name: str) -> None:
        """Follow `name`'s files and show its dashboard above the fleet."""
        from statetui.tui.screens.dashboard import DashboardScreen

        bot = next((b for b in self.fleet if b.name == name), None)
        if bot is None:
            self.notify(f"no bot named {name!r}", severity="error")  # type: ignore[attr-defined]
            return
        if self.bot_open and self.bot_name == name and isinstance(self.screen, DashboardScreen):  # type: ignore[attr-defined]
            return
        self._follow(bot)
        self.push_screen(DashboardScreen())  # type: ignore[attr-defined]

    def close_bot(self) -> None:
        """Back to the fleet: stop reading the bot's views (the fleet has its own watcher)."""
        if not self.has_fleet:
            return
        from statetui.tui.screens.fleet import FleetScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, FleetScreen):  # type: ignore[attr-defined]
            self.pop_screen()  # type: ignore[attr-defined]
        self._stop_following()
        self.bot_open = False

    def _follow(self, bot: Any) -> None:
        self._stop_following()
        self.bot_name = bot.name
        self.bot_open = True
        self._reset_bot(bot.config)  # type: ignore[attr-defined]
        self.sub_title = bot.name  # type: ignore[attr-defined]

    def _stop_following(self) -> None:
        self._bot_epoch += 1
        self.workers.cancel_node(self)  # type: ignore[attr-defined]
        self._stop_bot_views()  # type: ignore[attr-defined]

    # --- dropping what an older epoch's workers deliver -------------------------------

    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Worker:
        worker = super().run_worker(work, *args, **kwargs)  # type: ignore[misc]
        setattr(worker, EPOCH_ATTR, self._bot_epoch)
        return worker

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        worker = active_worker.get(None)
        epoch = getattr(worker, EPOCH_ATTR, None)
        if epoch is None:  # not one of the app's per-bot workers (the fleet screen's, a test's)
            return super().call_from_thread(callback, *args, **kwargs)  # type: ignore[misc]

        def if_current(*a: Any, **k: Any) -> Any:
            # Checked on the UI thread, where switching happens: no window between the two.
            return callback(*a, **k) if epoch == self._bot_epoch else None

        return super().call_from_thread(if_current, *args, **kwargs)  # type: ignore[misc]

    async def _on_message(self, message: Message) -> None:
        if isinstance(message, Worker.StateChanged):
            epoch = getattr(message.worker, EPOCH_ATTR, None)
            if epoch is not None and epoch != self._bot_epoch:
                return  # a result (or failure) of a bot no longer shown
        await super()._on_message(message)  # type: ignore[misc]
