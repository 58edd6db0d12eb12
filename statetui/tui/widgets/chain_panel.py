"""The dashboard's Chain panel: the wallet's cash at a pinned block against the state's,
and the chain's cash curve beside the state's peak (statetui.tui.chain_data's view)."""

from __future__ import annotations

from textual.content import Content

from statetui.tui import fmt
from statetui.tui.plain import safe
from statetui.tui.widgets.panels import Panel
from statetui.tui.widgets.style import label, lines, row, strong


class ChainPanel(Panel):
    TITLE = "Chain"

    def build(self) -> Content:
        ctx = self.ctx
        cv = ctx.chain_view
        w = self.inner_width
        out: list[Content | str] = []
        if ctx.chain_busy:
            done = ctx.chain_progress
            out.append(Content.styled("reading the chain…" if done is None else
                                      f"history {fmt.bar(done, max(4, w - 14))} {done:4.0%}", "$accent"))
        if cv is None:
            if not ctx.config.chain_configured:
                out.append(label("not configured (rpc_url, wallet)"))
            elif not ctx.chain_busy:
                out.append(label("not read yet · c reads it now"))
        elif cv.error:
            out.append(Content.styled(safe(fmt.clip(cv.error, w * 2)), "$error" if cv.configured else "$text-muted"))
        else:
            src = "audit" if cv.source == "audit" else "c"
            out.append(row(label("block "), f"{cv.block_number:,}", label(f" · read {fmt.age(ctx.now() - cv.at)} ago ({src})")))
            parts = [f"{t.symbol or t.address[:8]} {fmt.money(t.amount)}" for t in cv.tokens]
            total = fmt.money(cv.cash)
            out.append(row(fmt.clip(" + ".join(parts), max(8, w - 3 - len(total))), label(" = "), strong(total)))
            m = cv.mismatch
            if m is None:
                out.append(label("state cash unknown"))
            else:
                ok = cv.matches
                out.append(row(label("state "), fmt.money(cv.state_cash), label(" · mismatch "),
                               Content.styled(fmt.money(m), "$success" if ok else "$error bold"),
                               Content.styled(" ok" if ok else f" > {fmt.money(cv.threshold)}", "$success" if ok else "$error bold")))
            out += _history_lines(cv, ctx, w)
        last = ctx.history_view.last_reconcile if ctx.history_view else None
        if last is not None and self.wide:
            ts = fmt.iso_ts(last.get("ts"))
            out.append(row(label("last reconcile "), fmt.age(ctx.now() - ts) if ts else "?", label(f" ago (#{last.get('generation')})")))
        return lines(*out) if out else label("—")


def _history_lines(cv, ctx, w: int) -> list[Content]:
    """The chain's cash curve beside the state's peak, and what is unredeemed on chain."""
    out: list[Content] = []
    wit = cv.witness
    if hasattr(wit, "curve"):
        peak = ctx.last_good.derived.peak if ctx.last_good is not None and ctx.last_good.derived else None
        out.append(row(label("cash "), Content.styled(fmt.sparkline(wit.curve, max(4, w - 34)), "$success"),
                       label(" mark "), fmt.money(wit.high_water_mark), label(" · peak "), fmt.money(peak)))
    elif wit is not None:
        out.append(Content.styled(safe(fmt.clip(f"history: {wit.reason}", w * 2)), "$error"))
    if cv.unredeemed:
        out.append(label(fmt.clip(cv.unredeemed, w * 2)))
    return out
