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

import functools
import hashlib
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from statetui.core.backups import BackupInfo, Backups, iso_time, quarantine_name
from statetui.core.errors import (
    BackupError,
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
    HELPER,
    REAL_OPS,
    DirSyncError,
    FileOps,
    default_file_mode,
    durable_replace,
    is_bot_temp_of,
    is_temp_of,
    makedirs,
    overlap_fsyncs,
    read_capped,
    refuse_non_regular,
)
from statetui.core.limits import LIMITS, human
from statetui.core.textsafe import json_utf8, one_line
from statetui.core.lockfile import LockTimeout, path_lock
from statetui.core.journal import Journal, journal_path_for, landed, writer_of
from statetui.core.jsondoc import (DEFAULT_FORMAT, FieldTexts, JsonFormat, detect_format, json_copy, parse_document,
                                   parse_with_text, strict_equal)
from statetui.core.documents import check_types as types_checked
from statetui.core.model import Origin, changed_fields, check_fields, check_writable, serialize, serialize_fields

if TYPE_CHECKING:
    from statetui.core.state_model import TradingState

JOURNAL_VALUE_LIMIT = 1024  # larger changed values are summarised in the journal
MAX_NAME_BYTES = 255 - 24  # NAME_MAX less what the temp, lock and journal names add
MAX_PATH_BYTES = 4096 - 64  # PATH_MAX less the same


@dataclass
class SaveResult:
    changed: bool
    generation: int | None = None
    sha256: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    backup: BackupInfo | None = None
    removed_temp_files: list[str] = field(default_factory=list)


@dataclass
class RecoveryReport:
    action: str  # "none" (the file was fine) | "restored"
    cause: str | None = None  # the load error that triggered recovery
    cause_kind: str | None = None
    quarantined: Path | None = None
    backup: BackupInfo | None = None
    save: SaveResult | None = None

    def describe(self) -> str:
        if self.action == "none":
            return "state file loads; nothing to recover"
        moved = f"; the bad file was moved aside to {self.quarantined.name}" if self.quarantined else ""
        return f"recovered from {self.cause_kind}: restored backup {self.backup.name if self.backup else '?'}{moved}"


@dataclass
class RestoreResult:
    restored: BackupInfo
    pre_backup: BackupInfo | None
    save: SaveResult
    quarantined: Path | None = None  # the damaged file it replaced, kept here


@dataclass
class FileStatus:
    path: Path
    exists: bool
    size: int | None = None
    mtime: float | None = None
    sha256: str | None = None
    error: StateLoadError | None = None
    generation: int | None = None
    last_entry: dict[str, Any] | None = None
    written_by_store: bool | None = None  # None: no journal to tell
    stray_temp_files: list[str] = field(default_factory=list)  # statetui's own (a save removes them)
    bot_temp_files: list[str] = field(default_factory=list)  # the bot's writer's (reported, never removed)
    # The state parsed while checking the file, so a caller that wants both pays for one parse;
    # status(model=False) keeps the checked document and its bytes instead (no pydantic).
    state: TradingState | None = field(default=None, repr=False, compare=False)
    document: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    raw: bytes | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "exists": self.exists,
            "size": self.size,
            "mtime": iso_time(self.mtime) if self.mtime else None,
            "sha256": self.sha256,
            "error": {"kind": self.error.kind, "message": str(self.error)} if self.error else None,
            "generation": self.generation,
            "written_by_store": self.written_by_store,
            "last_write": self.last_entry,
            "stray_temp_files": self.stray_temp_files,
            "bot_temp_files": self.bot_temp_files,
        }


@dataclass(frozen=True)
class _Written:
    """What a store last wrote: the bytes, their sha256 and, for a state's document, each
    top-level field's text in the format it was written in (None for bytes written as given)."""

    data: bytes
    sha: str
    fmt: JsonFormat | None
    texts: dict[str, str] | None


_ABSENT = object()


class _JournalFailed(Exception):
    """The journal entry's fsync (in the helper thread) failed: raised before the replace."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


def _text_changes(old: dict[str, str], new: dict[str, str], doc: dict[str, Any]) -> dict[str, list[Any]] | None:
    """changed_fields() from field texts: {field: [old, new]}, or None when the document is
    unchanged (same fields in the same order, strictly equal values). Equal texts mean
    strictly equal values (a value's JSON text shows its type: 1, 1.0 and true differ);
    texts that differ only where one has -0.0 are confirmed with strict_equal, for which
    -0.0 equals 0.0. Old and new values are parsed back from the texts: copies in C, not
    the state's own objects."""
    changes: dict[str, list[Any]] = {}
    for key, text in old.items():
        now = new.get(key, _ABSENT)
        if now is _ABSENT:
            changes[key] = [json.loads(text), None]
        elif now != text:
            before = json.loads(text)
            if (_NEGATIVE_ZERO.search(text) or _NEGATIVE_ZERO.search(now)) and strict_equal(before, doc[key]):
                continue
            changes[key] = [before, json.loads(now)]
    for key, now in new.items():
        if key not in old:
            changes[key] = [None, json.loads(now)]
    if not changes and list(old) == list(new):
        return None
    return changes


_NEGATIVE_ZERO = re.compile(r"-0\.0(?![0-9])")  # how float.__repr__ writes -0.0


def _copied(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The new values copied: the document's values are the live state's own objects."""
    return {k: [a, json_copy(b)] for k, (a, b) in changes.items()}


# What must never escape the API raw (issue 11): an encoder meeting a lone surrogate, a
# document nested past the recursion limit, decimal and overflow errors, a NUL in a path.
_UNTYPED = (UnicodeError, RecursionError, ArithmeticError, ValueError, TypeError)


def _typed(error: type[StatetuiError]):
    """Turn an untyped error escaping a public method into `error`, one line naming the file.
    A StatetuiError passes through as it is."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(self: "StateStore", *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except StatetuiError:
                raise
            except _UNTYPED as exc:
                cause = one_line(str(exc))[:160] or type(exc).__name__
                raise error(f"{self.path}: {fn.__name__} failed: {type(exc).__name__}: {cause}", str(self.path)) from exc
        return wrapper
    return deco


def _state_model() -> Any:
    """TradingState, imported when a model is built (pydantic: not for a status read)."""
    from statetui.core.state_model import TradingState

    return TradingState


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StateStore:
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

    @_typed(StateLoadError)
    def parse(self, raw: bytes, name: str | None = None) -> TradingState:
        name = name or str(self.path)
        doc, text = parse_with_text(raw, name)
        origin = Origin(doc, detect_format(text, doc), raw, hashlib.sha256(raw).hexdigest())
        return _state_model().from_document(doc, name, origin)

    @_typed(StateLoadError)
    def check(self, raw: bytes, name: str | None = None) -> dict[str, Any]:
        """parse() without the model: the document, refused with the same errors."""
        name = name or str(self.path)
        doc, _text = parse_with_text(raw, name)
        check_fields(doc, name)
        return doc

    @_typed(StateLoadError)
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

    @_typed(StateSaveError)
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

    @_typed(StateSaveError)
    def _typed_save_locked(self, state: TradingState, reason: str, **kwargs: Any) -> SaveResult:
        return self._save_locked(state, reason, **kwargs)

    @_typed(StateSaveError)
    def write_bytes(self, data: bytes, reason: str, *, backup: bool | str = True,
                    evidence: dict[str, Any] | None = None) -> SaveResult:
        """Write a whole document as given (a restore writes the backup's exact bytes)."""
        self._writable("writing the state")
        state = self.parse(data, "new state")
        with self.locked():
            return self._commit(data, state.to_document(), reason, backup=backup, evidence=evidence)

    @_typed(StateSaveError)
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
            changes = _text_changes(old_texts, texts or {}, doc)
            if changes is None:
                return SaveResult(changed=False)
        elif old_doc is not None:
            if strict_equal(old_doc, doc):
                return SaveResult(changed=False)
            changes = _copied(changed_fields(old_doc, doc))
        else:
            changes = _copied(changed_fields(None, doc))
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
                       {k: [_journal_value(a), _journal_value(b)] for k, (a, b) in changes.items()},
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
            old_value = hit[1] if hit is not None and before is not None and hit[0] == before else _journal_value(a)
            new_value = _journal_value(b)
            if new_texts is not None and key in new_texts and isinstance(b, (dict, list)) and isinstance(new_value, str):
                memo[key] = (new_texts[key], new_value)  # a summary string: nothing the caller could change
            else:
                memo.pop(key, None)
            out[key] = [old_value, new_value]
        return out

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
        index = self.journal.path.name[: -len(".jsonl")] + ".index.json"
        try:
            return sorted(n for n in _not_segments(os.listdir(self.path.parent))
                          if is_temp_of(n, self.path.name) or is_temp_of(n, index))
        except OSError:
            return []

    def bot_temp_files(self) -> list[str]:
        """Temp files the bot's own writer left (`trading_state.json.tmp` ...): reported, never removed."""
        try:
            return sorted(n for n in _not_segments(os.listdir(self.path.parent)) if is_bot_temp_of(n, self.path.name))
        except OSError:
            return []

    # --- backups, restore, recovery -------------------------------------------------

    def _refuse_before_locking(self) -> os.stat_result | None:
        """What can be refused about the current file (a link, FIFO or folder; over the cap) is
        refused before the lock file, or a folder, is created (issue 11)."""
        st = refuse_non_regular(self.path, "state file")
        if st is not None and st.st_size > self.cap:
            raise StateTooLargeError(f"{self.path}: state file is {human(st.st_size)}, over the {human(self.cap)} cap; "
                                     "not replaced (it could not be backed up first)", str(self.path))
        return st

    @_typed(BackupError)
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

    @_typed(BackupError)
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

    @_typed(StateLoadError)
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

    @_typed(StateLoadError)
    def status(self, model: bool = True) -> FileStatus:
        """What is on disk now, and whether the last write came through the store. With
        `model` False, the file is checked without building a TradingState (fs.document)."""
        fs = FileStatus(self.path, exists=os.path.lexists(self.path))
        try:
            tail = self.journal.tail(64)
        except (StatetuiError, OSError):
            tail = []  # an unreadable or hostile journal: the file can still be described
        fs.stray_temp_files = self.stray_temp_files()
        fs.bot_temp_files = self.bot_temp_files()
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


def default_writer() -> str:
    """The journal's name for a store created without `writer=`: the program, as its user
    knows it (`python -m pkg.bot` -> pkg.bot, `bot.py`, `statetui`), never `-` or
    `__main__.py` (a script read from stdin or -c is "python")."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return spec.name.removesuffix(".__main__")
    arg0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(arg0)
    return name if name and arg0 not in ("-", "-c") else "python"


def _journal_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        if len(text) > JOURNAL_VALUE_LIMIT:
            n = len(value)
            kind = "object" if isinstance(value, dict) else "array"
            return f"<{kind} of {n} item{'s' if n != 1 else ''}, sha256 {hashlib.sha256(json_utf8(text)).hexdigest()[:12]}>"
    return value


def _not_segments(names: list[str]) -> list[str]:
    """The folder's names but the journal's sealed segments (`*.jsonl`: never a temp file), one
    endswith each: a year of history leaves a thousand of them beside the state, and the
    console looks for temp files on every write it sees."""
    return [n for n in names if not n.endswith(".jsonl")]
