"""Backups: browse (newest first), verify, preview with a diff against the current state,
diff any two, restore one (through the repair wizard), take one now, prune."""

from __future__ import annotations

from typing import Any, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from statetui.tui.plain import plain, safe
from statetui.tui import fmt
from statetui.tui.screens.base import BaseScreen
from statetui.tui.screens.repair import diff_table
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.offsite import BackupLists, OffsitePanel, offsite_configured
from statetui.tui.widgets.tables import ActionTable
from statetui.tui.widgets.style import label, lines, row, strong

PREVIEW_ROLES = ("cash", "peak", "mode", "halted", "halt_reason", "trades", "updated_at")


class BackupsScreen(BaseScreen):
    NAME = "backups"
    HELP = """\
Every backup of the state file, newest first: statetui's own (named with their time
and checksum) and hand-made copies (backup_YYYYMMDD.json, *.backup). Checksum ok/bad
is checked against the name; valid means it parses as a state.

Moving the cursor previews the highlighted backup and its diff against the current
state. enter (or r) restores it through the repair wizard (the current file is backed
up first). m marks a backup, d diffs the marked one against the highlighted one.
v verifies all again, b takes a backup now, P prunes old ones (both are wizards).

With [offsite] set, the bucket's backups are listed beside the local ones (tab moves
there, R reloads); enter on one restores it through the same wizard, downloaded and
verified first."""

    BINDINGS = [
        Binding("r", "restore", "Restore", id="backups-restore", show=False),
        Binding("m", "mark", "Mark", id="backups-mark"),
        Binding("d", "diff", "Diff", id="backups-diff"),
        Binding("v", "verify", "Verify all", id="backups-verify", show=False),
        Binding("b", "backup_now", "Backup now", id="backups-now"),
        Binding("P", "prune", "Prune", id="backups-prune"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, pick: bool = False, on_done: Callable[[Any], None] | None = None) -> None:
        super().__init__()
        self.pick = pick
        self.on_done = on_done
        self.marked: str | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("restore: choose a backup" if self.pick else "backups")
        with Vertical(id="backups-body"):
            local = ActionTable("Restore", id="backup-table", cursor_type="row")
            if offsite_configured(self.sapp.config)[0]:  # off-site beside the local list (issue 17)
                with BackupLists():
                    yield local
                    yield OffsitePanel(self.sapp.config)
            else:
                yield local
            with VerticalScroll(id="backup-detail"):
                yield Static(id="backup-preview")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#backup-table", DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("created (UTC)", key="created", width=19)
        table.add_column("age", key="age", width=6)
        table.add_column("reason", key="reason", width=12)
        table.add_column("sum", key="checksum", width=5)
        table.add_column("cash", key="cash", width=10)
        table.add_column("peak", key="peak", width=10)
        table.add_column("name", key="name")
        self.query_one("#backup-detail").border_title = "Preview"
        super().on_mount()
        table.focus()

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("backups", "all"):
            self._fill()

    def _fill(self) -> None:
        bv = self.sapp.backups_view
        table = self.query_one("#backup-table", DataTable)
        keep = self.selected()
        table.clear()
        if bv is None:
            return
        now = self.sapp.now()
        for b in bv.infos:
            bad = b.checksum in ("bad", "unreadable") or b.valid is False
            check = {"ok": "ok", "bad": "BAD", "none": "—", "unreadable": "ERR", "unverified": "?"}.get(b.checksum, b.checksum)
            if b.valid is False and check == "ok":
                check = "INV"
            table.add_row(
                "*" if b.name == self.marked else " ",
                fmt.utc_time(b.created)[:19],
                fmt.age(b.age_s(now)),
                (b.reason or b.kind)[:12],
                Content.styled(check, "bold red" if bad else ("green" if check == "ok" else "")),
                fmt.money(b.cash) if b.cash is not None else "—",
                fmt.money(b.peak) if b.peak is not None else "—",
                plain(b.name),
                key=b.name,
            )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        if not bv.infos:
            self.query_one("#backup-preview", Static).update(
                lines(Content.styled(safe(bv.error or f"no backups in {bv.dir}"), "$warning"), label("b takes one now")))
        else:
            self._preview()

    def selected(self) -> str | None:
        table = self.query_one("#backup-table", DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None

    def info(self, name: str | None):
        bv = self.sapp.backups_view
        return next((b for b in bv.infos if b.name == name), None) if bv and name else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_restore()

    def _preview(self) -> None:
        b = self.info(self.selected())
        if b is not None:
            self.query_one("#backup-detail").border_title = plain(f"Preview · {b.name}")
            self._load_diff(b, None)

    @work(thread=True, exclusive=True, group="backup-preview", exit_on_error=False)
    def _load_diff(self, b, other) -> None:
        """b against the current state, or against `other` (another backup)."""
        from statetui.core.errors import StatetuiError
        from statetui.core.jsondoc import parse_document
        from statetui.core.model import changed_fields
        from statetui.tui.data import store_for

        store = store_for(self.sapp.config)
        try:
            new = parse_document(store.backups.read(b), str(b.path))
        except (OSError, StatetuiError) as exc:
            out = (b, other, None, None, f"cannot read {b.name}: {exc}")
        else:
            if other is not None:
                try:
                    base, why = parse_document(store.backups.read(other), str(other.path)), None
                except (OSError, StatetuiError) as exc:
                    base, why = None, f"cannot read {other.name}: {exc}"
            else:
                try:
                    base, why = parse_document(store.read_bytes(), str(store.path)), None
                except StatetuiError as exc:
                    base, why = None, f"current state unreadable: {exc}"
            changes = [(k, a, c) for k, (a, c) in changed_fields(base, new).items()] if base is not None else None
            from statetui.core.roles import roles_for

            roles = roles_for(self.sapp.config, new)
            preview = {f"{r} ({roles.field_name(r)})" if roles.field_name(r) != r else r: v["value"]
                       for r, v in roles.values(new).items() if r in PREVIEW_ROLES}
            out = (b, other, preview, changes, why)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_diff, *out)

    def _show_diff(self, b, other, preview, changes, why) -> None:
        width = max(40, self.query_one("#backup-detail").size.width - 4)
        out: list[Content | str] = [row(strong(b.name))]
        out.append(row(label("checksum "), b.checksum, label(" · valid "), str(b.valid), label(" · "), fmt.size(b.size)))
        if b.error:
            out.append(Content.styled(safe(b.error), "$error"))
        if preview:
            out.append(row(*[c for k, v in preview.items() for c in (label(f"{k} "), fmt.show_value(v, 24), "  ")]))
        against = f"the marked backup {other.name}" if other is not None else "the current state"
        out.append("")
        if why:
            out.append(row(label(f"diff against {against}: "), Content.styled(safe(why), "$warning")))
        elif changes is not None:
            out.append(strong(f"Diff: {against} → this backup" if other is None else f"Diff: {other.name} → {b.name}"))
            out.extend(diff_table(changes, width) or [label("identical")])
        self.query_one("#backup-preview", Static).update(lines(*out))

    # --- actions -----------------------------------------------------------------------

    def action_restore(self) -> None:
        name = self.selected()
        if name is None:
            return
        from statetui.tui.screens.repair import RepairScreen

        def done(outcome: Any) -> None:
            if self.pick and outcome is not None and outcome.ok:
                self.dismiss(outcome)
            if self.on_done is not None and outcome is not None:
                self.on_done(outcome)

        self.app.push_screen(RepairScreen("restore-backup", {"backup": name}), done)

    def action_mark(self) -> None:
        name = self.selected()
        self.marked = None if name == self.marked else name
        self._fill()

    def action_diff(self) -> None:
        b, other = self.info(self.selected()), self.info(self.marked)
        if other is None:
            self.notify("mark a backup first (m), then highlight another and press d", severity="warning")
            return
        self._load_diff(b, other)

    def action_verify(self) -> None:
        self.sapp.request("backups")
        self.notify("verifying every backup…", timeout=2)

    def action_backup_now(self) -> None:
        self.sapp.open_repair("backup-now")

    def action_prune(self) -> None:
        self.sapp.open_repair("prune-backups")

    def action_back(self) -> None:
        if self.pick:
            self.dismiss(None)
        else:
            super().action_back()
