"""Reading the journal across its sealed segments and the active file, reading only what
is needed: forwards (streamed, from the first segment that can hold `since`), or backwards
from the newest entry (a page at a time: the console's history, `statetui journal --limit`).

A reader takes a consistent view without the store's lock: it lists the segments, opens the
active journal, and lists again; a rotation in between (the lists differ) means look again.
Whatever is appended after that is simply not in this read."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from statetui.core.segments import LineNumbers, Segment, lines_backwards, lines_of_fd, list_segments, open_segment


FORWARD_BYTES = 2 * 1024 * 1024  # an active journal up to this size is read forwards (line numbers)


@dataclass
class ReadStats:
    """What a read met besides entries: bad lines (file and line number, cause) and sealed
    segments that fail their checksum (found only by reads that read a whole segment)."""

    bad_lines: int = 0
    bad: list[Any] = field(default_factory=list)  # journal.BadLine, the first BAD_LINES_KEPT
    bad_segments: list[str] = field(default_factory=list)
    segments_read: int = 0

    def add_bad(self, file: str, number: int, cause: str) -> None:
        from statetui.core.journal import BAD_LINES_KEPT, BadLine

        self.bad_lines += 1
        if len(self.bad) < BAD_LINES_KEPT:
            self.bad.append(BadLine(number, cause, file))


@dataclass
class View:
    segments: list[Segment]
    fd: int | None  # the active journal, opened (None: there is none)
    size: int

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def open_view(path: Path) -> View:
    """The segments and the active journal as one consistent view (see the module doc)."""
    from statetui.core.errors import StatePermissionError
    from statetui.core.fsio import open_regular

    for _attempt in range(5):
        before = list_segments(path)
        try:
            fd, st = open_regular(path, "journal")
            size = st.st_size
        except (FileNotFoundError, NotADirectoryError):
            fd, size = None, 0
        except PermissionError:
            raise StatePermissionError(f"{path}: permission denied reading the journal", str(path)) from None
        after = list_segments(path)
        if [s.name for s in before] == [s.name for s in after]:
            return View(after, fd, size)
        if fd is not None:
            os.close(fd)
    return View(after, None, 0) if fd is None else View(after, *_reopen(path))


def _reopen(path: Path) -> tuple[int | None, int]:
    from statetui.core.fsio import open_regular

    try:
        fd, st = open_regular(path, "journal")
        return fd, st.st_size
    except OSError:
        return None, 0


def _entries_of(lines: Iterator[tuple[int, bytes | None, bool]], file: str, stats: ReadStats,
                torn_ok: bool) -> Iterator[dict[str, Any]]:
    from statetui.core.journal import parse_entry
    from statetui.core.limits import LIMITS

    for number, line, complete in lines:
        if not complete:
            if not torn_ok or line is None or line.strip():
                stats.add_bad(file, number, "torn last line (a write cut short); not an entry")
            continue
        if line is None:
            stats.add_bad(file, number, f"line longer than the {LIMITS.journal_line_bytes}-byte cap (max_journal_line_bytes)")
            continue
        if not line.strip():
            continue
        entry, cause = parse_entry(line)
        if entry is None:
            stats.add_bad(file, number, cause or "not an entry")
        else:
            yield entry


def iter_forward(path: Path, stats: ReadStats | None = None, *, since: str | None = None,
                 metas: dict[int, dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
    """Every entry, oldest first, streamed. With `since` (an ISO time) and the index's segment
    `metas`, sealed segments that end before it are not read. A sealed segment read whole has
    its checksum checked (a failure goes to stats.bad_segments; its lines are still read)."""
    stats = stats if stats is not None else ReadStats()
    view = open_view(path)
    try:
        for seg in view.segments:
            meta = (metas or {}).get(seg.seq)
            if since is not None and meta and isinstance(meta.get("last_ts"), str) and meta["last_ts"] < since:
                continue
            try:
                fd = open_segment(seg)
            except OSError as exc:
                stats.bad_segments.append(f"{seg.name}: cannot read the sealed segment: {exc.strerror or exc}")
                continue
            stats.segments_read += 1
            try:
                h = hashlib.sha256()
                yield from _entries_of(lines_of_fd(fd, 0, h), str(seg.path), stats, torn_ok=False)
                if h.hexdigest() != seg.sha256:
                    stats.bad_segments.append(f"{seg.name}: sealed segment fails its checksum (content hashes to "
                                              f"{h.hexdigest()[:16]}); its lines were read anyway")
            finally:
                os.close(fd)
        if view.fd is not None:
            yield from _entries_of(lines_of_fd(view.fd), str(path), stats, torn_ok=False)
    finally:
        view.close()


def iter_back(path: Path, stats: ReadStats | None = None) -> Iterator[dict[str, Any]]:
    """Every complete entry, newest first, reading backwards from the end: a caller that
    stops after N entries has read about N lines (plus one block)."""
    from statetui.core.journal import parse_entry
    from statetui.core.limits import LIMITS

    stats = stats if stats is not None else ReadStats()
    cap = LIMITS.journal_line_bytes
    view = open_view(path)
    try:
        sources: list[tuple[str, int, int, bool]] = []
        if view.fd is not None:
            sources.append((str(path), view.fd, view.size, False))
        by_file = {}
        for seg in reversed(view.segments):
            file = os.path.join(seg.folder, seg.name)
            by_file[file] = seg
            sources.append((file, -1, 0, True))
        for file, fd, size, sealed in sources:
            if sealed:
                seg = by_file[file]
                try:
                    fd = open_segment(seg)
                    size = os.fstat(fd).st_size
                except OSError as exc:
                    stats.bad_segments.append(f"{seg.name}: cannot read the sealed segment: {exc.strerror or exc}")
                    continue
                stats.segments_read += 1
            try:
                if not sealed and size <= FORWARD_BYTES:
                    # The active journal is small (rotation keeps it so): read forwards, so a
                    # bad line is named with its line number, then hand it out newest first.
                    yield from reversed(list(_entries_of(lines_of_fd(fd), file, stats, torn_ok=False)))
                    continue
                numbers = LineNumbers(fd)  # counted only when a bad line needs its number
                for offset, line in lines_backwards(fd, size):
                    if not line.strip():
                        continue
                    if len(line) > cap:
                        stats.add_bad(file, numbers.number(offset),
                                      f"line longer than the {cap}-byte cap (max_journal_line_bytes)")
                        continue
                    entry, cause = parse_entry(line)
                    if entry is None:
                        stats.add_bad(file, numbers.number(offset), cause or "not an entry")
                    else:
                        yield entry
            finally:
                if sealed:
                    os.close(fd)
    finally:
        view.close()


def newest(path: Path, n: int, keep: Callable[[dict[str, Any]], bool] | None = None,
           stats: ReadStats | None = None, *, before: int | None = None) -> list[dict[str, Any]]:
    """The newest `n` entries (that `keep` accepts, older than generation `before`), oldest
    first: a page of history, read from the end."""
    out: list[dict[str, Any]] = []
    if n <= 0:
        return out
    for e in iter_back(path, stats):
        if before is not None and e["generation"] >= before:
            continue
        if keep is None or keep(e):
            out.append(e)
            if len(out) >= n:
                break
    return out[::-1]
