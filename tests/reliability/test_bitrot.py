"""Checksums bite: a backup whose bytes changed after it was written (bit rot, a hand edit)
but that is still a perfectly valid state is refused by restore, skipped by recovery and by
`restore latest`, and listed as bad. (The mutation check removes each verification in
turn and expects this test to fail.)"""

from __future__ import annotations

import hashlib

import pytest

from statetui.core.errors import BackupError
from statetui.core.store import StateStore
from statetui.testing.states import encode, realistic_state

NAME = "trading_state.json"


@pytest.fixture
def rotten(tmp_path):
    store = StateStore(tmp_path / NAME, auto_backup_interval=None)
    store.init(realistic_state(11))
    store.path.write_bytes(encode(realistic_state(11), "indent2"))
    good = store.backup(reason="good")
    state = store.load()
    state.total_trades += 5
    state.current_balance = 250.0
    store.save(state, reason="trade")
    newer = store.backup(reason="newer")
    # Rot: one digit of the balance changes; the file stays valid JSON and a valid state.
    raw = newer.path.read_bytes()
    assert raw.count(b'"current_balance": 250.0') == 1
    newer.path.write_bytes(raw.replace(b'"current_balance": 250.0', b'"current_balance": 850.0'))
    return store, good, newer


def test_rotten_backup_is_listed_bad(rotten):
    store, good, newer = rotten
    by_name = {b.name: b for b in store.backups.list(verify=True)}
    assert by_name[newer.name].checksum == "bad" and not by_name[newer.name].ok
    assert by_name[good.name].checksum == "ok" and by_name[good.name].ok


def test_rotten_backup_is_never_restored(rotten):
    store, good, newer = rotten
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    with pytest.raises(BackupError, match="checksum"):
        store.restore(newer.name)
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before
    assert store.restore("latest").restored.name == good.name


def test_recovery_skips_the_rotten_backup(rotten):
    store, good, newer = rotten
    raw = store.path.read_bytes()
    store.path.write_bytes(raw[:100])
    state = store.load(recover=True)
    assert store.last_recovery.backup.name == good.name
    assert state.current_balance != 850.0
    assert store.path.read_bytes() == good.path.read_bytes()
