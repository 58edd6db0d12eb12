"""The journal's summary as of now, read cheaply: the index's running summary through the
newest sealed segment, plus the few entries of the active journal (and of any segment the
index does not cover yet), settled against the state file's sha256.

    from statetui.core.journal_digest import digest
    d = digest(store, roles)          # a JournalDigest
    d.summary.overview()              # counts per writer and reason, last outside write,
                                      # last peak change, highest realized cash and when
    d.summary.highest("cash")         # history.Point (raises journal_summary.Inexact when
                                      # the bounded summary cannot say: read the entries)

Cost: one index read, one folder listing, the active journal (at most journal_rotate_bytes)
and nothing else, whatever the history's length. `rebuild` and `verify` (statetui journal
--verify) read every segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statetui.core.journal_index import (catch_up, fold_lines, fold_segment, load_index, new_meta, write_index,
                                         KEEP_SUMMARIES)
from statetui.core.journal_read import open_view
from statetui.core.journal_summary import Summary, fingerprint
from statetui.core.segments import lines_of_fd


@dataclass
class JournalDigest:
    summary: Summary  # finalized: the newest write settled against the file
    segments: int  # sealed segments beside the journal
    folded: int  # segments read now because the index did not cover them
    problems: list[str] = field(default_factory=list)  # checksum failures among those read
    active_bad_lines: int = 0
    first_segment: dict[str, Any] | None = None  # the index's record of the oldest segment kept


def digest(store: Any, roles: Any, file_sha: str | None | bool = False) -> JournalDigest:
    """The summary of `store`'s whole journal read through `roles`. `file_sha`: the state
    file's sha256 (default: read now)."""
    journal = store.journal
    path = journal.path
    fp = fingerprint(roles)
    index = load_index(path)
    view = open_view(path)
    try:
        summary, problems = catch_up(path, index, view.segments, fp)
        folded = 0
        if summary is None:  # no summary for these role paths yet: read every segment once
            summary = Summary(roles)
            for seg in view.segments:
                _meta, problem = fold_segment(seg, [summary])
                folded += 1
                if problem:
                    problems.append(problem)
        else:
            covered = {m.get("seq") for m in index.get("segments", []) if isinstance(m, dict)}
            folded = sum(1 for s in view.segments if s.seq not in covered)
        meta = new_meta(None)
        if view.fd is not None:
            fold_lines(lines_of_fd(view.fd), [summary], meta)
    finally:
        view.close()
    sha = journal.state_sha() if file_sha is False else file_sha
    metas = index.get("segments") or []
    by_seq = {m.get("seq"): m for m in metas if isinstance(m, dict)}
    for seg in view.segments:  # a stat each: a sealed segment whose size changed is damaged
        meta_size = (by_seq.get(seg.seq) or {}).get("size")
        if meta_size is not None and by_seq[seg.seq].get("name") == seg.name and seg.size() != meta_size:
            problems.append(f"{seg.name}: sealed segment is {seg.size()} bytes, sealed at {meta_size}: damaged "
                            "(statetui journal --verify checks every checksum)")
    first = metas[0] if metas and isinstance(metas[0], dict) else None
    return JournalDigest(summary.finalized(sha), len(view.segments), folded, problems, meta["bad_lines"], first)


def rebuild(store: Any, roles: Any) -> tuple[Summary, list[dict[str, Any]], list[str]]:
    """The summary through the newest sealed segment, read from every segment (not from the
    index), with each segment's metadata and the checksum problems found."""
    summary = Summary(roles)
    metas, problems = [], []
    for seg in open_view(store.journal.path).segments:
        meta, problem = fold_segment(seg, [summary])
        metas.append(meta)
        if problem:
            problems.append(problem)
    return summary, metas, problems


def verify(store: Any, roles: Any, *, write: bool = False) -> list[str]:
    """`statetui journal --verify`: every sealed segment's checksum, the generations running on
    across segments, and the index's summary against one rebuilt from the segments. Returns
    the problems (empty: all verified). With `write` (--rebuild-index), an index that disagrees
    (or is missing) is replaced by the rebuilt one, under the store's lock; without, nothing is
    written."""
    path = store.journal.path
    summary, metas, problems = rebuild(store, roles)
    last_gen = None
    for m in metas:
        if m["bad_lines"]:
            problems.append(f"{m['name']}: {m['bad_lines']} line(s) that are not entries")
        if last_gen is not None and m["first_gen"] is not None and m["first_gen"] < last_gen:
            problems.append(f"{m['name']}: starts at generation {m['first_gen']}, before the previous segment's "
                            f"last ({last_gen})")
        if m["last_gen"] is not None:
            last_gen = m["last_gen"]
    index = load_index(path)
    through = metas[-1]["seq"] if metas else None
    stored = next((item for item in index.get("summaries", []) if isinstance(item, dict)
                   and isinstance(item.get("summary"), dict) and item["summary"].get("fp") == summary.fp), None)
    mismatch = None
    if metas:
        if stored is None:
            mismatch = "the index holds no summary for these role paths"
        elif stored.get("through") != through:
            mismatch = f"the index's summary runs through segment {stored.get('through')}, not {through}"
        elif _comparable(stored["summary"]) != _comparable(summary.to_json()):
            mismatch = "the index's summary differs from one rebuilt from the segments"
        index_metas = [m for m in index.get("segments", []) if isinstance(m, dict)]
        if [(m.get("name"), m.get("entries")) for m in index_metas] != [(m["name"], m["entries"]) for m in metas]:
            mismatch = mismatch or (f"the index describes {len(index_metas)} segment(s) of {len(metas)}")
    if mismatch:
        rewrite = write and not store.read_only
        problems.append(mismatch + (" (" + INDEX_REBUILT + ")" if rewrite else " (" + INDEX_STALE + ")"))
        if rewrite:
            others = [i for i in index.get("summaries", []) if isinstance(i, dict) and i is not stored
                      and i.get("through") == through]
            fresh = {"version": index.get("version", 1), "segments": metas,
                     "summaries": ([{"through": through, "summary": summary.to_json()}] + others)[:KEEP_SUMMARIES]}
            with store.locked():
                write_index(path, fresh, store.ops)
    return problems


INDEX_REBUILT = "index rebuilt"  # a cache lagging a seal a crash cut short: not a damaged journal
INDEX_STALE = "index stale: statetui journal --verify --rebuild-index rewrites it"


def _comparable(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, sort_keys=True, default=str)
