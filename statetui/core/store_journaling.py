"""The store's write-ahead journaling: the entry for a write, journaled durably before the
replace, a write that did not happen marked aborted, and what root creates handed back to the
state's owner. A mixin of StateStore (statetui.core.store), split out to keep one job a module."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from statetui.core.backups import BackupInfo
from statetui.core.errors import StatePermissionError, StateSaveError, StatetuiError
from statetui.core.fsio import HELPER, durable_replace, overlap_fsyncs
from statetui.core.store_results import SaveResult
from statetui.core.store_support import journal_value, utc_now_iso


class _JournalFailed(Exception):
    """The journal entry's fsync (in the helper thread) failed: raised before the replace."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class JournalWrites:
    def _abort(self, generation: int | None, reason: str, exc: BaseException) -> None:
        """Mark a journaled write that did not happen (best effort: a failing disk may refuse
        this too, and landed() still tells from the file's sha)."""
        try:
            self.journal.append({"ts": utc_now_iso(), "generation": generation, "aborted": True,
                                 "pid": os.getpid(), "reason": reason, "error": str(exc)[:200]})
        except (OSError, StatetuiError):
            pass

    def _journal_tail(self) -> dict[str, Any] | None:
        """The journal's newest entry, read before anything is written: a journal that is a
        link, a FIFO, unreadable or read-only must refuse the save up front, not fail it
        after the state file was already replaced."""
        try:
            last = self.journal.last()
        except StatePermissionError as exc:
            raise StateSaveError(f"{exc}; nothing was written", str(self.journal.path)) from None
        if self.journal.seen_key is not None and not os.access(  # last() saw a journal there
                self.journal.path, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
            raise StateSaveError(f"{self.journal.path}: journal is not writable; nothing was written", str(self.journal.path))
        return last

    def _hand_back(self, st: os.stat_result | None) -> None:
        """Root writing a bot-owned state (a repair) must leave the lock file, the journal and
        the backups folder it created to the state's owner: a root-owned lock or journal
        would lock the bot out of its own state."""
        if st is None or st.st_uid == 0 or os.geteuid() != 0:
            return
        for p in (self.lock_path, self.journal.path, self.backups.dir):
            try:
                if os.lstat(p).st_uid == 0:  # ours, just created; never another user's file
                    self.ops.lchown(str(p), st.st_uid, st.st_gid)
            except OSError:
                pass

    def _journal(self, data: bytes, prev: str | None, changes: dict[str, list[Any]], reason: str,
                 backup: BackupInfo | None, evidence: dict[str, Any] | None, base_sha: str | None = None,
                 last: dict[str, Any] | None | bool = False,
                 journal_changes: dict[str, list[Any]] | None = None,
                 roles: dict[str, Any] | None = None) -> tuple[SaveResult, dict[str, Any]]:
        """The journal entry for writing `data`, and the result a successful write returns."""
        if last is False:  # not read up front by the caller
            last = self.journal.last()
        generation = (last["generation"] if last else 0) + 1
        sha = hashlib.sha256(data).hexdigest()
        entry: dict[str, Any] = {
            "ts": utc_now_iso(),
            "generation": generation,
            "sha256": sha,
            "size": len(data),
            "prev_sha256": prev,
            "pid": os.getpid(),
            "writer": self.writer,
            "reason": reason,
            "changes": journal_changes if journal_changes is not None else
                       {k: [journal_value(a), journal_value(b)] for k, (a, b) in changes.items()},
        }
        if last is not None and prev is not None and prev != last.get("sha256"):
            # prev == last's prev_sha256: the last write never landed (a crash before its
            # replace), so the file is the one it saw; it was written outside if that one was.
            if prev != last.get("prev_sha256") or last.get("replaced_outside_write"):
                entry["replaced_outside_write"] = True  # the file had been written by someone else
        if base_sha is not None and prev is not None and base_sha != prev:
            entry["stale_base"] = True  # saved over a change made after this state was loaded
        if roles:
            entry["roles"] = roles  # cash, peak ... after this write, whatever the bot calls them
        if backup is not None:
            entry["backup"] = backup.name
        if evidence:
            entry["evidence"] = evidence
        return SaveResult(True, generation, sha, changes, backup), entry

    def _write_ahead(self, entry: dict[str, Any], data: bytes, **replace: Any) -> None:
        """Journal `entry`, then durable_replace(data, **replace): the entry is durable before
        the replace. Its fsync runs in a helper thread while the temp file is written and
        synced (two fsyncs in flight commit together; both are over before the replace),
        or inline first when the seam must see one fixed order (fsio.overlap_fsyncs).
        A journal failure raises StateSaveError; durable_replace's own errors propagate."""
        def journal_failed(exc: BaseException) -> StateSaveError:
            # The line may be in the file even though the append failed (its fsync did): cancel
            # it, or readers would count a write that never happened as landed.
            self._abort(entry["generation"], entry["reason"], exc)
            return StateSaveError(f"{self.journal.path}: journal append failed ({exc}); nothing was written, "
                                  "the previous file is intact", str(self.journal.path))

        pending = None
        try:
            line = self.journal.begin_append(entry)
            if overlap_fsyncs(self.ops):
                pending = HELPER.run(self.journal.finish_append, line)
            else:
                self.journal.finish_append(line)
        except (OSError, StatetuiError) as exc:
            raise journal_failed(exc) from None

        def entry_durable() -> None:
            error = pending.result()
            if error is not None:
                raise _JournalFailed(error)

        try:
            durable_replace(self.path, data, self.ops, before_replace=entry_durable if pending else None, **replace)
        except _JournalFailed as failed:
            raise journal_failed(failed.cause) from None
        finally:
            if pending is not None:
                pending.result()  # the helper is done with the journal before anyone goes on

    def _journal_changes(self, changes: dict[str, list[Any]], old_texts: dict[str, str] | None,
                         new_texts: dict[str, str] | None) -> dict[str, list[Any]]:
        """The journal's [old, new] for each changed field (_journal_value). A big list or
        object is summarised once, as the new value of one save, and that summary is reused
        as the old value of the next: the old value's text is the same text (a text is one
        JSON value, whatever the format)."""
        memo = self._summaries
        out: dict[str, list[Any]] = {}
        for key, (a, b) in changes.items():
            hit = memo.get(key)
            before = old_texts.get(key) if old_texts is not None else None
            old_value = hit[1] if hit is not None and before is not None and hit[0] == before else journal_value(a)
            new_value = journal_value(b)
            if new_texts is not None and key in new_texts and isinstance(b, (dict, list)) and isinstance(new_value, str):
                memo[key] = (new_texts[key], new_value)  # a summary string: nothing the caller could change
            else:
                memo.pop(key, None)
            out[key] = [old_value, new_value]
        return out
