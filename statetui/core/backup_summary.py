"""The backups' summary: what the audit, the console's dashboard and the peak verdict need to
know about every backup, in a few kilobytes, so that looking at 3,000 backups costs about
what looking at 30 does.

`<backups>/.statetui-summary.json` holds aggregates of one verified listing: counts (all,
checksummed by statetui, good, failing), the newest few and the newest good ones whole, the
failing ones (the newest FAILED_KEPT whole, and how many), the oldest good one's time, the
creation times of statetui's backups (retention), of the newest `auto` ones, and the highest
distinct cash and equity values the backups hold (the peak verdict's evidence). It is a cache,
trusted only for the very listing it describes: it carries a fingerprint of every backup's
name, size and mtime (an order-free sum of hashes, so a new backup adds to it), and a reader
compares it with a listing it makes itself (a name and a stat per backup: no object, no read).
Any difference (a backup added, removed, renamed or rewritten outside the store) and the
summary is not used: the full verified listing is (statetui.core.backups, with its index).

Bit rot keeps names, sizes and times, so every use also reads the newest few backups and a
random sample in full, as the verified listing does, and compares them with the summary: a
difference and the full listing is used, those backups read again.

Written by `statetui verify --save-index` (with the index) and, when it exists, brought up to
date by the store each time it takes a backup (under the store's lock); a reader never writes
it. Missing, damaged or stale, every reader falls back to the full listing."""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from statetui.core.backups import OURS_NAME, BackupInfo
from statetui.core.errors import StatetuiError
from statetui.core.fsio import REAL_OPS, FileOps, durable_replace, read_capped
from statetui.core.journal_summary import Inexact
from statetui.core.money import money_or_none

SUMMARY_NAME = ".statetui-summary.json"
VERSION = 1
NEWEST_KEPT, GOOD_KEPT, FAILED_KEPT = 4, 2, 20
TOP_KEPT = 16  # distinct values per basis (the verdict needs the highest one that survives reconciles)
AUTO_KEPT = 256
BASES = ("cash", "equity")
_MOD = 1 << 128
MAX_SUMMARY_BYTES = 16 * 1024 * 1024
_FIELDS = ("kind", "created", "reason", "size", "expected", "checksum", "valid", "error", "roles", "sha256")


def listing_term(tag: str, name: str, size: int, mtime_ns: int) -> int:
    """One backup's share of the listing's fingerprint (the fingerprint is their sum)."""
    digest = hashlib.blake2b(f"{tag}/{name}\0{size}\0{mtime_ns}".encode("utf-8", "surrogateescape"), digest_size=16)
    return int.from_bytes(digest.digest(), "big")


@dataclass
class Listing:
    """What a reader sees now: the fingerprint and every backup's (tag, name)."""

    fp: int
    names: list[tuple[str, str]]


def folders(backups: Any) -> dict[str, Path]:
    """tag -> folder: "b" the backups folder, "s" the state's own (hand-made copies beside it)."""
    out = {"b": backups.dir}
    if backups.state_path.parent != backups.dir:
        out["s"] = backups.state_path.parent
    return out


def take_listing(backups: Any) -> Listing:
    """A name match and an lstat per backup (what Backups._listed sees), summed into the fingerprint."""
    fp, names, ours = 0, [], OURS_NAME.match
    for tag, folder in folders(backups).items():
        try:
            entries = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        try:
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            for name in entries:
                # statetui's own names first (one match), never the journal's segments (a thousand
                # beside the state after a year): the full rules only for the others
                if not (name[:1] != "." and ours(name)) and (name.endswith(".jsonl") or
                                                             not backups._is_backup_name(name, folder)):
                    continue
                try:
                    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                except OSError:
                    continue
                if (st.st_mode & 0o170000) != 0o100000:  # a regular file, as Backups._info
                    continue
                fp = (fp + listing_term(tag, name, st.st_size, st.st_mtime_ns)) % _MOD
                names.append((tag, name))
        finally:
            os.close(dfd)
    return Listing(fp, names)


def _record(info: BackupInfo, tag: str) -> dict[str, Any]:
    return {"name": info.name, "tag": tag, **{k: getattr(info, k) for k in _FIELDS}}


def _info(rec: dict[str, Any], places: dict[str, Path]) -> BackupInfo:
    values = {k: rec.get(k) for k in _FIELDS}
    values["roles"] = dict(values["roles"] or {})
    return BackupInfo(places.get(rec.get("tag"), places["b"]) / rec["name"], **values)


@dataclass
class BackupSummary:
    dir: str
    count: int = 0  # backups (quarantine copies are evidence, not backups)
    ours: int = 0  # checksummed by statetui
    good: int = 0  # that verify
    newest: list[BackupInfo] = field(default_factory=list)  # the newest NEWEST_KEPT, verified
    newest_good: list[BackupInfo] = field(default_factory=list)  # the newest GOOD_KEPT that verify
    failed: list[BackupInfo] = field(default_factory=list)  # the newest FAILED_KEPT that do not
    failed_count: int = 0
    quarantined: int = 0
    newest_quarantine: str | None = None
    q_created: float | None = None  # its time
    oldest_good: float | None = None
    ours_created: list[float] = field(default_factory=list)  # newest first
    auto_created: list[float] = field(default_factory=list)  # the newest AUTO_KEPT `auto` ones
    auto_total: int = 0
    tops: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {b: {} for b in BASES})
    evicted: dict[str, str | None] = field(default_factory=lambda: {b: None for b in BASES})
    source: str = "listing"  # "summary": from the file (fingerprint matched, spot checks agreed)
    listing: int | None = None  # with "summary": the fingerprint of the listing it was checked against

    # --- built from a verified listing, or added to ------------------------------------

    @classmethod
    def of(cls, infos: list[BackupInfo], folder: Path) -> "BackupSummary":
        """The summary of a verified listing (newest first, as Backups.list gives it)."""
        s = cls(str(folder))
        for info in reversed(infos):  # oldest first: each one is "the newest so far"
            s.add(info)
        return s

    def add(self, info: BackupInfo) -> None:
        """One more verified backup (not already counted)."""
        if info.kind == "quarantine":
            self.quarantined += 1
            if self.q_created is None or (info.created, info.name) > (self.q_created, self.newest_quarantine or ""):
                self.newest_quarantine, self.q_created = info.name, info.created
            return
        self.count += 1
        self.newest = _insert(self.newest, info, NEWEST_KEPT)
        if info.kind == "statetui":
            self.ours += 1
            self.ours_created = sorted(self.ours_created + [info.created], reverse=True)
        if info.reason == "auto":
            self.auto_total += 1
            self.auto_created = sorted(self.auto_created + [info.created], reverse=True)[:AUTO_KEPT]
        if not info.ok:
            self.failed_count += 1
            self.failed = _insert(self.failed, info, FAILED_KEPT)
            return
        self.good += 1
        self.newest_good = _insert(self.newest_good, info, GOOD_KEPT)
        self.oldest_good = info.created if self.oldest_good is None else min(self.oldest_good, info.created)
        if ".pre-reconcile." in info.name:  # history.realized_history leaves these out
            return
        for basis in BASES:
            value = money_or_none(info.roles.get(basis))
            if value is not None:
                self._top(basis, value, info)

    def _top(self, basis: str, value: Decimal, info: BackupInfo) -> None:
        ev = self.evicted[basis]
        if ev is not None and value <= Decimal(ev):
            return
        tops = self.tops[basis]
        key = "0" if value == 0 else str(value.normalize())
        cand = tops.get(key)
        if cand is None:
            tops[key] = {"value": str(value), "ts": info.created, "name": info.name, "last": info.created}
        else:
            # history.backup_series order: by time, and among equal times the greater name first
            if (info.created, _inverted(info.name)) < (cand["ts"], _inverted(cand["name"])):
                cand.update(value=str(value), ts=info.created, name=info.name)
            cand["last"] = max(cand["last"], info.created)
        if len(tops) > TOP_KEPT:
            low = min(tops, key=Decimal)
            del tops[low]
            self.evicted[basis] = low if ev is None else str(max(Decimal(ev), Decimal(low)))

    # --- questions ---------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        return self.count > 0 and self.failed_count == 0

    def old_unpruned(self, keep_min: int, max_age_s: float, now: float) -> int:
        """How many statetui backups past the newest `keep_min` are older than `max_age_s`."""
        return sum(1 for c in self.ours_created[keep_min:] if now - c > max_age_s)

    def auto_since(self, since: float) -> tuple[int, bool]:
        """(`auto` backups newer than `since`, whether that count may be short: only the newest AUTO_KEPT are kept)."""
        n = sum(1 for c in self.auto_created if c > since)
        return n, n == len(self.auto_created) and self.auto_total > len(self.auto_created)

    def points(self, basis: str, disowned: list[tuple[float, Decimal]]) -> tuple[list[Any], Decimal | None]:
        """history.backup_series(...) minus the values reconciles disowned (`disowned`: (when,
        value)), as history.Points, and the highest value not kept (None: every value is kept).
        Inexact when a value was disowned between two backups that hold it (the earliest one
        kept is not known)."""
        from statetui.core.history import Point

        out = []
        for cand in self.tops[basis].values():
            value = Decimal(cand["value"])
            last_bad = max((when for when, bad in disowned if bad == value), default=None)
            if last_bad is None or cand["ts"] > last_bad:
                out.append(Point(cand["ts"], value, cand["name"]))
            elif cand["last"] > last_bad:
                raise Inexact("a reconcile disowned a value some backups still hold after it")
        ev = self.evicted[basis]
        return out, Decimal(ev) if ev is not None else None

    # --- persistence -------------------------------------------------------------------

    def to_json(self, fp: int, fields_key: str) -> dict[str, Any]:
        recs = {name: [_record(b, _tag_of(b, Path(self.dir))) for b in getattr(self, name)]
                for name in ("newest", "newest_good", "failed")}
        plain = {k: getattr(self, k) for k in _PLAIN}
        return {"version": VERSION, "fields": fields_key, "listing": format(fp, "x"), **plain, **recs}

    @classmethod
    def from_json(cls, data: dict[str, Any], places: dict[str, Path]) -> "BackupSummary":
        s = cls(str(places["b"]), source="summary")
        for k in _PLAIN:
            setattr(s, k, data[k])
        for name in ("newest", "newest_good", "failed"):
            setattr(s, name, [_info(r, places) for r in data[name]])
        return s


_PLAIN = ("count", "ours", "good", "failed_count", "quarantined", "newest_quarantine", "q_created", "oldest_good",
          "ours_created", "auto_created", "auto_total", "tops", "evicted")


def _inverted(name: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in name) + (0,)  # a prefix sorts after what extends it, as in reverse order


def _insert(kept: list[BackupInfo], info: BackupInfo, limit: int) -> list[BackupInfo]:
    """`kept` newest first (Backups.list's order: by time, then name), with `info`, at most `limit`."""
    out = sorted(kept + [info], key=lambda b: (b.created, b.name), reverse=True)
    return out[:limit]


def _tag_of(info: BackupInfo, backups_dir: Path) -> str:
    return "b" if info.path.parent == backups_dir else "s"


# --- the file ------------------------------------------------------------------------------

def summary_path(backups: Any) -> Path:
    return backups.dir / SUMMARY_NAME


def fields_key(backups: Any) -> str:
    return json.dumps(backups.fields or {}, sort_keys=True, default=str)


def load(backups: Any) -> tuple[dict[str, Any] | None, BackupSummary | None]:
    """(the file's data, the summary), or (None, None) when missing, damaged or for other role fields."""
    try:
        data = json.loads(read_capped(summary_path(backups), "backup summary", MAX_SUMMARY_BYTES))
        if not isinstance(data, dict) or data.get("version") != VERSION or data.get("fields") != fields_key(backups):
            return None, None
        return data, BackupSummary.from_json(data, folders(backups))
    except Exception:  # noqa: BLE001 - unreadable or damaged: a cache, the full listing answers
        return None, None


def save(backups: Any, summary: BackupSummary, fp: int, ops: FileOps = REAL_OPS) -> None:
    """Best effort: a summary that cannot be written costs later readers the full listing, nothing else."""
    data = json.dumps(summary.to_json(fp, fields_key(backups)), separators=(",", ":")).encode()
    try:
        durable_replace(summary_path(backups), data, ops, mode=0o644)
    except (OSError, StatetuiError):  # a link or a folder in its place is refused, never written through
        pass


def fingerprint_of(infos: list[BackupInfo], stats: dict[str, os.stat_result], backups: Any) -> int | None:
    """The listing fingerprint of a verified listing (None when a backup's stat is missing)."""
    fp = 0
    for b in infos:
        st = stats.get(str(b.path))
        if st is None:
            return None
        fp = (fp + listing_term(_tag_of(b, backups.dir), b.name, st.st_size, st.st_mtime_ns)) % _MOD
    return fp


def note_snapshot(backups: Any, info: BackupInfo) -> None:
    """The store took a backup (under its lock): add it to the summary when there is one.
    A summary that did not describe the folder before still does not after (the fingerprint
    is a sum), so nothing is checked here."""
    data, summary = load(backups)
    if summary is None:
        return
    try:
        st = os.lstat(info.path)
        fresh = backups.verify(BackupInfo(info.path, info.kind, info.created, info.reason, info.size, info.expected))
        fp = (int(data["listing"], 16) + listing_term(_tag_of(info, backups.dir), info.name, st.st_size,
                                                         st.st_mtime_ns)) % _MOD
    except (OSError, ValueError, KeyError):
        return
    summary.add(fresh)
    save(backups, summary, fp, backups.ops)


# --- reading: the summary when it holds, else the full listing ---------------------------------

def summarize(backups: Any, newest: int = 2, sample: int = 2, rng: random.Random | None = None, *,
              full_listing: bool = True) -> BackupSummary | None:
    """The backups' summary, from the file when it describes the folder as it is now and the
    newest `newest` and a random `sample` read in full agree with it; else from the full
    verified listing (those backups read again), or None without `full_listing`. Never writes."""
    data, summary = load(backups)
    # More failing backups than the summary keeps by name: a sample could not be checked against it.
    if summary is not None and summary.failed_count <= len(summary.failed):
        seen = take_listing(backups)
        if data.get("listing") == format(seen.fp, "x"):
            disagree = _spot_check(backups, summary, seen, newest, sample, rng or random)
            if not disagree:
                summary.listing = seen.fp
                return summary
            if full_listing:
                return BackupSummary.of(backups.list(verify=True, also=disagree), backups.dir)
    return BackupSummary.of(backups.list(verify=True), backups.dir) if full_listing else None


def _spot_check(backups: Any, summary: BackupSummary, seen: Listing, newest: int, sample: int,
                rng: Any) -> set[str]:
    """Read the newest few and a sample in full; the names whose content disagrees with the summary."""
    places = folders(backups)
    disagree: set[str] = set()
    for i, kept in enumerate(summary.newest[:newest]):
        fresh = backups.verify(BackupInfo(kept.path, kept.kind, kept.created, kept.reason, kept.size, kept.expected))
        if (fresh.checksum, fresh.valid, fresh.sha256) != (kept.checksum, kept.valid, kept.sha256):
            disagree.add(kept.name)
        summary.newest[i] = fresh
    failed = {b.name for b in summary.failed}
    checked = {b.name for b in summary.newest[:newest]}
    pool = [(t, n) for t, n in seen.names if n not in checked]
    for tag, name in rng.sample(pool, min(sample, len(pool))) if sample and pool else []:
        probe = backups._info(places.get(tag, places["b"]) / name)
        if probe is None or probe.kind == "quarantine":
            continue
        if backups.verify(probe).ok == (name in failed):  # good now but counted failing, or the other way
            disagree.add(name)
    return disagree
