"""The off-site side of the backups screen: the bucket's backups of this state, listed in a
thread worker (a slow or unreachable bucket never blocks the screen), beside the local
ones. Enter restores the highlighted one through the same repair wizard as a local restore
(restore-offsite: downloaded, verified, plan with its diff, confirm, backup first)."""

from __future__ import annotations

import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from statetui.tui import fmt
from statetui.tui.plain import plain, safe
from statetui.tui.widgets.tables import VimTable


def offsite_configured(config: Any) -> tuple[bool, str | None]:
    """(configured, why not usable): a bad [offsite] table is shown, not raised."""
    from statetui.core.errors import ConfigError
    from statetui.core.offsite_config import offsite_settings

    try:
        return offsite_settings(config, required=False) is not None, None
    except ConfigError as exc:
        return True, str(exc)


class BackupLists(Horizontal):
    """Local and off-site lists side by side (stacked below 110 columns)."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    BackupLists { height: auto; max-height: 50%; }
    BackupLists > #table { width: 3fr; max-height: 100%; }
    Screen.-compact BackupLists { layout: vertical; max-height: 60%; }
    Screen.-compact BackupLists > #table { width: 1fr; max-height: 8; }
    OffsitePanel { width: 2fr; height: auto; border: round $primary 60%; border-title-style: bold; }
    Screen.-compact OffsitePanel { width: 1fr; max-height: 8; }
    OffsitePanel #offsite-table { height: auto; min-height: 2; scrollbar-size-horizontal: 0; }
    OffsitePanel #offsite-status { height: auto; color: $text-muted; }
    """


class OffsitePanel(Vertical):
    BINDINGS = [Binding("R", "reload", "Reload off-site", id="offsite-reload")]

    def __init__(self, config: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.config = config
        self.settings: Any = None

    def compose(self) -> ComposeResult:
        yield VimTable("Restore from off-site", id="offsite-table")
        yield Static("listing…", id="offsite-status")

    def on_mount(self) -> None:
        self.border_title = "Off-site"
        table = self.query_one(DataTable)
        table.add_column("created (UTC)", key="created", width=16)
        table.add_column("age", key="age", width=6)
        table.add_column("reason", key="reason", width=10)
        table.add_column("size", key="size", width=7)
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#offsite-status", Static).update("listing…")
        self._list()

    @work(thread=True, exclusive=True, group="offsite-list", exit_on_error=False)
    def _list(self) -> None:
        from statetui.core.errors import StatetuiError
        from statetui.core.offsite import OffsiteStore
        from statetui.core.offsite_config import offsite_settings

        try:
            settings = offsite_settings(self.config)
            remote = OffsiteStore(settings, self.config.state.stem)
            out: tuple[Any, Any, Any] = (settings, remote.list(), None)
        except StatetuiError as exc:
            out = (None, [], str(exc))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._fill, *out)

    def _fill(self, settings: Any, backups: list, error: str | None) -> None:
        self.settings = settings
        if settings is not None:
            self.border_title = plain(f"Off-site · {settings.url}")
        table = self.query_one(DataTable)
        table.clear()
        now = time.time()
        for b in backups:
            table.add_row(fmt.utc_time(b.created)[:16], fmt.age(b.age_s(now)), plain(b.reason[:10]), fmt.size(b.size), key=b.name)
        status = self.query_one("#offsite-status", Static)
        if error:
            status.update(Content.styled(safe(error), "$error"))
        elif not backups:
            status.update(Content.styled("no off-site backup yet: statetui backup --offsite", "$warning"))
        else:
            newest_days = backups[0].age_s(now) / 86400
            limit = settings.max_age_days
            style = "$warning" if newest_days > limit else ""
            status.update(Content.styled(f"{len(backups)} off-site, newest {fmt.age(backups[0].age_s(now))} old "
                                         f"(limit {limit:g} d) · enter restores · R reloads", style))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()  # the local preview follows the local table only
        if event.row_key.value:
            self.query_one(DataTable).tooltip = event.row_key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # the local table's handler restores a local backup
        if event.row_key.value is None:
            return
        from statetui.tui.messages import OpenRepair

        self.post_message(OpenRepair("restore-offsite", {"backup": event.row_key.value}))
