"""The guided recovery: the incident playbook, one step at a time (statetui.tui.playbook).

Checking a step only reads. Fixing it opens the repair wizard (only for repairs whose
plan can apply now), or stops/starts the bot after a confirmation; what was done is
recorded and the step is checked again. A step about the bot is checked again by itself
when the bot's lock changes. Progress is saved after every change (statetui.tui.progress)."""

from __future__ import annotations

import copy
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from statetui.tui.plain import notice
from statetui.tui import fmt
from statetui.tui import playbook as pb
from statetui.tui.dialogs import ConfirmScreen, PickScreen
from statetui.tui.messages import IncidentLogged, OpenRepair, RecordResults, StartBot, StopBot
from statetui.tui.progress import Playbook
from statetui.tui.screens.base import BaseScreen, PaletteCommand, screen_keys
from statetui.tui.widgets.footer import ConsoleFooter
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.style import Cmd, label, page, row, status, strong
from statetui.tui.widgets.tables import VimOptionList

# A change of this kind may answer these steps: they are checked again by themselves.
_RECHECK_ON = {"lock": ("bot-stopped", "start-bot"), "state": ("state-readable",), "backups": ("backups",)}


class RecoveryScreen(BaseScreen):
    NAME = "guided recovery"
    HELP = """\
The incident playbook: is the bot stopped? is the state readable? snapshot it; are
the backups healthy? does cash match the chain? is the peak sane? full audit; start
the bot. Each step is checked when you reach it (enter checks it again; the bot steps
are checked again by themselves when the bot stops or starts). f fixes it: stops or
starts the bot (after a confirmation), or opens the repair the step offers in the
usual wizard; a repair whose preconditions fail is not offered, and the step says why.
n goes to the next step once this one passes, or after you mark it done (d) or skip
it (s): both are recorded. e ends the incident and writes the incident log (Markdown,
under your state directory, ~/.local/state/statetui/incidents; its path is printed when
the console exits). Progress is kept in .statetui-playbook.json beside the state file,
so quitting and reopening the console carries on where you were. N starts a new
incident. y copies the step's command."""

    BINDINGS = screen_keys(
        Binding("c", "check", "Check", id="recovery-check", show=False),
        Binding("f", "fix", "Fix", id="recovery-fix"),
        Binding("n", "next", "Next", id="recovery-next"),
        Binding("d", "mark('done')", "Done", id="recovery-done"),
        Binding("s", "mark('skipped')", "Skip", id="recovery-skip"),
        Binding("e", "finish", "End+log", id="recovery-finish"),
        Binding("N", "restart", "New incident", id="recovery-new", show=False),
    )

    def __init__(self) -> None:
        super().__init__()
        self.book: Playbook | None = None
        self.checking: str | None = None
        self.acting = False  # stopping or starting the bot
        # A change that may answer the step arrived while it was being checked or fixed:
        # that check may have read the world before the change, so it runs again after.
        self.recheck_pending = False

    def compose(self) -> ComposeResult:
        yield TopBar("guided recovery")
        with Horizontal(id="recovery-body"):
            yield VimOptionList(enter_label="Check", id="steps")
            with VerticalScroll(id="step-detail"):
                yield Static(id="step-text", classes="verbatim")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#steps").border_title = "Steps"
        self.query_one("#step-detail").border_title = "Step"
        self._open()

    def on_data(self, kind: str) -> None:
        super().on_data(kind)
        if self.book is None or self.book.progress.finished:
            return
        sid = self.step_id
        if sid not in _RECHECK_ON.get(kind, ()) or (sid not in self.book.progress.results and self.checking != sid):
            return
        if self.checking or self.acting:
            self.recheck_pending = True
            return
        self.action_check()

    @property
    def demo_start(self) -> list[str] | None:
        demo = self.ctx.demo
        return list(demo.start) if demo is not None else None

    # --- progress file ---------------------------------------------------------------

    @work(thread=True, group="playbook-load", exit_on_error=False)
    def _open(self) -> None:
        book = Playbook(self.ctx.config, now=self.ctx.now, saver=self._save_later, demo=self.ctx.demo is not None)
        self.app.call_from_thread(self._opened, book)

    def _opened(self, book: Playbook) -> None:
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
        width = max(30, self.query_one("#step-detail").size.width - 4)
        out.update(page(width, *self._detail_lines()))
        self.refresh_bindings()

    def _detail_lines(self) -> list[Content | str | Cmd]:
        p = self.book.progress
        sid = self.step_id
        d = pb.step_def(sid)
        r = p.results.get(sid)
        index = pb.STEP_IDS.index(sid)
        body: list[Content | str | Cmd] = []
        if self.ctx.demo is not None and index == 0:
            body += [Content.styled("DEMO: this incident was staged on a simulated bot and a local chain; "
                                    "every check and repair here is the real one.", "$warning"), ""]
        body += [row(strong(f"Step {index + 1} of {len(pb.STEPS)}: {d.title}")), label(d.why), ""]
        if self.checking == sid:
            body.append(Content.styled("checking…", "$accent"))
        elif self.acting:
            body.append(Content.styled("working… (the step is checked again when it is done)", "$accent"))
        elif r is None:
            body.append(label("not checked yet · enter checks it"))
        else:
            body.append(row(status(r.status), " ", r.summary, label(f"  ({fmt.utc_time(r.at, with_date=False)})")))
            body += [row(label("  "), line) for line in r.lines]
            if r.command:
                body.append(Cmd(r.command, "  run: "))
            for c in r.checks:
                body.append(row(label("  check "), status(c.get("status")), " ", strong(str(c.get("id"))), " ",
                                fmt.clip(str(c.get("summary")), 70)))
        mark = p.marks.get(sid)
        if mark:
            body.append(row(label("marked "), strong(mark), label(" by the engineer")))
        body.append("")
        body += self._fix_lines(r)
        done_here = [a for a in p.actions if a.get("step") == sid]
        if done_here:
            body.append(strong("Done in this step"))
            for a in done_here:
                ok = "ok" if a.get("ok") else "FAILED"
                body.append(row(label(f"  {fmt.utc_time(a['ts'], with_date=False)} "), f"{a.get('action')}: {ok}",
                                label(f" — {a['message']}" if a.get("message") else "")))
                if a.get("undo"):
                    body.append(Cmd(a["undo"], "    undo: ", ""))
        body.append("")
        if p.finished:
            body.append(row(Content.styled(" INCIDENT CLOSED ", "$success bold reverse")))
            body.append(Cmd(p.log, "log: ", "") if p.log else label(self.book.note or "no log written"))
            body.append(label("N starts a new incident"))
        elif p.settled(sid):
            nxt = "n: next step" if index < len(pb.STEPS) - 1 else "e: end the incident and write the log"
            body.append(Content.styled(nxt, "bold $success"))
        else:
            body.append(label("fix it (f), or mark it done (d) / skip it (s) to move on"))
        return body

    def _fix_lines(self, r: pb.StepResult | None) -> list[Content | str]:
        if r is None:
            return []
        out: list[Content | str] = []
        if r.action == "stop-bot":
            out.append(row(Content.styled(" f ", "bold reverse"), " stop the bot now (asks first; systemctl stop or SIGTERM, then waits)"))
        elif r.action == "start-bot":
            out.append(row(Content.styled(" f ", "bold reverse"), " start the bot now (asks first)"))
        offers = [o["repair"] for o in r.offers]
        if offers:
            also = f"   (also: {', '.join(offers[1:])})" if len(offers) > 1 else ""
            out.append(row(Content.styled(" f ", "bold reverse"), " fix it: ", strong(offers[0]), label(also)))
        for rid, why in r.refused.items():
            out.append(label(f"not offered now: {rid} ({why})"))
        return out

    # --- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.book is None:
            return None if action not in ("back",) else True
        if action == "next":
            return True if self.book.progress.settled(self.step_id) else None
        if action == "fix":
            r = self.book.progress.results.get(self.step_id)
            return True if r is not None and (r.action or r.offers) and not self.acting else None
        return True

    def action_check(self) -> None:
        if self.book is None or self.checking:
            return
        self.checking = self.step_id
        self.recheck_pending = False
        self._redraw()
        progress = copy.deepcopy(self.book.progress)
        self._evaluate(self.step_id, progress.situation(self.demo_start))

    @work(thread=True, group="playbook-check", exit_on_error=False)
    def _evaluate(self, step_id: str, situation: pb.Situation) -> None:
        try:
            result = pb.evaluate(step_id, self.ctx.config, situation, self.ctx.now())
        except Exception as exc:  # a check that raises still answers: the step failed, and why
            result = pb.StepResult("FAIL", f"could not check: {type(exc).__name__}: {exc}", at=self.ctx.now())
        self.app.call_from_thread(self._evaluated, step_id, result)

    def _evaluated(self, step_id: str, result: pb.StepResult) -> None:
        self.checking = None
        if self.book is not None:
            self.book.record(step_id, result)
            if step_id == "audit":
                self._share_audit(result)
        self._redraw()
        if self.recheck_pending and not self.acting:
            self.action_check()

    def _share_audit(self, result: pb.StepResult) -> None:
        """The full audit's results update the audit summary everywhere."""
        from statetui.audit.base import CheckResult

        self.post_message(RecordResults([CheckResult.from_dict(c) for c in result.checks]))

    def action_fix(self) -> None:
        if self.book is None or self.acting:
            return
        sid = self.step_id
        r = self.book.progress.results.get(sid)
        if r is None:
            return
        if r.action in ("stop-bot", "start-bot"):
            self._bot_action(sid, r.action)
            return
        offers = {o["repair"]: o.get("params") or {} for o in r.offers}
        if not offers:
            return

        def done(outcome: Any, rid: str) -> None:
            if outcome is None or self.book is None:
                return
            self.book.record_repair(sid, rid, outcome.ok, outcome.message, outcome.backup, outcome.undo,
                                    [v.to_dict() for v in outcome.verify])
            self.notify(notice(f"recorded: {rid}: {outcome.message}"), timeout=4, markup=False)
            self._redraw()
            self.action_check()

        def open_repair(rid: str | None) -> None:
            if rid:
                self.post_message(OpenRepair(rid, offers[rid], lambda o: done(o, rid)))

        if len(offers) == 1:
            open_repair(next(iter(offers)))
            return
        from statetui.repair.runner import get_repair

        self.app.push_screen(PickScreen("Fix with", [(rid, f"{get_repair(rid).title}  ({rid})") for rid in offers]),
                             open_repair)

    def _bot_action(self, sid: str, action: str) -> None:
        def done(outcome: Any) -> None:
            self.acting = False
            if outcome is None or self.book is None:
                self._redraw()
                if self.recheck_pending and self.book is not None:
                    self.action_check()
                return
            unit = self.ctx.lock_view.unit if self.ctx.lock_view is not None else None
            self.book.record_action(sid, action.replace("-", " "), outcome.ok, outcome.message, outcome.command, unit)
            self.notify(notice(outcome.message), severity="information" if outcome.ok else "error", timeout=6, markup=False)
            self._redraw()
            self.action_check()

        self.acting = True
        self._redraw()
        self.post_message(StopBot(done) if action == "stop-bot" else StartBot(done))

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
            self.post_message(IncidentLogged(str(path)))
            self.notify(notice(f"incident log written: {path}"), title="incident closed", timeout=8, markup=False)
        elif self.book is not None and self.book.note:
            self.notify(notice(self.book.note), severity="warning", markup=False)
        self._redraw()

    def action_restart(self) -> None:
        def answer(yes: bool | None) -> None:
            if yes and self.book is not None:
                self.book.restart()
                self.query_one(OptionList).highlighted = 0
                self._redraw()
                self.action_check()

        self.app.push_screen(ConfirmScreen("Start a new incident?", "the current progress is forgotten (its log, if written, stays)",
                                           yes="start over"), answer)

    def copy_value(self) -> tuple[str, str] | None:
        if self.book is None:
            return None
        r = self.book.progress.results.get(self.step_id)
        if r is not None and r.command:
            return r.command, "the step's command"
        if self.book.progress.log:
            return self.book.progress.log, "the incident log's path"
        return None

    def detail_items(self) -> list[tuple[str, str]]:
        if self.book is None:
            return []
        r = self.book.progress.results.get(self.step_id)
        items = [("step", pb.step_def(self.step_id).title)]
        if r is not None:
            items += [("result", f"{r.status}: {r.summary}")] + [("evidence", line) for line in r.lines]
            if r.command:
                items.append(("command", r.command))
            items += [(f"not offered: {rid}", why) for rid, why in r.refused.items()]
        return items

    def palette(self) -> list[PaletteCommand]:
        return [PaletteCommand("recovery: check step", "answer this step's question now", self.action_check),
                PaletteCommand("recovery: fix step", "the fix this step offers", self.action_fix),
                PaletteCommand("recovery: next step", "move on once the step passed", self.action_next),
                PaletteCommand("recovery: mark done", "record the step as done by hand", lambda: self.action_mark("done")),
                PaletteCommand("recovery: skip step", "record the step as skipped", lambda: self.action_mark("skipped")),
                PaletteCommand("recovery: end and write log", "write the incident log", self.action_finish)]
