"""Sealed journal segments: the journal rotated by size and age.

The active journal (`<stem>.journal.jsonl`) stays small: when an append finds it over
`rotate_bytes`, or its first entry older than `rotate_age` seconds, the store (holding its
lock) seals it before writing the new line. Sealing is one atomic rename in the same folder:

    trading_state.journal.jsonl  ->  trading_state.journal.000042.<sha256 of its bytes>.jsonl

so the name carries the segment's order and its checksum, and a crash leaves either the
active journal still in place or the sealed segment (the next append creates a new active
journal): no entry is ever in two files or in none. After the rename the folder is synced,
then the summary index (statetui.core.journal_summary) is brought up to date; the index is a
cache rebuilt from the segments whenever it is missing, stale or damaged.

A sealed segment never changes again. One whose bytes no longer hash to its name is
reported by every reader that reads it (and by `statetui journal --verify`); its lines are
still read, never silently skipped.

Defaults, sized for a year of minute-by-minute trading (~525,000 entries of ~400 bytes, about
200 MB a year): 512 KiB or one day per segment, about 400 segments a year."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW

from statetui.core.journal import DEFAULT_ROTATE_AGE, DEFAULT_ROTATE_BYTES  # noqa: F401 (documented here)

_SEGMENT = re.compile(r"^(?P<base>.+)\.(?P<seq>\d{6,12})\.(?P<sha>[0-9a-f]{64})\.jsonl$")
_TAIL = re.compile(r"(\d{6,12})\.([0-9a-f]{64})")


@dataclass(frozen=True)
class Segment:
    folder: str
    name: str
    seq: int
    sha256: str  # what the name says its bytes hash to

    @property
    def path(self) -> Path:  # built on demand: a year of segments is listed on every read
        return Path(self.folder, self.name)

    def size(self) -> int | None:
        try:
            return os.lstat(os.path.join(self.folder, self.name)).st_size
        except OSError:
            return None


def base_of(journal_path: Path) -> str:
    """`trading_state.journal` for `trading_state.journal.jsonl`."""
    name = journal_path.name
    return name[: -len(".jsonl")] if name.endswith(".jsonl") else name


def segment_path(journal_path: Path, seq: int, sha: str) -> Path:
    return journal_path.with_name(f"{base_of(journal_path)}.{seq:06d}.{sha}.jsonl")


def is_segment_name(name: str, journal_path: Path) -> bool:
    m = _SEGMENT.match(name)
    return m is not None and m["base"] == base_of(journal_path)


def list_segments(journal_path: Path) -> list[Segment]:
    """The sealed segments beside `journal_path`, oldest first (one listing of the folder)."""
    base = base_of(journal_path)
    folder = str(journal_path.parent)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    prefix = base + "."
    for name in names:
        if not name.startswith(prefix) or not name.endswith(".jsonl"):
            continue
        # _SEGMENT with the base known: only the tail is matched (no backtracking over a
        # 64-digit hash on each of a year's ~1,000 names, on every read of the journal)
        m = _TAIL.fullmatch(name, len(prefix), len(name) - len(".jsonl"))
        if m is not None:
            found.append(Segment(folder, name, int(m[1]), m[2]))
    found.sort(key=lambda s: (s.seq, s.name))
    return found


def open_segment(seg: Segment) -> int:
    """A read descriptor on a sealed segment (a link or a FIFO in its place is refused)."""
    import stat

    fd = os.open(os.path.join(seg.folder, seg.name), os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OSError(f"{seg.path}: not a regular file")
    return fd


def checksum_problem(seg: Segment) -> str | None:
    """Why the segment fails its checksum (streamed), or None when its bytes hash to its name."""
    try:
        fd = open_segment(seg)
    except OSError as exc:
        return f"{seg.name}: cannot read the sealed segment: {exc.strerror or exc}"
    h = hashlib.sha256()
    try:
        while block := os.read(fd, 1 << 20):
            h.update(block)
    finally:
        os.close(fd)
    if h.hexdigest() != seg.sha256:
        return (f"{seg.name}: sealed segment fails its checksum (content hashes to {h.hexdigest()[:16]}); "
                "its lines are read anyway, and the segment is kept as evidence")
    return None


def lines_of_fd(fd: int, start: int = 0, hasher: Any = None) -> Iterator[tuple[int, bytes | None, bool]]:
    """(line number, line, complete) for each line from `start`, streamed in 1 MiB blocks;
    None for a line over the journal line cap (dropped unread). The last yielded line may be
    incomplete (a torn append): `complete` says whether it ended with a newline. `hasher`
    (a hashlib object) is fed every block read: a segment's checksum for free."""
    from statetui.core.limits import LIMITS

    cap = LIMITS.journal_line_bytes
    number, pending, skipping, pos = 0, b"", False, start
    while block := os.pread(fd, 1 << 20, pos):
        pos += len(block)
        if hasher is not None:
            hasher.update(block)
        begin = 0
        while True:
            end = block.find(b"\n", begin)
            if end < 0:
                if not skipping:
                    pending += block[begin:]
                    if len(pending) > cap:
                        pending, skipping = b"", True
                break
            number += 1
            if skipping:
                skipping = False
                yield number, None, True
            else:
                line = pending + block[begin:end]
                pending = b""
                yield number, (None if len(line) > cap else line), True
            begin = end + 1
    if skipping:
        yield number + 1, None, False
    elif pending.strip():
        yield number + 1, pending, False


def lines_backwards(fd: int, size: int, block: int = 64 * 1024) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for the complete lines of the first `size` bytes, newest first (a torn
    last line, one without its newline, is not a line). Reads blocks from the end: the cost
    is what is read."""
    pos, carry, seen_newline = size, b"", False
    while pos > 0:
        start = max(0, pos - block)
        chunk = os.pread(fd, pos - start, start) + carry
        pos = start
        parts = chunk.split(b"\n")
        carry, rest = parts[0], parts[1:]
        offsets, at = [], start + len(carry) + 1
        for part in rest:
            offsets.append(at)
            at += len(part) + 1
        if not seen_newline:
            if not rest:  # still inside a torn last line: not a line
                carry = b""
                continue
            rest, offsets, seen_newline = rest[:-1], offsets[:-1], True
        yield from reversed(list(zip(offsets, rest)))
    if seen_newline and carry:
        yield 0, carry


class LineNumbers:
    """Line numbers for lines met while reading a file backwards: the newlines before an
    offset, counted once from the start and then only between successive offsets, so a
    whole backwards pass costs at most one more read of the file."""

    def __init__(self, fd: int):
        self.fd, self._at, self._count = fd, None, 0

    def _newlines(self, a: int, b: int) -> int:
        n, pos = 0, a
        while pos < b:
            chunk = os.pread(self.fd, min(1 << 20, b - pos), pos)
            if not chunk:
                break
            n += chunk.count(b"\n")
            pos += len(chunk)
        return n

    def number(self, offset: int) -> int:
        if self._at is None or offset > self._at:
            self._count = self._newlines(0, offset)
        else:
            self._count -= self._newlines(offset, self._at)
        self._at = offset
        return self._count + 1
