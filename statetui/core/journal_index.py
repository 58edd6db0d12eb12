"""The journal's index: a small JSON file beside the journal (`<stem>.journal.index.json`)
describing each sealed segment (order, checksum, size, first and last generation and time,
entries, bad lines) and the running summaries (statetui.core.journal_summary) through the
newest segment, one per role-path fingerprint (at most KEEP_SUMMARIES).

It is a cache: everything in it is rebuilt from the segments themselves (`rebuild`), and a
missing, damaged or stale index only costs a reader the segments it does not cover (folded in
memory). The store updates it when it seals a segment (under its lock), `statetui journal
--verify` rebuilds and compares it. Written durably with an atomic replace."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from statetui.core.fsio import REAL_OPS, FileOps, durable_replace, read_capped
from statetui.core.journal_summary import Summary, PathsOnly
from statetui.core.segments import Segment, lines_of_fd, list_segments, open_segment

INDEX_VERSION = 1
KEEP_SUMMARIES = 4
MAX_INDEX_BYTES = 64 * 1024 * 1024


def index_path_for(journal_path: Path) -> Path:
    from statetui.core.segments import base_of

    return journal_path.with_name(base_of(journal_path) + ".index.json")


def load_index(journal_path: Path) -> dict[str, Any]:
    """The index as last written, or an empty one (missing, unreadable or damaged: a cache)."""
    try:
        data = json.loads(read_capped(index_path_for(journal_path), "journal index", MAX_INDEX_BYTES))
    except (OSError, ValueError, Exception):  # noqa: BLE001 - any failure means "rebuild"
        return {"version": INDEX_VERSION, "segments": [], "summaries": []}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or not isinstance(data.get("segments"), list):
        return {"version": INDEX_VERSION, "segments": [], "summaries": []}
    data.setdefault("summaries", [])
    return data


def write_index(journal_path: Path, index: dict[str, Any], ops: FileOps = REAL_OPS) -> None:
    path = index_path_for(journal_path)
    try:
        mode = os.lstat(journal_path.with_name(journal_path.name)).st_mode & 0o666 if journal_path.exists() else 0o644
    except OSError:
        mode = 0o644
    durable_replace(path, json.dumps(index, separators=(",", ":")).encode(), ops, mode=mode or 0o644)


def fold_lines(lines: Iterable[tuple[int, bytes | None, bool]], summaries: list[Summary], meta: dict[str, Any]) -> None:
    """Feed each complete entry line to every summary; count entries and bad lines in `meta`."""
    from statetui.core.journal import parse_entry

    for _number, line, complete in lines:
        if line is None or not complete:
            meta["bad_lines"] += 1
            continue
        if not line.strip():
            continue
        entry, _cause = parse_entry(line)
        if entry is None:
            meta["bad_lines"] += 1
            continue
        meta["entries"] += 1
        gen = entry["generation"]
        if meta["first_gen"] is None:
            meta["first_gen"], meta["first_ts"] = gen, entry.get("ts")
        meta["last_gen"], meta["last_ts"] = gen, entry.get("ts")
        for s in summaries:
            s.feed(entry)


def new_meta(seg: Segment | None) -> dict[str, Any]:
    return {"seq": seg.seq if seg else None, "name": seg.name if seg else None, "sha256": seg.sha256 if seg else None,
            "size": None, "entries": 0, "bad_lines": 0, "first_gen": None, "last_gen": None,
            "first_ts": None, "last_ts": None}


def fold_segment(seg: Segment, summaries: list[Summary]) -> tuple[dict[str, Any], str | None]:
    """Read one sealed segment into `summaries`: its metadata, and a checksum problem (or None)."""
    meta = new_meta(seg)
    try:
        fd = open_segment(seg)
    except OSError as exc:
        return meta, f"{seg.name}: cannot read the sealed segment: {exc.strerror or exc}"
    try:
        meta["size"] = os.fstat(fd).st_size
        h = hashlib.sha256()
        fold_lines(lines_of_fd(fd, 0, h), summaries, meta)
    finally:
        os.close(fd)
    if h.hexdigest() != seg.sha256:
        return meta, (f"{seg.name}: sealed segment fails its checksum (content hashes to {h.hexdigest()[:16]}); "
                      "its lines were read anyway")
    return meta, None


def summaries_of(index: dict[str, Any]) -> list[tuple[Summary, int]]:
    """The index's summaries that load, each with the segment it runs through."""
    out = []
    for item in index.get("summaries", [])[:KEEP_SUMMARIES]:
        try:
            s = Summary.from_json(item["summary"], PathsOnly(item["summary"]["fp"]))
            out.append((s, int(item["through"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def catch_up(journal_path: Path, index: dict[str, Any], segments: list[Segment], fp: dict[str, Any] | None = None
             ) -> tuple[Summary | None, list[str]]:
    """The summary for fingerprint `fp` (default: the index's first) through the newest sealed
    segment: the index's, plus the segments it does not cover folded in memory. Problems:
    checksum failures among those read. None when no summary for `fp` exists and there are
    segments it would have to read from the start (the caller decides whether to rebuild)."""
    problems: list[str] = []
    known = summaries_of(index)
    hit = next(((s, t) for s, t in known if fp is None or s.fp == fp), None)
    if hit is None:
        if not segments:
            return (Summary(PathsOnly(fp)) if fp is not None else None), problems
        return None, problems
    summary, through = hit
    for seg in segments:
        if seg.seq > through:
            _meta, problem = fold_segment(seg, [summary])
            if problem:
                problems.append(problem)
    return summary, problems


def record_seal(journal_path: Path, seg: Segment, meta: dict[str, Any], fed: list[Summary], ops: FileOps = REAL_OPS) -> None:
    """After `seg` was sealed (and `fed` fed its entries, starting from the index's state):
    write the index with the segment and the summaries through it."""
    index = load_index(journal_path)
    described = {m.get("seq"): m for m in index["segments"] if isinstance(m, dict)}
    metas = []
    for other in list_segments(journal_path):
        if other.seq == seg.seq:
            metas.append(meta)
        elif described.get(other.seq, {}).get("name") == other.name:
            metas.append(described[other.seq])
        else:  # an earlier seal whose index write a crash cut short: described now
            metas.append(fold_segment(other, [])[0])
    index["segments"] = metas
    index["summaries"] = [{"through": seg.seq, "summary": s.to_json()} for s in fed][:KEEP_SUMMARIES]
    write_index(journal_path, index, ops)


def summaries_for_seal(journal_path: Path, segments: list[Segment], roles_fp: dict[str, Any] | None) -> list[Summary]:
    """The summaries to feed the segment being sealed: the index's, brought up to the newest
    sealed segment, plus one for the store's role paths (rebuilt from every segment when the
    index has none: a one-time cost, the first rotation after an upgrade or a config change)."""
    index = load_index(journal_path)
    out: list[Summary] = []
    for s, through in summaries_of(index):
        for seg in segments:
            if seg.seq > through:
                fold_segment(seg, [s])
        out.append(s)
    if roles_fp is not None and not any(s.fp == roles_fp for s in out):
        fresh = Summary(PathsOnly(roles_fp))
        for seg in segments:
            fold_segment(seg, [fresh])
        out.insert(0, fresh)
    return out[:KEEP_SUMMARIES]


def segment_metas(journal_path: Path, segments: list[Segment]) -> dict[int, dict[str, Any]]:
    """seq -> metadata for each segment the index describes with a matching name."""
    index = load_index(journal_path)
    names = {s.seq: s.name for s in segments}
    return {m["seq"]: m for m in index["segments"] if isinstance(m, dict) and names.get(m.get("seq")) == m.get("name")}


def list_with_index(journal_path: Path) -> tuple[list[Segment], dict[int, dict[str, Any]]]:
    segments = list_segments(journal_path)
    return segments, segment_metas(journal_path, segments)
