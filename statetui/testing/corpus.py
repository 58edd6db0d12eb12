"""A generated corpus of broken (and some valid) state files, each with the outcome a
correct loader must give, for the bad-input tests (and the reliability suite's larger tier).

A case is bytes to write at the state path (or a `make` function that plants something
else there: a directory, a FIFO, a symlink), plus what loading it must give: "ok" or an
error class from statetui.core.errors, and for a wrong type the field it must name.
Where the outcome of a mutation is not known in advance (bit flips), `oracle()` decides
it from the bytes with its own rules: decode, parse, then the known fields' types."""

from __future__ import annotations

import json
import math
import os
import random
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from statetui.core.errors import (
    NotRegularFileError,
    StateCorruptError,
    StateEmptyError,
    StateInvalidError,
    StateLoadError,
    StateMissingError,
)
from statetui.testing.states import STYLES, encode, realistic_state

OK = "ok"
MAX_DEPTH = 100  # what the loader accepts; a bot's state is a few levels deep


@dataclass
class Case:
    name: str
    data: bytes | None = None
    expect: Any = OK  # OK or an exception class
    field: str | None = None  # for StateInvalidError on a known field
    make: Callable[[Path], None] | None = None  # plants a non-file at the path instead of `data`
    family: str = ""
    roundtrip: bool = True  # when it loads: written back unchanged it gives the same bytes
    subpath: str | None = None  # load <planted path>/<subpath> instead of the planted path

    def plant(self, path: Path) -> None:
        if self.make is not None:
            self.make(path)
        elif self.data is not None:
            path.write_bytes(self.data)


# --- the oracle ------------------------------------------------------------------------

_NUMBER = (int, float)


def _is_num(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


# Known field -> predicate for a valid value (null is valid for every field).
VALID: dict[str, Callable[[Any], bool]] = {
    **{f: _is_num for f in ("current_balance", "peak_balance", "day_start_balance", "starting_balance", "daily_pnl")},
    "mode": lambda v: isinstance(v, str),
    "halted": lambda v: isinstance(v, bool),
    "halt_reason": lambda v: isinstance(v, str),
    **{f: (lambda v: isinstance(v, int) and not isinstance(v, bool))
       for f in ("consecutive_wins", "consecutive_losses", "total_trades", "total_wins")},
    "positions": lambda v: isinstance(v, (list, dict)),
    "last_updated": lambda v: isinstance(v, str) or _is_num(v),
}


class _NonFinite(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def canonical(raw: bytes) -> bool:
    """Whether a JSON writer would produce exactly these bytes (so a load and an unchanged
    write give them back): not the case for hand-made spellings like 31.50 or 1E5."""
    from statetui.core.jsondoc import nested_too_deep

    try:
        if nested_too_deep(raw.decode("utf-8")):
            return False
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return any(encode(obj, style) == raw for style in STYLES)


def oracle(raw: bytes) -> tuple[Any, str | None]:
    """(expected outcome, field) for bytes at the state path."""
    if not raw.strip():
        return StateEmptyError, None
    if raw.startswith(b"\xef\xbb\xbf"):
        return StateCorruptError, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return StateCorruptError, None
    from statetui.core.jsondoc import nested_too_deep

    if nested_too_deep(text):  # json.loads would overflow the C stack where web3 raised the recursion limit
        return StateCorruptError, None
    try:
        # The first problem in document order decides, as in a real parse: an out-of-range
        # number before a syntax error makes the file invalid, not corrupt.
        obj = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        return StateCorruptError, None
    except RecursionError:
        return StateCorruptError, None
    except _NonFinite:
        return StateInvalidError, None
    except ValueError:  # an integer too long to convert
        return StateInvalidError, None
    if _depth(obj) > MAX_DEPTH:
        return StateCorruptError, None
    if _has_non_finite(obj):  # 1e400 parses as inf
        return StateInvalidError, None
    if not isinstance(obj, dict):
        return StateInvalidError, "$"
    for key, valid in VALID.items():
        if key in obj and obj[key] is not None and not valid(obj[key]):
            return StateInvalidError, key
    return OK, None


# --- the corpus --------------------------------------------------------------------------

WRONG_VALUES: dict[str, list[Any]] = {
    "number": ["100.5", True, False, [], {}, [1.5], {"usd": 1}, "NaN"],
    "mode": [1, 0.5, True, [], {}, ["normal"]],
    "halted": ["true", "false", 0, 1, [], {}],
    "halt_reason": [1, True, [], {"why": "x"}],
    "counter": [1.5, 1.0, "3", True, [], {}],
    "positions": [1, 0.5, "[]", True],
    "last_updated": [True, [], {}, ["2026-01-16"]],
}
FIELD_KIND = {
    **{f: "number" for f in ("current_balance", "peak_balance", "day_start_balance", "starting_balance", "daily_pnl")},
    "mode": "mode", "halted": "halted", "halt_reason": "halt_reason",
    **{f: "counter" for f in ("consecutive_wins", "consecutive_losses", "total_trades", "total_wins")},
    "positions": "positions", "last_updated": "last_updated",
}
VALID_VALUES: dict[str, list[Any]] = {
    "number": [None, 0, 12, 12.5, -3.25, 1e-300, 123456789012345678901234567890],
    "mode": [None, "normal", "halted", "some-new-mode", ""],
    "halted": [None, True, False],
    "halt_reason": [None, "", "drawdown 31% > 30%"],
    "counter": [None, 0, 7, -1, 10**30],
    "positions": [None, [], {}, [1, "a", None], {"123": {"size": 1.5}}],
    "last_updated": [None, "2026-01-16T01:56:00Z", 1768528560, 1768528560.25],
}


def _with(doc: dict, key: str, value: Any) -> dict:
    out = dict(doc)
    out[key] = value
    return out


def _nested(depth: int, kind: str = "list") -> str:
    if kind == "list":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def build(seed: int = 0, *, truncations: str = "all", flips: int = 300, huge_mb: int = 20) -> Iterator[Case]:
    """The corpus. `truncations`: "all" (every prefix) or a step like "97"."""
    rng = random.Random(seed)
    doc = realistic_state(seed)
    base = encode(doc, "indent2")

    # Every truncation point of a real state (a crash mid-write without the atomic replace).
    step = 1 if truncations == "all" else int(truncations)
    for n in range(0, len(base) + 1, step):
        prefix = base[:n]
        yield Case(f"truncated at byte {n}", prefix, *oracle(prefix), family="truncation", roundtrip=canonical(prefix))
    if step != 1:
        yield Case("truncated at the last byte", base[:-1], StateCorruptError, family="truncation")

    # Bit flips and byte damage anywhere.
    for i in range(flips):
        raw = bytearray(base)
        pos = rng.randrange(len(raw))
        if i % 3 == 2:
            raw[pos] = rng.randrange(256)
            label = f"byte {pos} set to {raw[pos]:#04x}"
        else:
            bit = rng.randrange(8)
            raw[pos] ^= 1 << bit
            label = f"bit {bit} of byte {pos} flipped"
        yield Case(label, bytes(raw), *oracle(bytes(raw)), family="bit flip", roundtrip=canonical(bytes(raw)))

    # Empty and blank.
    for name, raw in [("empty", b""), ("one space", b" "), ("newlines", b"\n\n\n"), ("tabs and CRLF", b"\t \r\n\t"),
                      ("form feed", b"\x0c"), ("1 MB of spaces", b" " * (1 << 20))]:
        yield Case(name, raw, StateEmptyError, family="empty")

    # NUL bytes.
    yield Case("all NUL", b"\x00" * 4096, StateCorruptError, family="nul")
    yield Case("NUL inside object", b'{"current_balance":\x00 1}', StateCorruptError, family="nul")
    yield Case("NUL-padded tail (preallocated file)", base + b"\x00" * 4096, StateCorruptError, family="nul")
    yield Case("NUL-filled head (lost data blocks)", b"\x00" * 4096 + base[4096:], StateCorruptError, family="nul")
    for _ in range(8):
        pos = rng.randrange(len(base))
        raw = base[:pos] + b"\x00" + base[pos:]
        yield Case(f"NUL inserted at {pos}", raw, *oracle(raw), family="nul", roundtrip=canonical(raw))

    # Encodings.
    yield Case("UTF-8 BOM", b"\xef\xbb\xbf" + base, StateCorruptError, family="encoding")
    yield Case("UTF-16 LE with BOM", json.dumps(doc).encode("utf-16"), StateCorruptError, family="encoding")
    yield Case("UTF-16 BE", json.dumps(doc).encode("utf-16-be"), StateCorruptError, family="encoding")
    yield Case("Latin-1 string", '{"mode": "défensive"}'.encode("latin-1"), StateCorruptError, family="encoding")
    for name, bad in [("lone 0xff", b"\xff"), ("overlong slash", b"\xc0\xaf"), ("lone continuation", b"\x80"),
                      ("truncated 3-byte", b"\xe2\x82"), ("UTF-8 surrogate", b"\xed\xa0\x80"),
                      ("above U+10FFFF", b"\xf4\x90\x80\x80")]:
        yield Case(f"invalid UTF-8 in a string: {name}", b'{"halt_reason": "' + bad + b'"}', StateCorruptError, family="encoding")
    yield Case("escaped lone surrogate (valid JSON)", b'{"halt_reason": "\\ud800"}', OK, family="encoding")
    yield Case("non-ASCII kept raw", '{"halt_reason": "drawdown ≥ 30% — halted 🚨"}'.encode(), OK, family="encoding")

    # Non-finite and out-of-range numbers, in known fields, extras and nested values.
    for token in ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999", "-0.5e309"):
        for key in ("current_balance", "peak_balance", "daily_pnl", "some_extra"):
            raw = base.replace(b'"current_balance"', f'"{key}": {token}, "current_balance"'.encode(), 1) \
                if key == "some_extra" else _replace_value(doc, key, token)
            yield Case(f"{token} in {key}", raw, StateInvalidError, field=key, family="non-finite")
        nested = base.replace(b'"kelly_fraction": 0.25', f'"kelly_fraction": {token}'.encode(), 1)
        yield Case(f"{token} nested in strategy.params", nested, StateInvalidError,
                   field="strategy.params.kelly_fraction", family="non-finite")
    yield Case("1e-400 underflows to 0.0 (valid)", _replace_value(doc, "daily_pnl", "1e-400"), OK,
               family="non-finite", roundtrip=False)
    yield Case("integer of 5000 digits", _replace_value(doc, "total_trades", "9" * 5000), StateInvalidError,
               field="total_trades", family="non-finite")
    yield Case("integer of 4000 digits in an extra (valid)", _replace_value(doc, "version", "7" * 4000), OK, family="non-finite")

    # Wrong types in every known field (and values that are valid, to show they load).
    for key, kind in FIELD_KIND.items():
        for value in WRONG_VALUES[kind]:
            yield Case(f"{key} = {json.dumps(value)}", encode(_with(doc, key, value)), StateInvalidError, field=key, family="wrong type")
        for value in VALID_VALUES[kind]:
            yield Case(f"{key} = {json.dumps(value)} (valid)", encode(_with(doc, key, value)), OK, family="valid value")

    # Top level not an object.
    for name, raw in [("array", b"[]"), ("array of the state", b"[" + base + b"]"), ("string", b'"state"'),
                      ("number", b"200.97"), ("true", b"true"), ("null", b"null"), ("negative number", b"-1")]:
        yield Case(f"top level is {name}", raw, StateInvalidError, field="$", family="top level")

    # Not JSON at all, or JSON with extras Python's parser refuses.
    for name, raw in [
        ("trailing comma", b'{"current_balance": 1.0,}'), ("single quotes", b"{'current_balance': 1.0}"),
        ("comment", b'{"current_balance": 1.0 // cash\n}'), ("unquoted key", b"{current_balance: 1.0}"),
        ("two objects", base + base), ("trailing garbage", base + b"x"), ("unterminated string", b'{"mode": "norm'),
        ("raw newline in string", b'{"mode": "nor\nmal"}'), ("bad escape", b'{"mode": "\\q"}'),
        ("hex number", b'{"total_trades": 0x10}'), ("leading zero", b'{"total_trades": 010}'),
        ("plus sign", b'{"current_balance": +1.0}'), ("python True", b'{"halted": True}'),
        ("python None", b'{"halt_reason": None}'), ("YAML", b"current_balance: 1.0\nmode: normal\n"),
        ("git conflict markers", b"<<<<<<< HEAD\n" + base + b"\n=======\n" + base + b"\n>>>>>>> other\n"),
        ("HTML error page", b"<html><body>502 Bad Gateway</body></html>"),
        ("a lone brace", b"{"), ("a lone quote", b'"'),
    ]:
        yield Case(name, raw, *oracle(raw), family="syntax", roundtrip=canonical(raw))

    # Nesting.
    for depth in (10, MAX_DEPTH - 2):
        raw = b'{"current_balance": 1.0, "deep": ' + _nested(depth).encode() + b"}"
        yield Case(f"nested {depth} levels (valid)", raw, OK, family="nesting")
    for depth, kind in [(MAX_DEPTH + 5, "list"), (400, "list"), (900, "dict"), (5000, "list"), (100_000, "list"),
                        (100_000, "dict")]:
        raw = b'{"current_balance": 1.0, "deep": ' + _nested(depth, kind).encode() + b"}"
        yield Case(f"nested {depth} levels ({kind})", raw, StateCorruptError, family="nesting")
    yield Case("100k unclosed brackets", b"[" * 100_000, StateCorruptError, family="nesting")

    # Duplicate keys: JSON allows them; the bot's json.load keeps the last, and so do we.
    yield Case("duplicate key (last wins)", b'{"current_balance": 1.0, "current_balance": 2.0}', OK,
               family="duplicate", roundtrip=False)
    yield Case("duplicate key with a wrong-typed last value", b'{"halted": false, "halted": "yes"}',
               StateInvalidError, field="halted", family="duplicate")

    # Huge.
    if huge_mb:
        big = dict(doc)
        big["history"] = [{"ts": "2026-01-16T01:56:00Z", "pnl": 1.25, "note": "x" * 80}] * (huge_mb * (1 << 20) // 130)
        big_raw = encode(big, "compact")
        yield Case(f"{len(big_raw) >> 20} MB valid", big_raw, OK, family="huge")
        yield Case(f"{len(big_raw) >> 20} MB truncated", big_raw[:-7], StateCorruptError, family="huge")
        yield Case(f"{huge_mb} MB string value", b'{"current_balance": 1.0, "blob": "' + b"a" * (huge_mb << 20) + b'"}',
                   OK, family="huge")
        yield Case(f"{huge_mb} MB of opening brackets", b"[" * (huge_mb << 20), StateCorruptError, family="huge")

    # Valid files in every style a bot writes.
    for style in STYLES:
        yield Case(f"valid, {style}", encode(doc, style), OK, family="valid")
    yield Case("valid, empty object", b"{}", OK, family="valid")
    yield Case("valid, only unknown fields", b'{"foo": [1, {"bar": null}]}', OK, family="valid")

    # Not a regular file.
    yield Case("missing", None, StateMissingError, make=lambda p: None, family="not a file")
    yield Case("directory", None, NotRegularFileError, make=lambda p: p.mkdir(), family="not a file")
    yield Case("FIFO", None, NotRegularFileError, make=lambda p: os.mkfifo(p), family="not a file")
    yield Case("symlink to a valid state", None, NotRegularFileError, make=_symlink_to_valid(base), family="not a file")
    yield Case("dangling symlink", None, NotRegularFileError, make=lambda p: os.symlink(p.with_name("nowhere"), p),
               family="not a file")
    yield Case("symlink loop", None, NotRegularFileError, make=lambda p: os.symlink(p, p), family="not a file")
    yield Case("socket", None, NotRegularFileError, make=_socket, family="not a file")
    if os.geteuid() == 0:
        yield Case("character device", None, NotRegularFileError,
                   make=lambda p: os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 3)), family="not a file")
    yield Case("parent is a file", None, StateLoadError, make=_parent_is_file, family="not a file",
               subpath="trading_state.json")


def _replace_value(doc: dict, key: str, token: str) -> bytes:
    """The indent-2 encoding of `doc` with `key`'s value written as the literal `token`."""
    marker = "__TOKEN__"
    text = json.dumps(_with(doc, key, marker), indent=2)
    return text.replace(f'"{marker}"', token, 1).encode()


def _symlink_to_valid(base: bytes) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        target = p.with_name("real_state.json")
        target.write_bytes(base)
        os.symlink(target, p)
    return make


def _socket(p: Path) -> None:
    import socket

    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    s.close()  # the socket file stays


def _parent_is_file(p: Path) -> None:
    p.write_bytes(b"{}")  # the case loads p/trading_state.json: its folder is this file
