"""The top bar (where am I, is it live, read-only, a demo?) and the alert banner (the file is bad)."""

from __future__ import annotations

import os

from textual.content import Content
from textual.widget import Widget

from statetui.tui import fmt
from statetui.tui.plain import safe
from statetui.tui.widgets.style import label, row


class TopBar(Widget):
    """One line: screen name, state path, demo/live/halted/read-only badges."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; }
    """

    def __init__(self, screen_name: str, **kw) -> None:
        super().__init__(**kw)
        self.screen_name = screen_name
        self._shown: Content | None = None

    def update_view(self) -> None:
        """Redraw only when what it says changed."""
        if not self.size.width:  # not laid out yet: render() builds it
            return
        new = self.build()
        if self._shown is None or not new.is_same(self._shown):
            self._shown = new
            self.refresh()

    def on_resize(self) -> None:
        self._shown = None

    def render(self) -> Content:
        if self._shown is None or not self._shown.cell_length:
            self._shown = self.build()
        return self._shown

    def build(self) -> Content:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        badges: list[Content | str] = []
        view = ctx.state_view
        if ctx.demo is not None:
            badges.append(Content.styled(f" {ctx.demo.label if self.size.width >= 110 else ctx.demo.short_label} ",
                                         "$warning bold reverse"))
        if view is not None and not view.ok:
            badges.append(Content.styled(" FILE " + (view.error_kind or "ERROR").upper() + " ", "$error bold reverse"))
        elif view is not None and view.halted:
            badges.append(Content.styled(" HALTED ", "$error bold reverse"))
        badges.append(Content.styled(" ● live ", "$success") if ctx.live else Content.styled(" ○ not watching ", "$warning"))
        if ctx.config.read_only:
            badges.append(Content.styled(" READ-ONLY ", "$warning bold reverse"))
        right = Content.assemble(*badges)
        app = self.app
        where = f"{app.bot_name} · {self.screen_name}" if getattr(app, "has_fleet", False) and app.bot_name else self.screen_name
        left = row(Content.styled(" statetui ", "bold reverse"), " ", Content.styled(safe(where), "bold"), label(" · "))
        room = self.size.width - left.cell_length - right.cell_length - 1
        if room < 8:  # no room for the path: the badges matter more
            return Content.assemble(left.truncate(max(0, self.size.width - right.cell_length)), right)
        path = fmt.clip_path(str(ctx.config.state), room)
        return Content.assemble(left, path, " " * max(1, room - len(path) + 1), right)


class AlertBanner(Widget):
    """Shown while the state file is missing, unreadable, partial or invalid: what is
    wrong, that the values shown are the last good ones, and the next step."""

    DEFAULT_CSS = """
    AlertBanner { height: auto; display: none; background: $error 20%; border-left: thick $error; padding: 0 1; }
    AlertBanner.-shown { display: block; }
    """

    _shown: Content | None = None

    def render(self) -> Content:
        if self._shown is None:
            self._shown = self.build()
        return self._shown

    def build(self) -> Content:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        view = ctx.state_view
        if view is None or view.ok:
            return Content("")
        kind = (view.error_kind or "error").upper()
        message = view.error or ""
        full = os.path.abspath(ctx.config.state)
        if message.startswith(full + ": "):  # the top bar names the file already
            message = message[len(full) + 2:]
        head = row(Content.styled(f"STATE FILE {kind}", "$error bold"), ": ", message)
        good = ctx.last_good
        since = (f"last good values from {fmt.utc_time(good.mtime, with_date=False)} shown dimmed"
                 if good is not None else "no good values seen yet")
        bv = ctx.backups_view
        newest_good = bv.newest_good if bv is not None else None
        if ctx.config.read_only:
            nxt = "read-only: restart without --read-only to repair"
        elif newest_good is not None:
            nxt = f"g guided recovery · r restore a backup (newest good: {fmt.age(newest_good.age_s(ctx.now()))} old)"
        elif view.error_kind == "missing":
            nxt = "g guided recovery · i create a new state (no backup verifies), then reconcile its cash"
        else:
            nxt = "no backup verifies: g guided recovery · i only after moving the bad file aside"
        return Content("\n").join([head, row(label(since + ". Next: "), Content.styled(nxt, "bold"))])

    def update_view(self) -> None:
        view = self.app.ctx.state_view  # type: ignore[attr-defined]
        self.set_class(view is not None and not view.ok, "-shown")  # a class change lays the screen out again
        new = self.build()
        if self._shown is not None and new.is_same(self._shown):
            return
        lines_changed = self._shown is None or new.plain.count("\n") != self._shown.plain.count("\n")
        self._shown = new
        self.refresh(layout=lines_changed)

    def on_resize(self) -> None:
        self._shown = None
