"""The console's one door for text that comes from outside (state strings, journal reasons,
writer and file names, error messages): Textual markup in it is never interpreted, and
control characters are shown escaped rather than silently dropped. A rich Text (no markup
parsed): DataTable cells, Static and border titles take it as they take a str, and it
measures like one (a Content cell measures narrower in a DataTable)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from statetui.core.textsafe import escape_controls


def plain(value: Any) -> Text:
    """`value` as literal text: `[bold]` stays `[bold]`, ESC shows as `\\x1b`."""
    return Text(escape_controls(value if isinstance(value, str) else str(value), keep="\n"), end="")


def safe(value: Any) -> str:
    """`value` as a str with control characters escaped (newlines kept): for Content.assemble
    and Content(), which never parse markup but pass an ESC through."""
    return escape_controls(value if isinstance(value, str) else str(value), keep="\n")


def notice(value: Any) -> str:
    """A message for notify(..., markup=False): one line, control characters escaped."""
    from statetui.core.textsafe import one_line

    return one_line(value)
