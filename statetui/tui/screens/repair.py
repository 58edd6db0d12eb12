"""The repair wizard, the same shape for every repair:
preconditions -> plan (before/after) -> explicit confirmation -> apply -> verify -> result.

Planning and applying run statetui.repair.runner's plan_repair / apply_plan (the CLI's
path) in thread workers. apply_plan re-checks the preconditions right before writing,
so a bot started after the plan was shown is still refused."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from statetui.tui import fmt
from statetui.tui.dialogs import ConfirmScreen
from statetui.tui.messages import OpenRepair, RecordResults, Refresh
from statetui.tui.screens.base import BaseScreen, screen_keys
from statetui.tui.widgets.footer import ConsoleFooter
from statetui.tui.widgets.bars import TopBar
from statetui.tui.widgets.difftable import diff_table
from statetui.tui.widgets.style import Cmd, label, page, row, status, strong

STEPS = ("preconditions", "plan", "confirm", "apply", "verify", "result")


class RepairScreen(BaseScreen):
    NAME = "repair"
    HELP = """\
Every repair takes the same steps. 1 Preconditions: it is refused while the bot holds
its pid lock (its in-memory state would overwrite the repair on its next save); the
exact command to stop it is shown; stop it and press r to re-check. 2 Plan: what will
change, field by field, before -> after, with the evidence. 3 Confirm: press enter,
then y in the dialog (nothing is written without it). 4 Apply: through the store: the
current file is backed up first and the write is journaled. 5 Verify: the checks the
repair should fix are run again. 6 Result: what was done, and how to undo it (u opens
the restore of the backup taken before the write)."""

    BINDINGS = screen_keys(
        Binding("enter", "continue", "Continue", id="wizard-continue", priority=True),
        Binding("r", "recheck", "Re-check", id="wizard-recheck"),
        Binding("u", "undo", "Undo", id="wizard-undo"),
        Binding("escape", "close", "Close", id="back"),
        copy=True,
    )

    step: reactive[str] = reactive("preconditions")

    def __init__(self, repair_id: str, params: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.repair_id = repair_id
        self.params = dict(params or {})
        self.plan: Any = None
        self.outcome: Any = None
        self.error: str | None = None
        self.error_stop: str | None = None
        self.busy = True

    def compose(self) -> ComposeResult:
        yield TopBar(f"repair: {self.repair_id}")
        yield Static(id="stepper")
        with VerticalScroll(id="wizard-body"):
            yield Static(id="wizard-content", classes="verbatim")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._plan()

    # --- workers -----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def _plan(self) -> None:
        from statetui.core.errors import StatetuiError
        from statetui.repair.runner import plan_repair

        try:
            plan = plan_repair(self.repair_id, self.ctx.config, **self.params)
            self.app.call_from_thread(self._planned, plan, None)
        except StatetuiError as exc:
            self.app.call_from_thread(self._planned, None, str(exc))

    def _planned(self, plan: Any, error: str | None) -> None:
        self.busy = False
        self.plan, self.error, self.error_stop = plan, error, None
        self.step = "plan" if plan is not None and plan.can_apply else "preconditions"
        self._redraw()

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def _apply(self) -> None:
        from statetui.core.errors import StatetuiError
        from statetui.repair.runner import apply_plan

        try:
            outcome = apply_plan(self.plan, self.ctx.config)
            self.app.call_from_thread(self._applied, outcome, None, None)
        except StatetuiError as exc:  # a refusal names the command that stops the bot
            self.app.call_from_thread(self._applied, None, str(exc), getattr(exc, "stop_command", None))

    def _applied(self, outcome: Any, error: str | None, stop: str | None) -> None:
        self.busy = False
        self.outcome, self.error, self.error_stop = outcome, error, stop
        if outcome is not None and outcome.verify:
            self.post_message(RecordResults(outcome.verify))
        self.post_message(Refresh())
        self.step = "result"
        self._redraw()
        self.refresh_bindings()

    # --- actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue":
            if self.busy:
                return None
            return self.step == "result" or (self.step == "plan" and self.plan is not None and self.plan.can_apply)
        if action == "recheck":
            return self.step in ("preconditions", "plan") and not self.busy
        if action == "undo":
            return self.step == "result" and self._undo_backup() is not None
        return True

    def action_continue(self) -> None:
        if self.busy:
            return
        if self.step == "result":
            self.action_close()
            return
        if self.step != "plan" or self.plan is None or not self.plan.can_apply:
            return
        self.step = "confirm"
        self._redraw()
        what = f"writes {self.ctx.config.state} (backed up first, journaled)" if self.plan.writes_state else self.plan.summary
        self.app.push_screen(ConfirmScreen(f"Apply {self.repair_id}?", what), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if not yes:
            self.step = "plan"
            self._redraw()
            self.notify("not applied; nothing was written", timeout=4)
            return
        self.busy = True
        self.step = "apply"
        self._redraw()
        self._apply()

    def action_recheck(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.step = "preconditions"
        self._redraw()
        self._plan()

    def action_undo(self) -> None:
        backup = self._undo_backup()
        if backup:
            self.dismiss(self.outcome)
            self.app.post_message(OpenRepair("restore-backup", {"backup": backup}))  # this screen is gone

    def action_close(self) -> None:
        self.dismiss(self.outcome)

    def action_back(self) -> None:
        self.action_close()

    def copy_value(self) -> tuple[str, str] | None:
        o, p = self.outcome, self.plan
        if o is not None and o.undo:
            return o.undo, "the undo command"
        stop = self.error_stop or (p.stop_command if p is not None else None)
        if stop:
            return stop, "the stop command"
        return None

    def detail_items(self) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = []
        p, o = self.plan, self.outcome
        if p is not None:
            items.append(("repair", f"{p.title} ({p.repair_id})"))
            if p.blocked:
                items.append(("refused", p.blocked))
            if p.stop_command:
                items.append(("stop command", p.stop_command))
            for name, before, after in p.changes:
                items.append((str(name), f"{fmt.show_value(before, 10_000)} → {fmt.show_value(after, 10_000)}"))
            for key, value in p.evidence.items():
                items.append((f"evidence {key}", value if isinstance(value, str) else fmt.show_value(value, 10_000)))
        if self.error:
            items.append(("not applied", self.error))
        if o is not None:
            items.append(("result", o.message))
            if o.backup:
                items.append(("backup", o.backup))
            if o.undo:
                items.append(("undo command", o.undo))
        return items

    def _undo_backup(self) -> str | None:
        o = self.outcome
        if o is None or not o.ok or not o.backup or self.plan is None or not self.plan.writes_state:
            return None
        return o.backup

    # --- rendering -------------------------------------------------------------------

    def watch_step(self) -> None:
        self.refresh_bindings()

    def _redraw(self) -> None:
        self.query_one("#stepper", Static).update(self._stepper())
        self.query_one("#wizard-content", Static).update(self._body())
        if self.step == "result":
            self.query_one("#wizard-body", VerticalScroll).scroll_home(animate=False)

    def _stepper(self) -> Content:
        current = STEPS.index(self.step)
        parts: list[Content | str] = []
        for i, name in enumerate(STEPS):
            if i < current or (self.step == "result" and name == "result"):
                failed = (name == "preconditions" and self.plan is not None and self.plan.blocked) or \
                         (name == "verify" and self._verify_failed())
                mark, style = ("✖", "$error bold") if failed else ("✔", "$success")
            elif i == current:
                mark, style = "▶", "bold reverse"
            else:
                mark, style = " ", "$text-muted"
            if self.step == "result" and self.outcome is None and name in ("apply", "verify", "result"):
                mark, style = ("✖", "$error bold") if name == "apply" else (" ", "$text-muted")
            parts.append(Content.styled(f"{mark}{i + 1} {name.capitalize()}", style))
            if i < len(STEPS) - 1:
                parts.append(label(" › "))
        return Content.assemble(*parts)

    def _verify_failed(self) -> bool:
        return self.outcome is not None and any(r.status.rank >= 2 for r in self.outcome.verify)

    def _body(self) -> Content:
        width = max(40, self.size.width - 4)  # the Static does not wrap: page() does, never inside a command
        p = self.plan
        if p is None and self.error is None:
            return label("planning…")
        result = self._result_lines(width)  # first once applied: it is what the engineer came for
        out: list[Content | str | Cmd] = list(result)
        if result:
            out += ["", label("─" * min(width, 60)), label("what was planned:")]
        if p is not None:
            out += self._plan_lines(p, width)
        if self.step in ("plan", "confirm") and p is not None and p.can_apply:
            out.append("")
            out.append(Content.styled("press enter to confirm and apply", "bold $accent"))
        if self.step == "apply":
            out.append("")
            out.append(Content.styled("applying… (backup, write, journal, verify)", "$accent"))
        return page(width, *out)

    def _plan_lines(self, p: Any, width: int) -> list[Content | str | Cmd]:
        out: list[Content | str | Cmd] = [row(strong(p.title), label(f" ({p.repair_id})")), p.summary, ""]
        if p.blocked:  # first: it is what the engineer must act on
            out.append(row(Content.styled(" REFUSED ", "$error bold reverse"), " ", p.blocked))
            if p.stop_command:
                out.append(Cmd(p.stop_command, "stop the bot first:  "))
                out.append(label("then press r to re-check (or ctrl+k on the dashboard stops it for you)"))
            elif self.ctx.config.read_only:
                out.append(label("the console runs with --read-only: start it without to apply repairs"))
            out.append("")
        out.append(strong("Preconditions"))
        for pre in p.preconditions:
            out.append(row(Content.styled(" ok " if pre.ok else " !! ", "$success" if pre.ok else "$error bold"), " ", pre.message))
        if not p.preconditions:
            out.append(label("  none"))
        for note in p.notes:
            out.append(row(label("note: "), note))
        out.append("")
        out.append(strong("Plan"))
        if p.nothing_to_do:
            out.append(Content.styled("nothing to do: the state already is what this repair would make it", "$success"))
        elif p.blocked and not p.changes:
            out.append(label("no plan while refused"))
        out.extend(diff_table(p.changes, width, p.labels))
        for key, value in p.evidence.items():
            out.append(row(label(f"{key}: "), value if isinstance(value, str) else fmt.show_value(value, width - len(key) - 2)))
        return out

    def _result_lines(self, width: int) -> list[Content | str | Cmd]:
        out: list[Content | str | Cmd] = []
        if self.error:
            out.append(row(Content.styled(" NOT APPLIED ", "$error bold reverse"), " ", self.error))
            if self.error_stop:
                out.append(Cmd(self.error_stop, "stop the bot first:  "))
            out.append(label("nothing was written · r re-checks · escape closes"))
        o = self.outcome
        if o is None:
            return out
        out.append(row(Content.styled(" DONE " if o.ok else " FAILED ", ("$success" if o.ok else "$error") + " bold reverse"),
                       " ", o.message))
        if o.backup:
            out.append(Cmd(o.backup, "backup: ", ""))
        if o.undo:
            out.append(Cmd(o.undo, "undo: "))
        out.append("")
        out.append(strong("Verify"))
        for r in o.verify:
            out.append(row(status(r.status.value), " ", strong(r.id), " ", r.summary))
        if not o.verify:
            out.append(label("  no checks to re-run for this repair"))
        out.append("")
        if self._undo_backup():
            out.append(label("u restores that backup now (a new wizard) · enter closes"))
        else:
            out.append(label("enter closes"))
        return out
