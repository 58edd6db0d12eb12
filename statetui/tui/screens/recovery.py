"""The guided recovery: the incident playbook, one step at a time (statetui.tui.playbook).

Checking a step only reads. Fixing it opens the repair wizard; what the wizard did is
recorded and the step is checked again. Progress is saved after every change (in a
thread worker) and restored when the console is opened again."""

from __future__ import annotations

import copy
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from statetui.tui.plain import notice
from statetui.tui import fmt
from statetui.tui import playbook as pb
from statetui.tui.screens.base import BaseScreen
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.tables import ActionOptionList
from statetui.tui.widgets.style import label, lines, row, status, strong


class RecoveryScreen(BaseScreen):
    NAME = "guided recovery"
    HELP = """\
The incident playbook: is the bot stopped? is the state readable? snapshot it; are
the backups healthy? does cash match the chain? is the peak sane? full audit; start
the bot. Each step is checked when you reach it (enter checks it again). f fixes it:
the repair the check names opens in the usual wizard, and what it did is recorded.
n goes to the next step once this one passes, or after you mark it done (d) or skip
it (s): both are recorded. e ends the incident and writes the incident log (Markdown,
beside the state file). Progress is kept in .statetui-playbook.json beside the state
file, so quitting and reopening the console carries on where you were. N starts a new
incident."""

    BINDINGS = [
        Binding("c", "check", "Check", id="recovery-check", show=False),
        Binding("f", "fix", "Fix", id="recovery-fix"),
        Binding("n", "next", "Next", id="recovery-next"),
        Binding("d", "mark('done')", "Done", id="recovery-done"),
        Binding("s", "mark('skipped')", "Skip", id="recovery-skip"),
        Binding("e", "finish", "End+log", id="recovery-finish"),
        Binding("N", "restart", "New incident", id="recovery-new", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.book: pb.Playbook | None = None
        self.checking: str | None = None

    def compose(self) -> ComposeResult:
        yield TopBar("guided recovery")
        with Horizontal(id="recovery-body"):
            yield ActionOptionList("Check", id="steps")
            with VerticalScroll(id="step-detail"):
                yield Static(id="step-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#steps").border_title = "Steps"
        self.query_one("#step-detail").border_title = "Step"
        super().on_mount()
        self._open()

    # --- progress file ---------------------------------------------------------------

    @work(thread=True, group="playbook-load", exit_on_error=False)
    def _open(self) -> None:
        book = pb.Playbook(self.sapp.config, now=self.sapp.now, saver=self._save_later)
        self.app.call_from_thread(self._opened, book)

    def _opened(self, book: pb.Playbook) -> None:
        self.book = book
        if book.note:
            self.notify(notice(book.note), severity="warning", markup=False)
        self._redraw()
        ol = self.query_one(OptionList)
        ol.highlighted = book.progress.current
        ol.focus()
        if book.progress.finished is None and pb.STEP_IDS[book.progress.current] not in book.progress.results:
            self.action_check()

    def _save_later(self, data: bytes, seq: int) -> None:
        self.run_worker(lambda: self.book.write(data, seq), thread=True, group="playbook-save", exit_on_error=False)

    # --- the step list ----------------------------------------------------------------

    @property
    def step_id(self) -> str:
        ol = self.query_one(OptionList)
        index = ol.highlighted if ol.highlighted is not None else (self.book.progress.current if self.book else 0)
        return pb.STEPS[index].id

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.book is not None and event.option_index != self.book.progress.current:
            self.book.move(event.option_index)
        self._render_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_check()

    def _redraw(self) -> None:
        if self.book is None:
            return
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.clear_options()
        for i, s in enumerate(pb.STEPS, 1):
            st = "RUNNING" if self.checking == s.id else self.book.progress.status(s.id)
            ol.add_option(Option(Content.assemble(status(st), f" {i} {s.short or s.title}"), id=s.id))
        if keep is not None:
            ol.highlighted = keep
        self._render_detail()

    def _render_detail(self) -> None:
        out = self.query_one("#step-text", Static)
        if self.book is None:
            out.update(label("opening the playbook…"))
            return
        p = self.book.progress
        sid = self.step_id
        d = pb.step_def(sid)
        r = p.results.get(sid)
        index = pb.STEP_IDS.index(sid)
        body: list[Content | str] = [
            row(strong(f"Step {index + 1} of {len(pb.STEPS)}: {d.title}")),
            label(d.why),
            "",
        ]
        if self.checking == sid:
            body.append(Content.styled("checking…", "$accent"))
        elif r is None:
            body.append(label("not checked yet · enter checks it"))
        else:
            body.append(row(status(r.status), " ", r.summary, label(f"  ({fmt.utc_time(r.at, with_date=False)})")))
            body += [row(label("  "), line) for line in r.lines]
            if r.command:
                body.append(row(label("  run: "), Content.styled(r.command, "bold")))
            for c in r.checks:
                body.append(row(label("  check "), status(c.get("status")), " ", strong(str(c.get("id"))), " ",
                                fmt.clip(str(c.get("summary")), 70)))
        mark = p.marks.get(sid)
        if mark:
            body.append(row(label("marked "), strong(mark), label(" by the engineer")))
        fix = self._fix_ids(r)
        body.append("")
        if fix and r is not None and r.suggested in fix:
            body.append(row(Content.styled(" f ", "bold reverse"), " fix it: ", strong(r.suggested),
                            label(f"   (also: {', '.join(fix[1:])})" if len(fix) > 1 else "")))
        elif fix:
            body.append(row(label("f opens a repair for this step: "), ", ".join(fix)))
        done_here = [a for a in p.actions if a.get("step") == sid]
        if done_here:
            body.append(strong("Done in this step"))
            for a in done_here:
                ok = "ok" if a.get("ok") else "FAILED"
                body.append(row(label(f"  {fmt.utc_time(a['ts'], with_date=False)} "), f"{a.get('action')}: {ok}",
                                label(f" — {a['message']}" if a.get("message") else "")))
                if a.get("undo"):
                    body.append(row(label("    undo: "), a["undo"]))
        body.append("")
        if p.finished:
            body.append(row(Content.styled(" INCIDENT CLOSED ", "$success bold reverse"), " ",
                            f"log: {p.log}" if p.log else label(self.book.note or "no log written")))
            body.append(label("N starts a new incident"))
        elif p.settled(sid):
            nxt = "n: next step" if index < len(pb.STEPS) - 1 else "e: end the incident and write the log"
            body.append(Content.styled(nxt, "bold $success"))
        else:
            body.append(label("fix it (f), or mark it done (d) / skip it (s) to move on"))
        out.update(lines(*body))
        self.refresh_bindings()

    def _fix_ids(self, r: pb.StepResult | None) -> list[str]:
        from statetui.repair.runner import repair_ids

        known = set(repair_ids())
        d = pb.step_def(self.step_id)
        ids = [x for x in d.repairs if x in known]
        if r is not None and r.suggested in ids:
            ids.remove(r.suggested)
            ids.insert(0, r.suggested)
        return ids

    # --- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.book is None:
            return None if action not in ("back",) else True
        if action == "next":
            return True if self.book.progress.settled(self.step_id) else None
        if action == "fix":
            return True if self._fix_ids(self.book.progress.results.get(self.step_id)) else None
        return True

    def action_check(self) -> None:
        if self.book is None or self.checking:
            return
        self.checking = self.step_id
        self._redraw()
        self._evaluate(self.step_id, copy.deepcopy(self.book.progress))

    @work(thread=True, group="playbook-check", exit_on_error=False)
    def _evaluate(self, step_id: str, progress: pb.Progress) -> None:
        result = pb.evaluate(step_id, self.sapp.config, progress, self.sapp.now())
        self.app.call_from_thread(self._evaluated, step_id, result)

    def _evaluated(self, step_id: str, result: pb.StepResult) -> None:
        self.checking = None
        if self.book is not None:
            self.book.record(step_id, result)
            if step_id == "audit":
                self._share_audit(result)
        self._redraw()

    def _share_audit(self, result: pb.StepResult) -> None:
        """The full audit's results update the audit summary everywhere."""
        from statetui.audit.base import CheckResult, Finding, Status

        shared = []
        for c in result.checks:
            shared.append(CheckResult(
                id=c["id"], title=c["title"], status=Status(c["status"]), summary=c["summary"],
                findings=[Finding(**f) for f in c.get("findings", [])], recommendations=c.get("recommendations", []),
                repairs=c.get("repairs", []), duration_ms=c.get("duration_ms", 0.0), data=c.get("data", {})))
        self.sapp.record_results(shared)

    def action_fix(self) -> None:
        if self.book is None:
            return
        ids = self._fix_ids(self.book.progress.results.get(self.step_id))
        if not ids:
            return
        sid = self.step_id
        r = self.book.progress.results.get(sid)

        def done(outcome: Any, rid: str | None = None) -> None:
            if outcome is None or self.book is None:
                return
            repair = rid or getattr(outcome, "repair_id", None) or (r.suggested if r else ids[0])
            self.book.record_repair(sid, repair, outcome.ok, outcome.message, outcome.backup, outcome.undo,
                                    [v.to_dict() for v in outcome.verify])
            self.notify(notice(f"recorded: {repair}: {outcome.message}"), timeout=4, markup=False)
            self._redraw()
            self.action_check()

        if len(ids) == 1 or (r is not None and r.suggested == ids[0]):
            rid = ids[0]
            self.sapp.open_repair(rid, lambda o: done(o, rid))
            return
        from statetui.tui.screens.dialogs import PickScreen, repair_titles

        def chosen(rid: str | None) -> None:
            if rid:
                self.sapp.open_repair(rid, lambda o: done(o, rid))

        self.app.push_screen(PickScreen("Fix with", repair_titles(ids)), chosen)

    def action_next(self) -> None:
        if self.book is None:
            return
        sid = self.step_id
        if not self.book.progress.settled(sid):
            self.notify("this step has not passed: fix it (f), or mark it done (d) / skip it (s)", severity="warning")
            return
        index = pb.STEP_IDS.index(sid)
        if index >= len(pb.STEPS) - 1:
            self.action_finish()
            return
        self.book.move(index + 1)
        self.query_one(OptionList).highlighted = index + 1
        if pb.STEPS[index + 1].id not in self.book.progress.results:
            self.action_check()
        else:
            self._redraw()

    def action_mark(self, mark: str) -> None:
        if self.book is None:
            return
        self.book.mark(self.step_id, mark)
        self._redraw()

    def action_finish(self) -> None:
        if self.book is None:
            return
        self._finish()

    @work(thread=True, group="playbook-finish", exit_on_error=False)
    def _finish(self) -> None:
        path = self.book.finish()
        self.app.call_from_thread(self._finished, path)

    def _finished(self, path) -> None:
        if path is not None:
            self.notify(notice(f"incident log written: {path}"), title="incident closed", timeout=8, markup=False)
        elif self.book is not None and self.book.note:
            self.notify(notice(self.book.note), severity="warning", markup=False)
        self._redraw()

    def action_restart(self) -> None:
        from statetui.tui.screens.dialogs import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes and self.book is not None:
                self.book.restart()
                self.query_one(OptionList).highlighted = 0
                self._redraw()
                self.action_check()

        self.app.push_screen(ConfirmScreen("Start a new incident?", "the current progress is forgotten (its log, if written, stays)"), answer)
