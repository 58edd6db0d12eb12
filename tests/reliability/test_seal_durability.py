"""The seal's own fsyncs (statetui.core.rotation), each shown necessary under simulated power
loss (statetui.testing.crashmodel.CrashModel over a real recording), where the random power-loss
sequences cannot tell: there the journal's appends were already synced, and the index's
write syncs the folder right after the seal.

- the journal's fsync: a torn line cut off just before the seal must not come back inside
  the sealed segment (whose name is the sha256 of its bytes);
- the folder's fsync: a seal that returned (`statetui journal --rotate` said so) survives a
  power loss even when the index could not be written after it.

tests/reliability/mutants.py removes each fsync and runs this file."""

from __future__ import annotations

import errno
import hashlib
import json
import random
from pathlib import Path

from statetui.core.rotation import rotate_now
from statetui.core.segments import _SEGMENT
from statetui.core.store import StateStore
from statetui.testing.crashmodel import CrashModel
from statetui.testing.faults import RecordingOps
from statetui.testing.states import realistic_state

NAME = "trading_state.json"


class IndexWriteFails(RecordingOps):
    """Real operations, recorded; creating the journal index's temp file fails (EIO)."""

    def fault_for(self, op):
        if op.kind == "open" and ".index.json.tmp-" in (op.path or ""):
            return errno.EIO
        return None


def _history(root: Path) -> Path:
    """A state with a few journaled writes, then half an entry at the journal's end (a
    writer killed mid-append, its bytes on disk): everything here is durable for the model."""
    store = StateStore(root / NAME, writer="seal-test", auto_backup_interval=None)
    doc = realistic_state(0, positions=1)
    store.init(doc)
    for i in range(3):
        doc["total_trades"] = doc.get("total_trades", 0) + 1
        store.write_bytes(json.dumps(doc, indent=2).encode(), reason="trade", backup=False)
    with open(store.journal.path, "ab") as f:
        f.write(b'{"generation": 99, "ts": "2026-11-29T0')
    return store.journal.path


def _seal_with(root: Path, ops: RecordingOps) -> tuple[CrashModel, object]:
    model = CrashModel(root)  # built before the seal: what is on disk now is durable
    store = StateStore(root / NAME, ops=ops, writer="seal-test", auto_backup_interval=None)
    with store.locked():
        seg = rotate_now(store.journal)
    assert seg is not None, "nothing was sealed"
    return model, seg


def _crash_trees(model: CrashModel, ops: RecordingOps, every_prefix: bool):
    rng = random.Random(18)
    for i, op in enumerate(ops.ops):
        model.apply(op)
        if every_prefix or i == len(ops.ops) - 1:
            yield from model.crash_states(rng, cap=64)


def test_a_torn_tail_cut_off_at_the_seal_never_comes_back_inside_the_segment(tmp_path):
    journal = _history(tmp_path)
    ops = RecordingOps()
    model, seg = _seal_with(tmp_path, ops)
    assert not journal.exists() and b"generation\": 99" not in seg.path.read_bytes(), "the torn line was sealed"
    bad, seen = [], 0
    for tree in _crash_trees(model, ops, every_prefix=True):
        for rel, data in tree.items():
            m = _SEGMENT.match(rel)
            if m is None or data is None:
                continue
            seen += 1
            if hashlib.sha256(data).hexdigest() != m["sha"]:
                bad.append(f"{rel}: {len(data)} bytes after power loss, its name hashes others "
                           f"(ends {data[-30:]!r})")
    assert seen, "no crash state held the sealed segment: the seal was not exercised"
    assert not bad, f"{len(bad)} crash state(s) with a sealed segment whose bytes are not its name's: {bad[0]}"


def test_a_seal_that_returned_survives_power_loss_without_the_index(tmp_path):
    _history(tmp_path)
    ops = IndexWriteFails()
    model, seg = _seal_with(tmp_path, ops)
    assert any(op.error for op in ops.ops), "the index write did not fail: the folder's fsync is not isolated"
    lost = [sorted(k for k in tree if k.endswith(".jsonl"))
            for tree in _crash_trees(model, ops, every_prefix=False) if seg.name not in tree]
    assert not lost, (f"{len(lost)} power-loss state(s) after the seal returned lack {seg.name} "
                      f"(journal files then: {lost[0]})")
