"""The store's API as the bot uses it: load, save, transaction, journal, backups, restore, recovery."""

import hashlib
import json
import os

import pytest

from statetui.core.errors import (
    BackupError,
    StateCorruptError,
    StateEmptyError,
    StateMissingError,
    StateSaveError,
)
from statetui.core.model import default_state
from statetui.core.store import StateStore


def make(tmp_path, doc=None, **kw):
    path = tmp_path / "state" / "trading_state.json"
    path.parent.mkdir(exist_ok=True)
    store = StateStore(path, auto_backup_interval=None, **kw)
    store.init(doc or default_state(None, "t0"))
    return store


def test_journal_records_every_write(tmp_path):
    store = make(tmp_path)
    with store.transaction(reason="trade win") as s:
        s.current_balance = 12.5
        s.total_trades = 1
    entries = store.journal.scan().entries
    assert [e["generation"] for e in entries] == [1, 2]
    last = entries[-1]
    assert last["reason"] == "trade win"
    assert last["pid"] == os.getpid()
    assert last["changes"] == {"current_balance": [0.0, 12.5], "total_trades": [0, 1]}
    assert last["sha256"] == hashlib.sha256(store.path.read_bytes()).hexdigest()
    assert last["prev_sha256"] == entries[0]["sha256"]
    assert store.status().written_by_store is True


def test_outside_write_is_detected_and_recorded(tmp_path):
    store = make(tmp_path)
    doc = json.loads(store.path.read_text())
    doc["current_balance"] = 99.0
    store.path.write_text(json.dumps(doc))  # someone else's plain write
    assert store.status().written_by_store is False
    with store.transaction(reason="after") as s:
        s.total_trades = 3
    last = store.journal.last()
    assert last["replaced_outside_write"] is True
    assert store.status().written_by_store is True


def test_stale_save_is_flagged_in_the_journal(tmp_path):
    store = make(tmp_path)
    a = store.load()
    with store.transaction(reason="other writer") as s:
        s.total_trades = 5
    a.current_balance = 1.0
    store.save(a, reason="late save")
    assert store.journal.last()["stale_base"] is True


def test_exception_in_transaction_writes_nothing(tmp_path):
    store = make(tmp_path)
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError):
        with store.transaction(reason="boom") as s:
            s.current_balance = 5.0
            raise RuntimeError("bot bug")
    assert store.path.read_bytes() == before
    assert len(store.journal.scan().entries) == 1


def test_init_refuses_to_overwrite_even_a_corrupt_file(tmp_path):
    store = make(tmp_path)
    store.path.write_text("{garbage")
    with pytest.raises(StateSaveError, match="already exists"):
        store.init(default_state(None, "t"))
    assert store.path.read_text() == "{garbage"


def test_auto_backup_is_taken_when_due_and_not_on_every_save(tmp_path):
    path = tmp_path / "trading_state.json"
    store = StateStore(path, auto_backup_interval=3600)
    store.init(default_state(None, "t"))
    for i in range(5):
        with store.transaction(reason=f"t{i}") as s:
            s.total_trades = i + 1
    backups = store.backups.list()
    assert len(backups) == 1 and backups[0].reason == "auto"
    assert json.loads(backups[0].path.read_text())["total_trades"] == 0


def test_backup_list_verify_and_tampering(tmp_path):
    store = make(tmp_path)
    info = store.backup()
    listed = store.backups.list()
    assert [b.name for b in listed] == [info.name] and listed[0].ok
    data = bytearray(info.path.read_bytes())
    data[5] ^= 0x01
    info.path.write_bytes(bytes(data))
    bad = store.backups.list()[0]
    assert bad.checksum == "bad" and not bad.ok


def test_hand_made_backups_are_found(tmp_path):
    store = make(tmp_path)
    (store.path.parent / "trading_state.json.backup").write_bytes(store.path.read_bytes())
    (store.path.parent / "backup_20260115.json").write_bytes(store.path.read_bytes())
    names = {b.name: b for b in store.backups.list()}
    assert {"trading_state.json.backup", "backup_20260115.json"} <= set(names)
    assert names["backup_20260115.json"].checksum == "none" and names["backup_20260115.json"].ok
    assert "trading_state.json" not in names and not any(n.endswith(".lock") for n in names)


def test_restore_backs_up_current_first_and_journals(tmp_path):
    store = make(tmp_path)
    old = store.backup()
    with store.transaction(reason="trade") as s:
        s.current_balance = 50.0
    result = store.restore(old.name)
    assert json.loads(store.path.read_text())["current_balance"] == 0.0
    assert result.pre_backup is not None
    assert json.loads(result.pre_backup.path.read_text())["current_balance"] == 50.0
    last = store.journal.last()
    assert last["reason"] == f"restore {old.name}" and last["changes"] == {"current_balance": [50.0, 0.0]}
    assert store.path.read_bytes() == old.path.read_bytes()


def test_restore_refuses_a_bad_checksum(tmp_path):
    store = make(tmp_path)
    info = store.backup()
    info.path.write_text(info.path.read_text().replace("0.0", "9.0", 1))
    before = store.path.read_bytes()
    with pytest.raises(BackupError, match="checksum mismatch"):
        store.restore(info.name)
    assert store.path.read_bytes() == before


def test_prune_keeps_newest_and_recent_and_hand_made(tmp_path):
    import time

    store = make(tmp_path)
    infos = [store.backups.snapshot(b"{}", "manual", now=time.time() - d * 86400) for d in (40, 35, 31, 5, 1)]
    (store.backups.dir / "backup_20200101.json").write_text("{}")
    removed = store.backups.prune(keep_days=30, keep_min=2)
    assert sorted(b.name for b in removed) == sorted(i.name for i in infos[:3])
    left = {b.name for b in store.backups.list(verify=False)}
    assert infos[3].name in left and infos[4].name in left and "backup_20200101.json" in left
    assert store.backups.prune(keep_days=30, keep_min=10) == []


@pytest.mark.parametrize("damage,kind", [
    (lambda p: p.unlink(), "missing"),
    (lambda p: p.write_text('{"current_balance": 1'), "corrupt"),
    (lambda p: p.write_text(""), "empty"),
])
def test_recovery_falls_back_to_newest_good_backup_and_quarantines(tmp_path, damage, kind):
    store = make(tmp_path)
    with store.transaction(reason="t") as s:
        s.current_balance = 42.0
    good = store.backup()
    bad = store.backups.snapshot(b"{broken", "manual")  # newer, but does not verify as a state
    original = store.path.read_bytes()
    damage(store.path)
    damaged = store.path.read_bytes() if store.path.exists() else None
    state = store.load(recover=True)
    assert state.current_balance == 42.0
    rep = store.last_recovery
    assert rep.action == "restored" and rep.cause_kind == kind and rep.backup.name == good.name
    assert store.path.read_bytes() == original
    if damaged is not None:
        assert rep.quarantined.read_bytes() == damaged  # the bad file is kept, never deleted
    assert bad.path.exists()


def test_recovery_never_starts_from_defaults(tmp_path):
    store = make(tmp_path)
    store.path.write_text("{nope")
    with pytest.raises(StateCorruptError, match="no backup verifies"):
        store.load(recover=True)
    assert store.path.read_text() == "{nope"
    store.path.unlink()
    with pytest.raises(StateMissingError):
        store.load(recover=True)
    assert not store.path.exists()


def test_typed_errors_name_the_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("   \n")
    with pytest.raises(StateEmptyError) as e:
        StateStore(path).load()
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(StateCorruptError) as e:
        StateStore(path).load()
    assert e.value.offset == 15 and "byte 15" in str(e.value)


def test_mode_is_kept_across_saves(tmp_path):
    store = make(tmp_path)
    os.chmod(store.path, 0o640)
    with store.transaction(reason="t") as s:
        s.total_trades = 1
    assert os.stat(store.path).st_mode & 0o777 == 0o640


def test_journal_survives_a_torn_last_line(tmp_path):
    store = make(tmp_path)
    with open(store.journal.path, "ab") as f:
        f.write(b'{"ts": "x", "generation": 2, "sha')  # a crash mid-append
    assert store.journal.last()["generation"] == 1
    with store.transaction(reason="next") as s:
        s.total_trades = 9
    scan = store.journal.scan()
    assert [e["generation"] for e in scan.entries] == [1, 2] and scan.bad_lines == 0
    assert b'"sha\n' not in store.journal.path.read_bytes()  # the torn fragment was cut off


class CrashAtReplace(Exception):
    pass


def test_write_ahead_entry_of_a_write_that_never_landed(tmp_path):
    """A crash between the journal append and the replace: the entry is there, the file is
    not; the store still knows the file is its own write, and history ignores the ghost."""
    from statetui.core.fsio import FileOps
    from statetui.core.evidence import landed_entries
    from statetui.core.history import role_series

    class Crash(FileOps):
        def replace(self, src, dst):
            raise CrashAtReplace()  # not an OSError: no abort marker, as after kill -9

    store = make(tmp_path)
    with store.transaction(reason="landed") as s:
        s.current_balance = 50.0
    crashing = StateStore(store.path, auto_backup_interval=None, ops=Crash())
    with pytest.raises(CrashAtReplace):
        with crashing.transaction(reason="ghost") as s:
            s.current_balance = 999.0
    for tmp in store.stray_temp_files():
        (store.path.parent / tmp).unlink()
    assert json.loads(store.path.read_text())["current_balance"] == 50.0
    assert store.journal.last()["reason"] == "ghost"
    status = store.status()
    assert status.written_by_store is True and status.generation == 2 and status.last_entry["reason"] == "landed"
    doc = store.load()._document()
    assert [p.value for p in role_series(landed_entries(store), store.roles(doc), "cash")] == [0, 50]
    with store.transaction(reason="after") as s:
        s.total_trades = 1
    last = store.journal.last()
    assert last["generation"] == 4 and "replaced_outside_write" not in last


def test_a_failed_replace_leaves_an_aborted_marker(tmp_path):
    from statetui.core.errors import StateSaveError
    from statetui.core.fsio import FileOps

    class Full(FileOps):
        def replace(self, src, dst):
            raise OSError(28, "No space left on device")

    store = make(tmp_path)
    with pytest.raises(StateSaveError, match="previous file is intact"):
        with StateStore(store.path, auto_backup_interval=None, ops=Full()).transaction(reason="x") as s:
            s.current_balance = 5.0
    tail = store.journal.tail(2)
    assert tail[0]["reason"] == "x" and tail[1] == {**tail[1], "generation": 2, "aborted": True}
    assert store.status().written_by_store is True and store.status().generation == 1
