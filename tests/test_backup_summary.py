"""The backups' summary (statetui.core.backup_summary) is a cache of one verified listing: it
answers only for the folder it describes (a backup added, removed, rewritten or touched and
the full listing answers instead), bit rot it cannot see by stat is caught by the spot
checks, the store keeps it current as it takes backups, and reading it never writes. Its
answers are the full listing's (the peak verdict's equivalence is in test_journal_summary)."""

from __future__ import annotations

import json
import os
import random

import pytest

from statetui.core.backup_summary import SUMMARY_NAME, BackupSummary, load, summarize
from statetui.core.store import StateStore
from statetui.testing.states import realistic_state


def _folder(tmp_path, backups: int = 12) -> StateStore:
    store = StateStore(tmp_path / "trading_state.json", auto_backup_interval=None, writer="bot.py")
    doc = realistic_state(0, positions=1)
    store.init(doc)
    for i in range(backups):
        doc["current_balance"] = 1000 + 7 * i
        store.write_bytes(json.dumps(doc, indent=2).encode(), reason="trade", backup=False)
        store.backup("auto" if i % 3 == 0 else "hourly")
    (tmp_path / "backups" / "backup_20261101.json").write_bytes(json.dumps(doc).encode())  # hand-made
    (tmp_path / "backups" / "backup_20261102.json").write_bytes(b"{not json")  # a hand-made one that fails
    return store


def _full(store: StateStore) -> dict:
    return _comparable(BackupSummary.of(store.backups.list(verify=True, full=True), store.backups.dir))


def _comparable(s: BackupSummary) -> dict:
    data = s.to_json(0, "")
    for name in ("newest", "newest_good", "failed"):  # spot checks refresh the newest: same content
        data[name] = [(r["name"], r["checksum"], r["valid"], r["sha256"]) for r in data[name]]
    return data


def _saved(store: StateStore) -> None:
    store.backups.list(verify=True, full=True, save_index=True)
    assert (store.backups.dir / SUMMARY_NAME).exists()


def test_the_summary_answers_as_the_full_listing_and_only_for_the_folder_it_describes(tmp_path):
    store = _folder(tmp_path)
    assert summarize(store.backups).source == "listing"  # none saved yet
    _saved(store)
    s = summarize(store.backups)
    assert s.source == "summary" and _comparable(s) == _full(store)
    assert (s.count, s.ours, s.good, s.failed_count) == (14, 12, 13, 1)
    hand = store.backups.dir / "backup_20261101.json"
    changes = [
        lambda: os.utime(hand, ns=(1, 1)),  # touched: same bytes, another mtime
        lambda: hand.write_bytes(hand.read_bytes() + b" "),  # rewritten in place, another size
        lambda: (store.backups.dir / "backup_20261103.json").write_bytes(hand.read_bytes()),  # one more
        lambda: hand.unlink(),  # one fewer
        lambda: (tmp_path / "trading_state.json.bak").write_bytes(b"{}"),  # a copy beside the state
    ]
    for change in changes:
        _saved(store)
        change()
        s = summarize(store.backups)
        assert s.source == "listing", "a changed folder was answered from the summary"
        assert _comparable(s) == _full(store)


def test_bit_rot_in_a_newest_backup_is_read_and_wins_over_the_summary(tmp_path):
    store = _folder(tmp_path)
    _saved(store)
    newest = summarize(store.backups).newest[0]
    st = os.stat(newest.path)
    data = bytearray(newest.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    newest.path.write_bytes(bytes(data))
    os.utime(newest.path, ns=(st.st_atime_ns, st.st_mtime_ns))  # rot keeps size and time
    s = summarize(store.backups)
    assert s.source == "listing" and newest.name in {b.name for b in s.failed}
    assert s.failed_count == 2 and not s.ok


def test_a_sampled_backup_that_rotted_is_caught(tmp_path):
    store = _folder(tmp_path, backups=6)
    _saved(store)
    victim = [b for b in store.backups.list(verify=False) if b.kind == "statetui"][-1]  # only a sample reads it
    st = os.stat(victim.path)
    victim.path.write_bytes(victim.path.read_bytes().replace(b"1", b"2", 1))
    os.utime(victim.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    seen = [summarize(store.backups, sample=20, rng=random.Random(k)) for k in range(2)]
    assert all(s.source == "listing" and victim.name in {b.name for b in s.failed} for s in seen)


def test_the_store_keeps_the_summary_current_as_it_takes_backups(tmp_path):
    store = _folder(tmp_path)
    _saved(store)
    for reason in ("hourly", "auto", "manual"):
        store.backup(reason)
        s = summarize(store.backups)
        assert s.source == "summary", "a backup through the store left the summary stale"
        assert _comparable(s) == _full(store)
    assert s.count == 17 and s.auto_since(0)[0] == 5


def test_looking_never_writes(tmp_path):
    store = _folder(tmp_path)
    _saved(store)
    (store.backups.dir / "backup_20261104.json").write_bytes(b"{}")  # stale now: the full listing answers
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.backups.dir.iterdir()}
    for _ in range(2):
        summarize(store.backups)
    reader = StateStore(tmp_path / "trading_state.json", auto_backup_interval=None, read_only=True)
    summarize(reader.backups)
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.backups.dir.iterdir()}
    assert after == before


def test_a_damaged_summary_is_a_cache_miss(tmp_path):
    store = _folder(tmp_path)
    _saved(store)
    path = store.backups.dir / SUMMARY_NAME
    for junk in (b"", b"{", json.dumps({"version": 1}).encode(), path.read_bytes()[:-40]):
        path.write_bytes(junk)
        assert load(store.backups) == (None, None)
        s = summarize(store.backups)
        assert s.source == "listing" and _comparable(s) == _full(store)


@pytest.mark.parametrize("read_only", [False, True])
def test_the_audits_backup_checks_say_the_same_from_the_summary(tmp_path, read_only):
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import run_audit
    from statetui.core.config import Config

    store = _folder(tmp_path)
    config = Config(state=str(store.path), pid_file=str(tmp_path / "bot.pid"), read_only=read_only)

    def messages() -> list:
        results = run_audit(AuditContext(config, network=False), ["backups", "recovery", "state-file"])
        out = []
        for r in results:
            out += [(r.id, f.severity, f.message.split(" h old")[0].rsplit(" ", 1)[0] if " h old" in f.message
                     else f.message.split("corrupt-")[0]) for f in r.findings]
        return out

    full = messages()  # no summary yet: the full listing
    _saved(store)
    assert summarize(store.backups).source == "summary"
    assert messages() == full
    assert any("backup does not load" in m for _, _, m in full)


def test_a_link_in_the_summarys_place_is_never_written_through_and_the_backup_still_lands(tmp_path):
    store = _folder(tmp_path, backups=2)
    _saved(store)
    target = tmp_path / "elsewhere.json"
    target.write_bytes(b"untouched")
    (store.backups.dir / SUMMARY_NAME).unlink()
    (store.backups.dir / SUMMARY_NAME).symlink_to(target)
    info = store.backup("manual")  # the summary cannot be read (a link): nothing to keep current
    store.backups.list(verify=True, save_index=True)  # refused by the link: best effort, no error
    assert info.path.exists() and target.read_bytes() == b"untouched"
    assert summarize(store.backups).source == "listing"
