"""The dashboard's panels. Each renders from the shared context's latest views
(statetui.tui.context); nothing here reads a file or runs a check. The History and Audit
panels take the room that is left and scroll inside their own border."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from statetui.tui import data, fmt
from statetui.tui.plain import safe
from statetui.tui.widgets.style import label, lines, row, status, strong


class _PanelMixin:
    TITLE = ""

    @property
    def ctx(self):
        return self.app.ctx  # type: ignore[attr-defined]

    @property
    def wide(self) -> bool:
        return self.screen.has_class("-wide")  # type: ignore[attr-defined]


class Panel(_PanelMixin, Widget):
    """A bordered box that re-renders when the app's data changes, and only then: what it
    would show is built first and compared with what it shows (an idle console redraws
    nothing); the screen is laid out again only when its number of lines changed."""

    DEFAULT_CLASSES = "panel"
    _shown: Content | None = None

    def on_mount(self) -> None:
        self.border_title = self.TITLE

    @property
    def inner_width(self) -> int:
        return max(10, self.content_region.width or 36)

    def build(self) -> Content:
        raise NotImplementedError

    def render(self) -> Content:
        if self._shown is None:
            self._shown = self.build()
        return self._shown

    def update_view(self) -> None:
        if not self.size.width:  # not laid out yet: render() builds it at its real width
            self._shown = None
            return
        new = self.build()
        old = self._shown
        if old is not None and new.is_same(old):
            return
        self._shown = new
        self.refresh(layout=old is None or new.plain.count("\n") != old.plain.count("\n"))

    def on_resize(self) -> None:
        self._shown = None  # widths changed: build again when drawn


class ScrollPanel(_PanelMixin, VerticalScroll):
    """A bordered box whose content scrolls inside it (the scrollbar within the border).
    Like Panel, it updates only when what it shows changed."""

    DEFAULT_CLASSES = "panel scroll-panel"
    _shown: Content | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="panel-body")

    def on_mount(self) -> None:
        self.border_title = self.TITLE
        self.update_view()

    @property
    def inner_width(self) -> int:
        return max(10, (self.content_region.width or 37) - 1)  # leave the scrollbar its column

    def update_view(self) -> None:
        new = self.content()
        if self._shown is not None and new.is_same(self._shown):
            return
        body = next(iter(self.query(Static)), None)
        if body is None:  # mounted after the screen (the dashboard's first frame): its body comes next, then a resize
            self._shown = None
            return
        self._shown = new
        body.update(new)

    def on_resize(self) -> None:
        self._shown = None
        self.update_view()

    def content(self) -> Content:
        raise NotImplementedError


class BalancesPanel(Panel):
    TITLE = "Balances"

    def update_view(self) -> None:
        # The class is set with the data, not when drawn, so it is true as soon as the view is.
        ctx = self.ctx
        view = ctx.state_view
        stale = view is not None and not view.ok and ctx.last_good is not None
        self.set_class(stale, "stale")
        self.border_title = f"Balances · LAST GOOD {fmt.utc_time(ctx.last_good.mtime, with_date=False)}" if stale else self.TITLE
        super().update_view()

    def build(self) -> Content:
        ctx = self.ctx
        view = ctx.state_view
        shown = ctx.last_good if view is not None and not view.ok else view
        b = data.balances_of(shown)
        if b is None:
            return lines(label("no state loaded" if view is None or view.exists else "no state file"),
                         label("loading…" if view is None else "nothing to show"))
        d = b.derived
        w = self.inner_width
        # Money and halt rows name the role and the bot's own field: `cash (bankroll_current)`.
        money = [b.cash, b.peak] + ([b.equity] if d is not None and d.basis == "equity" else [])
        out: list[Content | str] = _money_rows(money, d, w)
        out.append(self._gauge(b, d, w))
        day = [f for f in (b.day_start, b.daily_pnl) if f.mapped]
        if day:
            out.append(_fit(w, *[row(*_pairs(day, d, named)) for named in (True, False)]))
        out.append(self._halt(b, d, w))
        if b.wins.mapped or b.trades.mapped:
            streak = b.win_streak.value is not None or b.loss_streak.value is not None
            tail = [label(" trades  streak "), f"+{b.win_streak.value or 0}/-{b.loss_streak.value or 0}"] if streak \
                else [label(" trades")]
            out.append(row(label(f"{b.wins.label} "), f"{_n(b.wins.value)}/{_n(b.trades.value)}", *tail))
        if self.wide or b.positions.value:
            worth = f" {b.position_value.label} {fmt.money(b.position_value.value)}" if b.position_value.value is not None else ""
            parts = [label(f"{b.positions.label} "), f"{_n(b.positions.value)}{worth}"]
            options = [row(*parts)]
            if self.wide and b.starting.mapped:
                start = _amount(b.starting.value, d, bold=False)
                options[:0] = [row(*parts, label(f"   {b.starting.label} ({b.starting.field}) "), start),
                               row(*parts, label(f"   {b.starting.label} "), start)]
            out.append(_fit(w, *options))
        unmapped = [f.label for f in money if not f.mapped] + ([] if b.halted.mapped or b.mode.mapped else ["halt"])
        if unmapped:  # never a guess: say how to map them
            out.append(_fit(w, label(f"map {', '.join(unmapped)}: statetui fields · [fields]"),
                            label("map: statetui fields · [fields]")))
        for p in b.problems[: 2 if not self.wide else 4]:
            out.append(row(status(p.severity), " ", fmt.clip(p.message, w - 5)))
        return lines(*out)

    def _gauge(self, b: data.BalancesView, d, width: int) -> Content:
        if d is None or d.drawdown is None:
            if not b.peak.mapped or not (b.cash.mapped or b.equity.mapped):
                why = "needs cash and peak"
            elif d is not None and d.basis is None:
                why = "basis? fields.peak_basis"
            elif d is not None and d.basis == "equity" and not b.equity.mapped:
                why = "needs equity (peak basis)"
            else:
                why = "cannot tell"
            halt = f"halt at {fmt.pct(d.halt_threshold, 0)}" if d else ""
            return _fit(width, row(label("drawdown "), "— ", label(f"{why} · {halt}")), row(label("drawdown "), "— ", label(why)))
        threshold = float(d.halt_threshold) or 1.0
        frac = float(d.drawdown) / threshold
        text = f"{fmt.pct(d.drawdown)}/{fmt.pct(d.halt_threshold, 0)}"
        bar_w = max(6, width - len("drawdown  ") - len(text) - 5)
        style = "$error bold" if d.at_or_past_halt else ("$warning" if frac >= 0.75 else "$success")
        return row(label("drawdown "), Content.styled(fmt.bar(frac, bar_w), style), " ", text,
                   Content.styled(" HALT" if d.at_or_past_halt else "", style))

    def _halt(self, b: data.BalancesView, d, width: int) -> Content:
        """The halt as the bot keeps it: its flag, its mode, or both; `halt —` when it keeps neither."""
        flag, mode = b.halted, b.mode
        if b.is_halted:
            by = flag if flag.mapped and flag.value is True else mode
            if b.halt_reason.mapped:
                reason = b.halt_reason.value or "no reason recorded"
            else:  # the bot keeps no reason: what it does keep
                reason = str(mode.value) if by is mode else "no reason field"
            badge = Content.styled(" HALTED ", "$error bold reverse")
            one = row(badge, label(f" ({by.field}) "), fmt.clip(str(reason), max(8, width - 12 - len(by.field or ""))))
            if one.cell_length <= width:
                return one
            # A long field: the reason on a line of its own rather than the field left out.
            return lines(row(badge, label(f" ({fmt.clip_middle(by.field or '', width - 11)})")), fmt.clip(str(reason), width))
        room = label(f" · {fmt.pct(d.halt_distance)} to halt") if d is not None and d.halt_distance is not None else ""
        parts = []
        if flag.mapped:
            parts.append(row(label(f"{flag.label} ({flag.field}) "), strong(_yes_no(flag.value))))
        if mode.mapped:
            parts.append(row(label(f"{mode.label} ({mode.field}) "), strong(str(mode.value or "—"))))
        if not parts:
            return row(label("halt "), "—", label(" no flag or mode mapped"))
        both = Content(" · ").join(parts)
        return _fit(width, row(both, room), both, row(parts[-1], room), parts[-1])


def _yes_no(value) -> str:
    return "yes" if value is True else "no" if value is False else "—"


def _amount(value, d, bold: bool = True) -> Content:
    if value is None:
        return Content("—")
    cur = d.currency if d is not None else "USD"
    text = fmt.money(value) + ("" if cur == "USD" else f" {cur}")
    return strong(text) if bold else Content(text)


def _money_rows(figures: list, d, width: int) -> list[Content]:
    """cash, peak (and equity when the peak is compared with it), values aligned; a long
    field name is cut in the middle (`statetui fields` prints it whole)."""
    names = [f"{f.label} ({f.field})" if f.mapped else f.label for f in figures]
    shown = [_amount(f.value, d) if f.mapped else
             row("—", label(" ambiguous" if (f.hint or "").startswith("ambiguous") else " unmapped")) for f in figures]
    pad = min(max(len(n) for n in names), max(8, width - 1 - max(v.cell_length for v in shown)))
    out = []
    for f, name, value in zip(figures, names, shown):
        head = name if len(name) <= pad else f"{f.label} ({fmt.clip_middle(f.field, max(3, pad - len(f.label) - 3))})"
        out.append(row(label(head.ljust(pad) + " "), value))
    return out


def _pairs(figures: list, d, named: bool) -> list:
    out: list = []
    for i, f in enumerate(figures):
        head = f"{f.label} ({f.field}) " if named else f"{f.label} "
        out += [label(("  " if i else "") + head), _signed(f.value) if f.role == "daily_pnl" else _amount(f.value, d, bold=False)]
    return out


def _fit(width: int, *options: Content) -> Content:
    """The first option that fits in `width` cells (the last one otherwise)."""
    for c in options:
        if c.cell_length <= width:
            return c
    return options[-1].truncate(width, ellipsis=True)


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

    def build(self) -> Content:
        bot = self.ctx.lock_view
        if bot is None:
            return label("checking the pid lock…")
        s = bot.lock
        w = self.inner_width
        out: list[Content | str] = []
        if self.ctx.stopping_bot:
            out.append(Content.styled("stopping the bot…", "$accent"))
        if bot.refuses_writes and not s.running:  # seen without the pid lock, or cannot tell
            tag = " RUNNING? " if bot.running else " CANNOT TELL "
            out.append(row(Content.styled(tag, "$warning bold reverse"), label(" repairs refused")))
            out.append(fmt.clip(bot.deciding, w))
            if bot.stop_command:
                out.append(row(label("stop: "), fmt.clip(bot.stop_command, w - 17),
                               label(" (^k does it)" if bot.running and bot.pid else "")))
        elif bot.running:
            holds = "holds lock" if s.holds_lock else ("lock held" if s.locked else "no lock")
            up = fmt.age(self.ctx.now() - bot.started_at) if bot.started_at else "?"
            out.append(row(Content.styled(" RUNNING ", "$success bold reverse"), f" pid {bot.pid} · {holds}"))
            out.append(row(label("up "), up, label(" · cmd "), fmt.clip(s.cmdline or "?", w - 12 - len(up))))
            if bot.stop_command:
                out.append(row(label("stop: "), fmt.clip(bot.stop_command, w - 17), label(" (^k does it)")))
        elif not s.exists:
            out.append(row(strong("not running"), label(" · no pid file")))
            out.append(label(fmt.clip_path(str(s.path), w)))
        elif s.stale:
            out.append(row(Content.styled(" STALE ", "$warning bold reverse"), " pid file, nobody holds it"))
            out.append(fmt.clip(s.reason, w))
            out.append(label("fix: p → clear-stale-lock"))
        else:
            out.append(row(strong("not running")))
            out.append(fmt.clip(s.reason, w))
        if bot.systemd:
            sd = bot.systemd
            if "error" in sd:
                out.append(row(label("systemd "), fmt.clip(sd["error"], w - 8)))
            else:
                out.append(row(label("systemd "), f"{sd.get('unit')} {sd.get('ActiveState', '?')}/{sd.get('SubState', '?')}"))
        elif self.wide or (bot.systemd_note and bot.systemd_note != "no unit configured"):
            out.append(row(label("systemd: "), fmt.clip(bot.systemd_note or "—", w - 9)))
        return lines(*out)


class FilePanel(Panel):
    TITLE = "State file"

    def build(self) -> Content:
        ctx = self.ctx
        v = ctx.state_view
        if v is None:
            return label("reading…")
        w = self.inner_width
        now = ctx.now()
        out: list[Content | str] = []
        if self.wide:
            out.append(fmt.clip_path(v.path, w))
        if not v.exists:
            out.append(Content.styled("MISSING", "$error bold"))
        elif v.error:
            out.append(row(Content.styled(v.error_kind.upper() if v.error_kind else "ERROR", "$error bold"),
                           label(f" · {fmt.size(v.size)}")))
        if v.mtime is not None:
            out.append(row(label("written "), strong(fmt.age(now - v.mtime)), label(" ago · "),
                           fmt.utc_time(v.mtime, with_date=False)))
        if v.exists:
            who = {True: Content.styled("via the store", "$success"),
                   False: Content.styled("OUTSIDE the store", "$warning bold"),
                   None: label("no journal")}[v.written_by_store]
            by = (v.last_entry or {}).get("writer") if v.written_by_store else None
            out.append(row(who, label(f" · gen {v.generation if v.generation is not None else '—'}"),
                           label(f" · by {fmt.clip(str(by), max(4, w - 26))}") if by else ""))
        elif v.generation is not None:
            out.append(label(f"journal: last write gen {v.generation}"))
        if v.ok:
            out.append(row(label("size "), fmt.size(v.size), label(f" · {v.other_fields} extra field(s)")))
        if v.stray_temp_files:
            out.append(Content.styled(f"{len(v.stray_temp_files)} stray temp file(s)", "$warning"))
        return lines(*out)


class BackupsPanel(Panel):
    TITLE = "Backups"

    def build(self) -> Content:
        ctx = self.ctx
        bv = ctx.backups_view
        if bv is None:
            return label("verifying…")
        if bv.error:
            return Content.styled(safe(fmt.clip(bv.error, self.inner_width * 2)), "$error")
        if not bv.infos:
            return lines(Content.styled("NO BACKUPS", "$warning bold"), label("b opens backups; b there takes one"))
        newest = bv.infos[0]
        bad = bv.failing_count
        out = [
            row(label("newest "), strong(fmt.age(newest.age_s(ctx.now()))), label(" ago · "), newest.reason or newest.kind),
            row(f"{bv.count} backup(s) · ",
                Content.styled(f"{bad} FAIL verify", "$error bold") if bad else Content.styled("all verify", "$success")),
        ]
        if self.wide:
            out.append(label(fmt.clip_path(bv.dir, self.inner_width)))
        return lines(*out)


class HistoryPanel(ScrollPanel):
    TITLE = "History"

    def content(self) -> Content:
        ctx = self.ctx
        hv = ctx.history_view
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
        for e in reversed(hv.entries[-20:]):
            out.append(_entry_line(e, w))
        if hv.bad_lines:  # named, skipped, and the watch goes on
            first = f" (first: {hv.first_bad})" if hv.first_bad else ""
            out.append(Content.styled(safe(f"journal has {hv.bad_lines} bad line(s), skipped{first}"), "$warning"))
        return lines(*out)


def _entry_line(e: dict, width: int) -> Content:
    ts = fmt.iso_ts(e.get("ts"))
    changed = ",".join(k for k, v in e.get("changes", {}).items() if not (isinstance(v, list) and v == [None, None]))
    flag = " OUTSIDE" if e.get("replaced_outside_write") else ""
    text = f" #{e.get('generation')} {e.get('writer', '?')} {e.get('reason', '')}: {changed}"
    return row(label(fmt.utc_time(ts, with_date=False)[:8]), Content.styled(flag, "$warning"), fmt.clip(text, width - 8 - len(flag)))


class AuditPanel(ScrollPanel):
    TITLE = "Audit"

    def content(self) -> Content:
        ctx = self.ctx
        ids = ctx.audit_ids
        if not ids:
            return label("loading checks…")
        w = self.inner_width
        worst = ctx.audit_overall()
        done = sum(1 for cid in ids if cid in ctx.audit and cid not in ctx.audit_running)
        if ctx.audit_running:
            self.border_title = f"Audit · running {done}/{len(ids)}"
        else:
            self.border_title = f"Audit · {worst}" if worst else "Audit"
        out: list[Content | str] = []
        passed = []
        for cid in ids:
            st = ctx.status_of(cid)
            entry = ctx.audit.get(cid)
            if st == "PASS" and not self.wide:
                passed.append(cid)  # all on one line at 80 columns: the failures get the room
                continue
            summary = entry.result.summary if entry else ("running" if st == "RUNNING" else "not run")
            room = w - len(cid) - 6
            out.append(row(status(st), " ", strong(cid), *((" ", label(fmt.clip(summary.replace("\n", " "), room))) if room >= 8 else ())))
        if passed:
            out.append(row(status("PASS"), " ", fmt.clip(", ".join(passed), w - 5)))
        failing = [ctx.audit[c].result for c in ids if c in ctx.audit and ctx.audit[c].result.status.rank >= 2]
        fix = next(((r.id, r.repairs[0]) for r in failing if r.repairs), None)
        if fix is not None:
            more = label(f" fixes {fix[0]} · g: guided recovery") if self.wide else label(" · g guided")
            out.append(row(label("fix: "), Content.styled(f"p → {fix[1]}", "bold"), more))
        if ctx.stale_results():
            out.append(label("some results predate the last change · f5 re-runs them"))
        return lines(*out)
