"""Generated bad inputs: random, seeded mutations of real ~10 KB states in every writing
style, stacked one to three deep. Byte-level (truncate, flip bits, insert or delete bytes,
duplicate a span, NUL and 0xFF runs, a BOM, invalid UTF-8, a UTF-16 re-encoding) and
token-level (a known field's value replaced by NaN, Infinity, 1e400, a 5,000-digit
integer, a string, a list, deep nesting, a lone surrogate, ...). The expected outcome of
each comes from an independent oracle (statetui.testing.corpus.oracle)."""

from __future__ import annotations

import random
import re
from typing import Callable, Iterator

from statetui.testing.states import KNOWN_FIELDS, STYLES, encode, realistic_state

HOSTILE_VALUES = [
    "NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "0e0", "1E5", "31.50",
    '"100.5"', '""', "null", "true", "false", "[]", "{}", "[1.5]", '{"usd": 1}',
    "1" * 5000, "-" + "9" * 400, "123456789012345678901234567890",
    '"\\ud800"', '"\\u0000"', '"\\udfff\\ud800"', '"' + "x" * 70000 + '"',
    "[" * 150 + "]" * 150, '{"a":' * 120 + "1" + "}" * 120, "[" * 90 + "]" * 90,
    "0x10", "+1", ".5", "1.", "01", "'x'", "undefined", "None",
]
FIELD_VALUE = re.compile(rb'"(%s)"\s*:\s*' % b"|".join(f.encode() for f in KNOWN_FIELDS))


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 8])):
        if b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _insert(rng: random.Random, data: bytes) -> bytes:
    junk = rng.choice([b"\x00", b"\x00" * 64, b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                       b"{", b"}", b"[", b",", b'"', b"\\", b"\n", b"/* c */", b"NaN", b"\x1b[31m",
                       bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))])
    i = rng.randrange(len(data) + 1)
    return data[:i] + junk + data[i:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 64):]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randint(1, 400))
    k = rng.randrange(len(data) + 1)
    return data[:k] + data[i:j] + data[k:]


def _encoding(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return b"\xef\xbb\xbf" + data
    if kind == 1:
        return data.decode("utf-8", "replace").encode("utf-16")
    if kind == 2:
        return data.replace(b"e", b"\xe9", rng.randint(1, 3))  # latin-1 where UTF-8 is expected
    if kind == 3:
        return data + b"\x00" * rng.randint(1, 4096)  # preallocated, never written
    return b"\x00" * len(data)  # a zeroed block


def _value(rng: random.Random, data: bytes) -> bytes:
    """Replace one known field's value token with a hostile one."""
    found = list(FIELD_VALUE.finditer(data))
    if not found:
        return _insert(rng, data)
    m = rng.choice(found)
    start = m.end()
    end = _token_end(data, start)
    return data[:start] + rng.choice(HOSTILE_VALUES).encode() + data[end:]


def _token_end(data: bytes, i: int) -> int:
    """End of the JSON value starting at i (good enough for the states we generate)."""
    if i >= len(data):
        return i
    c = data[i:i + 1]
    if c == b'"':
        j = i + 1
        while j < len(data):
            if data[j:j + 1] == b"\\":
                j += 2
                continue
            if data[j:j + 1] == b'"':
                return j + 1
            j += 1
        return j
    if c in (b"[", b"{"):
        depth, j = 0, i
        in_str = False
        while j < len(data):
            ch = data[j:j + 1]
            if in_str:
                if ch == b"\\":
                    j += 1
                elif ch == b'"':
                    in_str = False
            elif ch == b'"':
                in_str = True
            elif ch in (b"[", b"{"):
                depth += 1
            elif ch in (b"]", b"}"):
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return j
    j = i
    while j < len(data) and data[j:j + 1] not in (b",", b"}", b"]", b"\n", b" "):
        j += 1
    return j


def _top(rng: random.Random, data: bytes) -> bytes:
    return rng.choice([b"", b" \n\t ", b"null", b"[]", b"0", b'"state"', b"[" + data + b"]", data + data,
                       data + b"garbage", b"{}", b'{"positions": ' + data + b"}"])


MUTATORS: list[Callable[[random.Random, bytes], bytes]] = [
    _truncate, _flip, _flip, _insert, _delete, _duplicate, _encoding, _value, _value, _value, _top,
]


def generate(seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    bases = [encode(realistic_state(s), style) for s, style in zip(range(8), sorted(STYLES))]
    for i in range(n):
        data = rng.choice(bases)
        names = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            m = rng.choice(MUTATORS)
            names.append(m.__name__.strip("_"))
            data = m(rng, data)
        yield f"#{i} {'+'.join(names)}", data
