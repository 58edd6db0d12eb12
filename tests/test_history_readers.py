"""Readers that read what they need (issue 18): `statetui journal` streams and filters
across sealed segments, `--verify` names a damaged segment, retention says where the
evidence then starts, rotation by age, and backups verified from their index (a rewritten
backup is read again; `verify --all` reads every one)."""

from __future__ import annotations

import json
import os
import time

from statetui.core.journal_retention import apply_prune, plan_prune
from statetui.core.segments import list_segments
from statetui.core.store import StateStore
from tests.conftest import run_cli


def history(tmp_path, n: int = 60, rotate: int = 1500) -> StateStore:
    state = tmp_path / "state" / "trading_state.json"
    state.parent.mkdir(parents=True)
    store = StateStore(state, auto_backup_interval=None, writer="bot.py")
    store.journal.rotate_bytes = rotate
    doc = {"current_balance": 100.0, "peak_balance": 100.0, "total_trades": 0}
    store.init(dict(doc))
    for i in range(n):
        doc["total_trades"] += 1
        doc["current_balance"] = doc["peak_balance"] = 100.0 + i
        if i == n // 2:
            store.writer = "repair"
        store.write_bytes(json.dumps(doc, indent=2).encode(), reason="trade win" if i % 2 else "trade loss", backup=False)
        store.writer = "bot.py"
    return store


def cli(store: StateStore, *args: str):
    return run_cli(*args, "--state", str(store.path), "--pid-file", str(store.path.parent / "bot.pid"))


def test_journal_streams_and_filters_across_segments(tmp_path):
    store = history(tmp_path)
    assert len(list_segments(store.journal.path)) >= 3
    res = cli(store, "journal", "--limit", "3", "--json")
    assert res.returncode == 0, res.stderr
    assert [e["generation"] for e in json.loads(res.stdout)["entries"]] == [59, 60, 61]
    res = cli(store, "journal", "--limit", "0", "--writer", "repair", "--json")
    assert [e["generation"] for e in json.loads(res.stdout)["entries"]] == [32]
    res = cli(store, "journal", "--limit", "5", "--reason", "loss", "--json")
    gens = [e["generation"] for e in json.loads(res.stdout)["entries"]]
    assert gens == [52, 54, 56, 58, 60]
    entries = store.journal.scan().entries
    middle = entries[30]["ts"]
    res = cli(store, "journal", "--limit", "0", "--since", middle, "--json")
    got = json.loads(res.stdout)["entries"]
    assert got and all(e["ts"] >= middle for e in got) and got[-1]["generation"] == 61
    assert len(got) == sum(1 for e in entries if e["ts"] >= middle)
    res = cli(store, "journal", "--limit", "0", "--until", middle, "--json")
    assert all(e["ts"] < middle for e in json.loads(res.stdout)["entries"])
    res = cli(store, "journal", "--since", "yesterday")
    assert res.returncode == 2 and "--since 'yesterday'" in res.stderr and "Traceback" not in res.stderr
    text = cli(store, "journal", "--limit", "2")
    assert "#61" in text.stdout and "trade win" in text.stdout


def test_journal_verify_names_a_damaged_segment(tmp_path):
    store = history(tmp_path, n=30)
    res = cli(store, "journal", "--verify")
    assert res.returncode == 0 and "journal verifies" in res.stdout, res.stdout + res.stderr
    seg = list_segments(store.journal.path)[1]
    data = bytearray(seg.path.read_bytes())
    data[len(data) // 2] ^= 0x20
    seg.path.write_bytes(bytes(data))
    res = cli(store, "journal", "--verify")
    assert res.returncode == 4 and seg.name in res.stdout and "checksum" in res.stdout
    res = cli(store, "journal", "--limit", "0", "--json")  # a full read reports it, and still reads its lines
    report = json.loads(res.stdout)
    assert any(seg.name in p for p in report["bad_segments"])


def test_rotation_by_age(tmp_path):
    store = history(tmp_path, n=3, rotate=0)
    assert list_segments(store.journal.path) == []
    store.journal.rotate_age = 0.05
    time.sleep(0.1)
    doc = json.loads(store.path.read_text())
    doc["total_trades"] += 1
    store.write_bytes(json.dumps(doc).encode(), reason="after a while", backup=False)
    assert len(list_segments(store.journal.path)) == 1
    assert [e["generation"] for e in store.journal.scan().entries] == [1, 2, 3, 4, 5]
    assert store.journal.tail(1)[0]["reason"] == "after a while"


def test_retention_says_where_the_evidence_starts(tmp_path):
    store = history(tmp_path, n=40)
    segments = list_segments(store.journal.path)
    doc = json.loads(store.path.read_text())
    roles = store.roles(doc)
    nothing = plan_prune(store, 1, roles, doc)
    assert nothing.remove == [] and "nothing to remove" in nothing.describe()[0]
    later = time.time() + 3 * 86400
    plan = plan_prune(store, 1, roles, doc, now=later)
    assert [s.name for s in plan.remove] == [s.name for s in segments]
    first_active = store.journal.scan().entries[-1]
    lines = plan.describe()
    assert lines[1].startswith("peak evidence now starts at #") and plan.starts_at
    assert plan.warnings == []  # the write that raised the peak is in the active journal: kept
    assert apply_prune(store, plan) == len(segments)
    assert list_segments(store.journal.path) == []
    assert store.journal.scan().entries[-1]["generation"] == first_active["generation"]  # the active journal stays
    res = cli(store, "journal", "--prune")
    assert res.returncode == 2 and "journal_keep_days" in res.stderr


def test_retention_warns_when_the_peaks_origin_goes(tmp_path):
    store = history(tmp_path, n=2)
    doc = json.loads(store.path.read_text())
    doc["peak_balance"] = 999.0
    store.write_bytes(json.dumps(doc).encode(), reason="mark-to-market peak", backup=False)
    raised = store.journal.last()["generation"]
    for i in range(40):
        doc["total_trades"] += 1
        store.write_bytes(json.dumps(doc).encode(), reason="trade", backup=False)
    plan = plan_prune(store, 1, store.roles(doc), doc, now=time.time() + 3 * 86400)
    assert plan.remove
    assert any(f"#{raised}" in w and "raised the peak to 999" in w for w in plan.warnings), plan.warnings


def test_backups_verified_from_the_index_and_read_again_when_rewritten(tmp_path):
    store = history(tmp_path, n=3)
    for _ in range(8):
        store.backup("hourly")
    index = store.backups.dir / ".statetui-index.json"
    store.backups.list(verify=True)
    assert not index.exists()  # looking writes nothing
    assert cli(store, "verify").returncode == 0 and not index.exists()  # verify alone writes nothing either
    assert cli(store, "verify", "--save-index").returncode == 0
    infos = store.backups.list(verify=True)
    assert index.exists() and all(b.ok for b in infos)
    assert ".statetui-index.json" not in {b.name for b in store.backups.list(verify=False)}
    old = infos[-1].path
    st = old.stat()
    data = bytearray(old.read_bytes())
    data[5] ^= 0x01  # bit rot: same size, and the time put back
    old.write_bytes(bytes(data))
    os.utime(old, ns=(st.st_atime_ns, st.st_mtime_ns))
    quick = {b.name: b for b in store.backups.list(verify=True, newest=0, sample=0)}
    assert quick[old.name].ok  # the index: nothing was read
    full = {b.name: b for b in store.backups.list(verify=True, full=True)}
    assert full[old.name].checksum == "bad"
    res = cli(store, "verify", "--all")
    assert res.returncode == 4 and old.name in res.stderr
    rewritten = infos[-2].path
    rewritten.write_bytes(rewritten.read_bytes()[:-3] + b"}\n")  # a new size: read again even without --all
    again = {b.name: b for b in store.backups.list(verify=True, newest=0, sample=0)}
    assert not again[rewritten.name].ok
