"""A checkpoint of the assembled cash curve, so a warm scan touches only new records.

After a scan, the forward walk's state at the last final block it cached (`through`) is
saved beside the cache: balances and flows relative to the opening, the high-water mark
state per policy, a bounded sample of the curve, the blocks checked and their times,
and where the cache file ended then. The next scan of the same history (same chain,
wallet, tokens and start) restores the walk, decodes only the cache lines appended
since and reads the chain after `through`, and walks those. The curve itself is not
stored: a face that asks for every point gets it by walking the cache again.

One small file per history, `walk-<key hash>.json`, written whole (a temp file, then a
rename) with a sha256 of its content. `through` is stored with its block hash: a chain
whose block there has another hash now (a reorg deeper than finality, or another node's
chain behind the same URL) is not this history, and the checkpoint and cache are dropped.
Derived data only: a missing or damaged checkpoint costs a full walk, never a wrong history."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

VERSION = 2


class Checkpoint:
    def __init__(self, directory: Path, chain_id: int, wallet: str, key: dict[str, Any], label: str | None = None):
        """`label`: the chain's folder name, as the cache's (cash.open_rpc)."""
        self.key = {"v": VERSION, "chain_id": chain_id, "wallet": wallet.lower(), **key}
        name = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:20]
        self.path = Path(directory) / (label or str(chain_id)) / wallet.lower() / f"walk-{name}.json"
        self.problem: str | None = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None (absent, damaged, or for another history)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problem = f"checkpoint {self.path} unreadable ({exc.strerror}): walking the cache again"
            return None
        digest, _, body = raw.partition(b" ")
        try:
            doc = json.loads(body) if hashlib.sha256(body).hexdigest().encode() == digest else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or doc.get("key") != self.key:
            self.problem = f"checkpoint {self.path} is damaged or for another history: walking the cache again"
            return None
        return doc

    def save(self, doc: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({**doc, "key": self.key}, separators=(",", ":")).encode()
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(hashlib.sha256(body).hexdigest().encode() + b" " + body)
        os.replace(tmp, self.path)  # a reader sees the old file or the new one, never half of one

    def discard(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass
