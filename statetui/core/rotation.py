"""Sealing the active journal into a segment (statetui.core.segments has the layout).

Called by Journal.begin_append, under the store's lock, before the new line is written:

1. fsync the active journal (a torn line just cut off must not come back after a power
   loss: the segment's bytes must stay the bytes its name hashes);
2. read it once: its sha256, and its entries fed to the running summaries;
3. rename it to `<stem>.journal.<seq>.<sha256>.jsonl` (atomic: one name or the other) and
   fsync the folder, so the seal is durable before anything relies on it;
4. write the index (a cache: failing here loses nothing, readers fold the segment themselves).

The caller then creates a new active journal (O_EXCL, its folder synced on the first append)."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from statetui.core.errors import StatetuiError
from statetui.core.journal_summary import fingerprint
from statetui.core.journal_index import fold_lines, new_meta, record_seal, summaries_for_seal
from statetui.core.segments import Segment, lines_of_fd, list_segments, segment_path

if TYPE_CHECKING:
    from statetui.core.journal import Journal


def seal(journal: "Journal", fd: int, size: int) -> Segment:
    """Seal the active journal open on `fd` (its `size` bytes); `fd` is closed either way."""
    ops = journal.ops
    try:
        ops.fsync(fd)
        segments = list_segments(journal.path)
        seq = (segments[-1].seq if segments else 0) + 1
        try:
            roles = journal.roles_source() if journal.roles_source is not None else None
            fed = summaries_for_seal(journal.path, segments, fingerprint(roles) if roles is not None else None)
        except (OSError, StatetuiError, ValueError, ArithmeticError):
            fed = []  # the index is a cache: the segment is sealed without it
        meta = new_meta(None)
        h = hashlib.sha256()
        fold_lines(lines_of_fd(fd, 0, h), fed, meta)
    finally:
        ops.close(fd)
    sha = h.hexdigest()
    target = segment_path(journal.path, seq, sha)
    seg = Segment(str(target.parent), target.name, seq, sha)
    ops.rename(str(journal.path), str(seg.path))
    ops.fsync_dir(str(journal.path.parent))
    meta.update(seq=seq, name=seg.name, sha256=sha, size=size)
    try:
        record_seal(journal.path, seg, meta, fed, ops)
    except (OSError, StatetuiError):
        pass  # readers fold what the index does not cover; the next seal writes it again
    return seg


def rotate_now(journal: "Journal") -> Segment | None:
    """Seal the active journal now (the caller holds the store's lock): `statetui journal
    --rotate`, and the reliability suites' rotation points. None when it holds nothing."""
    from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW

    try:
        fd = journal.ops.open(str(journal.path), os.O_RDWR | O_NOFOLLOW | O_CLOEXEC)
    except FileNotFoundError:
        return None
    from statetui.core.journal import _last_line_end

    size = os.fstat(fd).st_size
    end = _last_line_end(fd, size)
    if end == 0:
        journal.ops.close(fd)
        return None
    if end != size:  # a torn last line: cut off, as the next append would
        journal.ops.ftruncate(fd, end)
    return seal(journal, fd, end)
