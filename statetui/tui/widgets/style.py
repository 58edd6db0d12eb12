"""How statuses look. Every status is a word first (readable with NO_COLOR and 16 colours),
then a theme colour."""

from __future__ import annotations

from textual.content import Content

from statetui.tui.plain import safe

STATUS_WORD = {
    "PASS": "PASS", "WARNING": "WARN", "FAIL": "FAIL", "CRITICAL": "CRIT", "SKIPPED": "SKIP",
    "PENDING": "TODO", "TODO": "····", "DONE": "DONE", "RUNNING": "RUN…", None: "····",
    "OK": " ok ", "INFO": "info",
}
STATUS_STYLE = {
    "PASS": "$success", "DONE": "$success", "WARNING": "$warning", "PENDING": "$warning",
    "FAIL": "$error bold", "CRITICAL": "$error bold reverse", "SKIPPED": "$text-muted",
    "TODO": "$text-muted", "RUNNING": "$accent", None: "$text-muted",
    "OK": "$success", "INFO": "$text-muted",
}


def status(value: str | None) -> Content:
    return Content.styled(STATUS_WORD.get(value, str(value)[:4]), STATUS_STYLE.get(value, ""))


def label(text: str) -> Content:
    return Content.styled(safe(text), "$text-muted")


def strong(text: str, style: str = "bold") -> Content:
    return Content.styled(safe(text), style)


def lines(*rows: Content | str) -> Content:
    return Content("\n").join(Content(safe(r)) if isinstance(r, str) else r for r in rows)


def row(*parts: Content | str | tuple[str, str]) -> Content:
    # Plain strings here are often the state's or the journal's: control characters shown
    # escaped (Content.assemble would pass an ESC through to the terminal).
    return Content.assemble(*(safe(p) if isinstance(p, str) else (safe(p[0]), p[1]) if isinstance(p, tuple) else p
                              for p in parts))


# DataTable cells do not resolve theme variables ($error...): plain colour names there.
TABLE_STYLE = {
    "PASS": "green", "DONE": "green", "WARNING": "yellow", "PENDING": "yellow", "FAIL": "bold red",
    "CRITICAL": "bold reverse red", "SKIPPED": "dim", "TODO": "dim", "RUNNING": "cyan", None: "dim",
    "OK": "green", "INFO": "dim", "ok": "green", "bad": "bold red",
}


def table_status(value: str | None) -> Content:
    return Content.styled(STATUS_WORD.get(value, str(value)[:4]), TABLE_STYLE.get(value, ""))
