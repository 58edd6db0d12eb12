"""Checksummed backups of the state file: snapshot, list, verify, prune, resolve.

A backup is named `<stem>.<UTC timestamp>.<reason>.<sha256[:16]>.json` in `backups/`
beside the state file: the name sorts by time and carries its own checksum, so one
atomic rename publishes data and checksum together. Hand-made backups (the audit's
`backup_YYYYMMDD.json` cron copies, `trading_state.json.backup`) are found and listed
too, without a checksum. Restoring goes through the store (statetui.core.store)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from statetui.core.errors import BackupError, StateLoadError, StatetuiError
from statetui.core.fsio import REAL_OPS, FileOps, durable_replace, is_temp_of, makedirs, read_regular, refuse_non_regular
from statetui.core.records import BackupInfo, iso_time  # (re-exported for the store and its readers)

_OURS = re.compile(r"^(?P<stem>.+)\.(?P<ts>\d{8}T\d{6}\.\d{6}Z)\.(?P<reason>[a-z0-9-]{1,40})\.(?P<sha>[0-9a-f]{16})\.json$")
# The same names as _OURS (both anchored at both ends), for a yes/no: a lazy stem does not
# backtrack over every name (6 us a name, 3,000 names on every look); the greedy one above
# is for its parts, where the last timestamp in a name is the backup's.
OURS_NAME = re.compile(r"^.+?\.\d{8}T\d{6}\.\d{6}Z\.[a-z0-9-]{1,40}\.[0-9a-f]{16}\.json$")
_DATE_IN_NAME = re.compile(r"(?P<y>20\d\d)-?(?P<m>[01]\d)-?(?P<d>[0-3]\d)(?:[T_-]?(?P<H>[0-2]\d)(?P<M>[0-5]\d)(?P<S>[0-5]\d)?)?")
TS_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_QUARANTINE = re.compile(r"^.+\.corrupt-(?P<ts>\d{8}T\d{6}\.\d{6}Z)$")


def slug(reason: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")
    return (s or "manual")[:40]


class Backups:
    def __init__(self, state_path: Path, backup_dir: Path | None = None, ops: FileOps = REAL_OPS,
                 fields: dict[str, Any] | None = None):
        self.state_path = Path(state_path)
        self.fields = fields or {}  # role overrides: which fields are cash and peak in each backup
        self.dir = Path(backup_dir) if backup_dir is not None else self.state_path.parent / "backups"
        self.ops = ops
        self.read_only = False  # the store's: a verified listing then never writes the index

    # --- writing -----------------------------------------------------------------

    def snapshot(self, data: bytes, reason: str = "manual", *, mode: int | None = None,
                 owner: tuple[int, int] | None = None, now: float | None = None) -> BackupInfo:
        """Write `data` as a new checksummed backup, durably. Never overwrites a backup."""
        self._ensure_dir()
        digest = hashlib.sha256(data).hexdigest()
        stamp = now if now is not None else time.time()
        micros = int(stamp * 1_000_000)
        for attempt in range(100):
            ts = utc_stamp(micros + attempt)  # whole microseconds: each attempt is a new name
            path = self.dir / f"{self.state_path.stem}.{ts}.{slug(reason)}.{digest[:16]}.json"
            try:
                durable_replace(path, data, self.ops, mode=mode if mode is not None else 0o600, owner=owner, exclusive=True)
            except FileExistsError:
                continue
            except OSError as exc:
                raise BackupError(f"{path}: cannot write backup: {exc.strerror or exc}", str(path)) from None
            info = self._info(path)
            assert info is not None
            info.checksum, info.sha256 = "ok", digest
            from statetui.core.backup_summary import note_snapshot

            note_snapshot(self, info)  # the backups' summary, when there is one, stays the folder's
            return info
        raise BackupError(f"{self.dir}: cannot find a free backup name", str(self.dir))

    def check_dir(self) -> bool:
        """Whether the backups folder exists; BackupError for a link or a file in its place.
        Creates nothing: a backup can be refused before any lock or folder is made."""
        try:
            st = os.lstat(self.dir)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise BackupError(f"{self.dir}: cannot look at the backups folder: {exc.strerror or exc}", str(self.dir)) from None
        if stat.S_ISLNK(st.st_mode):
            raise BackupError(f"{self.dir}: backups folder is a symlink; refusing to write through it "
                              "(set --backup-dir to the real path)", str(self.dir))
        if not stat.S_ISDIR(st.st_mode):
            raise BackupError(f"{self.dir}: backups folder is not a directory", str(self.dir))
        return True

    def _ensure_dir(self) -> None:
        try:
            st = os.lstat(self.dir)
        except FileNotFoundError:
            try:
                makedirs(self.dir, self.ops, 0o755)
            except OSError as exc:
                raise BackupError(f"{self.dir}: cannot create backups folder: {exc.strerror or exc}", str(self.dir)) from None
            return
        if stat.S_ISLNK(st.st_mode):
            raise BackupError(f"{self.dir}: backups folder is a symlink; refusing to write through it "
                              "(set --backup-dir to the real path)", str(self.dir))
        if not stat.S_ISDIR(st.st_mode):
            raise BackupError(f"{self.dir}: backups folder is not a directory", str(self.dir))

    def prune(self, keep_days: float = 30, keep_min: int = 10, *, now: float | None = None,
              dry_run: bool = False) -> list[BackupInfo]:
        """Remove statetui backups older than `keep_days`, always keeping the newest `keep_min`.
        Hand-made backups are never removed."""
        now = now if now is not None else time.time()
        ours = [b for b in self.list(verify=False) if b.kind == "statetui"]
        doomed = [b for b in ours[keep_min:] if b.age_s(now) > keep_days * 86400]
        if not dry_run:
            for b in doomed:
                try:
                    self.ops.unlink(str(b.path))
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise BackupError(f"{b.path}: cannot remove: {exc.strerror or exc}", str(b.path)) from None
            if doomed:
                try:
                    self.ops.fsync_dir(str(self.dir))
                except OSError as exc:
                    raise BackupError(f"{self.dir}: removed {len(doomed)} old backup(s), but the folder fsync failed: "
                                      f"{exc.strerror or exc}", str(self.dir)) from None
        return doomed

    # --- reading -----------------------------------------------------------------

    def list(self, verify: bool = True, *, full: bool = False, newest: int | None = None,
             sample: int | None = None, save_index: bool = False, also: set[str] | None = None) -> list[BackupInfo]:
        """All backups, newest first. With `verify`, checksum and content checked: from the
        backups' index (statetui.core.backup_index) for a backup it describes unchanged, read
        for the others, the `newest` few and a random `sample` (defaults: backup_index.NEWEST,
        SAMPLE) and those named in `also`; with `full`, every one is read (one at a time:
        streamed). Only `save_index` (`statetui verify --save-index`) writes what it found to the
        index and the summary (statetui.core.backup_summary): looking never writes."""
        infos = self._listed()
        if verify:
            self._verify_all(infos, full, newest, sample, save_index, also or set())
        return infos

    def _verify_all(self, infos: list[BackupInfo], full: bool, newest: int | None, sample: int | None,
                    save_index: bool, also: set[str]) -> None:
        from statetui.core.backup_index import NEWEST, SAMPLE, BackupIndex, spot_checks

        index = BackupIndex(self.dir, self.fields)
        spot = set() if full else also | spot_checks(infos, NEWEST if newest is None else newest,
                                                      SAMPLE if sample is None else sample)
        for info in infos:
            st = self._stats.get(str(info.path))
            if info.kind == "quarantine" or info.path.parent != self.dir:
                self.verify(info)
                continue
            if not full and info.name not in spot and index.fill(info, st):
                continue
            self.verify(info)
            index.record(info, st)
        if save_index and not self.read_only and self.dir.is_dir() and (index.changed or full):
            index.forget_missing({b.name for b in infos})
            index.save(self.ops)
        if save_index and not self.read_only and self.dir.is_dir():
            from statetui.core import backup_summary

            fp = backup_summary.fingerprint_of(infos, self._stats, self)
            if fp is not None:
                backup_summary.save(self, backup_summary.BackupSummary.of(infos, self.dir), fp, self.ops)

    def _listed(self) -> list[BackupInfo]:
        # Keyed by strings, Paths built only for backups: 3,000 backups are listed on every audit.
        found: dict[str, BackupInfo] = {}
        self._stats: dict[str, os.stat_result] = {}
        for folder in {self.dir, self.state_path.parent}:
            try:
                names = os.listdir(folder)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            prefix = os.path.join(str(folder), "")
            for name in names:
                if prefix + name in found or not self._is_backup_name(name, folder):
                    continue
                info = self._info(folder / name)
                if info is not None:
                    found[prefix + name] = info
        return sorted(found.values(), key=lambda b: (b.created, b.name), reverse=True)

    def _is_backup_name(self, name: str, folder: Path) -> bool:
        target = self.state_path.name
        if name == target or is_temp_of(name, target) or name.startswith("."):
            return False
        if OURS_NAME.match(name):
            return True
        if _QUARANTINE.match(name) and name.startswith(target + ".corrupt-"):
            return True
        if name.endswith((".lock", ".jsonl")) or ".corrupt-" in name:  # the journal and its sealed segments
            return False
        stem = self.state_path.stem
        if re.match(rf"^{re.escape(target)}\.(backup|bak|old|orig)(\.\d+)?$", name):
            return True
        if re.match(rf"^({re.escape(stem)}[._-])?backup[._-].*\.json$", name) or re.match(rf"^{re.escape(stem)}[._-](backup|bak).*$", name):
            return True
        # Inside a dedicated backups folder, any JSON copy of the state counts.
        return folder == self.dir and folder != self.state_path.parent and name.endswith(".json")

    def _info(self, path: Path) -> BackupInfo | None:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if hasattr(self, "_stats"):
            self._stats[str(path)] = st  # the index is keyed by size and mtime
        q = _QUARANTINE.match(path.name)
        if q:
            created = datetime.strptime(q["ts"], TS_FORMAT).replace(tzinfo=timezone.utc).timestamp()
            return BackupInfo(path, "quarantine", created, "quarantine", st.st_size, None, checksum="quarantine")
        m = _OURS.match(path.name)
        if m:
            try:
                created = _stamp_time(m["ts"])
                return BackupInfo(path, "statetui", created, m["reason"], st.st_size, m["sha"])
            except ValueError:  # our shape, an impossible date (month 13): not one of ours
                pass
        d = _DATE_IN_NAME.search(path.name)
        created = st.st_mtime
        if d:
            try:
                created = datetime(int(d["y"]), int(d["m"]), int(d["d"]), int(d["H"] or 0), int(d["M"] or 0),
                                   int(d["S"] or 0), tzinfo=timezone.utc).timestamp()
            except ValueError:
                pass
        return BackupInfo(path, "hand-made", created, None, st.st_size, None, checksum="none")

    def verify(self, info: BackupInfo) -> BackupInfo:
        if info.kind == "quarantine":  # damaged on purpose: kept as evidence, restorable as it is
            try:
                info.sha256 = hashlib.sha256(read_regular(info.path, "quarantine copy")).hexdigest()
            except (OSError, StatetuiError) as exc:  # NotRegularFileError is a StatetuiError
                info.error = f"cannot read: {getattr(exc, 'strerror', None) or exc}"
            return info
        from statetui.core.jsondoc import parse_document
        from statetui.core.model import check_fields  # not the pydantic model: the console reads backups too

        try:
            data = read_regular(info.path, "backup")  # over the state cap: refused unread
        except (OSError, StatetuiError) as exc:
            info.checksum, info.valid = "unreadable", False
            info.error = f"cannot read: {getattr(exc, 'strerror', None) or exc}"
            return info
        info.sha256 = hashlib.sha256(data).hexdigest()
        if info.expected is not None:
            info.checksum = "ok" if info.sha256.startswith(info.expected) else "bad"
        try:
            doc = parse_document(data, str(info.path))
            check_fields(doc, str(info.path))
        except StateLoadError as exc:
            info.valid, info.error = False, str(exc)
            return info
        info.valid = True
        from statetui.core.roles import role_map

        try:
            info.roles = role_map(doc, self.fields).snapshot(doc)
        except (ValueError, ArithmeticError, TypeError):
            info.roles = {}
        if info.checksum == "bad":
            info.error = f"checksum mismatch: name says {info.expected}, content is {info.sha256[:16]}"
        return info

    def read(self, info: BackupInfo) -> bytes:
        return read_regular(info.path, "backup")

    def resolve(self, ref: str) -> BackupInfo:
        """A backup by name, path, unique name prefix, or `latest` (the newest one that verifies)."""
        backups = self.list(verify=(ref == "latest"))
        if ref == "latest":
            for b in backups:
                if b.ok:
                    return b
            raise BackupError(f"{self.dir}: no backup verifies", str(self.dir))
        p = Path(ref)
        if p.is_absolute() or os.sep in ref:
            refuse_non_regular(p, "backup")
            for b in backups:
                if b.path.resolve() == p.resolve():
                    return b
            info = self._info(p)
            if info is None:
                raise BackupError(f"{ref}: backup not found", ref)
            info.outside = True
            return self.verify(info)
        matches = [b for b in backups if b.name == ref] or [b for b in backups if b.name.startswith(ref)]
        if not matches:
            raise BackupError(f"{self.dir}: no backup named {ref!r} (see `statetui backups`)", str(self.dir))
        if len(matches) > 1:
            raise BackupError(f"{self.dir}: {ref!r} matches {len(matches)} backups; give more of the name", str(self.dir))
        return matches[0]

    def newest_time(self) -> float | None:
        ours = [b for b in self.list(verify=False) if b.kind == "statetui"]
        return ours[0].created if ours else None


def _stamp_time(ts: str) -> float:
    """`20261128T221500.123456Z` as unix time (strptime costs ~10 us a name: 3,000 backups)."""
    import calendar

    y, mo, d, h, mi, sec, us = int(ts[0:4]), int(ts[4:6]), int(ts[6:8]), int(ts[9:11]), int(ts[11:13]), int(ts[13:15]), int(ts[16:22])
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60 and sec < 60):
        raise ValueError(f"impossible time {ts}")
    return (calendar.timegm((y, mo, d, h, mi, sec)) * 1_000_000 + us) / 1_000_000  # as datetime.timestamp()


def utc_stamp(micros: int) -> str:
    """A UTC time given in whole microseconds, as backup and quarantine names carry it (float
    seconds plus 1e-6 can round back to the same microsecond: the same name twice)."""
    return (_EPOCH + timedelta(microseconds=micros)).strftime(TS_FORMAT)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def quarantine_name(path: Path, now: float | None = None, attempt: int = 0) -> Path:
    micros = int((now if now is not None else time.time()) * 1_000_000) + attempt
    return path.with_name(f"{path.name}.corrupt-{utc_stamp(micros)}")
