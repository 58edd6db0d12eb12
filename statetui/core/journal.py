"""The write journal: append-only, fsync'd JSON lines beside the state file.

One line per write made through the store: time, generation, sha256 of the bytes
written, pid, writer, reason and the top-level fields that changed (old -> new). It is
the audit's "log peak_balance updates with reason", the console's history, and how
statetui tells whether the file on disk was last written through the store.

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
class JournalScan:
    entries: list[dict[str, Any]]
    bad_lines: int


class Journal:
    def __init__(self, path: Path, ops: FileOps = REAL_OPS):
        self.path = Path(path)
        self.ops = ops
        # The newest entry and the (device, inode, size, mtime) the file had with it. The
        # journal only grows, so an unchanged stat means an unchanged tail: a save then
        # costs one lstat here instead of reading and parsing the last 64 KB.
        self._tail: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, entry: dict[str, Any]) -> None:
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
                line = b"\n" + line  # close a torn line left by a crash
            write_all(self.ops, fd, line)
            self.ops.fsync(fd)
            st = os.fstat(fd)
            self._tail = ((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), dict(entry))
        finally:
            self.ops.close(fd)
        if created:
            # A new file's name is durable only once its folder is synced: without this, a
            # power loss could take back the journal and with it an acknowledged entry.
            self.ops.fsync_dir(str(self.path.parent))

    def last(self) -> dict[str, Any] | None:
        """The newest complete entry (reads only the tail)."""
        try:
            st = refuse_non_regular(self.path, "journal")
            if st is None:
                return None
            key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if self._tail is not None and self._tail[0] == key:
                return dict(self._tail[1])
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - TAIL_BYTES))
                tail = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError:
            raise StatePermissionError(f"{self.path}: permission denied reading the journal", str(self.path)) from None
        for line in reversed(tail.split(b"\n")):
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
        for line in data.split(b"\n"):
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
