"""Text that is safe to put on a terminal, and JSON text that is safe to encode.

State strings, journal reasons, writer names and file names are the bot's (or anyone's):
an ESC in `mode` must not clear the operator's screen, a right-to-left override must not
reverse what a line says, and a lone surrogate ("\\ud800", valid JSON escape, invalid
Unicode) must not crash an encoder. Shown text gets such characters escaped (`\\x1b`,
`\\u202e`); JSON text gets them as JSON escapes, which read back as the same string."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line/paragraph separators, bidi marks/overrides/isolates, BOM,
# and lone surrogates. Newline and tab are in the set too: one_line() escapes them;
# escape_controls(keep="\n") keeps newlines for multi-line output.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")
_UNSAFE_BUT_NEWLINE_RE = re.compile(f"[{_UNSAFE.replace(chr(0) + '-' + chr(0x1f), chr(0) + '-' + chr(9) + chr(11) + '-' + chr(0x1f))}]")
# What json.dumps(ensure_ascii=False) leaves raw inside strings that a terminal would obey.
_JSON_RAW_RE = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every control character shown as an escape; with keep="\\n", newlines stay."""
    pattern = _UNSAFE_BUT_NEWLINE_RE if keep == "\n" else _UNSAFE_RE
    return pattern.sub(_escape, text) if pattern.search(text) else text


def one_line(text: object) -> str:
    """`text` as one terminal-safe line (newlines and tabs escaped too)."""
    s = text if isinstance(text, str) else str(text)
    return _UNSAFE_RE.sub(_escape, s) if _UNSAFE_RE.search(s) else s


def safe_json_text(text: str) -> str:
    """JSON text (from json.dumps(..., ensure_ascii=False)) with the characters a terminal
    would obey, and lone surrogates, as \\uXXXX escapes. Valid only for JSON text: such
    characters can only be inside its strings, where the escape means the same character."""
    return _JSON_RAW_RE.sub(_json_escape, text) if _JSON_RAW_RE.search(text) else text


def json_utf8(text: str) -> bytes:
    """JSON text as UTF-8. A lone surrogate cannot be encoded: it is written as its JSON
    escape instead, which parses back to the same string (a JS writer emits such escapes)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub(_json_escape, text).encode("utf-8")


def has_surrogates(text: str) -> bool:
    return _SURROGATE_RE.search(text) is not None
