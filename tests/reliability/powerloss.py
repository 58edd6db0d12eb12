"""Simulated power loss over real recordings of the store's writes.

`record_sequence` runs a random sequence of store operations (init, save, save with a
backup, transaction, backup, restore, prune, recovery of a corrupted file) in a real
folder through RecordingOps, noting after each step what was acknowledged: the state
file's bytes, the journal's newest generation, the backups present.

`check_sequence` replays the recording in a CrashModel and, at every prefix, checks
every crash state the model allows (statetui.testing.crashmodel): loading with recovery gives
the last acknowledged state or the one in flight (never an empty default), the journal's
complete entries keep every acknowledged one and stay a valid chain (journalcheck.py), every
visible backup verifies and every acknowledged one survives, and the store carries on
(the next save works and advances the generation)."""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from statetui.core.errors import StateMissingError, StatetuiError
from statetui.core.store import StateStore
from statetui.testing.crashmodel import CrashModel, CrashTally, materialise, snapshot_tree, tree_key
from statetui.testing.faults import NoSyncOps, RecordingOps
from statetui.testing.states import STYLES, encode, realistic_state
from tests.reliability.journalcheck import journal_problems

NAME = "trading_state.json"
STEP_KINDS = ("save", "save", "save-backup", "txn", "backup", "restore", "prune", "recover", "rotate")
# The recording store's journal rotates every few entries (issue 18), and "rotate" seals it on
# demand: power loss lands between the fsync, the rename into a sealed segment, the folder
# fsync, the index's temp, write, fsync and replace, and the new journal's creation.
ROTATE_BYTES = 3000


@dataclass
class Ack:
    """What was true on disk when a step returned."""

    kind: str
    sha: str | None  # the state file's sha256 (None: no file)
    generation: int | None  # the journal's newest generation
    journal: dict[int, str]  # generation -> sha256 of every journal entry
    backups: set[str]  # statetui backups present
    tree: dict[str, bytes | None]  # the real folder (to check the model against)


@dataclass
class Recording:
    seed: int
    root: Path
    rec: RecordingOps
    acks: list[Ack] = field(default_factory=list)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _ack(store: StateStore, kind: str) -> Ack:
    scan = store.journal.scan()
    backups = {b.name for b in store.backups.list(verify=False) if b.kind == "statetui"}
    return Ack(kind, _sha(store.path), scan.entries[-1]["generation"] if scan.entries else None,
               {e["generation"]: e["sha256"] for e in scan.entries}, backups, snapshot_tree(store.path.parent))


def record_sequence(seed: int, steps: int, root: Path) -> Recording:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    rec = RecordingOps()
    # Take the path the real store takes: where it overlaps the journal's fsync with the temp
    # file's (a helper thread), the recording has the real interleaving.
    rec.overlap_fsyncs = True
    recording = Recording(seed, root, rec)
    store = StateStore(root / NAME, ops=rec, writer="powerloss")
    store.journal.rotate_bytes = ROTATE_BYTES
    doc = realistic_state(seed % 997)
    style = rng.choice(sorted(STYLES))
    # init writes the default layout; a bot's own style is what later saves must keep.
    rec.mark("begin 0 init")
    store.init(doc, reason="power-loss sequence start")
    rec.mark("end 0 init")
    recording.acks.append(_ack(store, "init"))
    # The bot rewrites the file in its own style (outside the store, durably).
    rec.mark("begin 1 restyle")
    rec.external(str(store.path), encode(doc, style))
    rec.mark("end 1 restyle")
    recording.acks.append(_ack(store, "restyle"))
    kinds = ["save"] + [rng.choice(STEP_KINDS) for _ in range(steps - 1)]
    for i, kind in enumerate(kinds, start=2):
        rec.mark(f"begin {i} {kind}")
        _run_step(store, kind, rng, rec)
        rec.mark(f"end {i} {kind}")
        recording.acks.append(_ack(store, kind))
    return recording


def _run_step(store: StateStore, kind: str, rng: random.Random, rec: RecordingOps) -> None:
    if kind in ("save", "save-backup"):
        state = store.load()
        state.total_trades = (state.total_trades or 0) + 1
        state.current_balance = round(float(state.current_balance or 0) + rng.choice([-1, 1]) * rng.randint(1, 999) / 100, 2)
        store.save(state, reason=f"{kind} step", backup=(kind == "save-backup"))
    elif kind == "txn":
        with store.transaction(reason="txn step") as state:
            state.total_wins = (state.total_wins or 0) + 1
            state.consecutive_wins = (state.consecutive_wins or 0) + 1
    elif kind == "backup":
        store.backup(reason="manual")
    elif kind == "restore":
        current = _sha(store.path)
        choices = [b for b in store.backups.list(verify=True) if b.kind == "statetui" and b.ok and b.sha256 != current]
        if not choices:
            return _run_step(store, "save", rng, rec)
        store.restore(rng.choice(choices), reason="restore step")
    elif kind == "prune":
        store.backups.prune(keep_days=0, keep_min=2)
    elif kind == "rotate":
        from statetui.core.rotation import rotate_now

        with store.locked():
            rotate_now(store.journal)
    elif kind == "recover":
        good = [b for b in store.backups.list(verify=True) if b.ok]
        if not good:
            return _run_step(store, "save-backup", rng, rec)
        raw = store.path.read_bytes()
        rec.external(str(store.path), raw[: len(raw) // 3])  # torn by someone else's writer
        store.load(recover=True)
    else:
        raise ValueError(kind)


@dataclass
class Expect:
    acked: str | None  # the last acknowledged state file's sha256
    allowed: frozenset  # state file sha256 values (None: no file yet)
    generation: int | None  # newest acknowledged journal generation
    journal: tuple  # (generation, sha) of every acknowledged entry
    backups: frozenset  # acknowledged backups that must survive

    def key(self) -> tuple:
        return (self.allowed, self.generation, self.journal, self.backups)


def check_sequence(recording: Recording, tally: CrashTally, seen: set[str], checked: dict[tuple, list[str]],
                   scratch: Path, cap: int, stop_at_first: bool = False) -> None:
    """Every prefix, every crash state; violations go to `tally.violations`."""
    rng = random.Random(recording.seed ^ 0x5EED)
    model = CrashModel(recording.root, start=_empty_dir(scratch / "empty"))  # it started from an empty folder
    acks = recording.acks
    ended = -1  # index of the last acknowledged step
    in_flight: int | None = None
    tally.sequences += 1
    tally.operations += len(recording.rec.io_ops())
    ops = recording.rec.ops
    for k, op in enumerate(ops):
        model.apply(op)
        if op.kind == "mark":
            n = int(op.label.split()[1])
            if op.label.startswith("begin"):
                in_flight = n
                continue
            ended, in_flight = n, None
            tree = model.current()
            real = {p: d for p, d in acks[n].tree.items() if not p.endswith(".lock")}
            if tree != real:
                raise AssertionError(f"seed {recording.seed}: after step {op.label}: the recorded operations do not "
                                     f"explain the folder (a write bypassed the FileOps seam): on disk only "
                                     f"{sorted(set(real) - set(tree))}, in the model only {sorted(set(tree) - set(real))}, "
                                     f"differ {sorted(p for p in set(real) & set(tree) if real[p] != tree[p])}")
        elif op.kind == "external":
            continue  # not a crash point: nothing of the store's is in flight
        exp = _expect(acks, ended, in_flight)
        tally.crash_points += 1
        for tree in model.crash_states(rng, cap):
            key = tree_key(tree)
            seen.add(key)
            ck = (key, exp.key())
            if ck in checked:
                continue
            problems = check_state(tree, exp, scratch / "check", tally)
            checked[ck] = problems
            tally.checks += 1
            for p in problems:
                tally.violations.append(f"seed {recording.seed}, after {op.describe()} "
                                        f"(step {in_flight if in_flight is not None else ended}): {p}")
            if problems and stop_at_first:
                tally.crash_states = len(seen)
                return
    tally.crash_states = len(seen)


def _empty_dir(p: Path) -> Path:
    if p.exists():
        shutil.rmtree(p)
    p.mkdir(parents=True)
    return p


def _expect(acks: list[Ack], ended: int, in_flight: int | None) -> Expect:
    last = acks[ended] if ended >= 0 else None
    allowed = {last.sha if last else None}
    backups = set(last.backups) if last else set()
    if in_flight is not None:
        allowed.add(acks[in_flight].sha)
        if acks[in_flight].kind == "prune":
            backups &= acks[in_flight].backups  # the ones it removes may be gone or not
    journal = tuple(sorted(last.journal.items())) if last else ()
    return Expect(last.sha if last else None, frozenset(allowed), last.generation if last else None, journal, frozenset(backups))


_NOSYNC = NoSyncOps()


def check_state(tree: dict, exp: Expect, where: Path, tally: CrashTally) -> list[str]:
    """Materialise one crash state and check it. Returns the violations."""
    materialise(tree, where)
    path = where / NAME
    store = StateStore(path, ops=_NOSYNC, writer="powerloss-check")
    problems: list[str] = []
    try:
        state = store.load(recover=True)
    except StateMissingError as exc:
        if None in exp.allowed:
            tally.count("no file yet (crash during init)")
            return []
        return [f"load(recover=True) found no state although one was acknowledged: {exc}"]
    except StatetuiError as exc:
        return [f"load(recover=True) failed: {type(exc).__name__}: {exc}"]
    except Exception as exc:  # a raw exception is a finding in itself
        return [f"load(recover=True) raised a raw {type(exc).__name__}: {exc}"]
    sha = _sha(path)
    if sha not in exp.allowed:
        problems.append(f"the state after load(recover=True) ({(sha or '-')[:12]}) is neither the last acknowledged "
                        f"nor the one in flight ({', '.join((s or 'none')[:12] for s in exp.allowed)})")
    recovered = store.last_recovery is not None and store.last_recovery.action == "restored"
    tally.count(("in flight" if sha != exp.acked else "last acknowledged") + (", recovered" if recovered else ""))

    scan = store.journal.scan()
    problems += [f"after power loss: {p}" for p in scan.bad_segments]  # a sealed segment's bytes never change
    gens = [e["generation"] for e in scan.entries]
    have = {e["generation"]: e["sha256"] for e in scan.entries if not e.get("aborted")}
    lost = [g for g, s in exp.journal if have.get(g) != s]
    if lost:
        problems.append(f"acknowledged journal entries lost or changed: generations {lost}")

    try:
        backups = store.backups.list(verify=True)
    except Exception as exc:
        return problems + [f"listing backups raised {type(exc).__name__}: {exc}"]
    names = {b.name for b in backups}
    torn = [b.name for b in backups if b.kind == "statetui" and b.checksum != "ok"]
    if torn:
        problems.append(f"backups visible under their final name do not verify: {torn}")
    missing = sorted(exp.backups - names)
    if missing:
        problems.append(f"acknowledged backups lost: {missing}")

    # The store carries on: the next save works, advances the generation, leaves no stray.
    try:
        state.total_trades = (state.total_trades or 0) + 1_000_000
        res = store.save(state, reason="after power loss")
        top = max(gens, default=0)
        if store.last_recovery is not None and store.last_recovery.save is not None:
            top = max(top, store.last_recovery.save.generation or 0)
        if res.generation is None or res.generation <= top:
            problems.append(f"the next save got generation {res.generation}; the journal already had {top}")
        if store.stray_temp_files():
            problems.append(f"temp files left after the next save: {store.stray_temp_files()}")
        store.load()
        problems += [f"journal after the next save: {p}" for p in journal_problems(store)]
    except Exception as exc:
        problems.append(f"the next save failed: {type(exc).__name__}: {exc}")
    return problems


def run_powerloss(seeds: list[int], steps: int, cap: int, stop_at_first: bool = False) -> tuple[CrashTally, int]:
    """Record and check one sequence per seed. Returns the tally and the distinct states."""
    from tests.reliability.tier import scratch_root

    from statetui.core.segments import is_segment_name

    tally = CrashTally()
    tally.seals = 0  # journal seals recorded (renames into a sealed segment): crash points run through each
    seen: set[str] = set()
    checked: dict[tuple, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="statetui-powerloss-", dir=scratch_root()) as tmp:
        for s in seeds:
            recording = record_sequence(s, steps, Path(tmp) / f"rec-{s}")
            journal = Path(tmp) / f"rec-{s}" / "trading_state.journal.jsonl"
            tally.seals += sum(1 for op in recording.rec.ops if op.kind == "rename" and op.path2
                               and is_segment_name(Path(op.path2).name, journal))
            check_sequence(recording, tally, seen, checked, Path(tmp), cap, stop_at_first)
            shutil.rmtree(recording.root)
            if stop_at_first and tally.violations:
                break
    return tally, len(seen)
