"""Retention of sealed journal segments: `statetui journal --prune` removes the segments
whose newest entry is older than journal_keep_days, oldest first (a crash mid-prune leaves
the newest segments, never a hole), under the store's lock, then rebuilds the index from what
is left. Rotation never removes anything.

Removing segments removes evidence: the plan says where the journal's evidence starts
afterwards ("peak evidence now starts at #N (time)"), and when the write that raised the
current peak is among the removed entries, that the peak's verdict will lose that origin."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from statetui.core.journal_index import fold_segment, list_with_index
from statetui.core.segments import Segment


@dataclass
class PrunePlan:
    remove: list[Segment] = field(default_factory=list)
    keep: list[Segment] = field(default_factory=list)
    removed_through: dict[str, Any] | None = None  # the newest removed segment's metadata
    starts_at: str | None = None  # "#N (time)": where the evidence starts afterwards
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        if not self.remove:
            return ["no sealed segment is older than the retention: nothing to remove"]
        last = self.removed_through or {}
        out = [f"remove {len(self.remove)} sealed segment(s), through #{last.get('last_gen')} ({last.get('last_ts')})",
               f"peak evidence now starts at {self.starts_at or 'the active journal'}"]
        return out + self.warnings


def plan_prune(store: Any, keep_days: float, roles: Any = None, doc: dict[str, Any] | None = None,
               now: float | None = None) -> PrunePlan:
    """Which segments journal_keep_days removes (by their newest entry's time), and what that
    costs the evidence. Reads the index (and a segment it does not describe)."""
    from statetui.core.history import _ts

    now = time.time() if now is None else now
    segments, metas = list_with_index(store.journal.path)
    plan = PrunePlan()
    if keep_days <= 0:
        plan.keep = segments
        return plan
    cutoff = now - keep_days * 86400
    for i, seg in enumerate(segments):
        meta = metas.get(seg.seq)
        if meta is None:
            meta, _problem = fold_segment(seg, [])
        last_ts = _ts({"ts": meta.get("last_ts")}) if meta.get("last_ts") else None
        if last_ts is None or last_ts >= cutoff:
            plan.keep = segments[i:]
            break
        plan.remove.append(seg)
        plan.removed_through = meta
    if not plan.remove:
        return plan
    if plan.keep:
        first = metas.get(plan.keep[0].seq) or fold_segment(plan.keep[0], [])[0]
        plan.starts_at = f"#{first.get('first_gen')} ({first.get('first_ts')})"
    else:
        head = _first_active_entry(store.journal.path)
        plan.starts_at = f"#{head['generation']} ({head.get('ts')})" if head else None
    if roles is not None and doc is not None:
        _origin_warning(store, roles, doc, plan)
    return plan


def _first_active_entry(path) -> dict[str, Any] | None:
    from statetui.core.journal import parse_entry

    try:
        with open(path, "rb") as f:
            line = f.readline(1 << 20)
    except OSError:
        return None
    return parse_entry(line)[0] if line.endswith(b"\n") else None


def _origin_warning(store: Any, roles: Any, doc: dict[str, Any], plan: PrunePlan) -> None:
    from statetui.core.journal_digest import digest
    from statetui.core.journal_summary import Inexact

    peak = roles.money(doc, "peak")
    if peak is None:
        return
    try:
        origin = digest(store, roles).summary.origin(peak)
    except Inexact:
        return
    through = (plan.removed_through or {}).get("last_gen")
    if origin is not None and through is not None and origin.get("generation", 0) <= through:
        plan.warnings.append(f"the write that raised the peak to {peak} (#{origin.get('generation')} at "
                             f"{origin.get('ts')} by {origin.get('writer')}) is among the removed entries: the "
                             "peak's verdict will no longer see its origin")


def apply_prune(store: Any, plan: PrunePlan) -> int:
    """Remove the plan's segments, oldest first, under the store's lock; then rebuild the
    index from the segments left. Returns how many were removed."""
    from statetui.core.journal_index import index_path_for

    removed = 0
    with store.locked():
        for seg in plan.remove:
            try:
                store.ops.unlink(str(seg.path))
                removed += 1
            except FileNotFoundError:
                continue
        if removed:
            store.ops.fsync_dir(str(store.journal.path.parent))
            try:  # the index describes removed segments: rebuilt by the next seal or --verify
                store.ops.unlink(str(index_path_for(store.journal.path)))
            except FileNotFoundError:
                pass
    return removed
