"""The local cache of a wallet's decoded on-chain history: append-only, hash-chained.

One file per (chain id, wallet, stream, contract): `<dir>/<chain id>/<wallet>/<stream>-<contract>.jsonl`
under the user's cache folder (platformdirs) unless a folder is given. Line 1 is a
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("statetui")) / "chain"


def _digest(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


def _line(previous: str, doc: dict[str, Any]) -> tuple[str, bytes]:
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    digest = _digest(previous, body)
    return digest, digest.encode("ascii") + b" " + body + b"\n"


@dataclass
class CacheState:
    covered: list[tuple[int, int]] = field(default_factory=list)  # merged, sorted
    records: list[list[Any]] = field(default_factory=list)  # in file order (dedupe is the reader's)
    dropped_lines: int = 0  # lines after a broken link in the chain (re-read from the chain)
    problem: str | None = None  # why lines were dropped, for the report


class StreamCache:
    """One stream's cache file. `load()` then `append()`s; appends lock the file."""

    def __init__(self, directory: Path, chain_id: int, wallet: str, stream: str, contract: str):
        self.key = {"v": VERSION, "chain_id": chain_id, "wallet": wallet.lower(), "stream": stream,
                    "contract": contract.lower()}
        self.path = Path(directory) / str(chain_id) / wallet.lower() / f"{stream}-{contract.lower()}.jsonl"
        self._last_hash: str | None = None
        self._good_bytes = 0  # length of the verified prefix
        self._dir_ready = False

    def load(self) -> CacheState:
        state = CacheState()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return state
        except OSError as exc:
            state.problem = f"cache {self.path} unreadable ({exc.strerror}): reading from the chain"
            return state
        offset = 0
        previous = ""
        lines = raw.split(b"\n")
        torn = lines.pop()  # b"" when the file ends with a newline, else a line cut short
        for i, line in enumerate(lines):
            doc, reason = self._verify(line, previous, first=(i == 0))
            if reason is not None:
                state.dropped_lines = sum(1 for rest in lines[i:] if rest) + (1 if torn else 0)
                state.problem = f"cache {self.path} line {i + 1}: {reason}; {state.dropped_lines} line(s) re-read from the chain"
                break
            previous = line[:64].decode("ascii")
            if i > 0:
                state.covered.append((doc["a"], doc["b"]))
                state.records.extend(doc["r"])
            offset += len(line) + 1
        else:
            if torn:
                state.dropped_lines = 1
                state.problem = f"cache {self.path}: its last line was cut short (interrupted write); re-read from the chain"
        self._last_hash = previous or None
        self._good_bytes = offset if previous else 0
        state.covered = merge(state.covered)
        return state

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

    def append(self, a: int, b: int, records: list[list[Any]]) -> None:
        """Record that blocks a..b were read in full, with these records."""
        if not self._dir_ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._dir_ready = True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size != self._good_bytes:
                # Another process appended, or a broken tail sits there: re-verify from the file.
                self.load()
                if self._good_bytes < os.fstat(fd).st_size:
                    os.ftruncate(fd, self._good_bytes)  # cut the part that failed its checksum
            out = b""
            previous = self._last_hash
            if previous is None:
                previous, header = _line("", self.key)
                out += header
            digest, line = _line(previous, {"a": a, "b": b, "r": records})
            out += line
            os.lseek(fd, self._good_bytes, os.SEEK_SET)
            os.write(fd, out)
            self._good_bytes += len(out)
            self._last_hash = digest
        finally:
            os.close(fd)  # closing releases the lock


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
