"""The dashboard's panels. Each renders from the app's latest views (statetui.tui.data);
nothing here reads a file or runs a check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

from statetui.tui.plain import safe
from statetui.tui import fmt
from statetui.tui.widgets.style import label, lines, row, status, strong

if TYPE_CHECKING:
    from statetui.tui.app import StateTuiApp


class Panel(Widget):
    """A bordered box that re-renders when the app's data changes."""

    DEFAULT_CLASSES = "panel"
    TITLE = ""

    def on_mount(self) -> None:
        self.border_title = self.TITLE

    @property
    def sapp(self) -> "StateTuiApp":
        return self.app  # type: ignore[return-value]

    @property
    def wide(self) -> bool:
        return self.screen.has_class("-wide")

    @property
    def inner_width(self) -> int:
        return max(10, self.content_region.width or 36)

    def update_view(self) -> None:
        self.refresh(layout=True)


class BalancesPanel(Panel):
    TITLE = "Balances"

    def render(self) -> Content:
        app = self.sapp
        view = app.state_view
        stale = view is not None and not view.ok
        shown = app.last_good if stale else view
        self.set_class(stale and shown is not None, "stale")
        if stale and shown is not None:
            self.border_title = f"Balances · LAST GOOD {fmt.utc_time(shown.mtime, with_date=False)}"
        else:
            self.border_title = self.TITLE
        if shown is None or shown.values is None:
            return lines(label("no state loaded" if view is None or view.exists else "no state file"),
                         label("loading…" if view is None else "nothing to show"))
        v, d = shown.values, shown.derived
        w = self.inner_width
        out = [
            row(label("cash "), strong(fmt.money(v["current_balance"])), label("   peak "), strong(fmt.money(v["peak_balance"]))),
            self._gauge(d, w),
            row(label("day start "), fmt.money(v["day_start_balance"]), label("  P&L "), _signed(v["daily_pnl"])),
            self._mode(shown, d),
            row(label("wins "), f"{_n(v['total_wins'])}/{_n(v['total_trades'])}", label(" trades  streak "),
                f"+{v['consecutive_wins'] or 0}/-{v['consecutive_losses'] or 0}"),
        ]
        if self.wide or shown.positions:
            worth = f" worth {fmt.money(d.position_value)}" if d and d.position_value is not None else ""
            parts = [label("positions "), f"{shown.positions if shown.positions is not None else '—'}{worth}"]
            if self.wide:
                parts += [label("   starting "), fmt.money(v["starting_balance"])]
            out.append(row(*parts))
        for p in shown.problems[: 2 if not self.wide else 4]:
            out.append(row(status(p.severity), " ", fmt.clip(p.message, w - 5)))
        return lines(*out)

    def _gauge(self, d, width: int) -> Content:
        if d is None or d.drawdown is None:
            return row(label("drawdown "), "—", label(f"   halt at {fmt.pct(d.halt_threshold, 0) if d else '—'}"))
        threshold = float(d.halt_threshold) or 1.0
        frac = float(d.drawdown) / threshold
        text = f"{fmt.pct(d.drawdown)}/{fmt.pct(d.halt_threshold, 0)}"
        bar_w = max(6, width - len("drawdown  ") - len(text) - 5)
        style = "$error bold" if d.at_or_past_halt else ("$warning" if frac >= 0.75 else "$success")
        tag = " HALT" if d.at_or_past_halt else f" {max(0.0, 1 - frac) * 100:.0f}%"
        return row(label("drawdown "), Content.styled(fmt.bar(frac, bar_w), style), " ", text,
                   Content.styled(tag if d.at_or_past_halt else "", style))

    def _mode(self, view, d) -> Content:
        v = view.values
        mode = v.get("mode") or "—"
        if view.halted:
            reason = v.get("halt_reason") or "no reason recorded"
            return row(Content.styled(" HALTED ", "$error bold reverse"), " ", fmt.clip(str(reason), self.inner_width - 10))
        room = f" · {fmt.pct(d.halt_distance)} to halt" if d is not None and d.halt_distance is not None else ""
        return row(label("mode "), strong(mode), label(" running"), label(room))


def _n(value) -> str:
    return "—" if value is None else str(value)


def _signed(value) -> Content:
    if value is None:
        return Content("—")
    text = fmt.money(value)
    if value > 0:
        return Content.styled("+" + text, "$success")
    if value < 0:
        return Content.styled(text, "$error")
    return Content(text)


class LockPanel(Panel):
    TITLE = "Bot & lock"

    def render(self) -> Content:
        lv = self.sapp.lock_view
        if lv is None:
            return label("checking the pid lock…")
        s = lv.status
        w = self.inner_width
        out: list[Content | str] = []
        v = lv.verdict
        if v is not None and v.refuses_writes and not s.running:  # seen without the pid lock, or cannot tell
            tag = " RUNNING? " if v.running else " CANNOT TELL "
            out.append(row(Content.styled(tag, "$warning bold reverse"), label(" repairs refused")))
            out.append(fmt.clip(v.deciding[0].message, w))
            if lv.stop_command:
                out.append(row(label("stop: "), fmt.clip(lv.stop_command, w - 6)))
        elif not s.exists:
            out.append(row(strong("not running"), label(" · no pid file")))
            out.append(label(fmt.clip_path(str(s.path), w)))
        elif s.running:
            holds = "holds lock" if s.holds_lock else ("lock held" if s.locked else "no lock")
            out.append(row(Content.styled(" RUNNING ", "$success bold reverse"), f" pid {s.holder_pid or s.pid} · {holds}"))
            out.append(row(label("cmd "), fmt.clip(s.cmdline or "?", w - 4)))
            out.append(row(label("up "), fmt.age(s.uptime_s), label(" since "), fmt.utc_time(s.started_at, with_date=False)))
            if lv.stop_command:
                out.append(row(label("stop: "), fmt.clip(lv.stop_command, w - 6)))
        elif s.stale:
            out.append(row(Content.styled(" STALE ", "$warning bold reverse"), " pid file, nobody holds it"))
            out.append(fmt.clip(s.reason, w))
            out.append(label("fix: p → clear-stale-lock"))
        else:
            out.append(row(strong("not running")))
            out.append(fmt.clip(s.reason, w))
        if lv.systemd:
            sd = lv.systemd
            if "error" in sd:
                out.append(row(label("systemd "), fmt.clip(sd["error"], w - 8)))
            else:
                out.append(row(label("systemd "), f"{sd.get('unit')} {sd.get('ActiveState', '?')}/{sd.get('SubState', '?')}"))
        else:
            out.append(row(label("systemd: "), fmt.clip(lv.systemd_note or "—", w - 9)))
        return lines(*out)


class FilePanel(Panel):
    TITLE = "State file"

    def render(self) -> Content:
        app = self.sapp
        v = app.state_view
        if v is None:
            return label("reading…")
        w = self.inner_width
        now = app.now()
        out: list[Content | str] = []
        if self.wide:
            out.append(fmt.clip_path(v.path, w))
        if not v.exists:
            out.append(Content.styled("MISSING", "$error bold"))
        elif v.error:
            out.append(row(Content.styled(v.error_kind.upper() if v.error_kind else "ERROR", "$error bold"),
                           label(f" · {fmt.size(v.size)}")))
        if v.mtime is not None:
            out.append(row(label("written "), strong(fmt.age(now - v.mtime)), label(" ago · "), fmt.utc_time(v.mtime, with_date=False)))
        if v.exists:
            who = {True: Content.styled("via the store", "$success"),
                   False: Content.styled("OUTSIDE the store", "$warning bold"),
                   None: label("no journal")}[v.written_by_store]
            out.append(row(who, label(f" · gen {v.generation if v.generation is not None else '—'}")))
        elif v.generation is not None:
            out.append(label(f"journal: last write gen {v.generation}"))
        if v.ok:
            out.append(row(label("size "), fmt.size(v.size), label(f" · {v.other_fields} extra field(s)")))
        if v.stray_temp_files:
            out.append(Content.styled(f"{len(v.stray_temp_files)} stray temp file(s)", "$warning"))
        return lines(*out)


class BackupsPanel(Panel):
    TITLE = "Backups"

    def render(self) -> Content:
        app = self.sapp
        bv = app.backups_view
        if bv is None:
            return label("verifying…")
        if bv.error:
            return Content.styled(fmt.clip(bv.error, self.inner_width * 2), "$error")
        if not bv.infos:
            return lines(Content.styled("NO BACKUPS", "$warning bold"), label("b opens backups; b there takes one"))
        newest = bv.infos[0]
        bad = bv.failing
        out = [
            row(label("newest "), strong(fmt.age(newest.age_s(app.now()))), label(" ago · "), newest.reason or newest.kind),
            row(f"{len(bv.infos)} backup(s) · ",
                Content.styled(f"{len(bad)} FAIL verify", "$error bold") if bad else Content.styled("all verify", "$success")),
        ]
        if self.wide:
            out.append(label(fmt.clip_path(bv.dir, self.inner_width)))
        return lines(*out)


class ChainPanel(Panel):
    TITLE = "Chain"

    def render(self) -> Content:
        app = self.sapp
        cv = app.chain_view
        w = self.inner_width
        out: list[Content | str] = []
        if app.chain_busy:
            done = app.chain_progress
            out.append(Content.styled("reading the chain…" if done is None else
                                      f"history {fmt.bar(done, max(4, w - 14))} {done:4.0%}", "$accent"))
        if cv is None:
            if not app.config.chain_configured:
                out.append(label("not configured (rpc_url, wallet)"))
            elif not app.chain_busy:
                out.append(label("not read yet · c → read now"))
        elif cv.error:
            out.append(Content.styled(fmt.clip(cv.error, w * 2), "$error" if cv.configured else "$text-muted"))
        else:
            r = cv.reading
            out.append(row(label("block "), f"{r.block_number:,}", label(" · "), fmt.utc_time(r.block_time, with_date=False),
                           label(f" · read {fmt.age(app.now() - cv.at)} ago")))
            parts = [f"{t.symbol or t.address[:8]} {fmt.money(t.amount)}" for t in r.tokens]
            out.append(row(fmt.clip(" + ".join(parts), w - 10), label(" = "), strong(fmt.money(r.cash))))
            m = cv.mismatch
            if m is None:
                out.append(label("state cash unknown"))
            else:
                ok = cv.matches
                out.append(row(label("state "), fmt.money(cv.state_cash), label(" · mismatch "),
                               Content.styled(fmt.money(m), "$success" if ok else "$error bold"),
                               Content.styled(" ok" if ok else f" > {fmt.money(cv.threshold)}", "$success" if ok else "$error bold")))
            out += _history_lines(cv, app, w)
        last = app.history_view.last_reconcile if app.history_view else None
        if last is not None and (self.wide or cv is None):
            ts = fmt.iso_ts(last.get("ts"))
            out.append(row(label("last reconcile "), fmt.age(app.now() - ts) if ts else "?", label(f" ago (#{last.get('generation')})")))
        return lines(*out) if out else label("—")


def _history_lines(cv, app, w: int) -> list[Content]:
    """The chain's cash curve beside the state's peak, and what is unredeemed on chain."""
    out: list[Content] = []
    wit = cv.witness
    if hasattr(wit, "curve"):
        peak = app.last_good.derived.peak if app.last_good is not None and app.last_good.derived else None
        out.append(row(label("cash "), Content.styled(fmt.sparkline(wit.curve, max(4, w - 34)), "$success"),
                       label(" mark "), fmt.money(wit.high_water_mark), label(" · peak "), fmt.money(peak)))
    elif wit is not None:
        out.append(Content.styled(fmt.clip(f"history: {wit.reason}", w * 2), "$error"))
    if cv.unredeemed:
        out.append(label(fmt.clip(cv.unredeemed, w * 2)))
    return out


class HistoryPanel(Panel):
    TITLE = "History"

    def render(self) -> Content:
        app = self.sapp
        hv = app.history_view
        if hv is None:
            return label("reading the journal…")
        if hv.error:
            return Content.styled(safe(hv.error), "$error")
        w = self.inner_width
        spark_w = max(4, w - 16)
        out: list[Content | str] = []
        values = [p.value for p in hv.cash] + [p.value for p in hv.peak]
        lo, hi = (float(min(values)), float(max(values))) if values else (None, None)
        for name, pts, style in (("cash", hv.cash, "$success"), ("peak", hv.peak, "$warning")):
            if pts:
                out.append(row(label(f"{name} "), Content.styled(fmt.sparkline([p.value for p in pts], spark_w, lo, hi), style),
                               " ", fmt.money(pts[-1].value)))
            else:
                out.append(row(label(f"{name} "), label("no journal history")))
        # Wide terminals are usually tall too: use the room for more of the latest writes.
        n = max(6, min(20, self.screen.size.height - 28)) if self.wide else 2
        for e in reversed(hv.entries[-n:]):
            out.append(_entry_line(e, w))
        if hv.bad_lines:  # named, skipped, and the watch goes on
            first = f" (first: {hv.first_bad})" if hv.first_bad else ""
            out.append(Content.styled(f"journal has {hv.bad_lines} bad line(s), skipped{first}", "$warning"))
        return lines(*out)


def _entry_line(e: dict, width: int) -> Content:
    ts = fmt.iso_ts(e.get("ts"))
    changed = ",".join(e.get("changes", {}).keys())
    flag = " OUTSIDE" if e.get("replaced_outside_write") else ""
    text = f" #{e.get('generation')} {e.get('writer', '?')} {e.get('reason', '')}: {changed}"
    return row(label(fmt.utc_time(ts, with_date=False)[:8]), Content.styled(flag, "$warning"), fmt.clip(text, width - 8 - len(flag)))


class AuditPanel(Panel):
    TITLE = "Audit"

    def render(self) -> Content:
        app = self.sapp
        ids = app.audit_ids
        if not ids:
            return label("loading checks…")
        w = self.inner_width
        cells: list[Content] = []
        for cid in ids:
            entry = app.audit.get(cid)
            st = "RUNNING" if cid in app.audit_running else (entry.result.status.value if entry else None)
            summary = entry.result.summary if entry else ("running" if st == "RUNNING" else "not run")
            room = w - len(cid) - 6
            cells.append(row(status(st), " ", strong(cid), *((" ", label(fmt.clip(summary, room))) if room >= 8 else ())))
        worst = app.audit_overall()
        self.border_title = f"Audit · {worst}" if worst else "Audit"
        failing = [app.audit[c].result for c in ids if c in app.audit and app.audit[c].result.status.rank >= 2]
        fix = next(((r.id, r.repairs[0]) for r in failing if r.repairs), None)
        if fix is not None:
            more = label(f" fixes {fix[0]} · g: guided recovery") if self.wide else label(" · g guided")
            cells.append(row(label("fix: "), Content.styled(f"p → {fix[1]}", "bold"), more))
        ran = [app.audit[c].ran_at for c in ids if c in app.audit]
        if ran and app.state_changed_at is not None and min(ran) < app.state_changed_at and not app.audit_running:
            cells.append(label("some results predate the last change · a → audit, r re-runs"))
        return lines(*cells)
