"""The local cache of a wallet's decoded on-chain history: append-only, hash-chained.

One file per (chain, wallet, stream, contract):
`<dir>/<chain id>-<genesis hash>/<wallet>/<stream>-<contract>.jsonl` (the genesis block's
hash tells chains with one id apart: Polygon, a local anvil) under the user's cache
folder (platformdirs) unless a folder is given. Line 1 is a
header naming the file's key; each further line is one scanned chunk,
`<hash> {"a": first block, "b": last block, "r": [records]}`, meaning "blocks a..b were
read in full and these are their records". The hash is sha256 of the previous line's hash
and this line's JSON bytes, so a torn, edited, reordered or removed line breaks the chain:
the lines before it are kept, the rest is dropped (and re-read from the chain). Nothing is
ever rewritten in place; a broken tail is cut off before the next append.

Only finalized blocks are written (the caller's business): a reorg cannot leave stale
records behind. No RPC URL is stored, only what the chain says."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1
FLUSH_EVERY = 64  # chunks buffered before a write
FLUSH_SECONDS = 1.0


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("statetui")) / "chain"


def _digest(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


def _line(previous: str, doc: dict[str, Any]) -> tuple[str, bytes]:
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    digest = _digest(previous, body)
    return digest, digest.encode("ascii") + b" " + body + b"\n"


MAX_CACHE_BYTES = 512 * 1024 * 1024  # over it, the cache is read past, not into memory


@dataclass
class CacheState:
    covered: list[tuple[int, int]] = field(default_factory=list)  # merged, sorted
    records: list[list[Any]] = field(default_factory=list)  # in file order (dedupe is the reader's)
    dropped_lines: int = 0  # lines after a broken link in the chain (re-read from the chain)
    problem: str | None = None  # why lines were dropped, for the report


class StreamCache:
    """One stream's cache file. `load()` then `append()`s; appends lock the file."""

    def __init__(self, directory: Path, chain_id: int, wallet: str, stream: str, contract: str,
                 label: str | None = None):
        """`label`: the chain's folder name (cash.open_rpc: chain id and genesis hash)."""
        self.key = {"v": VERSION, "chain_id": chain_id, "wallet": wallet.lower(), "stream": stream,
                    "contract": contract.lower()}
        self.path = Path(directory) / (label or str(chain_id)) / wallet.lower() / f"{stream}-{contract.lower()}.jsonl"
        self._last_hash: str | None = None
        self._good_bytes = 0  # length of the verified prefix
        self._pending: list[bytes] = []  # encoded chunk lines not written yet
        self._pending_since = time.monotonic()
        self._dir_ready = False
        self._unusable = False  # a link, FIFO or giant sits at the path: never written through

    def load(self) -> CacheState:
        from statetui.core.errors import StatetuiError
        from statetui.core.fsio import read_capped

        state = CacheState()
        try:  # no symlink followed, no FIFO waited on, no giant read (issue 11)
            raw = read_capped(self.path, "chain history cache", MAX_CACHE_BYTES)
        except FileNotFoundError:
            return state
        except StatetuiError as exc:
            self._unusable = True
            state.problem = f"{exc}: reading from the chain, not caching"
            return state
        except OSError as exc:
            state.problem = f"cache {self.path} unreadable ({exc.strerror}): reading from the chain"
            return state
        self._last_hash, self._good_bytes = None, 0
        self._read_lines(raw, 0, "", state)
        state.covered = merge(state.covered)
        return state

    @property
    def mark(self) -> tuple[int, str] | None:
        """Where the verified file ends now: (bytes, the last line's hash); a checkpoint
        keeps it, so a later scan decodes only what came after."""
        return (self._good_bytes, self._last_hash) if self._last_hash else None

    def load_after(self, mark: list[Any] | tuple[int, str]) -> CacheState | None:
        """The records of the lines appended after `mark` (the lines before it are verified,
        hash by hash, but not decoded: a checkpoint summarises them). None when the file no
        longer holds, intact, what the mark says: the caller then reads it with load()."""
        good, last_hash = mark
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        if len(raw) < good or raw[good - 1:good] != b"\n":
            return None
        previous = ""
        for line in raw[:good].split(b"\n")[:-1]:
            if len(line) < 66 or _digest(previous, line[65:]).encode("ascii") != line[:64]:
                return None
            if previous == "" and self._verify(line, "", first=True)[1] is not None:
                return None
            previous = line[:64].decode("ascii")
        if previous != last_hash:
            return None
        state = CacheState()
        self._last_hash, self._good_bytes = previous, good
        self._read_lines(raw[good:], good, previous, state)
        state.covered = merge(state.covered)
        return state

    def _read_lines(self, raw: bytes, offset: int, previous: str, state: CacheState) -> None:
        """Verify and read `raw` (the file from byte `offset`, whose previous line hash is
        `previous`; "" at the start of the file: a header comes first)."""
        lines = raw.split(b"\n")
        torn = lines.pop()  # b"" when the file ends with a newline, else a line cut short
        for i, line in enumerate(lines):
            header = previous == ""
            doc, reason = self._verify(line, previous, first=header)
            if reason is not None:
                state.dropped_lines = sum(1 for rest in lines[i:] if rest) + (1 if torn else 0)
                state.problem = (f"cache {self.path} at byte {offset}: {reason}; {state.dropped_lines} line(s) "
                                 "re-read from the chain")
                return
            previous = line[:64].decode("ascii")
            if not header:
                state.covered.append((doc["a"], doc["b"]))
                state.records.extend(doc["r"])
            self._last_hash = previous
            offset += len(line) + 1
            self._good_bytes = offset
        if torn:
            state.dropped_lines = 1
            state.problem = f"cache {self.path}: its last line was cut short (interrupted write); re-read from the chain"

    def _verify(self, line: bytes, previous: str, *, first: bool) -> tuple[Any, str | None]:
        """(the line's JSON, None) when it is intact and chained to `previous`, else (None, why)."""
        digest, body = line[:64], line[65:]
        if len(line) < 66 or line[64:65] != b" ":
            return None, "no checksum (torn write?)"
        if _digest(previous, body).encode("ascii") != digest:
            return None, "checksum mismatch"
        try:
            doc = json.loads(body)
        except ValueError:
            return None, "not JSON"
        if first:
            if not isinstance(doc, dict) or {k: doc.get(k) for k in self.key} != self.key:
                return None, "header names another chain, wallet or contract"
            return doc, None
        a, b, r = (doc.get("a"), doc.get("b"), doc.get("r")) if isinstance(doc, dict) else (None, None, None)
        if not (isinstance(a, int) and isinstance(b, int) and 0 <= a <= b and isinstance(r, list)):
            return None, "malformed chunk"
        return doc, None

    def append(self, a: int, b: int, records: list[list[Any]], encoded: bytes | None = None) -> None:
        """Record that blocks a..b were read in full, with these records (`encoded`: the line's
        JSON, when the caller encodes its records faster than json.dumps does). Lines are
        buffered and written together (every FLUSH_EVERY chunks or FLUSH_SECONDS, and by
        flush()): a scan interrupted in between reads at most that much again."""
        # Encoded now (a scan appends from its chunk thread, while the next chunk is read);
        # chained to the file's last line when written.
        self._pending.append(encoded if encoded is not None else
                             json.dumps({"a": a, "b": b, "r": records}, separators=(",", ":")).encode("utf-8"))
        if len(self._pending) >= FLUSH_EVERY or time.monotonic() - self._pending_since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if self._unusable:  # a link, FIFO or giant at the path: nothing is written through it
            self._pending = []
            return
        pending, self._pending = self._pending, []
        self._pending_since = time.monotonic()
        if not self._dir_ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._dir_ready = True
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError:  # a symlink (ELOOP) or anything else unopenable: the cache is only a cache
            self._unusable = True
            return
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            self._unusable = True
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size != self._good_bytes:
                # Another process appended, or a broken tail sits there: re-verify from the file.
                self.load()
                if self._good_bytes < os.fstat(fd).st_size:
                    os.ftruncate(fd, self._good_bytes)  # cut the part that failed its checksum
            out = []
            previous = self._last_hash
            if previous is None:
                previous, header = _line("", self.key)
                out.append(header)
            for body in pending:
                previous = _digest(previous, body)
                out.append(previous.encode("ascii") + b" " + body + b"\n")
            data = memoryview(b"".join(out))
            os.lseek(fd, self._good_bytes, os.SEEK_SET)
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            self._good_bytes += len(data)
            self._last_hash = previous
        finally:
            os.close(fd)  # closing releases the lock

    def discard(self) -> None:
        """Remove the file (it describes another chain): the next scan reads from the chain."""
        try:
            self.path.unlink()
        except OSError:
            pass
        self._last_hash, self._good_bytes = None, 0


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def missing(covered: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end] that `covered` (merged) does not cover."""
    gaps = []
    at = start
    for a, b in covered:
        if b < at:
            continue
        if a > end:
            break
        if a > at:
            gaps.append((at, a - 1))
        at = max(at, b + 1)
    if at <= end:
        gaps.append((at, end))
    return gaps
