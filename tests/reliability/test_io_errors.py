"""I/O errors at every operation (SQLite's I/O-error loops): for each store call (save with
a backup, a save that clears a stray temp file, backup, restore, recovery, prune, init)
a clean run counts its file operations; then operation #1, #2, ... #n fails in turn,
once (one-shot) and from then on (persistent, a disk that went away), with EIO, ENOSPC
or EDQUOT. After every failure:

- the caller got a typed error (a StatetuiError, one line, naming a file), never a raw OSError;
- the state file still loads and is the old one, or the new one only when the failure came
  after the commit point and the error says the write happened;
- every backup visible verifies, none acknowledged before is gone (prune excepted), and at
  most the backups the call makes are new: no rotation half-happens;
- no fsync was retried on a descriptor whose fsync failed, and no descriptor leaked;
- with the faults gone, the next call works, the journal is still a valid chain and
  stray temp files are cleaned up."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from statetui.core.errors import StatetuiError
from statetui.core.store import StateStore
from statetui.testing.faults import NthOpFaults, RecordingOps
from statetui.testing.states import encode, realistic_state
from tests.reliability.figures import publish
from tests.reliability.journalcheck import journal_problems
from tests.reliability.tier import scratch_root

NAME = "trading_state.json"
CODES = (errno.EIO, errno.ENOSPC, errno.EDQUOT)
TALLY: dict[str, dict[str, int]] = {}
# The figures' test reads TALLY, which the loops fill in this process: the module runs whole
# on one xdist worker.
pytestmark = pytest.mark.xdist_group("io_errors")


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="statetui-ioerr-", dir=scratch_root()) as tmp:
        yield Path(tmp)


def _sha(p: Path) -> str | None:
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def build_template(root: Path, kind: str) -> Path:
    """A state folder as a running bot leaves it: a state, its journal, three backups."""
    folder = root / f"template-{kind}"
    folder.mkdir()
    if kind == "init":
        return folder
    store = StateStore(folder / NAME, auto_backup_interval=None)
    doc = realistic_state(7)
    store.init(doc)
    store.path.write_bytes(encode(doc, "indent4"))  # the bot's own style
    for i in range(3):
        state = store.load()
        state.total_trades += 1
        store.save(state, reason=f"trade {i}", backup=True)
    if kind == "save-stray":
        (folder / f".{NAME}.tmp-1-deadbeef").write_bytes(b'{"half": ')  # a writer killed mid-save
    if kind == "recover":
        raw = store.path.read_bytes()
        store.path.write_bytes(raw[: len(raw) // 2])
    return folder


def run_call(kind: str, store: StateStore) -> None:
    if kind in ("save-backup", "save-stray"):
        state = store.load()
        state.total_trades += 1
        state.current_balance = round(state.current_balance + 1.25, 2)
        store.save(state, reason="io-error loop", backup=(kind == "save-backup"))
    elif kind == "backup":
        store.backup(reason="manual")
    elif kind == "restore":
        oldest = [b for b in store.backups.list(verify=False) if b.kind == "statetui"][-1]
        store.restore(oldest)
    elif kind == "recover":
        store.load(recover=True)
    elif kind == "prune":
        store.backups.prune(keep_days=0, keep_min=1)
    elif kind == "init":
        store.init(realistic_state(8))
    else:
        raise ValueError(kind)


@dataclass
class Clean:
    n: int
    commit_at: int  # the operation after which the new state is in place
    new_sha: str | None
    backups_after: set[str]
    kinds: list[str] = field(default_factory=list)


def backups_of(store: StateStore) -> dict[str, str]:
    return {b.name: b.checksum for b in store.backups.list(verify=True) if b.kind == "statetui"}


def clean_run(template: Path, work: Path, kind: str) -> Clean:
    shutil.copytree(template, work)
    rec = RecordingOps()
    store = StateStore(work / NAME, ops=rec, auto_backup_interval=None)
    run_call(kind, store)
    ops = rec.io_ops()
    target = str(store.path)
    commits = [i for i, o in enumerate(ops, 1) if o.kind in ("replace", "link") and o.path2 == target]
    n = len(ops)
    res = Clean(n, commits[-1] if commits else n + 1, _sha(store.path), set(backups_of(store)), [o.kind for o in ops])
    shutil.rmtree(work)
    return res


KINDS = ["save-backup", "save-stray", "backup", "restore", "recover", "prune", "init"]
EXPECTED_ERROR = {  # the typed error each call reports (any StatetuiError passes the typed check)
    "backup": "BackupError", "prune": "BackupError",
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_operation_failing_in_turn_gives_a_typed_error_and_keeps_the_state(kind, scratch):
    template = build_template(scratch, kind)
    old_sha = _sha(template / NAME)
    old_backups = set(backups_of(StateStore(template / NAME, auto_backup_interval=None)))
    clean = clean_run(template, scratch / f"clean-{kind}", kind)
    assert clean.n >= 3, f"{kind}: only {clean.n} operations recorded"
    problems: list[str] = []
    injected = runs = 0
    for persistent in (False, True):
        for i in range(1, clean.n + 1):
            runs += 1
            code = CODES[i % len(CODES)]
            work = scratch / f"run-{kind}-{i}-{int(persistent)}"
            shutil.copytree(template, work)
            ops = NthOpFaults(i, persistent=persistent, code=code)
            store = StateStore(work / NAME, ops=ops, auto_backup_interval=None)
            where = f"{kind}, op #{i} ({clean.kinds[i - 1]}) {'persistent' if persistent else 'one-shot'} {errno.errorcode[code]}"
            error = None
            try:
                run_call(kind, store)
            except StatetuiError as exc:
                error = exc
            except Exception as exc:
                problems.append(f"{where}: raw {type(exc).__name__} reached the caller: {exc}")
                error = exc
            injected += len(ops.injected)
            if not ops.injected:
                problems.append(f"{where}: no fault was injected (the call did fewer operations than the clean run)")
            problems += [f"{where}: {p}" for p in check_after(kind, work, error, ops, i, clean, old_sha, old_backups)]
            shutil.rmtree(work)
    TALLY[kind] = {"operations": clean.n, "runs": runs, "injected_errors": injected, "problems": len(problems)}
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])


def check_after(kind: str, work: Path, error: BaseException | None, ops: NthOpFaults, i: int, clean: Clean,
                old_sha: str | None, old_backups: set[str]) -> list[str]:
    out: list[str] = []
    path = work / NAME
    failed = ops.injected[0] if ops.injected else None
    # Removing a temp name is housekeeping: a one-shot failure there may leave a stray (which
    # the next save removes) but must not fail a call whose write is complete.
    benign = (not ops.persistent and failed is not None and failed.kind == "unlink"
              and ".tmp-" in os.path.basename(failed.path or ""))
    if error is None:
        if not benign:
            out.append("the call succeeded although an operation failed")
        elif _sha(path) != clean.new_sha:
            out.append("the call succeeded but the file is not what a clean run writes")
    else:
        msg = str(error)
        if "\n" in msg or not msg:
            out.append(f"error message is not one line: {msg!r}")
        if str(work) not in msg and "/" not in msg:
            out.append(f"error message names no file: {msg!r}")
    out += ops.fsync_retries()
    if ops.open_handles():
        out.append(f"descriptors left open: {ops.open_handles()}")

    sha = _sha(path)
    if kind == "recover":
        quarantined = [p for p in work.iterdir() if ".corrupt-" in p.name]
        if sha not in (old_sha, clean.new_sha) and not quarantined:
            out.append("the corrupt file is gone and nothing replaced it")
        for q in quarantined:
            if _sha(q) != old_sha:
                out.append(f"quarantined {q.name} is not the corrupt file's exact bytes")
    elif sha == clean.new_sha and sha != old_sha:
        if i <= clean.commit_at and not benign:
            out.append("the new state is in place although the failure came before the commit point")
        elif error is not None and "written" not in str(error):
            out.append(f"the new state is in place but the error does not say so: {error}")
    elif sha != old_sha:
        out.append(f"the state file is neither the old nor the new one ({(sha or 'missing')[:12]})")

    store = StateStore(path, auto_backup_interval=None)
    if kind != "init" and kind != "recover":
        try:
            store.load()
        except StatetuiError as exc:
            out.append(f"the state no longer loads: {exc}")
    now = backups_of(store)
    bad = [n for n, c in now.items() if c != "ok"]
    if bad:
        out.append(f"backups that do not verify: {bad}")
    gone = old_backups - set(now)
    if gone and kind != "prune":
        out.append(f"backups lost: {sorted(gone)}")
    extra = set(now) - old_backups - clean.backups_after
    if len(set(now) - old_backups) > len(clean.backups_after - old_backups):
        out.append(f"more new backups than a clean run makes: {sorted(set(now) - old_backups)}")
    if extra and kind not in ("save-backup", "backup", "restore"):
        out.append(f"unexpected new backups: {sorted(extra)}")

    # The faults are gone: the store carries on.
    try:
        if kind == "init" and not path.exists():
            store.init(realistic_state(9))
        state = store.load(recover=True)
        state.total_trades += 1
        res = store.save(state, reason="after the fault")
        gens = [e["generation"] for e in store.journal.scan().entries]
        out += [f"journal: {p}" for p in journal_problems(store)]
        if res.generation != gens[-1]:
            out.append(f"the next save's generation {res.generation} is not the journal's newest {gens[-1]}")
        if store.stray_temp_files():
            out.append(f"temp files left after the next save: {store.stray_temp_files()}")
    except Exception as exc:
        out.append(f"the next save failed: {type(exc).__name__}: {exc}")
    return out


def test_zz_publish_io_error_figures():
    if not TALLY:
        pytest.skip("the I/O-error loops did not run in this session")
    publish("io_errors", {
        "calls": sorted(TALLY), "runs": sum(t["runs"] for t in TALLY.values()),
        "injected_errors": sum(t["injected_errors"] for t in TALLY.values()),
        "problems": sum(t["problems"] for t in TALLY.values()),
        "per_call": TALLY,
    })
