"""The fleet: one row per bot, worst first, kept live; enter opens that bot's dashboard.

Each bot's status (statetui.core.fleet_status.bot_status: a read of its state, lock,
backups and local checks, tens of ms) is computed in one thread worker at a time, never
on the event loop: bots to read are queued by name, a bot queued twice is read once,
and results reach the table in batches, so with fifty bots keys are answered while
statuses refresh. One watcher covers every bot's folders (statetui.tui.fleet_watch);
a change gets the bots it concerns a light read, their checks once their writes pause
(statetui.tui.fleet_reads). Every SWEEP_S all bots are read again, checks included
(whether a bot runs, and the checks that depend on time, are not file changes).
While a bot's dashboard is open above it (app.bot_open), the fleet only notes what
changed, and reads it when it is back; a dialog above it (help, the palette) pauses
nothing."""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from statetui.tui import fleet_rows as fr
from statetui.tui.messages import OpenBot
from statetui.tui.fleet_reads import FULL, ReadQueue
from statetui.tui.plain import safe
from statetui.tui.screens.base import BaseScreen, PaletteCommand, screen_keys
from statetui.tui.widgets.footer import ConsoleFooter
from statetui.tui.widgets.style import label
from statetui.tui.widgets.tables import VimTable

SWEEP_S = 30.0  # every bot read again this often
TICK_S = 5.0  # ages on screen re-labelled this often (no file is read for it)
BATCH_S = 0.25  # results reach the table at most this often while a refresh runs
COMPACT_BELOW = 110  # columns: the app's -compact breakpoint


def _cell(text: str, style: str) -> Text:
    # Outside text (a bot's name, an error) with control characters shown escaped; a rich
    # Text parses no markup.
    return Text(safe(text), style=style, no_wrap=True, end="")


class FleetScreen(BaseScreen):
    NAME = "fleet"
    HELP = """\
Every bot in the config, one row each, the worst first: ‼ unreadable, halted or
critical; ✖ failing; ! warning; … not read yet. Columns: cash and peak from the state;
drawdown against the halt threshold ('48.1≥30%' is at or past it); halted; whether the
bot runs (from its lock, process and unit); how long ago the state was written and the
newest backup was taken; the worst local audit check.

A ? is a figure that could not be read: the pane below says why. Nothing is guessed.

The folders of every bot are watched: a write shows within a second. Every bot is also
read again every 30 s (a bot that stops writes nothing). enter opens the highlighted
bot's dashboard (escape there comes back here); s sorts by name or worst first; r reads
every bot now; ctrl+p then a name opens any bot ("fleet: open NAME")."""

    DEFAULT_CSS = """
    FleetScreen #fleet-head { height: 1; background: $panel; }
    FleetScreen #fleet-body { height: 1fr; }
    FleetScreen #fleet-table { height: 1fr; min-height: 5; }
    FleetScreen #fleet-detail { height: auto; max-height: 9; border: round $primary 60%; padding: 0 1; }
    FleetScreen.-wide #fleet-detail { max-height: 12; }
    """

    BINDINGS = screen_keys(
        Binding("r", "refresh", "Read all", id="fleet-refresh"),
        Binding("s", "sort", "Sort", id="fleet-sort"),
        copy=True,
    )

    def __init__(self, bots: list[Any], now: Callable[[], float] | None = None, watch: bool = True,
                 sweep_s: float = SWEEP_S) -> None:
        super().__init__()
        self.bots = {b.name: b for b in bots}
        self.order = [b.name for b in bots]  # config order: the tie-break, and the "by name" sort
        self.now = now or time.time
        self.watch_enabled = watch
        self.sweep_s = sweep_s
        self.seen: dict[str, fr.Seen] = {}
        self.worst_first = True
        self.live = False
        self.updates = 0  # statuses applied (tests wait on it)
        self.sweeps = 0  # full reads finished
        self._reads = ReadQueue()  # bots to read, in order, each once
        self._wake = None  # the timer for a read held back
        self._busy = False
        self._sweeping = False
        self._stop_watch: asyncio.Event | None = None
        self._compact: bool | None = None
        # name -> (text, style) per column as on screen: a cell is updated only when it
        # changed (each update makes the table render its visible rows again).
        self._shown: dict[str, list[tuple[str, str]]] = {}
        self._started = False  # reading and watching start when the fleet is first shown
        self._stamps: dict[str, tuple] = {}  # what each bot's files looked like at its last read
        self._full_reads: dict[str, tuple[tuple, float]] = {}  # ... at its last full read, and when
        self.caught_up = False  # the watcher is set up and nothing written before it was missed
        self._detail_shown: tuple[str, list[tuple[str, str]]] | None = None
        self._head_shown = ""

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-head")
        with Vertical(id="fleet-body"):
            yield VimTable("Open", id="fleet-table", zebra_stripes=False)
            with VerticalScroll(id="fleet-detail"):
                yield Static(id="fleet-text")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#fleet-detail").border_title = "Bot"
        self._build()
        self.query_one(DataTable).focus()
        if not self._paused():
            self._start()

    def _paused(self) -> bool:
        """A bot's dashboard is open above: its CPU is its own (--bot NAME: from the start)."""
        return bool(getattr(self.app, "bot_open", False))

    def _start(self) -> None:
        self._started = True
        self.refresh_all()
        self.set_interval(self.sweep_s, self._sweep)
        self.set_interval(TICK_S, self._tick)
        if self.watch_enabled:
            self._watch()

    def on_resize(self) -> None:
        if self._compact != self._is_compact():
            self._build()

    def _is_compact(self) -> bool:
        return self.app.size.width < COMPACT_BELOW

    @property
    def table(self) -> VimTable:
        return self.query_one("#fleet-table", VimTable)

    def _build(self) -> None:
        """Columns for this width, then every row in the current order."""
        self._compact = self._is_compact()
        table = self.table
        keep = self.selected()
        table.clear(columns=True)
        for c in fr.COLUMNS:
            table.add_column(c.compact if self._compact else c.label, key=c.key)
        for name in self._sorted():
            table.add_row(*self._cells(name), key=name)
        self._restore_cursor(keep)
        self._show_head()
        self._show_detail()

    # --- rows -----------------------------------------------------------------------------

    def _sorted(self) -> list[str]:
        if not self.worst_first:
            return sorted(self.order, key=str.lower)
        index = {n: i for i, n in enumerate(self.order)}
        return sorted(self.order, key=lambda n: (fr.sort_key(n, self.seen.get(n))[0], index[n]))

    def _plain_cells(self, name: str) -> list[tuple[str, str]]:
        seen = self.seen.get(name)
        texts = fr.cells(name, seen, self.now(), compact=bool(self._compact))
        return [(t, fr.style_of(c.key, seen)) for c, t in zip(fr.COLUMNS, texts)]

    def _cells(self, name: str) -> list[Text]:
        plain = self._plain_cells(name)
        self._shown[name] = plain
        return [_cell(t, style) for t, style in plain]

    def selected(self) -> str | None:
        return self.table.selected_key()

    def _restore_cursor(self, name: str | None) -> None:
        table = self.table
        if name is not None and name in table.rows:
            table.move_cursor(row=table.get_row_index(name), animate=False)

    def _apply(self, batch: list[tuple[Any, float, bool]]) -> None:
        """Statuses read in the worker: update their rows; re-sort only when a verdict
        moved a bot (the cursor stays on the bot it was on). A light read (no checks)
        keeps the checks of the bot's last full read, and says when they ran."""
        table = self.table
        for status, at, full in batch:
            if status.name not in self.bots:
                continue
            checks_at = at if full else fr.carry_checks(status, self.seen.get(status.name))
            self.seen[status.name] = fr.Seen(status, at, checks_at)
            self.updates += 1
        wanted = self._sorted()
        if [k.value for k in table.rows] != wanted:
            # Until every bot was read once, the cursor stays on the top (worst) row; then it
            # stays on its bot, so enter never opens another bot than the one highlighted.
            keep = self.selected() if len(self.seen) == len(self.order) and self.sweeps else None
            table.clear()
            for name in wanted:
                table.add_row(*self._cells(name), key=name)
            self._restore_cursor(keep)
        else:
            for status, _at, _full in batch:
                self._update_row(status.name)
        self._show_head()
        if self.selected() in {s.name for s, _at, _full in batch}:
            self._show_detail()

    def _update_row(self, name: str) -> None:
        """Update the cells of `name` whose text or style changed (a bot read again
        unchanged costs no render)."""
        table = self.table
        if name not in table.rows:
            return
        old = self._shown.get(name) or []
        new = self._plain_cells(name)
        for i, (c, cell) in enumerate(zip(fr.COLUMNS, new)):
            if i >= len(old) or old[i] != cell:
                table.update_cell(name, c.key, _cell(*cell))
        self._shown[name] = new

    def _tick(self) -> None:
        """Ages grow while nothing is read: re-label the cells whose text changed."""
        for name in self.seen:
            self._update_row(name)
        self._show_detail()

    # --- head and detail --------------------------------------------------------------------

    def _show_head(self) -> None:
        verdicts = [fr.verdict(self.seen[n].status if n in self.seen else None) for n in self.order]
        head = fr.head_text(verdicts, self.live)
        if head.plain != self._head_shown:  # most batches change no count
            self._head_shown = head.plain
            self.query_one("#fleet-head", Static).update(head)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        name = self.selected()
        box = self.query_one("#fleet-text", Static)
        if name is None:
            self._detail_shown = None
            box.update(label("no bots in the config"))
            return
        seen = self.seen.get(name)
        path = os.path.abspath(self.bots[name].config.state)
        title = fr.detail_title(name, seen, path)
        rows = fr.detail_lines(name, seen, self.now(), path)
        if (title.plain, rows) == self._detail_shown:  # a tick that changed no age: no layout
            return
        self._detail_shown = (title.plain, rows)
        self.query_one("#fleet-detail").border_title = title
        box.update(fr.detail_grid(rows))

    # --- keys -------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value in self.bots:
            self.post_message(OpenBot(event.row_key.value))

    def palette(self) -> list[PaletteCommand]:
        """The command palette's entries here: open any bot by name, read all, sort."""
        out = [PaletteCommand(f"fleet: open {name}", f"{name}'s dashboard ({self.bots[name].config.state})",
                              lambda name=name: self.post_message(OpenBot(name))) for name in self._sorted()]
        out.append(PaletteCommand("fleet: read all", "read every bot's state, lock, backups and checks now",
                                  self.action_refresh))
        out.append(PaletteCommand("fleet: sort", "worst first, or by name", self.action_sort))
        return out

    def copy_value(self) -> tuple[str, str] | None:
        """y: the highlighted bot's next command, else its state file's path."""
        name = self.selected()
        if name is None:
            return None
        seen = self.seen.get(name)
        hint = getattr(seen.status, "repair_hint", None) if seen else None
        return (hint, "next command") if hint else (str(self.bots[name].config.state), "state path")

    def detail_items(self) -> list[tuple[str, str]]:
        """v: the highlighted bot's detail lines, whole."""
        name = self.selected()
        if name is None:
            return []
        bot = self.bots[name]
        return [("bot", name), ("state", str(bot.config.state))] + [
            (k or "status", t) for k, t in fr.detail_lines(name, self.seen.get(name), self.now(), str(bot.config.state))]

    def action_refresh(self) -> None:
        self.refresh_all()

    def action_sort(self) -> None:
        self.worst_first = not self.worst_first
        self._build()
        self.notify("worst first" if self.worst_first else "by name", timeout=2)

    # --- reading statuses -------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Every bot, checks included (the start, r)."""
        self._reads.want_full(self.order)
        self._sweeping = True
        self._kick()

    def _sweep(self) -> None:
        """Every bot again; the checks of a bot whose files did not change are reused for a
        while (statetui.tui.fleet_reads.REUSE_S), whether it runs is asked afresh."""
        self._reads.want_full(self.order, FULL)
        self._sweeping = True
        self._kick()

    def request(self, names: list[str] | set[str]) -> None:
        """These bots' files changed (statetui.tui.fleet_reads says when to read them)."""
        self._reads.changed([n for n in names if n in self.bots], time.monotonic())
        self._kick()

    def on_screen_resume(self) -> None:
        if self._paused():
            return
        if not self._started:
            self._start()
        self._kick()

    def _kick(self) -> None:
        # Behind a bot's dashboard the fleet only notes what to read.
        if self._busy or self._paused():
            return
        items = self._reads.take(time.monotonic())
        if items:
            self._busy = True
            self._read(items)
        self._wake_later()

    def _wake_later(self) -> None:
        """One timer, for the earliest read held back (a bot writing faster than it is read)."""
        if self._wake is not None:
            self._wake.stop()
            self._wake = None
        if self._busy:
            return  # the worker's end kicks again
        delay = self._reads.next_due(time.monotonic())
        if delay is not None:
            self._wake = self.set_timer(max(0.05, delay), self._kick)

    @work(thread=True, group="fleet-read", exit_on_error=False)
    def _read(self, items: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        from statetui.tui.fleet_reads import read_statuses

        return read_statuses(self.bots, items, self.now, self._paused,
                             lambda batch: self.app.call_from_thread(self._apply, batch), self._stamps,
                             self._full_reads, BATCH_S)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "fleet-read" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR,
                                                                     WorkerState.CANCELLED):
            return
        event.stop()
        if event.state == WorkerState.ERROR:
            self.notify(f"fleet read failed: {type(event.worker.error).__name__}: {event.worker.error}",
                        severity="error", markup=False)
        elif event.state == WorkerState.SUCCESS and event.worker.result:
            self._reads.put_back(event.worker.result)  # read first when the fleet is shown again
        self._busy = False
        if self._sweeping and not any(self._reads.wanted.values()):
            self._sweeping = False
            self.sweeps += 1
        self._kick()

    # --- the watcher ----------------------------------------------------------------------

    @work(exclusive=True, group="fleet-watch", exit_on_error=False)
    async def _watch(self) -> None:
        # watchfiles is imported in a thread, not on the event loop.
        await asyncio.get_running_loop().run_in_executor(None, importlib.import_module, "statetui.tui.fleet_watch")
        from statetui.tui.fleet_watch import watch_fleet

        self._stop_watch = asyncio.Event()
        self.live = True
        self._show_head()
        # A write between a bot's first read and the watch being set up would go unseen:
        # read again the bots whose files changed since (a stat each, not a read of all).
        self.set_timer(0.3, self._catch_up)
        try:
            async for names in watch_fleet(list(self.bots.values()), self._stop_watch, self._watching):
                self.request(names)
        finally:
            self.live = False
            if self.is_mounted:
                self._show_head()

    def _watching(self, live: bool) -> None:
        if live != self.live:  # the head says "not watching" while the watch has failed
            self.live = live
            self._show_head()

    @work(thread=True, group="fleet-catch-up", exit_on_error=False)
    def _catch_up(self) -> None:
        from statetui.core.fleet import files_stamp as stamp

        changed = [n for n, b in self.bots.items() if n in self._stamps and self._stamps[n] != stamp(b.config)]
        self.app.call_from_thread(self._caught_up, changed)

    def _caught_up(self, changed: list[str]) -> None:
        self.request(changed)
        self.caught_up = True

    def on_unmount(self) -> None:
        if self._stop_watch is not None:
            self._stop_watch.set()
