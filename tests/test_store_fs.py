"""The store against a hostile or unhelpful file system: symlinks and FIFOs planted at
every path it touches, permissions (checked as an unprivileged user, since CI runs as
root), ownership and mode kept across saves, and fsync failures injected through the
store's FileOps seam. Every refusal is checked for what it must NOT have done: write
through the link, follow it, hang, or leave a temp file behind."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from statetui.core.journal import landed

from statetui.core.errors import BackupError, NotRegularFileError, StatePermissionError, StateSaveError
from statetui.core.fsio import FileOps, is_temp_of
from statetui.core.store import StateStore
from statetui.testing.asuser import run_json, unprivileged
from statetui.testing.faultops import FaultyOps
from statetui.testing.states import encode, realistic_state

NAME = "trading_state.json"


def fingerprint(p: Path) -> tuple:
    """Content and metadata of a path, to prove nothing was written through a link to it."""
    if not os.path.lexists(p):
        return ("absent",)
    st = os.lstat(p)
    data = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
    return (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ino, data)


def temps(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if is_temp_of(n, NAME))


@pytest.fixture
def live(tmp_path):
    """A state written through the store (journal, lock and first backup in place) and a
    victim file outside its folder that a planted link points at."""
    d = tmp_path / "state"
    d.mkdir()
    path = d / NAME
    store = StateStore(path)
    store.init(realistic_state(5))
    state = store.load()
    state.total_trades += 1
    store.save(state, reason="second write (takes the first backup)")
    victim = tmp_path / "victim.json"
    victim.write_bytes(b'{"victim": true}\n')
    return store, path, victim


def changed_state(store: StateStore):
    state = store.load()
    state.total_trades += 1
    return state


# --- symlinks ---------------------------------------------------------------------------

def test_symlink_at_state_path_is_refused_and_not_written_through(live):
    store, path, victim = live
    state = changed_state(store)
    path.unlink()
    os.symlink(victim, path)
    before = fingerprint(victim)
    with pytest.raises(NotRegularFileError, match="symlink"):
        store.load()
    with pytest.raises(NotRegularFileError, match="symlink"):
        store.save(state, reason="through a link?")
    with pytest.raises(NotRegularFileError):
        store.write_bytes(encode(realistic_state(1)), reason="through a link?")
    with pytest.raises(NotRegularFileError):
        store.backup()
    with pytest.raises(StateSaveError, match="already exists"):
        store.init(realistic_state(1))
    assert fingerprint(victim) == before
    assert path.is_symlink() and temps(path.parent) == []


def test_dangling_symlink_at_state_path_creates_nothing(live):
    store, path, victim = live
    state = changed_state(store)
    target = victim.with_name("would_be_created.json")
    path.unlink()
    os.symlink(target, path)
    with pytest.raises(NotRegularFileError):
        store.save(state, reason="through a dangling link?")
    with pytest.raises(StateSaveError):
        store.init(realistic_state(1))
    assert not target.exists() and temps(path.parent) == []


class PlantAtTemp(FileOps):
    """Plants a symlink at the exact temp name the store is about to create: an attacker
    who predicted the name. O_CREAT|O_EXCL|O_NOFOLLOW must make the create fail."""

    def __init__(self, target: Path):
        self.target = target
        self.planted: list[str] = []

    def open(self, path, flags, mode=0o666):
        if is_temp_of(os.path.basename(path), NAME):
            os.symlink(self.target, path)
            self.planted.append(path)
        return super().open(path, flags, mode)


@pytest.mark.parametrize("dangling", [False, True], ids=["to-victim", "dangling"])
def test_symlink_planted_at_the_temp_name_is_not_followed(live, dangling):
    store, path, victim = live
    target = victim.with_name("created_through_link.json") if dangling else victim
    before_victim, before_state = fingerprint(target), fingerprint(path)
    attacked = StateStore(path, ops=PlantAtTemp(target))
    with pytest.raises(StateSaveError, match="File exists"):
        attacked.save(changed_state(store), reason="attacked")
    assert attacked.ops.planted, "the seam was not used for the temp file"
    assert fingerprint(target) == before_victim  # not truncated, not created
    assert fingerprint(path) == before_state
    # The planted link is reported as a stray and the next save removes the link only.
    assert temps(path.parent) == [os.path.basename(attacked.ops.planted[0])]
    result = store.save(changed_state(store), reason="after the attack")
    assert result.removed_temp_files == [os.path.basename(attacked.ops.planted[0])]
    assert fingerprint(target) == before_victim and temps(path.parent) == []


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "directory", "fifo"])
def test_lock_path_that_is_not_a_regular_file_is_refused(live, kind):
    store, path, victim = live
    state = changed_state(store)
    lock = store.lock_path
    target = victim if kind == "symlink" else victim.with_name("lock_target")
    lock.unlink()
    {"symlink": lambda: os.symlink(target, lock), "dangling symlink": lambda: os.symlink(target, lock),
     "directory": lambda: lock.mkdir(), "fifo": lambda: os.mkfifo(lock)}[kind]()
    before_target, before_state = fingerprint(target), fingerprint(path)
    with pytest.raises(NotRegularFileError, match="lock file"):
        store.save(state, reason="lock is hostile")
    with pytest.raises(NotRegularFileError, match="lock file"):
        with store.transaction(reason="lock is hostile"):
            pass
    assert fingerprint(target) == before_target and fingerprint(path) == before_state


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_journal_path_that_is_not_a_regular_file_is_refused_before_writing(live, kind):
    store, path, victim = live
    state = changed_state(store)
    journal = store.journal.path
    journal.unlink()
    {"symlink": lambda: os.symlink(victim, journal), "fifo": lambda: os.mkfifo(journal),
     "directory": lambda: journal.mkdir()}[kind]()
    before_victim, before_state = fingerprint(victim), fingerprint(path)
    with pytest.raises(NotRegularFileError, match="journal"):
        store.save(state, reason="journal is hostile")
    # Refused before the state was replaced: a save that fails must not have happened.
    assert fingerprint(path) == before_state
    assert fingerprint(victim) == before_victim and temps(path.parent) == []


def test_backups_folder_symlink_is_refused(live, tmp_path):
    store, path, victim = live
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(store.backups.dir)
    os.symlink(elsewhere, store.backups.dir)
    before_state = fingerprint(path)
    with pytest.raises(BackupError, match="symlink"):
        store.backup()
    with pytest.raises(BackupError, match="symlink"):
        store.save(changed_state(store), reason="with a backup", backup=True)
    assert os.listdir(elsewhere) == [] and fingerprint(path) == before_state
    os.unlink(store.backups.dir)
    store.backups.dir.write_bytes(b"not a folder")
    with pytest.raises(BackupError, match="not a directory"):
        store.backup()


def test_fifo_at_state_path_does_not_hang(tmp_path):
    path = tmp_path / NAME
    os.mkfifo(path)
    store = StateStore(path)
    outcomes: dict[str, object] = {}

    def attempt():
        for name, fn in [("load", store.load), ("recover", lambda: store.load(recover=True)),
                         ("status", lambda: store.status().error),
                         ("save", lambda: store.save(store.parse(b'{"current_balance": 1.0}'), reason="x")),
                         ("backup", store.backup)]:
            try:
                outcomes[name] = fn()
            except Exception as exc:  # noqa: BLE001 - recorded and checked below
                outcomes[name] = exc

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), f"hung on a FIFO after {list(outcomes)}"
    for name in ("load", "save", "backup", "status"):
        assert isinstance(outcomes[name], NotRegularFileError), (name, outcomes[name])
    assert isinstance(outcomes["recover"], Exception) and "FIFO" in str(outcomes["recover"])
    assert stat.S_ISFIFO(os.lstat(path).st_mode)  # never replaced or moved


# --- permissions, as an unprivileged user -----------------------------------------------

@pytest.fixture
def shared_dir():
    """A folder the unprivileged user can reach (pytest's tmp_path is root-only)."""
    d = Path(tempfile.mkdtemp(prefix="statetui-perm-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="ownership changes need root")

SAVE_AS_USER = """
import json, sys
store = StateStore(sys.argv[1], auto_backup_interval=None)
def save():
    state = store.load()
    state.total_trades += 1
    return store.save(state, reason="bot save").changed
print(json.dumps(outcome(save)))
"""


def bot_dir(root: Path, user, mode: int = 0o755) -> Path:
    d = root / "bot"
    d.mkdir()
    os.chmod(d, mode)
    if os.geteuid() == 0:
        os.chown(d, user.uid, user.gid)
    return d


def test_unreadable_state_gives_permission_error(shared_dir):
    user = unprivileged()
    path = shared_dir / NAME
    path.write_bytes(encode(realistic_state(2)))
    os.chmod(path, 0o000 if os.geteuid() != 0 else 0o600)  # root-owned 0600 when we are root
    got = run_json(user, "import json, sys\nprint(json.dumps(outcome(lambda: StateStore(sys.argv[1]).load().total_trades)))", str(path))
    assert got.get("error") == StatePermissionError.__name__, got
    assert str(path) in got["message"] and "\n" not in got["message"]
    # The CLI as that user: one line, no traceback.
    cli = run_json(user, """
import contextlib, io, json, sys
err = io.StringIO()
with contextlib.redirect_stderr(err):
    code = statetui.cli.main(["show", "--state", sys.argv[1]])
print(json.dumps({"ok": [code, err.getvalue()]}))
""", str(path))
    code, err = cli["ok"]
    assert code != 0 and err.count("\n") == 1 and err.startswith("statetui: error: ") and str(path) in err


def test_unreadable_journal_does_not_break_show(shared_dir):
    """The state is readable but the journal is not (root-owned 0600): `show` still works
    or says why in one line, never a traceback."""
    user = unprivileged()
    store = StateStore(shared_dir / NAME)
    store.init(realistic_state(2))
    os.chmod(store.journal.path, 0o000 if os.geteuid() != 0 else 0o600)
    cli = run_json(user, """
import contextlib, io, json, sys
err, out = io.StringIO(), io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
    code = statetui.cli.main(["show", "--state", sys.argv[1]])
print(json.dumps({"ok": [code, err.getvalue(), out.getvalue()]}))
""", str(store.path))
    code, err, out = cli["ok"]
    assert "Traceback" not in err
    assert code == 0 or (err.count("\n") == 1 and str(store.journal.path) in err), (code, err)


@pytest.mark.parametrize("lock_exists", [True, False], ids=["lock-and-journal-exist", "fresh-folder"])
def test_read_only_folder_fails_the_save_and_keeps_the_old_file(shared_dir, lock_exists):
    user = unprivileged()
    d = shared_dir / "ro"
    d.mkdir()
    path = d / NAME
    path.write_bytes(encode(realistic_state(4)))
    store = StateStore(path)
    if lock_exists:  # so the save gets as far as creating its temp file
        store.lock_path.touch()
        store.journal.path.touch()
    for p in (path, store.lock_path, store.journal.path):
        if os.path.exists(p) and os.geteuid() == 0:
            os.chown(p, user.uid, user.gid)
    os.chmod(d, 0o555)  # nobody may create or rename entries here
    before = fingerprint(path)
    got = run_json(user, SAVE_AS_USER, str(path))
    assert got.get("error") == StateSaveError.__name__, got
    assert str(d) in got["message"] and "\n" not in got["message"]
    if lock_exists:
        assert "previous file is intact" in got["message"]
    assert fingerprint(path) == before and temps(d) == []


@needs_root
def test_root_save_keeps_owner_and_mode(shared_dir):
    user = unprivileged()
    store = StateStore(shared_dir / NAME)
    store.init(realistic_state(6))
    os.chown(store.path, user.uid, user.gid)
    os.chmod(store.path, 0o600)
    old_umask = os.umask(0o077)
    try:
        state = changed_state(store)
        assert store.save(state, reason="root repair").changed
    finally:
        os.umask(old_umask)
    st = os.stat(store.path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (user.uid, user.gid, 0o600)
    newest = store.backups.list(verify=False)[0]
    bst = os.stat(newest.path)
    assert (bst.st_uid, stat.S_IMODE(bst.st_mode)) == (user.uid, 0o600)  # the backup is the bot's too


def test_unprivileged_save_keeps_mode(shared_dir):
    user = unprivileged()
    d = bot_dir(shared_dir, user)
    got = run_json(user, """
import json, os, sys
path = sys.argv[1]
def run():
    store = StateStore(path, auto_backup_interval=None)
    store.init({"current_balance": 10.0, "total_trades": 0})
    os.chmod(path, 0o640)
    state = store.load()
    state.total_trades = 1
    store.save(state, reason="bot")
    st = os.stat(path)
    return [st.st_uid, oct(st.st_mode & 0o777)]
print(json.dumps(outcome(run)))
""", str(d / NAME))
    assert got == {"ok": [user.uid, "0o640"]}, got


@needs_root
def test_root_save_of_a_bot_owned_state_leaves_the_bot_able_to_save(shared_dir):
    """The bot (nobody) keeps its state in its own folder, written with plain json. root runs
    a statetui repair first: the lock file, journal and backups folder it creates must
    not lock the bot out of its own state."""
    user = unprivileged()
    d = bot_dir(shared_dir, user)
    path = d / NAME
    path.write_bytes(encode(realistic_state(8)))
    os.chown(path, user.uid, user.gid)
    store = StateStore(path)
    store.save(changed_state(store), reason="root repair", backup=True)
    for p in (store.lock_path, store.journal.path, store.backups.dir):
        assert os.stat(p).st_uid == user.uid, f"{p.name} is owned by uid {os.stat(p).st_uid}"
    got = run_json(user, SAVE_AS_USER.replace("auto_backup_interval=None", "auto_backup_interval=0"), str(path))
    assert got == {"ok": True}, got


def sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- failed fsync and other I/O errors, through the FileOps seam ---------------------------

# The journal is written ahead of the file: fsync #1 is the journal's, #2 the temp file's,
# #3 the directory's.
@pytest.mark.parametrize("nth,which", [(1, "journal"), (2, "temp file"), (3, "directory")])
def test_failed_fsync_fails_the_save_and_is_never_retried(live, nth, which):
    store, path, _ = live
    state = changed_state(store)
    before_state, before_entries = path.read_bytes(), len(store.journal.scan().entries)
    ops = FaultyOps(fail_op="fsync", fail_nth=nth)
    faulty = StateStore(path, ops=ops, auto_backup_interval=None)
    with pytest.raises(StateSaveError) as err:
        faulty.save(state, reason=f"fsync of the {which} fails")
    msg = str(err.value)
    assert ops.failed and ops.max_fsyncs_per_open() == 1, ops.calls
    assert ops.open_descriptors() == [] and temps(path.parent) == []
    entries = store.journal.scan().entries
    if which == "temp file":
        assert "previous file is intact" in msg
        assert path.read_bytes() == before_state
        assert len(entries) == before_entries + 2 and entries[-1]["aborted"]  # entry, then its abort marker
    elif which == "directory":
        assert "durability unknown" in msg  # replaced, journaled, but not known durable
        assert path.read_bytes() != before_state and len(entries) == before_entries + 1
    else:
        assert "journal" in msg and "previous file is intact" in msg and path.read_bytes() == before_state
        # The unsynced line may be visible; it never counts as a write that landed.
        assert len(landed(entries, sha(path))) == before_entries
    assert store.status().written_by_store is True
    # Starting again from memory with working fsyncs succeeds, and the journal stays a chain.
    again = StateStore(path)
    state.total_trades += 1
    assert again.save(state, reason="retry from memory").changed
    assert again.load().total_trades == state.total_trades


@pytest.mark.parametrize("op,err", [("write", errno.ENOSPC), ("open", errno.EMFILE), ("replace", errno.EIO),
                                    ("write", errno.EDQUOT)])
def test_io_error_before_the_replace_keeps_the_old_file(live, op, err):
    store, path, _ = live
    before = path.read_bytes()
    entries = len(store.journal.scan().entries)
    ops = FaultyOps(fail_op=op, fail_nth=1, err=err)
    with pytest.raises(StateSaveError, match="previous file is intact"):
        StateStore(path, ops=ops, auto_backup_interval=None).save(changed_state(store), reason=f"{op} fails")
    assert path.read_bytes() == before and len(landed(store.journal.scan().entries, sha(path))) == entries
    assert temps(path.parent) == [] and ops.open_descriptors() == []
