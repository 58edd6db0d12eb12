"""Backups: browse (newest first), verify, preview with a diff against the current state,
diff any two, restore one (through the repair wizard), take one now, prune.

A column is one entry in COLUMNS and one value in `cells()` (and `sort_values()`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from statetui.tui.plain import plain, safe
from statetui.tui import fmt
from statetui.tui.messages import OpenRepair, Refresh
from statetui.tui.screens.base import screen_keys, PaletteCommand
from statetui.tui.screens.table import Column, Row, TableScreen
from statetui.tui.widgets.difftable import diff_table
from statetui.tui.widgets.style import label, lines, row, strong

PREVIEW_ROLES = ("cash", "peak", "mode", "halted", "halt_reason", "trades", "updated_at")
_CHECK = {"ok": "ok", "bad": "BAD", "none": "—", "unreadable": "ERR", "unverified": "?"}


class BackupsScreen(TableScreen):
    NAME = "backups"
    DETAIL = "Preview"
    ENTER = "Restore"
    FILTER_HINT = "/ filter: name, reason, checksum"
    HELP = """\
Every backup of the state file, newest first: statetui's own (named with their time
and checksum) and hand-made copies (backup_YYYYMMDD.json, *.backup). Checksum ok/bad
is checked against the name; valid means it parses as a state.

Moving the cursor previews the highlighted backup and its diff against the current
state. enter (or r) restores it through the repair wizard (the current file is backed
up first). m marks a backup, d diffs the marked one against the highlighted one.
V verifies every backup again, b takes a backup now, P prunes old ones (both are
wizards). / filters, s sorts by a column (S reverses), y copies the backup's name,
v shows the row whole."""

    COLUMNS = [
        Column("mark", "", 1),
        Column("created", "created UTC", 11),
        Column("age", "age", 5),
        Column("reason", "reason", 10),
        Column("checksum", "sum", 3),
        Column("cash", "cash", 8),
        Column("peak", "peak", 8),
        Column("name", "name"),
    ]
    BINDINGS = screen_keys(
        Binding("r", "restore", "Restore", id="backups-restore", show=False),
        Binding("m", "mark", "Mark", id="backups-mark"),
        Binding("d", "diff", "Diff", id="backups-diff"),
        Binding("V", "verify", "Verify all", id="backups-verify", show=False),
        Binding("b", "backup_now", "Backup now", id="backups-now"),
        Binding("P", "prune", "Prune", id="backups-prune", show=False),
        table=True, copy=True,
    )

    def __init__(self, pick: bool = False, on_done: Any = None) -> None:
        super().__init__()
        self.pick = pick  # the restore picker: choosing a backup is the point
        self.on_done = on_done
        self.marked: str | None = None

    def title_text(self) -> str:
        return "restore: choose a backup" if self.pick else "backups"

    def on_mount(self) -> None:  # (Textual runs the base classes' on_mount too)
        self.ctx.whole_backups = True  # the dashboard reads the backups' summary; this screen lists every one
        bv = self.ctx.backups_view
        if bv is None or bv.summary is not None:
            self.post_message(Refresh(("backups",)))

    def on_unmount(self) -> None:
        self.ctx.whole_backups = False

    def table_area(self, table):
        from statetui.tui.widgets.offsite import BackupLists, OffsitePanel, offsite_configured

        if not offsite_configured(self.ctx.config)[0]:
            yield table
            return
        with BackupLists():  # off-site beside the local list (issue 17)
            yield table
            yield OffsitePanel(self.ctx.config)

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("backups", "all"):
            self.fill()

    def infos(self) -> list[Any]:
        bv = self.ctx.backups_view
        return list(bv.infos) if bv is not None else []

    def info(self, name: str | None):
        return next((b for b in self.infos() if b.name == name), None) if name else None

    def cells(self, b) -> tuple[Any, ...]:
        bad = b.checksum in ("bad", "unreadable") or b.valid is False
        check = _CHECK.get(b.checksum, b.checksum)
        if b.valid is False and check == "ok":
            check = "INV"
        return ("*" if b.name == self.marked else " ", fmt.utc_time(b.created)[5:16], fmt.age(b.age_s(self.ctx.now())),
                b.reason or b.kind, Content.styled(check, "bold red" if bad else ("green" if check == "ok" else "")),
                _money(b.cash), _money(b.peak), fmt.clip_middle(self.short_name(b.name), self.name_width()))

    def short_name(self, name: str) -> str:
        """Without the state file's stem and the .json every backup of ours has."""
        stem = Path(self.ctx.config.state).stem + "."
        if name.startswith(stem) and name.endswith(".json") and len(name) > len(stem) + 5:
            return name[len(stem):-5]
        return name

    def name_width(self) -> int:
        """What is left of the row for the name (its time and checksum kept, the middle cut:
        v shows it whole, y copies it)."""
        fixed = sum((c.width or 0) + 2 for c in self.COLUMNS if c.width)
        return max(16, (self.table.size.width or self.app.size.width or 80) - fixed - 3)

    def on_resize(self) -> None:
        self.fill()

    def sort_values(self, b) -> tuple[Any, ...]:
        return (b.name == self.marked, b.created, -b.created, b.reason or b.kind, b.checksum,
                _num(b.cash), _num(b.peak), b.name)

    def rows(self) -> list[Row]:
        return [Row(b.name, self.cells(b), self.sort_values(b), f"{b.name} {b.reason or b.kind} {b.checksum}")
                for b in self.infos()]

    def empty_text(self) -> str:
        bv = self.ctx.backups_view
        if self.query_text:
            return super().empty_text()
        return (bv.error if bv is not None and bv.error else f"no backups in {bv.dir if bv else '?'}") + " · b takes one now"

    # --- preview ---------------------------------------------------------------------------

    def detail(self, name: str) -> Content:
        b = self.info(name)
        if b is None:
            return label("…")
        self.query_one("#table-detail").border_title = plain(f"Preview · {b.name}")
        self._load_diff(b, None)
        return label("reading the backup…")

    @work(thread=True, exclusive=True, group="backup-preview", exit_on_error=False)
    def _load_diff(self, b, other) -> None:
        """b against the current state, or against `other` (another backup)."""
        from statetui.core.errors import StatetuiError
        from statetui.core.jsondoc import parse_document
        from statetui.core.model import changed_fields
        from statetui.tui.data import store_for

        store = store_for(self.ctx.config)
        try:
            new = parse_document(store.backups.read(b), str(b.path))
        except (OSError, StatetuiError) as exc:
            out = (b, other, None, None, f"cannot read {b.name}: {exc}")
        else:
            try:
                if other is not None:
                    base, why = parse_document(store.backups.read(other), str(other.path)), None
                else:
                    base, why = parse_document(store.read_bytes(), str(store.path)), None
            except (OSError, StatetuiError) as exc:
                base, why = None, (f"cannot read {other.name}: {exc}" if other is not None else f"current state unreadable: {exc}")
            changes = [(k, a, c) for k, (a, c) in changed_fields(base, new).items()] if base is not None else None
            from statetui.core.roles import roles_for

            roles = roles_for(self.ctx.config, new)
            preview = {f"{r} ({roles.field_name(r)})" if roles.field_name(r) != r else r: v["value"]
                       for r, v in roles.values(new).items() if r in PREVIEW_ROLES}
            out = (b, other, preview, changes, why)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_diff, *out)

    def _show_diff(self, b, other, preview, changes, why) -> None:
        if self.selected() != b.name:
            return  # the cursor moved on
        width = self.detail_width
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
        self.query_one("#table-text", Static).update(lines(*out))

    def extra_items(self, name: str) -> list[tuple[str, str]]:
        b = self.info(name)
        if b is None:
            return []
        items = [("name", b.name), ("created", fmt.utc_time(b.created)), ("path", str(b.path)), ("sha256", b.sha256 or "not read")]
        if b.error:
            items.append(("error", b.error))
        return items + [("restore command", f"statetui restore {b.name}")]

    def copy_value(self) -> tuple[str, str] | None:
        name = self.selected()
        return (name, "the backup's name") if name else None

    # --- actions -----------------------------------------------------------------------

    def on_data_table_row_selected(self, event) -> None:
        self.action_restore()

    def action_restore(self) -> None:
        name = self.selected()
        if name is None:
            return

        def done(outcome: Any) -> None:
            if self.pick and outcome is not None and outcome.ok:
                self.dismiss(outcome)
            if self.on_done is not None and outcome is not None:
                self.on_done(outcome)

        self.post_message(OpenRepair("restore-backup", {"backup": name}, done))

    def action_mark(self) -> None:
        name = self.selected()
        self.marked = None if name == self.marked else name
        self.fill()

    def action_diff(self) -> None:
        b, other = self.info(self.selected()), self.info(self.marked)
        if other is None or b is None:
            self.notify("mark a backup first (m), then highlight another and press d", severity="warning")
            return
        self._load_diff(b, other)

    def action_verify(self) -> None:
        self.post_message(Refresh(("backups",), fresh=True))
        self.notify("verifying every backup…", timeout=2)

    def action_backup_now(self) -> None:
        self.post_message(OpenRepair("backup-now"))

    def action_prune(self) -> None:
        self.post_message(OpenRepair("prune-backups"))

    def action_back(self) -> None:
        if self.pick and not self.query_text:
            self.dismiss(None)
        else:
            super().action_back()

    def palette(self) -> list[PaletteCommand]:
        return [PaletteCommand("backups: mark for diff", "mark the highlighted backup", self.action_mark),
                PaletteCommand("backups: diff marked", "diff the marked backup against the highlighted one", self.action_diff),
                PaletteCommand("backups: verify all", "check every backup's checksum and content again", self.action_verify),
                PaletteCommand("backups: prune", "remove old backups (a wizard)", self.action_prune)]


def _money(value: Any) -> str:
    return fmt.money(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
