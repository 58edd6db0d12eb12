"""How statuses look. Every status is a word first (readable with NO_COLOR and 16 colours),
then a theme colour."""

from __future__ import annotations

from dataclasses import dataclass

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


# --- text that must not be broken: shell commands, paths, backup names ---------------------

@dataclass(frozen=True)
class Cmd:
    """A shell command shown so it can be copied and pasted: wrapped only between its
    arguments, each continued line ending in ` \\` (so a pasted block still runs as one
    command), never inside a file name."""

    text: str
    label: str = ""
    style: str = "bold"


def shell_words(cmd: str) -> list[str]:
    """The command's words as written (quotes, $(...) and backslashes kept), split on the
    spaces a shell splits on."""
    words, cur, quote, depth, i = [], "", "", 0, 0
    while i < len(cmd):
        ch = cmd[i]
        if ch == "\\" and quote != "'" and i + 1 < len(cmd):
            cur += cmd[i:i + 2]
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif cmd.startswith("$(", i):
            depth += 1
            cur += "$("
            i += 2
            continue
        elif ch == ")" and depth:
            depth -= 1
        elif ch.isspace() and not depth:
            if cur:
                words.append(cur)
                cur = ""
            i += 1
            continue
        cur += ch
        i += 1
    if cur:
        words.append(cur)
    return words


def shell_lines(cmd: str, width: int, indent: int = 2) -> list[str]:
    """`cmd` in lines of at most `width` cells where it can be (a word longer than that
    stays whole on its own line), ` \\` at the end of every line but the last."""
    words = shell_words(cmd)
    if not words:
        return [cmd]
    lines, line = [], words[0]
    for w in words[1:]:
        if len(line) + 1 + len(w) + 2 <= width:
            line += " " + w
        else:
            lines.append(line + " \\")
            line = " " * indent + w
    lines.append(line)
    return lines


def page(width: int, *items: "Content | str | Cmd") -> Content:
    """Lines for a no-wrap Static (class `verbatim`): prose wrapped here to `width`,
    commands wrapped between their words only."""
    out: list[Content] = []
    width = max(20, width)
    cut = False
    for item in items:
        if isinstance(item, Cmd):
            pad = len(item.label)
            for n, line in enumerate(shell_lines(item.text, max(20, width - pad))):
                head = label(item.label) if n == 0 else Content(" " * pad)
                out.append(Content.assemble(head, Content.styled(safe(line), item.style)))
                cut = cut or pad + len(line) > width
            continue
        content = Content(safe(item)) if isinstance(item, str) else item
        out.extend(content.wrap(width) or [Content("")])
    if cut:  # a file name wider than the screen is cut, never broken: say where to see it whole
        out.append(label("(a name is cut at the edge: v shows it whole, y copies the command)"))
    return Content("\n").join(out)
