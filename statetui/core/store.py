"""StateStore: the one way the bot's state file is read and written.

    store = StateStore("state/trading_state.json")
    state = store.load()                         # typed errors, never a raw traceback
    store.save(state, reason="trade win")        # atomic, durable, locked, journaled
    with store.transaction(reason="redeem") as state:
        state.current_balance += 12.5            # locked read-modify-write

Every write: take the lock (a separate `.lock` file: the state's inode changes on every
replace), read what is there now, back it up when asked (or when the last automatic
backup is older than `auto_backup_interval`), durable atomic replace, journal entry."""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from statetui.core.backups import Backups
from statetui.core.errors import (
    LockTimeoutError,
    NotRegularFileError,
    StateLoadError,
    StateMissingError,
    StatePermissionError,
    StateSaveError,
    StateTooLargeError,
    StateValueError,
    StatetuiError,
)
from statetui.core.fsio import (
    REAL_OPS,
    DirSyncError,
    FileOps,
    default_file_mode,
    is_bot_temp_of,
    is_temp_of,
    makedirs,
    read_capped,
    refuse_non_regular,
)
from statetui.core.limits import LIMITS, human
from statetui.core.textsafe import one_line
from statetui.core.lockfile import LockTimeout, path_lock
from statetui.core.journal import Journal, journal_path_for
from statetui.core.jsondoc import (DEFAULT_FORMAT, FieldTexts, JsonFormat, detect_format, parse_document,
                                   parse_with_text, strict_equal)
from statetui.core.documents import check_types as types_checked
from statetui.core.model import Origin, changed_fields, check_fields, check_writable, serialize, serialize_fields
# The store is split by job; the results and utc_now_iso stay importable from here (the bot's API).
from statetui.core.store_journaling import JournalWrites
from statetui.core.store_recovery import RecoveryOps
from statetui.core.store_results import FileStatus, RecoveryReport, RestoreResult, SaveResult  # noqa: F401
from statetui.core.store_support import (copied, default_writer, not_segments, text_changes, typed,  # noqa: F401
                                         utc_now_iso)

if TYPE_CHECKING:
    from statetui.core.state_model import TradingState

MAX_NAME_BYTES = 255 - 24  # NAME_MAX less what the temp, lock and journal names add
MAX_PATH_BYTES = 4096 - 64  # PATH_MAX less the same


@dataclass(frozen=True)
class _Written:
    """What a store last wrote: the bytes, their sha256 and, for a state's document, each
    top-level field's text in the format it was written in (None for bytes written as given)."""

    data: bytes
    sha: str
    fmt: JsonFormat | None
    texts: dict[str, str] | None


def _state_model() -> Any:
    """TradingState, imported when a model is built (pydantic: not for a status read)."""
    from statetui.core.state_model import TradingState

    return TradingState


class StateStore(JournalWrites, RecoveryOps):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backup_dir: str | os.PathLike[str] | None = None,
        lock_timeout: float = 30.0,
        auto_backup_interval: float | None = 3600.0,
        ops: FileOps = REAL_OPS,
        writer: str | None = None,
        fields: dict[str, Any] | None = None,
        model: Any = None,
        max_bytes: int | None = None,
        read_only: bool = False,
    ):
        """`fields`: the role map's overrides (statetui.core.roles; detection fills the rest),
        used for the role values each journal entry records. `model`: what load() returns:
        None for a TradingState, `dict`, a dataclass or a pydantic model class of the bot's.
        `max_bytes`: the largest state (and backup) read or written, default
        statetui.core.limits.LIMITS.state_bytes (64 MiB unless configured). `read_only`:
        every write raises ReadOnlyError before anything is created (the CLI's --read-only)."""
        text = os.fspath(path)
        if "\0" in str(text):
            raise StateLoadError(f"{one_line(repr(text))}: a path cannot hold a NUL byte", str(text))
        self.path = Path(os.path.abspath(path))
        if self.path.name in ("", ".", ".."):
            raise NotRegularFileError(f"{self.path}: names a folder, not a state file", str(self.path))
        # The lock, journal and temp names are the state's name plus up to 24 bytes, and must
        # fit the file system's 255: refused here, not as a raw ENAMETOOLONG from some call.
        if len(os.fsencode(self.path.name)) > MAX_NAME_BYTES or len(os.fsencode(str(self.path))) > MAX_PATH_BYTES:
            raise StateLoadError(f"{one_line(str(self.path))[:120]}...: path too long for a state file (name at most "
                                 f"{MAX_NAME_BYTES} bytes, path at most {MAX_PATH_BYTES})", str(self.path))
        self.max_bytes = max_bytes
        self.read_only = read_only
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.ops = ops
        self.journal = Journal(journal_path_for(self.path), ops, state_path=self.path)
        self.journal.roles_source = lambda: self._roles[1] if self._roles is not None else None
        self.backups = Backups(self.path, Path(os.path.abspath(backup_dir)) if backup_dir else None, ops, fields=fields)
        self.backups.read_only = read_only
        self.lock_timeout = lock_timeout
        self.auto_backup_interval = auto_backup_interval
        self.writer = writer or default_writer()
        self.last_recovery: RecoveryReport | None = None
        self.fields = dict(fields or {})
        self.model = model
        self._roles: tuple[Any, Any] | None = None  # (document shape, RoleMap)
        # The document this store last loaded or wrote: the format, key order and fields a
        # dict or the bot's own type is written back with.
        self._origin: Origin | None = None
        # What this store last wrote: while the file on disk still holds exactly those bytes,
        # the next save compares field texts instead of parsing and walking the documents.
        self._written: _Written | None = None
        # The journal's stat key after this store's last save; while it is unchanged, no
        # other store writer has written since, so no new stray temp file can exist.
        self._quiet_key: tuple[int, ...] | None = None
        self._field_texts: FieldTexts | None = None  # re-encodes only the fields that changed
        self._summaries: dict[str, tuple[str, Any]] = {}  # field -> (its text, its journal value)
        self._newest_backup: float | None = None
        self._backup_scanned = False
        # One lock object per path in this process (reentrant for transaction() -> save()):
        # a flock on the lock file, the same lock filelock.FileLock takes.
        self._lock = path_lock(str(self.lock_path), poll_interval=0.002)

    @classmethod
    def for_config(cls, config: Any, **kwargs: Any) -> "StateStore":
        """The store a face uses for `config`: its paths, caps and read-only mode."""
        kwargs.setdefault("backup_dir", config.backup_dir)
        kwargs.setdefault("max_bytes", config.max_state_bytes)
        kwargs.setdefault("read_only", config.read_only)
        kwargs.setdefault("fields", config.fields)
        store = cls(config.state, **kwargs)
        store.journal.rotate_bytes = config.journal_rotate_bytes
        store.journal.rotate_age = config.journal_rotate_age
        return store

    @property
    def cap(self) -> int:
        return self.max_bytes if self.max_bytes is not None else LIMITS.state_bytes

    def _writable(self, what: str) -> None:
        if self.read_only:
            from statetui.core.errors import ReadOnlyError

            raise ReadOnlyError(f"{self.path}: read-only mode: not {what}; nothing was written", str(self.path))

    # --- locking -------------------------------------------------------------------

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        self._acquire(timeout)
        try:
            yield
        finally:
            self._lock.release()

    def _acquire(self, timeout: float | None = None) -> None:
        """Take the lock (PathLock refuses a link, FIFO or folder at the lock path)."""
        for first in (True, False):
            try:
                self._lock.acquire(timeout=self.lock_timeout if timeout is None else timeout)
                return
            except LockTimeout:
                raise LockTimeoutError(f"{self.lock_path}: lock held by another writer for over {self.lock_timeout:g}s", str(self.lock_path)) from None
            except OSError as exc:
                if first and isinstance(exc, FileNotFoundError) and not os.path.lexists(self.path.parent):
                    self._ensure_parent()  # the lock file lives there (filelock used to create it)
                    continue
                raise StateSaveError(f"{self.lock_path}: cannot take the lock: {exc.strerror or exc}", str(self.lock_path)) from None

    # --- reading -------------------------------------------------------------------

    def read_bytes(self) -> bytes:
        """The file's bytes, or a typed error: missing, permission, not a regular file."""
        p = str(self.path)
        try:
            return read_capped(self.path, "state file", self.cap, StateTooLargeError)
        except FileNotFoundError:
            raise StateMissingError(f"{p}: state file not found", p) from None
        except PermissionError:
            raise StatePermissionError(f"{p}: permission denied reading the state file", p) from None
        except IsADirectoryError:
            raise NotRegularFileError(f"{p}: state path is a directory", p) from None
        except OSError as exc:
            raise StateLoadError(f"{p}: cannot read state file: {exc.strerror or exc}", p) from None

    @typed(StateLoadError)
    def parse(self, raw: bytes, name: str | None = None) -> TradingState:
        name = name or str(self.path)
        doc, text = parse_with_text(raw, name)
        origin = Origin(doc, detect_format(text, doc), raw, hashlib.sha256(raw).hexdigest())
        return _state_model().from_document(doc, name, origin)

    @typed(StateLoadError)
    def check(self, raw: bytes, name: str | None = None) -> dict[str, Any]:
        """parse() without the model: the document, refused with the same errors."""
        name = name or str(self.path)
        doc, _text = parse_with_text(raw, name)
        check_fields(doc, name)
        return doc

    @typed(StateLoadError)
    def load(self, recover: bool = False) -> Any:
        """Load and validate: a TradingState, or the store's `model` (a dict, the bot's
        dataclass or pydantic model). With `recover`, a missing or corrupt file is replaced by
        the newest backup that verifies (the bad file is quarantined); `last_recovery` says
        what was done."""
        self.last_recovery = None
        try:
            return self._as_model(self.parse(self.read_bytes()))
        except (StatePermissionError, NotRegularFileError):
            raise  # not damage: a link, FIFO or folder planted there is refused, never moved aside
        except StateLoadError:
            if not recover:
                raise
        report = self.recover()
        assert report.save is not None or report.action == "none"
        return self._as_model(self.parse(self.read_bytes()))

    def _as_model(self, state: TradingState) -> Any:
        self._origin = state._origin
        if self.model is None or self.model is _state_model():
            return state
        from statetui.core.documents import from_document

        return from_document(self.model, state.to_document(), str(self.path))

    def _as_state(self, obj: Any) -> TradingState:
        """What save() was handed, as a TradingState in the file's own format and key order."""
        TradingState = _state_model()
        if isinstance(obj, TradingState):
            return obj
        from statetui.core.documents import to_document

        origin = self._origin
        doc = to_document(obj, origin.document if origin is not None else None, str(self.path))
        state = TradingState.from_document(doc, str(self.path))
        if origin is None and os.path.lexists(self.path):
            try:  # never loaded through this store: write in the format of the file there
                raw = read_capped(self.path, "state file", self.cap, StateTooLargeError)
                origin = Origin(parse_document(raw, str(self.path)), detect_format(raw.decode("utf-8"),
                                parse_document(raw, str(self.path))), raw, hashlib.sha256(raw).hexdigest())
            except (OSError, StatetuiError, UnicodeDecodeError):
                origin = None
        if origin is not None:
            state._origin = Origin(origin.document, origin.format, origin.raw, origin.sha256)
            state._key_order = list(doc)
        return state

    # --- writing -------------------------------------------------------------------

    @typed(StateSaveError)
    def save(self, state: Any, reason: str, *, backup: bool | str = False,
             evidence: dict[str, Any] | None = None) -> SaveResult:
        """Write `state` (the loaded state, a dict, a dataclass or a pydantic model). A field
        whose JSON type would change is refused (StateTypeError naming it)."""
        state = self._as_state(state)
        self._writable("saving")
        self._acquire()  # what locked() does, without a generator per save
        try:
            return self._save_locked(state, reason, backup=backup, evidence=evidence)
        finally:
            self._lock.release()

    @contextmanager
    def transaction(self, reason: str, *, recover: bool = False, backup: bool | str = False,
                    evidence: dict[str, Any] | None = None) -> Iterator[TradingState]:
        """Locked read-modify-write: no other store writer runs between the load and the save.
        An exception inside the block saves nothing."""
        self._writable("saving")
        with self.locked():
            state = self.load(recover=recover)
            yield state
            self._typed_save_locked(self._as_state(state), reason, backup=backup, evidence=evidence)

    @typed(StateSaveError)
    def _typed_save_locked(self, state: TradingState, reason: str, **kwargs: Any) -> SaveResult:
        return self._save_locked(state, reason, **kwargs)

    @typed(StateSaveError)
    def write_bytes(self, data: bytes, reason: str, *, backup: bool | str = True,
                    evidence: dict[str, Any] | None = None) -> SaveResult:
        """Write a whole document as given (a restore writes the backup's exact bytes)."""
        self._writable("writing the state")
        state = self.parse(data, "new state")
        with self.locked():
            return self._commit(data, state.to_document(), reason, backup=backup, evidence=evidence)

    @typed(StateSaveError)
    def init(self, doc: dict[str, Any], reason: str = "init") -> SaveResult:
        """Create the state file; refuses when anything exists at the path (even a corrupt file)."""
        self._writable("creating a state file")
        if os.path.lexists(self.path):  # refused before the lock file or a folder is created
            raise StateSaveError(f"{self.path}: already exists; refusing to overwrite it (use restore or a repair)", str(self.path))
        check_writable(doc, str(self.path))
        data = serialize(doc, DEFAULT_FORMAT, str(self.path))
        with self.locked():
            if os.path.lexists(self.path):
                raise StateSaveError(f"{self.path}: already exists; refusing to overwrite it (use restore or a repair)", str(self.path))
            last = self._journal_tail()
            self._ensure_parent()
            result, entry = self._journal(data, None, changed_fields(None, doc), reason, None, None, None, last,
                                          roles=self.role_values(doc))
            try:
                self._write_ahead(entry, data, mode=default_file_mode(), exclusive=True)
            except DirSyncError as exc:
                raise StateSaveError(f"{self.path}: written, but {exc.strerror}: durability unknown", str(self.path)) from None
            except OSError as exc:
                self._abort(result.generation, reason, exc)
                if isinstance(exc, FileExistsError):
                    raise StateSaveError(f"{self.path}: already exists; refusing to overwrite it", str(self.path)) from None
                raise StateSaveError(f"{self.path}: cannot create state file: {exc.strerror or exc}", str(self.path)) from None
            return result

    def roles(self, doc: dict[str, Any]) -> Any:
        """The role map for `doc` (statetui.core.roles), detected once per document shape."""
        from statetui.core.roles import role_map

        shape: Any = tuple(doc) if len(doc) <= 64 else "many keys"
        hit = self._roles
        if hit is None or hit[0] != shape:
            hit = self._roles = (shape, role_map(doc, self.fields))
        return hit[1]

    def role_values(self, doc: dict[str, Any]) -> dict[str, Any]:
        """What a journal entry records of the roles: cash, equity, peak and halted after the write."""
        try:
            return self.roles(doc).snapshot(doc)
        except Exception:  # noqa: BLE001 - the snapshot is extra evidence; it must never stop a bot's save
            return {}

    def _ensure_parent(self) -> None:
        try:
            makedirs(self.path.parent, self.ops)
        except OSError as exc:
            raise StateSaveError(f"{self.path.parent}: cannot create state folder: {exc.strerror or exc}", str(self.path)) from None

    def _save_locked(self, state: TradingState, reason: str, *, backup: bool | str, evidence: dict[str, Any] | None) -> SaveResult:
        doc = state._document()  # the state's own values: serialized right here, not kept
        fmt = state.json_format
        if self._field_texts is None or self._field_texts.fmt != fmt:
            self._field_texts = FieldTexts(fmt)
        data, texts = serialize_fields(doc, fmt, str(self.path), self._field_texts)
        result = self._commit(data, doc, reason, backup=backup, evidence=evidence,
                              base_sha=state._origin.sha256 if state._origin else None, fmt=fmt, texts=texts,
                              check_types=True)
        if result.changed:  # (the origin's document is read for its key order only)
            state._origin = Origin(doc, fmt, data, result.sha256 or "")
        self._origin = state._origin
        return result

    def _commit(self, data: bytes, doc: dict[str, Any], reason: str, *, backup: bool | str,
                evidence: dict[str, Any] | None, base_sha: str | None = None,
                fmt: JsonFormat | None = None, texts: dict[str, str] | None = None,
                check_types: bool = False, keep_damaged: bool = True) -> SaveResult:
        """Under the lock: compare with the file now on disk, back up, journal, replace.
        `texts` (each field's text in `fmt`, when `data` is a state's document) let an
        unchanged file be compared by text instead of by parsing it and walking both documents."""
        path = str(self.path)
        check_writable(doc, path)
        if len(data) > self.cap:  # the next load would refuse it
            raise StateValueError(f"{path}: refusing to write {human(len(data))}, over the {human(self.cap)} cap "
                                  "(max_state_bytes)", path)
        st = refuse_non_regular(self.path, "state file")
        last = self._journal_tail()
        # No store writer has touched the journal since our last save, so none has made a
        # temp file since (each journals ahead of its temp file): no stray to look for.
        quiet = self._quiet_key is not None and self.journal.seen_key == self._quiet_key
        old_raw: bytes | None = None
        old_doc: dict[str, Any] | None = None
        old_sha: str | None = None
        old_texts: dict[str, str] | None = None
        if st is not None:
            try:
                old_raw = read_capped(self.path, "state file", self.cap, StateTooLargeError)
            except StateTooLargeError as exc:
                raise StateSaveError(f"{exc}: not replaced (it could not be backed up first)", path) from None
            except StateLoadError:
                pass  # raced into something not regular: replaced, but backed up first below
            except OSError as exc:
                raise StateSaveError(f"{path}: cannot read the current file: {exc.strerror or exc}", path) from None
        written = self._written
        if old_raw is not None:
            if written is not None and old_raw == written.data:  # still what this store wrote
                old_sha = written.sha
                if texts is not None and written.texts is not None and written.fmt == fmt:
                    old_texts = written.texts
            if old_texts is None:
                try:
                    old_doc = parse_document(old_raw, path)
                except StateLoadError:
                    old_doc = None  # corrupt: replaced, but backed up first below
        if old_texts is not None:
            changes = text_changes(old_texts, texts or {}, doc)
            if changes is None:
                return SaveResult(changed=False)
        elif old_doc is not None:
            if strict_equal(old_doc, doc):
                return SaveResult(changed=False)
            changes = copied(changed_fields(old_doc, doc))
        else:
            changes = copied(changed_fields(None, doc))
        if check_types and (old_doc is not None or old_texts is not None):
            types_checked(changes, path)
        corrupt = old_raw is not None and old_doc is None and old_texts is None
        removed, strays_left = ([], False) if quiet else self._remove_stray_temps()
        backup_info = None
        damaged_kept_elsewhere = corrupt and not keep_damaged  # restore() quarantined it already
        if old_raw is not None and not damaged_kept_elsewhere and (backup or corrupt or self._auto_backup_due()):
            label = backup if isinstance(backup, str) else ("pre-" + reason if backup or corrupt else "auto")
            backup_info = self.backups.snapshot(old_raw, label, mode=st.st_mode & 0o7777 if st else None,
                                                owner=(st.st_uid, st.st_gid) if st else None)
            self._newest_backup, self._backup_scanned = backup_info.created, True
        if st is None:
            self._ensure_parent()
        mode = (st.st_mode & 0o7777) if st else default_file_mode()
        owner = (st.st_uid, st.st_gid) if st else None
        if old_raw is not None and old_sha is None:
            old_sha = hashlib.sha256(old_raw).hexdigest()
        self._quiet_key = None  # until this write is through
        # Write-ahead: the entry is durable before the file changes, so a crash can leave an
        # entry whose write never landed (journal.landed() tells), never an unjournaled write.
        result, entry = self._journal(data, old_sha, changes, reason, backup_info, evidence, base_sha, last,
                                      self._journal_changes(changes, old_texts, texts), self.role_values(doc))
        try:
            self._write_ahead(entry, data, mode=mode, owner=owner)
        except DirSyncError as exc:
            raise StateSaveError(f"{path}: written, but {exc.strerror}: durability unknown", path) from None
        except (OSError, NotRegularFileError) as exc:
            self._abort(result.generation, reason, exc)
            if isinstance(exc, NotRegularFileError):
                raise
            raise StateSaveError(f"{path}: save failed ({exc.strerror or exc}); the previous file is intact", path) from None
        self._written = _Written(data, result.sha256 or "", fmt if texts is not None else None, texts)
        if not strays_left:
            self._quiet_key = self.journal.seen_key
        result.removed_temp_files = removed
        self._hand_back(st)
        return result

    def _auto_backup_due(self) -> bool:
        if not self.auto_backup_interval:
            return False
        if not self._backup_scanned:
            self._newest_backup, self._backup_scanned = self.backups.newest_time(), True
        return self._newest_backup is None or time.time() - self._newest_backup >= self.auto_backup_interval

    def _remove_stray_temps(self) -> tuple[list[str], bool]:
        """Temp files left by a writer killed mid-save. Under the lock no store writer is
        mid-save, so every one of them is abandoned. Returns those removed, and whether
        any could not be."""
        removed, left = [], False
        for name in self.stray_temp_files():
            try:
                self.ops.unlink(str(self.path.with_name(name)))
                removed.append(name)
            except FileNotFoundError:
                pass
            except OSError:
                left = True  # housekeeping: it stays listed by stray_temp_files() and the save goes on
        return removed, left

    def stray_temp_files(self) -> list[str]:
        """statetui's own leftover temp files (a save removes them): the state's, and the
        journal index's (a writer killed while sealing a journal segment)."""
        return self.temp_files()[0]

    def bot_temp_files(self) -> list[str]:
        """Temp files the bot's own writer left (`trading_state.json.tmp` ...): reported, never removed."""
        return self.temp_files()[1]

    def temp_files(self) -> tuple[list[str], list[str]]:
        """(statetui's stray temp files, the bot's) from one listing of the folder: a year of
        journal segments sits there too, and the console asks on every write it sees."""
        index = self.journal.path.name[: -len(".jsonl")] + ".index.json"
        try:
            names = not_segments(os.listdir(self.path.parent))
        except OSError:
            return [], []
        ours = sorted(n for n in names if is_temp_of(n, self.path.name) or is_temp_of(n, index))
        return ours, sorted(n for n in names if is_bot_temp_of(n, self.path.name))


