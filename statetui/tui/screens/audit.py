"""Every check: status, last run, duration; run one or all; findings with file:line and
recommendations; open the repair a check names; export the report."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from textual import work
from textual.binding import Binding
from textual.content import Content

from statetui.audit.base import Status
from statetui.tui.plain import notice
from statetui.tui import fmt
from statetui.tui.dialogs import InputScreen
from statetui.tui.messages import PickRepair, RunChecks
from statetui.tui.screens.base import screen_keys, PaletteCommand
from statetui.tui.screens.table import Column, Row, TableScreen
from statetui.tui.widgets.style import label, lines, row, status, strong, table_status

_ORDER = {None: -1, "RUNNING": -1, **{s.value: s.rank for s in Status}}


class AuditScreen(TableScreen):
    NAME = "audit"
    DETAIL = "Findings"
    ENTER = "Run"
    FILTER_HINT = "/ filter: check id, status or words of its summary"
    HELP = """\
Every audit check with its latest status, when it last ran and how long it took.
enter runs the highlighted check; r runs them all (the chain check reads the RPC,
only when you ask). The panel below shows the check's findings, with the file and
line they point at, its recommendations, and the repairs that fix it: press p to
open that repair's wizard. x exports the whole report as Markdown, X as JSON (the
same renderers as `statetui audit --format md|json`). / filters, s sorts by a
column (S reverses), y copies the repair command, v shows the row whole."""

    COLUMNS = [
        Column("status", "status", 6),
        Column("check", "check", 18),
        Column("ran", "last run", 9),
        Column("ms", "ms", 6),
        Column("summary", "summary"),
    ]
    BINDINGS = screen_keys(
        Binding("r", "run_all", "Run all", id="audit-run-all"),
        Binding("p", "repair", "Repair", id="audit-repair"),
        Binding("x", "export('md')", "Export", id="audit-export-md"),
        Binding("X", "export('json')", "Export JSON", id="audit-export-json", show=False),
        table=True, copy=True,
    )

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if kind in ("audit", "all"):
            self.fill()

    def rows(self) -> list[Row]:
        ctx = self.ctx
        out = []
        for cid in ctx.audit_ids:
            entry = ctx.audit.get(cid)
            st = ctx.status_of(cid)
            summary = (entry.result.summary if entry else ("running" if st == "RUNNING" else "not run")).replace("\n", " ")
            ms = entry.result.duration_ms if entry else None
            cells = (table_status(st), cid, fmt.utc_time(entry.ran_at, with_date=False) if entry else "—",
                     f"{ms:.0f}" if ms is not None else "—", summary)
            out.append(Row(cid, cells, (_ORDER.get(st, 0), cid, entry.ran_at if entry else None, ms, summary),
                           f"{cid} {st or ''} {summary}"))
        return out

    def detail(self, cid: str) -> Content:
        ctx = self.ctx
        self.query_one("#table-detail").border_title = f"Findings · {cid}"
        entry = ctx.audit.get(cid)
        if entry is None:
            return label("running…" if cid in ctx.audit_running else "not run yet · enter runs it")
        r = entry.result
        out: list[Content | str] = [row(status(r.status.value), " ", strong(r.title), label(f" · {r.duration_ms:.0f} ms")),
                                    r.summary]
        if r.findings:
            out.append("")
            for f in r.findings:
                where = f"  [{f.where}]" if f.where else ""
                out.append(row(status(f.severity), " ", f.message, label(where)))
        if r.recommendations:
            out += ["", strong("Recommendations")] + [f"• {rec}" for rec in r.recommendations]
        if r.repairs:
            out += ["", row(strong("Repairs: "), ", ".join(r.repairs), label("   (p opens the wizard)"))]
        return lines(*out)

    def extra_items(self, cid: str) -> list[tuple[str, str]]:
        entry = self.ctx.audit.get(cid)
        if entry is None:
            return []
        r = entry.result
        items = [(f"finding {i + 1} ({f.severity})", f.message + (f" [{f.where}]" if f.where else ""))
                 for i, f in enumerate(r.findings)]
        items += [(f"recommendation {i + 1}", rec) for i, rec in enumerate(r.recommendations)]
        items += [(f"repair {rid}", f"statetui repair {rid}") for rid in r.repairs]
        return items

    def copy_value(self) -> tuple[str, str] | None:
        cid = self.selected()
        entry = self.ctx.audit.get(cid) if cid else None
        if entry is None:
            return None
        r = entry.result
        if r.repairs:
            return f"statetui repair {r.repairs[0]}", "the repair command"
        where = next((f.where for f in r.findings if f.where), None)
        if where:
            return where, "the file it points at"
        return f"statetui audit --check {cid}", "the audit command"

    # --- actions -----------------------------------------------------------------------

    def on_data_table_row_selected(self, event) -> None:
        # The table takes enter first: selecting a row runs its check.
        self.action_run_selected()

    def action_run_selected(self) -> None:
        cid = self.selected()
        if cid:
            self.post_message(RunChecks([cid]))

    def action_run_all(self) -> None:
        self.post_message(RunChecks(("*",)))

    def action_repair(self) -> None:
        cid = self.selected()
        entry = self.ctx.audit.get(cid) if cid else None
        if entry is None or not entry.result.repairs:
            self.notify("this check names no repair; p on the dashboard lists them all", severity="warning")
            return
        self.post_message(PickRepair(list(entry.result.repairs)))

    def action_export(self, fmt_name: str) -> None:
        ctx = self.ctx
        if ctx.config.read_only:
            self.notify("read-only: not writing the report", severity="warning")
            return
        results = [ctx.audit[c].result for c in ctx.audit_ids if c in ctx.audit]
        if not results:
            self.notify("run the checks first (r)", severity="warning")
            return
        stamp = datetime.fromtimestamp(ctx.now(), timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        default = os.path.join(os.getcwd(), f"statetui-audit-{stamp}.{fmt_name}")

        def chosen(path: str | None) -> None:
            if path:
                self._export(results, fmt_name, path)

        self.app.push_screen(InputScreen(f"Export {fmt_name}", default, "write the report to:"), chosen)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, results, fmt_name: str, path: str) -> None:
        from statetui.audit.report import dumps_json, to_markdown

        config = self.ctx.config
        text = to_markdown(results, config) if fmt_name == "md" else dumps_json(results, config) + "\n"
        from statetui.core.errors import StatetuiError
        from statetui.core.outfile import write_output

        try:  # the CLI's --output writer: private temp, fsync, never over a link, device or FIFO
            write_output(path, text, "report", read_only=config.read_only, exclusive=True)
        except StatetuiError as exc:
            self.app.call_from_thread(self.notify, notice(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, notice(f"report written to {path}"), title="exported", markup=False)

    def palette(self) -> list[PaletteCommand]:
        return [PaletteCommand("audit: export markdown", "write the report as Markdown", lambda: self.action_export("md")),
                PaletteCommand("audit: export json", "write the report as JSON", lambda: self.action_export("json"))]
