"""The journal's fsync overlapped with the temp file's (fsio.overlap_fsyncs): both are over
before the replace, an error from either fails the save cleanly, no fsync is retried.

The seam classes here opt in with `overlap_fsyncs = True` (a class that overrides fsync
gets the sequential order by default) and record from both threads under a lock."""

from __future__ import annotations

import errno
import hashlib
import os
import threading

import pytest

from statetui.core.errors import StateSaveError
from statetui.core.fsio import FileOps, overlap_fsyncs
from statetui.core.journal import landed
from statetui.core.store import StateStore
from statetui.testing.states import encode, realistic_state

NAME = "trading_state.json"


def name_of(fd: int) -> str:
    return os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))


class Recorder(FileOps):
    overlap_fsyncs = True

    def __init__(self, fail: tuple[str, ...] = ()):
        self.fail = fail  # "journal", "temp": whose fsync raises EIO
        self.events: list[tuple[str, str, int]] = []  # (event, file, thread id)
        self.synced_open: dict[int, int] = {}  # fd -> fsync calls since it was opened
        self.retries: list[str] = []
        self._lock = threading.Lock()

    def open(self, path: str, flags: int, mode: int = 0o666) -> int:
        fd = super().open(path, flags, mode)
        with self._lock:
            self.synced_open[fd] = 0
        return fd

    def close(self, fd: int) -> None:
        with self._lock:
            self.synced_open.pop(fd, None)
        super().close(fd)

    def _note(self, event: str, what: str) -> None:
        with self._lock:
            self.events.append((event, what, threading.get_ident()))

    def fsync(self, fd: int) -> None:
        what = name_of(fd)
        kind = "journal" if what.endswith(".journal.jsonl") else ("temp" if ".tmp-" in what else "dir")
        self._note("fsync start", kind)
        with self._lock:
            if self.synced_open.get(fd):
                self.retries.append(kind)
            self.synced_open[fd] = self.synced_open.get(fd, 0) + 1
        try:
            if kind in self.fail:
                raise OSError(errno.EIO, f"injected EIO on the {kind} fsync")
            super().fsync(fd)
        finally:
            self._note("fsync end", kind)

    def replace(self, src: str, dst: str) -> None:
        self._note("replace", os.path.basename(dst))
        super().replace(src, dst)

    def link(self, src: str, dst: str) -> None:
        self._note("link", os.path.basename(dst))
        super().link(src, dst)


@pytest.fixture
def path(tmp_path):
    p = tmp_path / NAME
    p.write_bytes(encode(realistic_state(6), "indent2"))
    StateStore(p, auto_backup_interval=None).save(changed(StateStore(p)), reason="a journal exists")
    return p


def changed(store: StateStore):
    state = store.load()
    state.total_trades += 1
    return state


def sha(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def temps(folder) -> list[str]:
    return [n for n in os.listdir(folder) if ".tmp-" in n]


def test_plain_ops_overlap_and_recording_ops_do_not():
    assert overlap_fsyncs(FileOps())

    class Counting(FileOps):
        def fsync(self, fd):
            super().fsync(fd)

    assert not overlap_fsyncs(Counting())


def test_both_fsyncs_are_over_before_the_replace_and_the_journal_one_ran_beside(path):
    ops = Recorder()
    store = StateStore(path, ops=ops, auto_backup_interval=None)
    assert store.save(changed(store), reason="overlapped").changed
    events = [(e, w) for e, w, _ in ops.events]
    replace = events.index(("replace", NAME))
    assert ("fsync end", "journal") in events[:replace] and ("fsync end", "temp") in events[:replace]
    assert events[replace + 1:] == [("fsync start", "dir"), ("fsync end", "dir")]
    threads = {w: t for e, w, t in ops.events if e == "fsync start"}
    assert threads["journal"] != threads["temp"] == threading.get_ident()


@pytest.mark.parametrize("fail", [("journal",), ("temp",), ("journal", "temp")], ids="+".join)
def test_a_failed_fsync_on_either_side_fails_the_save_and_keeps_the_old_file(path, fail):
    before, entries = path.read_bytes(), len(StateStore(path).journal.scan().entries)
    ops = Recorder(fail=fail)
    store = StateStore(path, ops=ops, auto_backup_interval=None)
    state = changed(store)
    with pytest.raises(StateSaveError, match="previous file is intact") as err:
        store.save(state, reason="fsync fails")
    if fail == ("journal",):
        assert "journal" in str(err.value)
    assert path.read_bytes() == before and temps(path.parent) == []
    assert not any(e == "replace" for e, _, _ in ops.events)
    assert ops.retries == [] and ops.synced_open == {}  # no fsync retried, every descriptor closed
    scan = StateStore(path).journal.scan().entries
    assert scan[-1].get("aborted") and len(landed(scan, sha(path))) == entries
    # With working fsyncs the same store carries on from memory.
    ops.fail = ()
    assert store.save(state, reason="again").changed
    assert StateStore(path).load().total_trades == state.total_trades
    assert StateStore(path).status().written_by_store is True


def test_init_overlaps_too(tmp_path):
    ops = Recorder()
    store = StateStore(tmp_path / "new" / NAME, ops=ops)
    assert store.init(realistic_state(7)).generation == 1
    events = [(e, w) for e, w, _ in ops.events]
    link = events.index(("link", NAME))
    assert ("fsync end", "journal") in events[:link] and ("fsync end", "temp") in events[:link]
    assert store.status().written_by_store is True
