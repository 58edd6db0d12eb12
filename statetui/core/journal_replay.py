"""The journal's earlier documents, newest first, read backwards only as far as needed.

A repair that clears a halt the bot's own way asks what the bot's earlier states held (the
mode it trades in, how it leaves its halt reason): the newest earlier state that was not
halted. Replaying every entry forwards (statetui.repair.edits.history_docs) costs the whole
history for what is almost always a few entries back. Here the same documents come from the
end: each landed write's document (journal.landed(), streamed backwards), restricted to the
fields asked for, is complete once every one of those fields has been found in it or in an
older write (the same value a forward replay carries), or once the journal's start is reached
(a field never written stays absent, as in the forward replay). Consecutive documents that are
equal are given once: a caller looking for the first document that matches sees the same
answer, and a field that never changes does not hold every entry in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

from statetui.core.journal_read import iter_back


def landed_backwards(path: Path, file_sha: str | None) -> Iterator[dict[str, Any]]:
    """journal.landed(entries, file_sha), newest first, streamed (abort markers follow their
    write in the journal, so going backwards each is seen before the write it cancels)."""
    aborted: set[Any] = set()
    replaced = file_sha  # what the next newer write replaced (for the newest: the file on disk)
    for e in iter_back(path):
        if e.get("aborted"):
            aborted.add(e.get("generation"))
            continue
        if e.get("generation") in aborted:
            continue
        target, before = e.get("sha256"), e.get("prev_sha256")
        crashed = replaced is not None and target != before and replaced != target and replaced == before
        replaced = before
        if not crashed:
            yield e


def documents_backwards(entries: Iterable[dict[str, Any]], fields: set[str]) -> Iterator[dict[str, Any]]:
    """Each write's replayed document (its `fields` only), newest first, from `entries` newest
    first; consecutive equal documents once."""
    pending: list[tuple[dict[str, Any], set[str]]] = []  # newest first, each with the fields still to find
    last: dict[str, Any] | None = None
    for e in entries:
        changes = e.get("changes")
        if not isinstance(changes, dict):
            continue
        found = {k: v[1] for k, v in changes.items() if k in fields and isinstance(v, list) and len(v) == 2}
        for doc, missing in pending:
            for k in [k for k in missing if k in found]:
                doc[k] = found[k]
                missing.discard(k)
        if pending and pending[-1][0] == found and pending[-1][1] == fields - set(found):
            pass  # the same as the newer one still pending: it ends the same way
        else:
            pending.append((dict(found), fields - set(found)))
        while pending and not pending[0][1]:
            doc = pending.pop(0)[0]
            if doc != last:
                yield doc
            last = doc
    for doc, _missing in pending:  # the journal's start: what was never written stays absent
        if doc != last:
            yield doc
        last = doc


def dedupe(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive equal documents once (what documents_backwards gives of a forward replay)."""
    out: list[dict[str, Any]] = []
    for d in docs:
        if not out or out[-1] != d:
            out.append(d)
    return out
