"""The write journal: append-only, fsync'd JSON lines beside the state file.

One line per write made through the store: time, generation, sha256 of the bytes
written, pid, writer, reason and the top-level fields that changed (old -> new). It is
the audit's "log peak_balance updates with reason", the console's history, and how
statetui tells whether the file on disk was last written through the store.

The entry is written ahead of the file (appended and fsync'd before the replace), so a
crash can leave the newest entry describing a write that never landed, never a landed
write without its entry. `landed()` tells them apart: an entry landed when the file (or
the next entry's prev_sha256) holds its sha256. A write that failed cleanly is followed
by an `aborted` marker with the same generation.

A crash mid-append can leave a torn last line: readers skip it, and the next append
starts on a fresh line. Readers are tolerant: a line that is not an entry (not JSON, the
wrong shape, over the line cap) is reported with its line number and skipped, never fatal;
the file is read as a stream, so its size never decides the memory used."""

from __future__ import annotations

import json
import os
import stat
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from statetui.core.errors import NotRegularFileError, StatePermissionError, StatetuiError
from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW, REAL_OPS, FileOps, open_regular, refuse_non_regular, sha256_of, write_all
from statetui.core.textsafe import json_utf8

TAIL_BYTES = 64 * 1024
DEFAULT_ROTATE_BYTES = 512 * 1024  # as statetui.core.segments (not imported: the store's import stays light)
DEFAULT_ROTATE_AGE = 86400.0


def journal_path_for(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + ".journal.jsonl")


@dataclass
class PendingAppend:
    """A line written by begin_append, not yet fsync'd."""

    fd: int
    created: bool
    key: tuple[int, int, int, int]  # the journal's stat key with the line in it
    entry: dict[str, Any]


@dataclass(frozen=True)
class BadLine:
    number: int  # 1-based line number in its file (0: unknown)
    cause: str
    file: str | None = None  # the sealed segment or journal it is in (None: the active journal)

    def describe(self, path: Path | str) -> str:
        where = f"{self.file or path}:{self.number}" if self.number else f"{self.file or path}"
        return f"{where}: {self.cause}; line skipped"


BAD_LINES_KEPT = 100  # the first ones are described; all are counted


@dataclass
class JournalScan:
    entries: list[dict[str, Any]]
    bad_lines: int
    bad: list[BadLine] = field(default_factory=list)  # the first BAD_LINES_KEPT of them
    bad_segments: list[str] = field(default_factory=list)  # sealed segments failing their checksum


class Journal:
    def __init__(self, path: Path, ops: FileOps = REAL_OPS, state_path: Path | None = None, *,
                 rotate_bytes: int = DEFAULT_ROTATE_BYTES, rotate_age: float = DEFAULT_ROTATE_AGE):
        self.path = Path(path)
        self.ops = ops
        self.state_path = state_path  # the file it journals: tells whether the newest write landed
        # Rotation (statetui.core.segments): seal the active journal once it holds this many
        # bytes, or its first entry is this many seconds old (0: never).
        self.rotate_bytes = rotate_bytes
        self.rotate_age = rotate_age
        # The store's role map (a callable, read only when sealing): the summary it keeps reads
        # entries through these role paths (statetui.core.journal_summary.fingerprint).
        self.roles_source: Any = None
        self._head: tuple[tuple[int, int], float | None] | None = None  # (dev, ino) -> first entry's time
        # The newest entry and the (device, inode, size, mtime) the file had with it. The
        # journal only grows, so an unchanged stat means an unchanged tail: a save then
        # costs one lstat here instead of reading and parsing the last 64 KB.
        self._tail: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None
        # That key as last() or append() last saw it (None: no journal). Appends only grow the
        # file, so a key seen again means nobody appended in between.
        self.seen_key: tuple[int, int, int, int] | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, entry: dict[str, Any]) -> None:
        self.finish_append(self.begin_append(entry))

    def begin_append(self, entry: dict[str, Any]) -> "PendingAppend":
        """Write `entry`'s line, not yet durable: finish_append() makes it so. The store runs
        finish_append in a helper thread while it writes the temp file (journal.py's caller
        decides; both fsyncs are over before the replace)."""
        line = json_utf8(json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)) + b"\n"
        flags = os.O_RDWR | os.O_APPEND | O_NOFOLLOW | O_CLOEXEC
        created = False
        try:
            fd = self.ops.open(str(self.path), flags)
        except FileNotFoundError:
            try:
                fd = self.ops.open(str(self.path), flags | os.O_CREAT | os.O_EXCL, 0o644)
                created = True
            except FileExistsError:  # another writer created it meanwhile
                fd = self.ops.open(str(self.path), flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFileError(f"{self.path}: journal is not a regular file; refusing", str(self.path))
            if st.st_size and os.pread(fd, 1, st.st_size - 1) != b"\n":
                # A writer killed mid-append left a torn line. Appends happen under the store's
                # lock, so nobody is still writing it: cut it off and keep the journal clean.
                self.ops.ftruncate(fd, _last_line_end(fd, st.st_size))
                st = os.fstat(fd)
            if self._rotation_due(fd, st):
                from statetui.core.rotation import seal

                sealing, fd = fd, -1
                seal(self, sealing, st.st_size)  # closes it: the journal is now a sealed segment
                fd = self.ops.open(str(self.path), flags | os.O_CREAT | os.O_EXCL, 0o644)
                created = True
                if os.geteuid() == 0:  # root (a repair) leaves the new journal to the old one's owner
                    try:
                        self.ops.fchown(fd, st.st_uid, st.st_gid)
                    except OSError:
                        pass
            write_all(self.ops, fd, line)
            st = os.fstat(fd)
        except BaseException:
            if fd >= 0:
                self.ops.close(fd)
            raise
        return PendingAppend(fd, created, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), dict(entry))

    def finish_append(self, pending: "PendingAppend") -> None:
        """fsync the line and close; a new journal's folder is synced too. A failed fsync is
        never retried on the descriptor (it is closed either way)."""
        fd = pending.fd
        try:
            self.ops.fsync(fd)
        finally:
            self.ops.close(fd)
        if pending.created:
            # A new file's name is durable only once its folder is synced: without this, a
            # power loss could take back the journal and with it an acknowledged entry.
            self.ops.fsync_dir(str(self.path.parent))
        self.seen_key = pending.key
        self._tail = (pending.key, pending.entry)

    def _rotation_due(self, fd: int, st: os.stat_result) -> bool:
        """Whether the active journal is due to be sealed before this append."""
        if st.st_size == 0:
            return False
        if self.rotate_bytes and st.st_size >= self.rotate_bytes:
            return True
        if not self.rotate_age:
            return False
        key = (st.st_dev, st.st_ino)
        if self._head is None or self._head[0] != key:
            self._head = (key, _first_ts(fd))
        first = self._head[1]
        import time

        return first is not None and time.time() - first >= self.rotate_age

    def state_sha(self) -> str | None:
        if self.state_path is None:
            return None
        try:
            return sha256_of(self.state_path, "state file")
        except (OSError, StatetuiError):
            return None

    def _tail_bytes(self) -> tuple[int, bytes]:
        """The file's size and its last TAIL_BYTES (a FIFO or a link is refused, never waited on)."""
        fd, st = open_regular(self.path, "journal")
        try:
            size = st.st_size
            return size, os.pread(fd, min(size, TAIL_BYTES), max(0, size - TAIL_BYTES))
        finally:
            os.close(fd)

    def tail(self, n: int = 3) -> list[dict[str, Any]]:
        """The newest `n` complete entries, oldest first (reads only the end of the file)."""
        try:
            refuse_non_regular(self.path, "journal")
            size, data = self._tail_bytes()
        except (FileNotFoundError, NotADirectoryError):
            size, data = 0, b""
        except PermissionError:
            raise StatePermissionError(f"{self.path}: permission denied reading the journal", str(self.path)) from None
        found: list[dict[str, Any]] = []
        for line in reversed(_terminated(data)):
            entry = _parse_line(line)
            if entry is not None:
                found.append(entry)
                if len(found) == n:
                    break
        if len(found) < n and (size > TAIL_BYTES or _has_segments(self.path)):
            from statetui.core.journal_read import newest

            return newest(self.path, n)  # reads backwards into the sealed segments
        return found[::-1]

    def last(self) -> dict[str, Any] | None:
        """The newest complete entry (reads only the tail)."""
        self.seen_key = None
        try:
            st = refuse_non_regular(self.path, "journal")
            if st is None:
                return self._newest_sealed()
            key = self.seen_key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if self._tail is not None and self._tail[0] == key:
                return dict(self._tail[1])
            size, tail = self._tail_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError:
            raise StatePermissionError(f"{self.path}: permission denied reading the journal", str(self.path)) from None
        for line in reversed(_terminated(tail)):
            entry = _parse_line(line)
            if entry is not None:
                self._tail = (key, dict(entry))
                return entry
        if size > TAIL_BYTES or _has_segments(self.path):
            return self._newest_sealed()
        return None

    def _newest_sealed(self) -> dict[str, Any] | None:
        """The newest entry when the active journal holds none (just rotated, or gone)."""
        if not _has_segments(self.path):
            return None
        from statetui.core.journal_read import newest

        found = newest(self.path, 1)
        return found[-1] if found else None

    def scan(self, limit: int | None = None) -> JournalScan:
        """Every complete entry (or the newest `limit`), oldest first, across the sealed
        segments and the active journal, and the lines that are not entries (file, line
        number and cause) and the segments failing their checksum. Streamed: memory holds the
        entries kept and one block, whatever the size; a line over the cap is skipped unread.
        Readers that need only the newest entries use journal_read.newest (reads backwards)."""
        from statetui.core.journal_read import ReadStats, iter_forward

        stats = ReadStats()
        kept: deque[dict[str, Any]] = deque(maxlen=limit) if limit else deque()
        kept.extend(iter_forward(self.path, stats))
        return JournalScan(list(kept), stats.bad_lines, stats.bad, stats.bad_segments)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.scan().entries)


def _terminated(data: bytes) -> list[bytes]:
    """The lines of `data` that end with a newline. A last line without one is what a crash
    mid-append leaves; the next append cuts it off, so readers must not count it either,
    even when it parses (all but the newline reached the disk)."""
    return data.split(b"\n")[:-1]


def _has_segments(path: Path) -> bool:
    from statetui.core.segments import list_segments

    return bool(list_segments(path))


def _first_ts(fd: int) -> float | None:
    """The time of the file's first entry (its first line, read up to 64 KiB)."""
    from statetui.core.history import _ts

    head = os.pread(fd, TAIL_BYTES, 0)
    end = head.find(b"\n")
    entry = _parse_line(head[:end]) if end >= 0 else None
    return _ts(entry) if entry is not None else None


def _last_line_end(fd: int, size: int) -> int:
    """Offset just past the last newline before `size` (0 if there is none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        chunk = os.pread(fd, pos - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def landed(entries: list[dict[str, Any]], file_sha: str | None = None) -> list[dict[str, Any]]:
    """The entries whose write reached the file, oldest first. Dropped: aborted writes, and
    writes a crash stopped before their replace (the next write replaced the same file they
    meant to replace; or, for the newest, the file still holds what it meant to replace)."""
    aborted = {e["generation"] for e in entries if e.get("aborted")}
    writes = [e for e in entries if not e.get("aborted") and e["generation"] not in aborted]
    out = []
    for i, e in enumerate(writes):
        target, before = e.get("sha256"), e.get("prev_sha256")
        nxt = writes[i + 1] if i + 1 < len(writes) else None
        replaced = nxt.get("prev_sha256") if nxt is not None else file_sha
        if replaced is not None and target != before and replaced != target and replaced == before:
            continue
        out.append(e)
    return out


def writer_of(entries: list[dict[str, Any]], file_sha: str) -> dict[str, Any] | None:
    """The entry that wrote the file holding `file_sha`: walking back from the newest, skip
    aborted markers and writes a crash stopped before their replace (they meant to replace
    this very file); the first other entry must be it, or the file was written outside."""
    for e in reversed(entries):
        if e.get("aborted"):
            continue
        if e.get("sha256") == file_sha:
            return e
        if e.get("prev_sha256") != file_sha:
            return None
    return None


def _parse_line(line: bytes) -> dict[str, Any] | None:
    return parse_entry(line)[0]


def parse_entry(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(entry, None) for a line that is a journal entry, else (None, why not)."""
    line = line.strip()
    if not line:
        return None, "blank"
    from statetui.core.jsondoc import nested_too_deep

    try:
        if nested_too_deep(line.decode("utf-8")):  # a C stack overflow where web3 raised the recursion limit
            raise RecursionError
        entry = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "not valid JSON"
    problem = entry_problem(entry)
    return (None, problem) if problem else (entry, None)


_TEXT_KEYS = ("ts", "reason", "writer", "sha256", "prev_sha256", "backup", "error")


def entry_problem(entry: Any) -> str | None:
    """Why a parsed line is not an entry every reader can use, or None. Checked: what
    readers index into (generation, the changes' [old, new] pairs, texts, evidence);
    unknown keys are kept (later versions add some)."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    generation = entry.get("generation")
    if type(generation) is not int or not 0 <= generation < 2**63:
        return "generation is not a whole number >= 0"
    for key in _TEXT_KEYS:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{key} is not a string"
    if "changes" in entry:  # readers index it: present means an object
        changes = entry["changes"]
        if not isinstance(changes, dict):
            return "changes is not an object"
        if not all(isinstance(v, list) and len(v) == 2 for v in changes.values()):
            return "a change is not an [old, new] pair"
    if entry.get("evidence") is not None and not isinstance(entry["evidence"], dict):
        return "evidence is not an object"
    for key in ("pid", "size"):
        if entry.get(key) is not None and (type(entry[key]) is not int):
            return f"{key} is not a whole number"
    return None
