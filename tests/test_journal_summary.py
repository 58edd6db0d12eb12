"""The journal's summary gives the same peak verdicts as reading every entry, over random
histories written through the real store (rotating into segments as it goes): trades, peak
raises, peaks lowered and set by hand, reconciles, writes that a crash stopped before their
replace, failed writes with their abort markers, writes without a peak; judged at many peak
and cash values, with and without backups. Also: the summary survives rotation, and
`statetui journal --verify` rebuilds a damaged index and reports a damaged segment."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.core.backup_summary import BackupSummary
from statetui.core.evidence import judge_peak, landed_entries
from statetui.core.fsio import FileOps
from statetui.core.journal_digest import digest, verify
from statetui.core.journal_summary import Inexact
from statetui.core.store import StateStore


class CrashAtReplace(Exception):
    pass


class Crash(FileOps):
    def replace(self, src, dst):
        raise CrashAtReplace()  # not an OSError: no abort marker, as after kill -9


class FailReplace(FileOps):
    def replace(self, src, dst):
        raise OSError(5, "Input/output error")  # a clean failure: the store writes an abort marker


def write(store: StateStore, doc: dict, reason: str) -> None:
    store.write_bytes(json.dumps(doc, indent=2).encode(), reason=reason, backup=False)


def random_history(tmp_path: Path, seed: int, backup_odds: float = 0.0) -> StateStore:
    """`backup_odds`: the chance of a backup after each step (a few named as a reconcile's)."""
    rng = random.Random(seed)
    path = tmp_path / f"h{seed}" / "trading_state.json"
    path.parent.mkdir(parents=True)
    store = StateStore(path, auto_backup_interval=None, writer="bot.py")
    store.journal.rotate_bytes = rng.choice([1500, 4000, 1 << 20])
    doc = {"current_balance": 100.0, "peak_balance": 100.0, "total_trades": 0, "halted": False}
    store.init(dict(doc))
    for step in range(rng.randint(5, 90)):
        kind = rng.random()
        if kind < 0.55:  # a trade: cash moves, the peak follows it up
            doc["current_balance"] = round(max(1.0, doc["current_balance"] + rng.uniform(-30, 35)), 2)
            doc["total_trades"] += 1
            doc["peak_balance"] = max(doc["peak_balance"], doc["current_balance"])
            write(store, doc, "trade")
        elif kind < 0.62:  # the Jan 16 bug: the peak includes unrealized value
            doc["peak_balance"] = round(doc["current_balance"] + rng.uniform(0, 200), 2)
            write(store, doc, "mark-to-market peak")
        elif kind < 0.67:  # lowered by hand
            doc["peak_balance"] = round(max(doc["current_balance"], doc["peak_balance"] - rng.uniform(0, 80)), 2)
            write(store, doc, "repair set-peak")
        elif kind < 0.72:  # a reconcile to the chain disowns the cash it replaced
            doc["current_balance"] = round(max(1.0, doc["current_balance"] - rng.uniform(0, 20)), 2)
            write(store, doc, "reconcile")
        elif kind < 0.77:  # a write the journal saw but a crash stopped before its replace
            ghost = dict(doc, current_balance=doc["current_balance"] + 500, peak_balance=doc["peak_balance"] + 500)
            crashing = StateStore(path, auto_backup_interval=None, ops=Crash())
            crashing.journal.rotate_bytes = store.journal.rotate_bytes
            with pytest.raises(CrashAtReplace):
                write(crashing, ghost, "ghost")
            for tmp in store.stray_temp_files():
                (path.parent / tmp).unlink()
        elif kind < 0.81:  # a clean failure: entry, then its abort marker
            failing = StateStore(path, auto_backup_interval=None, ops=FailReplace())
            with pytest.raises(Exception):
                write(failing, dict(doc, current_balance=doc["current_balance"] + 900), "failed")
        elif kind < 0.86:  # a write that records no money at all
            doc["halted"] = not doc["halted"]
            write(store, doc, "halt toggle")
        else:
            doc["total_trades"] += 1
            write(store, doc, "counter")
        if rng.random() < backup_odds:
            store.backup(rng.choice(["hourly", "hourly", "auto", "pre-reconcile"]))
    return store


def verdict_fields(v) -> tuple:
    origin = (v.origin or {}).get("generation") if v.origin else None
    highest = (v.highest.ts, v.highest.value, v.highest.source) if v.highest else None
    return (v.verdict, v.peak, v.corrected, v.covered_from, v.message, origin, highest, tuple(v.settle))


@pytest.mark.parametrize("seed", range(16))
def test_summary_verdicts_equal_full_read(tmp_path, seed):
    """Half the seeds with backups taken along the way: the journal's summary with the
    backups' summary (statetui.core.backup_summary) against every entry and every backup."""
    store = random_history(tmp_path, seed, backup_odds=0.4 if seed % 2 else 0.0)
    doc = store.load()._document()
    roles = store.roles(doc)
    entries = landed_entries(store)
    summary = digest(store, roles).summary
    assert summary.writes == len(entries)
    peaks = sorted({Decimal(str(e.get("roles", {}).get("peak"))) for e in entries if e.get("roles", {}).get("peak") is not None})
    rng = random.Random(seed)
    probes = peaks + [p + d for p in rng.sample(peaks, min(8, len(peaks))) for d in (Decimal("0.005"), Decimal("-0.02"), Decimal("7"))]
    listed = store.backups.list(verify=True, full=True)
    assert bool(listed) == bool(seed % 2)
    backups_sets = [([], []), (listed, listed), (listed, BackupSummary.of(listed, store.backups.dir))]
    probes += [Decimal(str(b.roles["cash"])) for b in listed if b.roles.get("cash") is not None][:20]
    compared = inexact = 0
    for peak in probes:
        for cash in (Decimal("1.00"), doc["current_balance"]):
            probe = dict(doc, peak_balance=float(peak), current_balance=float(cash))
            for backups, fast_backups in backups_sets:
                full = judge_peak(probe, roles, entries, backups)
                try:
                    fast = judge_peak(probe, roles, summary, fast_backups)
                except Inexact:
                    inexact += 1
                    continue
                assert verdict_fields(fast) == verdict_fields(full), f"peak {peak} cash {cash}"
                compared += 1
    assert compared > 0 and inexact <= compared // 10


def test_summary_with_backups_matches(tmp_path):
    store = random_history(tmp_path, 99)
    doc = store.load()._document()
    for _ in range(3):
        store.backup("manual")
        doc["current_balance"] += 50
        doc["peak_balance"] = max(doc["peak_balance"], doc["current_balance"])
        write(store, doc, "trade")
    backups = store.backups.list(verify=True)
    roles = store.roles(doc)
    entries = landed_entries(store)
    summary = digest(store, roles).summary
    for peak in (doc["peak_balance"], doc["peak_balance"] + 100, doc["current_balance"] + 20):
        probe = dict(doc, peak_balance=peak, current_balance=1.0)
        assert verdict_fields(judge_peak(probe, roles, summary, backups)) == verdict_fields(judge_peak(probe, roles, entries, backups))


def test_rotation_keeps_every_entry_and_generations_run_on(tmp_path):
    store = StateStore(tmp_path / "trading_state.json", auto_backup_interval=None)
    store.journal.rotate_bytes = 2000
    doc = {"current_balance": 1.0, "peak_balance": 1.0}
    store.init(dict(doc))
    for i in range(80):
        doc["current_balance"] = doc["peak_balance"] = 2.0 + i
        write(store, doc, "trade")
    gens = [e["generation"] for e in store.journal.scan().entries]
    assert gens == list(range(1, 82))
    names = sorted(p.name for p in tmp_path.iterdir())
    sealed = [n for n in names if n.startswith("trading_state.journal.0")]
    assert len(sealed) >= 5, names
    assert [e["generation"] for e in store.journal.tail(70)] == list(range(12, 82))
    s = digest(store, store.roles(doc)).summary
    assert s.writes == 81 and s.by_reason == {"init": 1, "trade": 80}
    assert s.highest("cash").value == Decimal("81.0") and s.last_peak_change["peak_to"] == 81.0
    assert verify(store, store.roles(doc)) == []


def test_verify_rebuilds_a_damaged_index_and_reports_a_bad_segment(tmp_path):
    store = StateStore(tmp_path / "trading_state.json", auto_backup_interval=None)
    store.journal.rotate_bytes = 1500
    doc = {"current_balance": 1.0, "peak_balance": 1.0}
    store.init(dict(doc))
    for i in range(30):
        doc["current_balance"] = doc["peak_balance"] = 2.0 + i
        write(store, doc, "trade")
    roles = store.roles(doc)
    index = tmp_path / "trading_state.journal.index.json"
    index.write_text("{not json")
    problems = verify(store, roles)
    assert any("index stale" in p for p in problems) and index.read_text() == "{not json"  # verifying writes nothing
    problems = verify(store, roles, write=True)
    assert any("index rebuilt" in p for p in problems)
    assert verify(store, roles) == []  # the rebuilt index now agrees
    seg = sorted(tmp_path.glob("trading_state.journal.0*.jsonl"))[0]
    data = bytearray(seg.read_bytes())
    data[40] ^= 1
    seg.write_bytes(bytes(data))
    problems = verify(store, roles)
    assert any(seg.name in p and "checksum" in p for p in problems)
    scan = store.journal.scan()
    assert any(seg.name in p for p in scan.bad_segments)  # a full read reports it too


@pytest.mark.parametrize("seed", range(6))
def test_past_documents_read_backwards_equal_the_forward_replay(tmp_path, seed):
    """The halt-clearing repairs read earlier states from the journal's end (PastDocs): the
    same documents (the fields they read) as replaying every entry, and the same plan."""
    from statetui.core.journal_replay import dedupe
    from statetui.core.roles import top_field
    from statetui.repair.edits import PastDocs, halt_clear_changes, history_docs

    store = random_history(tmp_path, seed, backup_odds=0.1)
    rng = random.Random(seed)
    doc = store.load()._document()
    doc.update(mode="normal", halt_reason="")
    for _ in range(rng.randint(3, 40)):  # halts and resumes, the bot's own way
        if rng.random() < 0.5:
            doc.update(halted=True, mode=rng.choice(["halted", "paused"]), halt_reason="drawdown 31%")
        else:
            doc.update(halted=False, mode=rng.choice(["normal", "aggressive"]), halt_reason=rng.choice(["", None]))
        doc["total_trades"] += 1
        write(store, doc, rng.choice(["trade", "halt", "resume"]))
    doc.update(halted=True, mode="halted", halt_reason="drawdown 31%")
    write(store, doc, "halt")
    roles = store.roles(doc)
    fields = {top_field(roles.path(r).lstrip("!")) for r in ("mode", "halted", "halt_reason")}
    assert fields == {"mode", "halted", "halt_reason"}
    forward = history_docs(store, landed_entries(store))
    lazy = PastDocs(store, roles)

    def restricted(docs):
        return dedupe({k: v for k, v in d.items() if k in fields} for d in docs)

    assert restricted(lazy) == restricted(forward)
    assert restricted(lazy) == restricted(lazy), "iterating again gave other documents"
    assert halt_clear_changes(doc, roles, PastDocs(store, roles)) == halt_clear_changes(doc, roles, forward)
    first = next(iter(PastDocs(store, roles)))
    assert first == {k: doc[k] for k in fields}, "the newest document is not the last write's"
