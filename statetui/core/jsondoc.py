"""Parse the bot's JSON with classified errors, and write it back in the bot's own style.

The file belongs to the bot: key order is kept (dicts keep insertion order), numbers keep
their JSON type (int stays int, float stays float), and the indentation, separators,
ASCII escaping and trailing newline are detected and reused."""

from __future__ import annotations

import copy
import json
import marshal
import math
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, Iterable

from statetui.core.errors import StateCorruptError, StateEmptyError, StateInvalidError


@dataclass(frozen=True)
class JsonFormat:
    indent: int | str | None = 2
    item_sep: str = ","
    key_sep: str = ": "
    ensure_ascii: bool = True
    trailing_newline: bool = True
    newline: str = "\n"  # "\r\n" for a file written with CRLF line ends: kept as the bot wrote it

    def dumps(self, obj: Any) -> str:
        _refuse_too_deep(obj)
        text = json.dumps(
            obj,
            indent=self.indent,
            separators=(self.item_sep, self.key_sep),
            ensure_ascii=self.ensure_ascii,
            allow_nan=False,
        )
        if self.newline != "\n" and "\n" in text:
            text = text.replace("\n", self.newline)  # safe: JSON strings never hold a raw newline
        return text + self.newline if self.trailing_newline else text

    # A save writes the document as its top-level fields' texts joined (value_text, join):
    # the same bytes as dumps(), and each field's text doubles as a type-strict fingerprint
    # of its value, so the store compares texts instead of walking the old and new values.

    @cached_property
    def _encoder(self) -> json.JSONEncoder:
        # One encoder per format: json.dumps() builds a new one per call (~2 us each, per field).
        return json.JSONEncoder(indent=self.indent, separators=(self.item_sep, self.key_sep),
                                ensure_ascii=self.ensure_ascii, allow_nan=False)

    @cached_property
    def _newline(self) -> str:
        """A newline plus one level of indent (what starts each top-level field)."""
        return self.newline + (self.indent if isinstance(self.indent, str) else " " * (self.indent or 0))

    def value_text(self, value: Any) -> str:
        """`value` as dumps() writes it as a top-level field's value (inner lines one level in).
        Raises ValueError for NaN/Infinity and TypeError for what JSON cannot hold, as dumps()."""
        kind = type(value)
        if kind is str:
            return encode_basestring_ascii(value) if self.ensure_ascii else encode_basestring(value)
        if kind is int:
            return int.__repr__(value)
        if kind is float:
            if value != value or value in (math.inf, -math.inf):
                raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
            return float.__repr__(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        _refuse_too_deep(value)
        text = self._encoder.encode(value)
        # Shift the value's own lines one level in. Safe: JSON strings never hold a raw newline.
        return text.replace("\n", self._newline) if self.indent is not None and "\n" in text else text

    def join(self, fields: Iterable[tuple[str, str]]) -> str:
        """The document text from (key, value_text) pairs: equal to dumps() of the object."""
        key = encode_basestring_ascii if self.ensure_ascii else encode_basestring
        parts = [key(k) + self.key_sep + v for k, v in fields]
        if not parts:
            text = "{}"
        elif self.indent is None:
            text = "{" + self.item_sep.join(parts) + "}"
        else:
            nl = self._newline
            text = "{" + nl + (self.item_sep + nl).join(parts) + self.newline + "}"
        return text + self.newline if self.trailing_newline else text


DEFAULT_FORMAT = JsonFormat()


class FieldTexts:
    """Top-level field texts in one format (JsonFormat.value_text) that re-encodes only
    the fields whose value changed since its last call.

    Whether a list or object changed is told by its marshal bytes (version 2: no
    back-references, so the bytes depend on the value alone). marshal runs in C (~20 us for
    a 10 KB state, against ~250 us for json's indenting encoder, which is pure Python),
    accepts only the exact built-in types and writes each value's type with it: equal bytes
    mean an equal value of the same types, key order included (1, 1.0 and true differ). A
    value marshal refuses (a subclass, say) is encoded every time."""

    def __init__(self, fmt: JsonFormat):
        self.fmt = fmt
        self._memo: dict[str, tuple[bytes, str]] = {}

    def texts(self, doc: dict[str, Any]) -> dict[str, str]:
        value_text = self.fmt.value_text
        old = self._memo
        memo: dict[str, tuple[bytes, str]] = {}
        out: dict[str, str] = {}
        for key, value in doc.items():
            if type(value) is dict or type(value) is list:
                try:
                    mark = marshal.dumps(value, 2)
                except ValueError:  # not built-in types only (or nested too deep)
                    out[key] = value_text(value)
                    continue
                hit = old.get(key)
                text = hit[1] if hit is not None and hit[0] == mark else value_text(value)
                memo[key] = (mark, text)
                out[key] = text
            else:
                out[key] = value_text(value)
        self._memo = memo
        return out


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars), ~4x faster than copy.deepcopy;
    anything else is handed to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: json_copy(v) for k, v in value.items()}
    if kind is list:
        return [json_copy(v) for v in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


class _NonFinite(ValueError):
    pass


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(f"number {text[:40]} is out of range (not a finite float)")
    return value


def _parse_constant(name: str) -> Any:
    raise _NonFinite(f"{name} is not valid JSON (NaN and Infinity are refused)")


def parse_document(raw: bytes, path: str) -> dict[str, Any]:
    """bytes -> a JSON object, or a typed error naming the file and the cause."""
    return parse_with_text(raw, path)[0]


def parse_with_text(raw: bytes, path: str) -> tuple[dict[str, Any], str]:
    """parse_document, and the decoded text (a caller that needs both decodes once: for a
    64 MiB state, one copy of the text less at the peak)."""
    if not raw.strip():
        raise StateEmptyError(f"{path}: file is empty ({len(raw)} bytes)", path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise StateCorruptError(f"{path}: starts with a UTF-8 byte-order mark, not JSON", path, 0)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateCorruptError(f"{path}: invalid UTF-8 at byte {exc.start}", path, exc.start) from None
    beyond_parser = nested_too_deep(text)
    try:
        if beyond_parser:
            raise RecursionError
        obj = json.loads(text, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise _corrupt(exc, text, raw, path) from None
    except _NonFinite as exc:
        where = _refused_value_path(text, raw, path)
        raise StateInvalidError(f"{path}: {'field ' + where + ': ' if where else ''}{exc}", path, field=where) from None
    except RecursionError:
        obj, beyond_parser = None, True  # deeper than Python's parser goes
    except ValueError:  # an integer with more digits than Python will convert
        where = _refused_value_path(text, raw, path)
        raise StateInvalidError(f"{path}: {'field ' + where + ': ' if where else ''}integer too long "
                                f"(over {sys.get_int_max_str_digits()} digits)", path, field=where) from None
    if beyond_parser or _too_deep(raw, obj):
        offset = _depth_exceeded_at(text)
        raise StateCorruptError(f"{path}: JSON nested more than {MAX_DEPTH} levels deep at byte {offset}: "
                                "not a state file", path, offset)
    if not isinstance(obj, dict):
        raise StateInvalidError(
            f"{path}: top level is a JSON {json_type(obj)}, expected an object", path, field="$"
        )
    return obj, text


class _Refused:
    """Stands in for a value the parser refused, so a second pass can say where it was."""


def _corrupt(exc: json.JSONDecodeError, text: str, raw: bytes, path: str) -> StateCorruptError:
    offset = len(text[: exc.pos].encode("utf-8"))
    if exc.pos >= len(text.rstrip()):
        msg = f"{path}: truncated JSON, ends at byte {len(raw)} ({exc.msg}): a partial write?"
    else:
        msg = f"{path}: invalid JSON at byte {offset} (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    return StateCorruptError(msg, path, offset)


def _refused_value_path(text: str, raw: bytes, path: str) -> str | None:
    """The path (`a.b[2].c`) of the first NaN, Infinity, out-of-range float or over-long
    integer in `text`, for the error message. Only runs when the parse already failed.
    The parser stops at such a number, so the document may also be broken further on:
    then it is corrupt (StateCorruptError raised here), not merely invalid."""
    def parse_float(s: str) -> Any:
        value = float(s)
        return value if math.isfinite(value) else _Refused()

    def parse_int(s: str) -> Any:
        try:
            return int(s)
        except ValueError:
            return _Refused()

    try:
        obj = json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=lambda s: _Refused())
    except json.JSONDecodeError as bad:
        raise _corrupt(bad, text, raw, path) from None
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:  # depth first, in document order
        value, where = stack.pop()
        if isinstance(value, _Refused):
            return where or "$"
        if isinstance(value, dict):
            items = [(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return None


# A bot's state is a few levels deep. Deeper documents are refused at load, because code
# that walks a document recursively (copy, compare, the indenting encoder) would hit
# Python's recursion limit on them later, as a raw RecursionError.
MAX_DEPTH = 100
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _refuse_too_deep(obj: Any) -> None:
    """RecursionError for a value nested past MAX_DEPTH, found without recursing: json's
    encoders recurse as deep as the value, and a library that raised the recursion limit
    (py-evm sets it to 10,000+) turns a very deep value into a crash of the C stack."""
    if not isinstance(obj, (dict, list)):
        return
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecursionError(f"nested more than {MAX_DEPTH} levels deep")
        for child in (value.values() if isinstance(value, dict) else value):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))


def nested_too_deep(text: str) -> bool:
    """Whether JSON text nests past MAX_DEPTH, found before json.loads recurses into it. Only
    looked at where the recursion limit was raised (web3/py-evm set it to 100,000): there the
    C parser overflows the C stack on a deep enough document instead of raising RecursionError.
    At Python's default limit json.loads raises it by itself and nothing is scanned."""
    if sys.getrecursionlimit() <= 1000 or text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    return _too_deep_bracket(text) is not None


def _too_deep(raw: bytes, obj: Any) -> bool:
    if not isinstance(obj, (dict, list)) or raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False  # cheap answer for every ordinary state
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _too_deep_bracket(text: str) -> "re.Match[str] | None":
    """The bracket that opens level MAX_DEPTH + 1 (strings skipped), or None."""
    depth = 0
    for m in _BRACKETS.finditer(text):
        token = m.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return m
        elif token in ("]", "}"):
            depth -= 1
    return None


def _depth_exceeded_at(text: str) -> int:
    """Byte offset of the bracket that opens level MAX_DEPTH + 1 (the text's end if none)."""
    m = _too_deep_bracket(text)
    return len(text[: m.start()].encode("utf-8")) if m is not None else len(text.encode("utf-8"))


def json_type(value: Any) -> str:
    """The JSON type a Python value is written as (int and float are one "number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def detect_format(text: str, obj: Any) -> JsonFormat:
    """The style the file was written in. Tries the likely candidates and keeps the one
    that reproduces the text exactly; falls back to the closest heuristic guess."""
    trailing = text.endswith("\n")
    # C speed (a Python loop took 0.7 s on a 15 MB state). DEL is ASCII, but ensure_ascii
    # escapes it: a raw one means the bot wrote with ensure_ascii=False.
    ensure_ascii = text.isascii() and "\x7f" not in text
    first = text.find("\n")
    newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"  # a CRLF file stays CRLF
    body = text.rstrip("\r\n") if newline == "\r\n" else text.rstrip("\n")
    indent: int | str | None = None
    first = body.find("\n")
    if first >= 0:  # only the second line is needed (splitting a 10 MB text made 1M strings)
        end = body.find("\n", first + 1)
        line = body[first + 1: end if end >= 0 else len(body)]
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        indent = "\t" if lead.startswith("\t") else (len(lead) or 0)
    candidates = []
    item_seps = (",",) if indent is not None else (", ", ",")
    for item_sep in item_seps:
        for key_sep in (": ", ":"):
            candidates.append(JsonFormat(indent, item_sep, key_sep, ensure_ascii, trailing, newline))
    for fmt in candidates:
        try:
            if _reproduces(fmt, obj, text):
                return fmt
        except ValueError:
            break
    # Not reproducible byte for byte (hand-edited, or another language's writer): best guess.
    key_sep = ": " if '": ' in text else ":"
    item_sep = "," if indent is not None or ", " not in text else ", "
    return JsonFormat(indent, item_sep, key_sep, ensure_ascii, trailing, newline)


def _reproduces(fmt: JsonFormat, obj: Any, text: str) -> bool:
    """fmt.dumps(obj) == text, compared chunk by chunk as the encoder produces them: the
    whole string (and the encoder's list of ~1M chunks for a 10 MB state, ~85 MB) is never
    built, and a wrong candidate stops at its first difference."""
    encoder = json.JSONEncoder(indent=fmt.indent, separators=(fmt.item_sep, fmt.key_sep),
                               ensure_ascii=fmt.ensure_ascii, allow_nan=False)
    pos = 0
    crlf = fmt.newline != "\n"
    for chunk in encoder.iterencode(obj):
        if crlf and "\n" in chunk:
            chunk = chunk.replace("\n", fmt.newline)
        if not text.startswith(chunk, pos):
            return False
        pos += len(chunk)
    return text[pos:] == (fmt.newline if fmt.trailing_newline else "")


def strict_equal(a: Any, b: Any) -> bool:
    """Equality that also compares JSON types (1 == 1.0 == True in Python, not in JSON)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    return a == b


def duplicate_keys(raw: bytes | str, limit: int = 5) -> list[str]:
    """Names of keys that appear twice in one object (at any depth), at most `limit`. JSON parsers keep the last value (Python's json, the bot's
    too), and a rewrite drops the first: worth a warning, never worth a refusal. Display
    paths only call this (the parse hook costs ~a third more than a plain parse)."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs) and len(found) < limit:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in found:
                    found.append(key)
                seen.add(key)
        return obj

    try:
        json.loads(raw, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return []
    return found[:limit]
