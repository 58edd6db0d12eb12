"""The backups' small index: what verifying each backup found, so a listing with
verification reads the names, a stat each and this file, not every backup.

`<backups>/.statetui-index.json` maps a backup's name to what verifying it found (sha256,
whether it loads, its role values, the error), keyed by its size and mtime: a backup
rewritten since (another size or time) is read again. It is a cache, written only by
`statetui verify --save-index` (say, from the daily backup timer; every other reader only reads it): missing or
damaged, every backup is read as before; the dot keeps it out of every listing.

Bit rot keeps size and time, so every verified listing also reads the NEWEST backups and a
random SAMPLE of the others in full and compares them with the index (a mismatch is a bad
checksum); `statetui verify --all` reads every backup."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from statetui.core.fsio import REAL_OPS, FileOps, durable_replace, read_capped

INDEX_NAME = ".statetui-index.json"
NEWEST, SAMPLE = 2, 2
MAX_INDEX_BYTES = 64 * 1024 * 1024


class BackupIndex:
    def __init__(self, folder: Path, fields: dict[str, Any]):
        self.path = Path(folder) / INDEX_NAME
        self.fields_key = json.dumps(fields or {}, sort_keys=True, default=str)
        self.items: dict[str, list[Any]] = {}
        self.changed = False
        try:
            data = json.loads(read_capped(self.path, "backup index", MAX_INDEX_BYTES))
            if isinstance(data, dict) and data.get("version") == 1 and data.get("fields") == self.fields_key \
                    and isinstance(data.get("items"), dict):
                self.items = data["items"]
        except Exception:  # noqa: BLE001 - unreadable or damaged: a cache, rebuilt as it goes
            self.items = {}

    def fill(self, info: Any, st: os.stat_result | None) -> bool:
        """Fill `info` from the index when it describes this very file; False: read it."""
        item = self.items.get(info.name)
        if st is None or not isinstance(item, list) or len(item) != 7 or item[:2] != [st.st_size, st.st_mtime_ns]:
            return False
        info.sha256, info.valid, roles, info.error, info.checksum = item[2], item[3], item[4], item[5], item[6]
        info.roles = dict(roles) if isinstance(roles, dict) else {}
        return True

    def record(self, info: Any, st: os.stat_result | None) -> None:
        if st is None or info.checksum == "unreadable":
            return
        item = [st.st_size, st.st_mtime_ns, info.sha256, info.valid, info.roles, info.error, info.checksum]
        if self.items.get(info.name) != item:
            self.items[info.name] = item
            self.changed = True

    def forget_missing(self, names: set[str]) -> None:
        for name in [n for n in self.items if n not in names]:
            del self.items[name]
            self.changed = True

    def save(self, ops: FileOps = REAL_OPS) -> None:
        """Write it back when it changed (best effort: a reader that cannot write loses nothing)."""
        if not self.changed:
            return
        data = json.dumps({"version": 1, "fields": self.fields_key, "items": self.items}, separators=(",", ":"))
        try:
            durable_replace(self.path, data.encode(), ops, mode=0o644)
            self.changed = False
        except OSError:
            pass


def spot_checks(infos: list[Any], newest: int = NEWEST, sample: int = SAMPLE, rng: random.Random | None = None) -> set[str]:
    """The names read in full on every verified listing: the newest few and a random sample."""
    ours = [b for b in infos if b.kind != "quarantine"]
    chosen = {b.name for b in ours[:newest]}
    rest = ours[newest:]
    if rest and sample:
        chosen |= {b.name for b in (rng or random).sample(rest, min(sample, len(rest)))}
    return chosen
