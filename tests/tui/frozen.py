"""Deterministic sandboxes for SVG snapshots and screenshots: the real scenarios (built
through the real store), then every time and pid in them pinned, at a fixed path, and
the app given a fixed clock. Nothing on screen then depends on when or where it ran."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from statetui.core.backups import TS_FORMAT, _OURS
from statetui.core.config import Config
from statetui.core.journal import journal_path_for
from statetui.testing import scenarios

# 2026-01-16 02:00:00 UTC: four minutes after the Jan 16 desync was found.
FIXED_NOW = datetime(2026, 1, 16, 2, 0, 0, tzinfo=timezone.utc).timestamp()
# A fixed absolute path: paths show on screen, so the snapshots must not depend on the
# user, TMPDIR or pytest's numbering.
ROOT = Path("/tmp/statetui-snap")
BACKUP_AGES_H = (1.0, 25.0, 49.0, 73.0)
WRITE_GAP_S = 600  # journal entries ten minutes apart, the newest two minutes ago


def clock() -> float:
    return FIXED_NOW


def sandbox(name: str, build: Callable[[Path], scenarios.Scenario] = scenarios.jan16) -> Config:
    root = ROOT / name
    shutil.rmtree(root, ignore_errors=True)
    sc = build(root)
    freeze(sc)
    return Config(state=sc.state, backup_dir=sc.backups, pid_file=root / "bot.pid")


def freeze(sc: scenarios.Scenario, now: float = FIXED_NOW) -> None:
    newest = now - 120
    journal = journal_path_for(sc.state)
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    last = entries[-1]["generation"] if entries else 0
    for e in entries:
        ts = newest - (last - e["generation"]) * WRITE_GAP_S
        e["ts"] = datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        e["pid"] = 4242
    journal.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
    os.utime(sc.state, (newest, newest))
    ours = sorted((p for p in sc.backups.iterdir() if _OURS.match(p.name)), reverse=True)
    for path, age_h in zip(ours, BACKUP_AGES_H):
        m = _OURS.match(path.name)
        when = now - age_h * 3600
        stamp = datetime.fromtimestamp(when, timezone.utc).strftime(TS_FORMAT)
        new = path.with_name(f"{m['stem']}.{stamp}.{m['reason']}.{m['sha']}.json")
        os.rename(path, new)
        os.utime(new, (when, when))
