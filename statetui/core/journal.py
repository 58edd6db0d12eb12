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
starts on a fresh line."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from statetui.core.errors import NotRegularFileError, StatePermissionError
from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW, REAL_OPS, FileOps, refuse_non_regular, write_all

TAIL_BYTES = 64 * 1024


def journal_path_for(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + ".journal.jsonl")


@dataclass
class PendingAppend:
    """A line written by begin_append, not yet fsync'd."""

    fd: int
    created: bool
    key: tuple[int, int, int, int]  # the journal's stat key with the line in it
    entry: dict[str, Any]


@dataclass
class JournalScan:
    entries: list[dict[str, Any]]
    bad_lines: int


class Journal:
    def __init__(self, path: Path, ops: FileOps = REAL_OPS, state_path: Path | None = None):
        self.path = Path(path)
        self.ops = ops
        self.state_path = state_path  # the file it journals: tells whether the newest write landed
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
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"
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
            write_all(self.ops, fd, line)
            st = os.fstat(fd)
        except BaseException:
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

    def state_sha(self) -> str | None:
        if self.state_path is None:
            return None
        try:
            import hashlib

            with open(self.state_path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        except OSError:
            return None

    def _tail_bytes(self) -> tuple[int, bytes]:
        """The file's size and its last TAIL_BYTES."""
        with open(self.path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            return size, f.read()

    def tail(self, n: int = 3) -> list[dict[str, Any]]:
        """The newest `n` complete entries, oldest first (reads only the end of the file)."""
        try:
            refuse_non_regular(self.path, "journal")
            size, data = self._tail_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError:
            raise StatePermissionError(f"{self.path}: permission denied reading the journal", str(self.path)) from None
        found: list[dict[str, Any]] = []
        for line in reversed(_terminated(data)):
            entry = _parse_line(line)
            if entry is not None:
                found.append(entry)
                if len(found) == n:
                    break
        if len(found) < n and size > TAIL_BYTES:
            return self.scan(limit=n).entries
        return found[::-1]

    def last(self) -> dict[str, Any] | None:
        """The newest complete entry (reads only the tail)."""
        self.seen_key = None
        try:
            st = refuse_non_regular(self.path, "journal")
            if st is None:
                return None
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
        if size > TAIL_BYTES:
            scan = self.scan()
            return scan.entries[-1] if scan.entries else None
        return None

    def scan(self, limit: int | None = None) -> JournalScan:
        """Every complete entry (or the newest `limit`), oldest first, and how many lines were unreadable."""
        try:
            refuse_non_regular(self.path, "journal")
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return JournalScan([], 0)
        except PermissionError:
            raise StatePermissionError(f"{self.path}: permission denied reading the journal", str(self.path)) from None
        entries: list[dict[str, Any]] = []
        bad = 0
        lines = _terminated(data)
        if not data.endswith(b"\n") and data.rsplit(b"\n", 1)[-1].strip():
            bad += 1  # a torn last line: not an entry, even when it happens to parse
        for line in lines:
            if not line.strip():
                continue
            entry = _parse_line(line)
            if entry is None:
                bad += 1
            else:
                entries.append(entry)
        if limit is not None:
            entries = entries[-limit:]
        return JournalScan(entries, bad)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.scan().entries)


def _terminated(data: bytes) -> list[bytes]:
    """The lines of `data` that end with a newline. A last line without one is what a crash
    mid-append leaves; the next append cuts it off, so readers must not count it either,
    even when it parses (all but the newline reached the disk)."""
    return data.split(b"\n")[:-1]


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
    line = line.strip()
    if not line:
        return None
    try:
        entry = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("generation"), int):
        return None
    return entry
