"""Every check: status, last run, duration; run one or all; findings with file:line and
recommendations; open the repair a check names; export the report."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Static

from statetui.tui.plain import notice, plain
from statetui.tui import fmt
from statetui.tui.screens.base import BaseScreen
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.tables import ActionTable
from statetui.tui.widgets.style import label, lines, row, status, strong, table_status


class AuditScreen(BaseScreen):
    NAME = "audit"
    HELP = """\
Every audit check with its latest status, when it last ran and how long it took.
enter runs the highlighted check; r runs them all (the chain check reads the RPC,
only when you ask). The panel below shows the check's findings, with the file and
line they point at, its recommendations, and the repairs that fix it: press p to
open that repair's wizard. x exports the whole report as Markdown, X as JSON (the
same renderers as `statetui audit --format md|json`)."""

    BINDINGS = [
        Binding("r", "run_all", "Run all", id="audit-run-all"),
        Binding("p", "repair", "Repair", id="audit-repair"),
        Binding("x", "export('md')", "Export md", id="audit-export-md"),
        Binding("X", "export('json')", "Export JSON", id="audit-export-json", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def compose(self) -> ComposeResult:
        yield TopBar("audit")
        with Vertical(id="audit-body"):
            yield ActionTable("Run", id="checks", cursor_type="row")
            with VerticalScroll(id="audit-detail"):
                yield Static(id="findings")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("status", key="status", width=6)
        table.add_column("check", key="check", width=18)
        table.add_column("last run", key="ran", width=9)
        table.add_column("ms", key="ms", width=6)
        table.add_column("summary", key="summary")
        self.query_one("#audit-detail").border_title = "Findings"
        super().on_mount()
        table.focus()

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("audit", "all"):
            self._fill()

    def _fill(self) -> None:
        app = self.sapp
        table = self.query_one(DataTable)
        for cid in app.audit_ids:
            entry = app.audit.get(cid)
            st = "RUNNING" if cid in app.audit_running else (entry.result.status.value if entry else None)
            cells = (
                table_status(st),
                cid,
                fmt.utc_time(entry.ran_at, with_date=False) if entry else "—",
                f"{entry.result.duration_ms:.0f}" if entry else "—",
                plain((entry.result.summary if entry else ("running" if st == "RUNNING" else "not run")).replace("\n", " ")),
            )
            if cid in table.rows:
                for key, value in zip(("status", "check", "ran", "ms", "summary"), cells):
                    table.update_cell(cid, key, value)
            else:
                table.add_row(*cells, key=cid)
        self._show_detail()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # no rows yet
            return None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes enter first: selecting a row runs its check.
        self.action_run_selected()

    def _show_detail(self) -> None:
        cid = self.selected()
        detail = self.query_one("#findings", Static)
        box = self.query_one("#audit-detail")
        if cid is None:
            detail.update(label("no checks"))
            return
        entry = self.sapp.audit.get(cid)
        box.border_title = f"Findings · {cid}"
        if entry is None:
            detail.update(label("not run yet · enter runs it" if cid not in self.sapp.audit_running else "running…"))
            return
        r = entry.result
        out: list[Content | str] = [row(status(r.status.value), " ", strong(r.title), label(f" · {r.duration_ms:.0f} ms")), r.summary]
        if r.findings:
            out.append("")
            for f in r.findings:
                where = f"  [{f.where}]" if f.where else ""
                out.append(row(status(f.severity), " ", f.message, label(where)))
        if r.recommendations:
            out.append("")
            out.append(strong("Recommendations"))
            out += [f"• {rec}" for rec in r.recommendations]
        if r.repairs:
            out.append("")
            out.append(row(strong("Repairs: "), ", ".join(r.repairs), label("   (p opens the wizard)")))
        detail.update(lines(*out))

    # --- actions -----------------------------------------------------------------------

    def action_run_selected(self) -> None:
        cid = self.selected()
        if cid:
            self.sapp.run_checks([cid])

    def action_run_all(self) -> None:
        self.sapp.run_checks(self.sapp.audit_ids)

    def action_repair(self) -> None:
        from statetui.tui.screens.dialogs import pick_repair

        cid = self.selected()
        entry = self.sapp.audit.get(cid) if cid else None
        if entry is None or not entry.result.repairs:
            self.notify("this check names no repair; p on the dashboard lists them all", severity="warning")
            return
        pick_repair(self.sapp, list(entry.result.repairs))

    def action_export(self, fmt_name: str) -> None:
        from statetui.tui.screens.dialogs import InputScreen

        app = self.sapp
        if app.config.read_only:
            self.notify("read-only: not writing the report", severity="warning")
            return
        results = [app.audit[c].result for c in app.audit_ids if c in app.audit]
        if not results:
            self.notify("run the checks first (r)", severity="warning")
            return
        stamp = datetime.fromtimestamp(app.now(), timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        default = os.path.join(os.getcwd(), f"statetui-audit-{stamp}.{fmt_name}")

        def chosen(path: str | None) -> None:
            if path:
                self._export(results, fmt_name, path)

        app.push_screen(InputScreen(f"Export {fmt_name}", default, "write the report to:"), chosen)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, results, fmt_name: str, path: str) -> None:
        from statetui.audit.report import dumps_json, to_markdown

        config = self.sapp.config
        text = to_markdown(results, config) if fmt_name == "md" else dumps_json(results, config) + "\n"
        from statetui.core.errors import StatetuiError
        from statetui.core.outfile import write_output

        try:  # the CLI's --output writer: private temp, fsync, never over a link, device or FIFO
            write_output(path, text, "report", read_only=config.read_only, exclusive=True)
        except StatetuiError as exc:
            self.app.call_from_thread(self.notify, notice(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, notice(f"report written to {path}"), title="exported", markup=False)
