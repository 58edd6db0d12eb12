"""A checkpoint of the assembled cash curve, so a warm scan touches only new records.

After a scan, the forward walk's state at the last final block it cached (`through`) is
saved beside the cache, with where each token's cache file ended then. The next scan of
the same history (same chain, wallet, tokens and start) restores the walk, reads only
the cache lines appended since and the chain after `through`, and walks those.

Two files per history, named by a hash of its key:
- `walk-<key>.json`: the walk's state, the blocks checked and their times, the cache
  marks, and `through` with its block hash (a chain whose block at `through` has another
  hash, a reorg or another node's chain, is not this one: the checkpoint is not used);
  written whole (temp file, rename), with a sha256 of its content;
- `walk-<key>.jsonl`: the points and notable transfers, one line per scan that added
  some, hash-chained like the cache and read only when a face asks for the curve.

Derived data only: a missing, damaged or stale checkpoint costs a full walk of the
cache, never a wrong history."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

VERSION = 1


def _digest(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


class Checkpoint:
    def __init__(self, directory: Path, chain_id: int, wallet: str, key: dict[str, Any], label: str | None = None):
        """`label`: the chain's folder name, as the cache's (cash.open_rpc)."""
        self.key = {"v": VERSION, "chain_id": chain_id, "wallet": wallet.lower(), **key}
        name = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:20]
        folder = Path(directory) / (label or str(chain_id)) / wallet.lower()
        self.head_path = folder / f"walk-{name}.json"
        self.body_path = folder / f"walk-{name}.jsonl"
        self.problem: str | None = None

    def load(self) -> dict[str, Any] | None:
        """The saved head (walk state, marks, through, ...), or None (absent or damaged)."""
        try:
            raw = self.head_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problem = f"checkpoint {self.head_path} unreadable ({exc.strerror}): walking the cache again"
            return None
        digest, _, body = raw.partition(b" ")
        try:
            doc = json.loads(body) if hashlib.sha256(body).hexdigest().encode() == digest else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or doc.get("key") != self.key:
            self.problem = f"checkpoint {self.head_path} is damaged or for another history: walking the cache again"
            return None
        return doc

    def body(self, head: dict[str, Any]) -> tuple[list[tuple], list[list[Any]]]:
        """The saved points and notable transfers (the walk's points before `base`)."""
        size, expected = head["body"]
        points: list[tuple] = []
        notable: list[list[Any]] = []
        with self.body_path.open("rb") as f:
            raw = f.read(size)
        previous = ""
        for line in raw.split(b"\n")[:-1]:
            digest, body = line[:64].decode("ascii"), line[65:]
            if _digest(previous, body) != digest:
                raise ValueError(f"checkpoint {self.body_path}: checksum mismatch")
            previous = digest
            pts, nts = json.loads(body)
            points += [tuple(p) for p in pts]
            notable += nts
        if previous != expected:
            raise ValueError(f"checkpoint {self.body_path}: ends where its head does not say")
        return points, notable

    def save(self, head: dict[str, Any], points: list[tuple], notable: list[list[Any]],
             previous: dict[str, Any] | None) -> None:
        """Append the new points to the body (after what `previous` saved), then replace the head."""
        self.head_path.parent.mkdir(parents=True, exist_ok=True)
        size, last = previous["body"] if previous else (0, "")
        if points or notable or not previous:
            line = json.dumps([points, notable], separators=(",", ":")).encode()
            digest = _digest(last, line)
        # One save at a time (a console and a cron audit may scan at once): the body and the
        # head written under one lock always match.
        fd = os.open(self.body_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if points or notable or not previous:
                line = json.dumps([points, notable], separators=(",", ":")).encode()
                digest = _digest(last, line)
                os.ftruncate(fd, size)  # a line a crashed save left after the head's end
                os.lseek(fd, size, os.SEEK_SET)
                os.write(fd, digest.encode("ascii") + b" " + line + b"\n")
                size, last = size + 66 + len(line), digest
            doc = {**head, "key": self.key, "body": [size, last]}
            body = json.dumps(doc, separators=(",", ":")).encode()
            tmp = self.head_path.with_name(self.head_path.name + f".tmp-{os.getpid()}")
            with open(tmp, "wb") as f:
                f.write(hashlib.sha256(body).hexdigest().encode() + b" " + body)
            os.replace(tmp, self.head_path)
        finally:
            os.close(fd)  # closing releases the lock

    def discard(self) -> None:
        for path in (self.head_path, self.body_path):
            try:
                path.unlink()
            except OSError:
                pass
