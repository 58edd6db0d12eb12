"""Generated hostile file contents for the suite: state documents with hostile strings,
numbers and shapes; journal lines of every wrong shape; backup files with hostile names and
contents. Each comes with what the suite's own rules expect (statetui.testing.corpus's
oracle for a state's bytes; the journal's documented entry shape for its lines)."""

from __future__ import annotations

import json
import os
import random
import socket
from pathlib import Path
from typing import Any, Callable

from statetui.testing.states import STYLES, encode, realistic_state

STRINGS = ["\u001b[2J\u001b[H", "\u001b]0;pwned\u0007", "\u009b31m", "\u202eevil", "[bold red]x[/]", "[/]", "[link=x]y",
           "\ud800", "\udfff\ud800", "\u0000", "a\r\nb", "\t", "x" * 100_000, "%s%n", "{0}", "$(id)", "\u200f\u2066",
           "\ufeff", "😀", "\U0010ffff", "", " ", "é" * 50]
NUMBERS: list[Any] = [1e26, -1e26, 1.7e308, -1.7e308, 5e-324, -0.0, 0.1, 10**400, -(10**400), 2**63, 2**64 + 1, -1, 0]
RAW_NUMBERS = ["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 5000, "1E-999999", "0.1e999", "-0", "1.0e+26"]


def _inject(rng: random.Random, doc: dict) -> tuple[dict, str]:
    """One hostile change to a realistic state: a string, a number, or a shape."""
    kind = rng.choice(["string", "string", "number", "number", "shape", "position"])
    if kind == "string":
        field = rng.choice(["mode", "halt_reason", "bot_version", "note", "last_updated"])
        value = rng.choice(STRINGS)
        doc[field] = value
        return doc, f"{field}={value[:20]!r}"
    if kind == "number":
        field = rng.choice(["current_balance", "peak_balance", "day_start_balance", "daily_pnl", "total_trades", "extra_number"])
        value = rng.choice(NUMBERS)
        doc[field] = value
        return doc, f"{field}={str(value)[:20]}"
    if kind == "position":
        positions = doc.get("positions") or {}
        key = rng.choice(["0x" + "f" * 70, "-1", "1e400", "\u001b[2J", "[b]", "0" * 100, "99" * 60])
        if isinstance(positions, dict):
            positions[key] = {"size": rng.choice(NUMBERS), "current_price": rng.choice([0.5, 1e308, -1]),
                              "token_id": key, "market": rng.choice(STRINGS)}
        doc["positions"] = positions
        return doc, f"position {key[:20]!r}"
    shape = rng.choice(["wide", "deep", "long list", "empty object", "unicode keys"])
    if shape == "wide":
        doc["wide"] = {f"k{i}": i for i in range(10_000)}
    elif shape == "deep":
        deep: Any = 1
        for _ in range(95):
            deep = [deep]
        doc["deep"] = deep
    elif shape == "long list":
        doc["history"] = list(range(50_000))
    elif shape == "empty object":
        doc = {}
    else:
        doc["\u001b[2J\u202e[b]"] = "key"
    return doc, shape


def state_inputs(rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of hostile states: valid JSON with hostile content in every writing
    style, CRLF and duplicate keys; numbers JSON can spell but Python cannot hold."""
    out = []
    styles = list(STYLES)
    while len(out) < n:
        doc = realistic_state(rng.randrange(1000))
        label = []
        for _ in range(rng.randint(1, 3)):
            doc, what = _inject(rng, doc)
            label.append(what)
        style = rng.choice(styles)
        try:
            raw = encode(doc, style)
        except (UnicodeEncodeError, ValueError, RecursionError):
            raw = json.dumps(doc, ensure_ascii=True).encode()
        r = rng.random()
        if r < 0.15:
            raw = raw.replace(b"\n", b"\r\n")
            label.append("CRLF")
        elif r < 0.25:
            raw = raw.replace(b"{", b'{"current_balance": 1.0, ', 1)
            label.append("duplicate key")
        elif r < 0.4:
            token = rng.choice(RAW_NUMBERS).encode()
            raw = raw.replace(b'"daily_pnl": ', b'"daily_pnl": ' + token + b", \"was\": ", 1) if b'"daily_pnl": ' in raw \
                else raw.replace(b"{", b'{"current_balance": ' + token + b", ", 1)
            label.append(f"number {token[:12]!r}")
        out.append((f"{style}: {', '.join(label)}"[:120], raw))
    return out


# --- journal lines ----------------------------------------------------------------------------

def _entry(gen: int = 99, **over: Any) -> dict:
    e = {"ts": "2026-01-16T00:00:00.000Z", "generation": gen, "sha256": "ab" * 32, "size": 10, "prev_sha256": None,
         "pid": 1, "writer": "bot.py", "reason": "trade", "changes": {"current_balance": [1.0, 2.0]}}
    e.update(over)
    return e


WRONG = {"generation": ["2", 2.5, -1, True, None, 2**64, [], {}], "changes": ["x", [], {"a": 1}, {"a": [1]}, {"a": [1, 2, 3]}, 5, None],
         "ts": [5, [], {}], "reason": [[], {}, 7], "writer": [{}, 1.5], "sha256": [1, []], "prev_sha256": [False],
         "evidence": ["x", [1]], "pid": ["x", 1.5, []], "size": [1.5, "10"], "backup": [1], "error": [[]]}
BAD_RAW = [b"{", b"[]", b"null", b"1", b'"x"', b"\x00\x00", b"\xff\xfe\xfa", b"[" * 100_000, b'{"generation": 1e999}',
           b'{"generation": ' + b"9" * 5000 + b"}", b"\r", b'{"generation": NaN}', b'{"generation": 3} trailing']
OK_RAW = [b"", b"   ", json.dumps(_entry(reason="\u001b[2J evil [b]x[/b] \u202e")).encode(),
          json.dumps(_entry(reason="x" * 500_000)).encode(),
          json.dumps(_entry(evidence={"rpc_url": "http://h/***"})).encode(), json.dumps(_entry(extra={"k": [1]})).encode()]


def journal_line(rng: random.Random, cap: int) -> tuple[str, bytes, bool]:
    """(name, line bytes without its newline, is it an entry?)"""
    r = rng.random()
    if r < 0.45:
        key = rng.choice(list(WRONG))
        value = rng.choice(WRONG[key])
        return f"{key}={value!r}"[:60], json.dumps(_entry(**{key: value})).encode(), False
    if r < 0.7:
        raw = rng.choice(BAD_RAW)
        return f"raw {raw[:16]!r}", raw, False
    if r < 0.8:
        return "over the line cap", json.dumps(_entry(reason="x" * (cap + 10))).encode(), False
    if r < 0.85:
        e = _entry()
        del e["generation"]
        return "no generation", json.dumps(e).encode(), False
    raw = rng.choice(OK_RAW)
    return f"fine {raw[:16]!r}", raw, bool(raw.strip())


# --- backup files -------------------------------------------------------------------------------

def _socket(p: Path) -> None:
    """A Unix socket at `p` (bound under a short name, then moved: socket paths are limited to ~108 bytes)."""
    import tempfile

    short = Path(tempfile.mkdtemp(prefix="sk", dir="/tmp"))
    try:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(short / "s"))
        s.close()
        os.rename(short / "s", p)
    finally:
        short.rmdir()


def _sparse(size: int) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        with open(p, "wb") as f:
            f.truncate(size)
    return make


BACKUP_NAMES = ["trading_state.20261399T250000.000000Z.manual.0123456789abcdef.json",  # our shape, impossible date
                "trading_state.20260116T000000.000000Z.manual.0123456789abcdef.json",  # checksum will not match
                "\u001b[2J.json", "[bold]x[/bold].json".replace("/", "_"), "\u202e.json", "é" * 60 + ".json",
                "a" * 240 + ".json", "spaces in name.json", "trading_state.backup", "backup_20260116.json",
                "-rf.json", "--help.json", ".hidden.json", "x.json"]
BACKUP_CONTENTS: dict[str, Callable[[Path], None]] = {
    "corrupt": lambda p: p.write_bytes(b'{"current_balance": 1,,'),
    "empty": lambda p: p.write_bytes(b""),
    "surrogate": lambda p: p.write_bytes(b'{"current_balance": 1.0, "mode": "\\ud800"}'),
    "huge number": lambda p: p.write_bytes(b'{"current_balance": 1e26, "peak_balance": 1' + b"0" * 400 + b"}"),
    "not an object": lambda p: p.write_bytes(b"[1, 2]"),
    "valid": lambda p: p.write_bytes(b'{"current_balance": 5.0, "peak_balance": 5.0}'),
    "FIFO": lambda p: os.mkfifo(p),
    "symlink to /etc/passwd": lambda p: p.symlink_to("/etc/passwd"),
    "directory": lambda p: p.mkdir(),
    "socket": _socket,
    "65 MiB sparse (over the cap)": _sparse(65 * 1024 * 1024),
}
