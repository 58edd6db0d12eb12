"""The store's backups, restore, recovery and status: a mixin of StateStore
(statetui.core.store), split out to keep one job a module. Every write still goes through
the store's own commit, under its lock, journaled."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from statetui.core.backups import BackupInfo, quarantine_name
from statetui.core.errors import (BackupError, NotRegularFileError, StateLoadError, StateMissingError,
                                  StatePermissionError, StateSaveError, StateTooLargeError, StatetuiError)
from statetui.core.fsio import durable_replace, refuse_non_regular
from statetui.core.journal import landed, writer_of
from statetui.core.jsondoc import parse_document
from statetui.core.limits import human
from statetui.core.model import check_fields
from statetui.core.store_results import FileStatus, RecoveryReport, RestoreResult
from statetui.core.store_support import typed


class RecoveryOps:
    # --- backups, restore, recovery -------------------------------------------------

    def _refuse_before_locking(self) -> os.stat_result | None:
        """What can be refused about the current file (a link, FIFO or folder; over the cap) is
        refused before the lock file, or a folder, is created (issue 11)."""
        st = refuse_non_regular(self.path, "state file")
        if st is not None and st.st_size > self.cap:
            raise StateTooLargeError(f"{self.path}: state file is {human(st.st_size)}, over the {human(self.cap)} cap; "
                                     "not replaced (it could not be backed up first)", str(self.path))
        return st

    @typed(BackupError)
    def backup(self, reason: str = "manual") -> BackupInfo:
        """Snapshot the current file now (even a corrupt one: it is evidence). What can be
        checked first is, so a backup refused for its input creates no lock file or folder."""
        self._writable("writing a backup")
        if self._refuse_before_locking() is None:
            raise StateMissingError(f"{self.path}: state file not found; nothing to back up", str(self.path))
        self.backups.check_dir()
        with self.locked():
            st = refuse_non_regular(self.path, "state file")
            raw = self.read_bytes()
            info = self.backups.snapshot(raw, reason, mode=st.st_mode & 0o7777 if st else None,
                                         owner=(st.st_uid, st.st_gid) if st else None)
            self._newest_backup, self._backup_scanned = info.created, True
            self._hand_back(st)
            return info

    @typed(BackupError)
    def restore(self, ref: str | BackupInfo, reason: str | None = None, *, allow_bad_checksum: bool = False,
                expect_sha256: str | None = None) -> RestoreResult:
        """Write a backup's exact bytes through the store, the current file kept first: a good
        one as a pre-restore backup, a damaged one as a quarantine copy (never a backup that
        would fail verification). `expect_sha256` binds the restore to the bytes a plan showed:
        other content is refused. A quarantine copy restores as it is (the undo of a restore
        over a damaged file), damaged or not."""
        self._writable("restoring a backup")
        self._refuse_before_locking()
        info = ref if isinstance(ref, BackupInfo) else self.backups.resolve(ref)
        try:
            data = self.backups.read(info)
        except (OSError, StatetuiError) as exc:
            raise BackupError(f"{info.path}: cannot read backup: {exc}", str(info.path)) from None
        sha = hashlib.sha256(data).hexdigest()
        if expect_sha256 is not None and sha != expect_sha256:
            raise BackupError(f"{info.path}: content changed since the plan was made (sha256 {sha[:16]}, plan "
                              f"{expect_sha256[:16]}); nothing written", str(info.path))
        if info.expected and not sha.startswith(info.expected) and not allow_bad_checksum:
            raise BackupError(f"{info.path}: checksum mismatch (name {info.expected}, content {sha[:16]}); refusing to restore it", str(info.path))
        damaged_ok = info.kind == "quarantine"
        try:
            doc = parse_document(data, str(info.path))
            check_fields(doc, str(info.path))
        except StateLoadError as exc:
            if not damaged_ok:
                raise BackupError(f"{info.path}: backup is not a valid state: {exc}", str(info.path)) from None
            doc = {}
        with self.locked():
            self._journal_tail()  # a journal that refuses the write must refuse before anything is copied
            pre = quarantined = None
            st = refuse_non_regular(self.path, "state file")
            if st is not None:
                raw = self.read_bytes()
                try:
                    self.parse(raw)
                    pre = self.backup(reason="pre-restore")
                except StateLoadError:
                    quarantined = self._quarantine_copy(raw, st)
            result = self._commit(data, doc, reason or f"restore {info.name}", backup=False, keep_damaged=False,
                                  evidence={"restored_from": str(info.path) if info.outside else info.name,
                                            "sha256": sha, **({"quarantined": quarantined.name} if quarantined else {})})
        return RestoreResult(info, pre, result, quarantined)

    def _quarantine_copy(self, raw: bytes, st: os.stat_result) -> Path:
        """A durable copy of damaged bytes beside the state (`<name>.corrupt-<ts>`), kept as evidence."""
        now = time.time()
        for attempt in range(100):
            target = quarantine_name(self.path, now, attempt)
            try:
                durable_replace(target, raw, self.ops, mode=st.st_mode & 0o7777, owner=(st.st_uid, st.st_gid), exclusive=True)
                return target
            except FileExistsError:
                continue
            except OSError as exc:
                raise StateSaveError(f"{target}: cannot keep a copy of the damaged file: {exc.strerror or exc}; "
                                     "nothing restored", str(self.path)) from None
        raise StateSaveError(f"{self.path.parent}: cannot find a free quarantine name", str(self.path))

    @typed(StateLoadError)
    def recover(self) -> RecoveryReport:
        """Replace a missing or corrupt state file by the newest backup that verifies.
        Never starts from empty defaults: with no good backup it raises and changes nothing."""
        self._writable("recovering the state")
        with self.locked():
            try:
                self.parse(self.read_bytes())
                report = RecoveryReport("none")
                self.last_recovery = report
                return report
            except (StatePermissionError, NotRegularFileError):
                raise
            except StateLoadError as exc:
                cause = exc
            good = next((b for b in self.backups.list(verify=True) if b.ok), None)
            if good is None:
                raise type(cause)(f"{cause}; no backup verifies, so nothing was restored "
                                  "(`statetui init` creates a default state deliberately)", str(self.path))
            data = self.backups.read(good)
            quarantined = None
            if os.path.lexists(self.path):
                quarantined = quarantine_name(self.path)
                try:
                    self.ops.rename(str(self.path), str(quarantined))
                    self.ops.fsync_dir(str(self.path.parent))
                except OSError as exc:
                    raise StateSaveError(f"{self.path}: cannot move the bad file aside: {exc.strerror or exc}", str(self.path)) from None
            result = self._commit(data, parse_document(data, str(good.path)),
                                  f"recover: {cause.kind}, restored {good.name}", backup=False,
                                  evidence={"cause": str(cause), "restored_from": good.name,
                                            "quarantined": quarantined.name if quarantined else None})
            report = RecoveryReport("restored", str(cause), cause.kind, quarantined, good, result)
            self.last_recovery = report
            return report

    # --- status ------------------------------------------------------------------

    @typed(StateLoadError)
    def status(self, model: bool = True) -> FileStatus:
        """What is on disk now, and whether the last write came through the store. With
        `model` False, the file is checked without building a TradingState (fs.document)."""
        fs = FileStatus(self.path, exists=os.path.lexists(self.path))
        try:
            tail = self.journal.tail(64)
        except (StatetuiError, OSError):
            tail = []  # an unreadable or hostile journal: the file can still be described
        fs.stray_temp_files, fs.bot_temp_files = self.temp_files()
        try:
            raw = self.read_bytes()
            st = os.lstat(self.path)
            fs.size, fs.mtime = st.st_size, st.st_mtime
            fs.sha256 = hashlib.sha256(raw).hexdigest()
            if model:
                fs.state = self.parse(raw)
            else:
                fs.document, fs.raw = self.check(raw), raw
        except StateLoadError as exc:
            fs.error = exc
        except OSError:
            pass
        if fs.sha256 is not None:
            writer = writer_of(tail, fs.sha256)
            fs.written_by_store = (writer is not None) if tail else None
        else:
            writer = None
        done = landed(tail, fs.sha256)
        fs.last_entry = writer or (done[-1] if done else None)
        fs.generation = fs.last_entry["generation"] if fs.last_entry else None
        return fs
