"""Recording and fault-injecting FileOps, and a power-loss crash-state enumerator.

`RecordingOps` performs every operation for real and records it (with the bytes written
and the offset they landed at). `NthOpFaults` fails operation number n of a run, once or
from then on (SQLite's I/O-error loops). `CrashModel` replays a recording over the folder
it started from and enumerates what a power loss at that point could leave on disk, with
the usual model (ALICE, CrashMonkey, LevelDB's fault-injection env):

- bytes written but not fsync'd may be kept, dropped, torn (a prefix kept) or zeroed;
- a create, rename, link, unlink or mkdir not followed by an fsync of its directory may
  be reverted (any prefix of a directory's unsynced operations persists, or all but one).

Nothing here is a mock: the recorded operations ran on a real file system; the model
only decides which of their effects a power loss may take back.

(statetui.testing.faultops.FaultyOps is the simpler per-kind injector the store's own
file-system tests use.)"""

from __future__ import annotations

import errno as _errno
import hashlib
import itertools
import os
import random
import shutil
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from statetui.core.fsio import O_CLOEXEC, FileOps

LOCK_SUFFIX = ".lock"  # created by filelock, not through the seam; it never holds data


@dataclass
class Op:
    index: int
    kind: str  # open write ftruncate fsync close replace rename link unlink mkdir fchmod fchown lchown fsync_dir | mark external
    path: str | None = None
    path2: str | None = None
    handle: int | None = None  # one per open(): fd numbers are reused, handles are not
    data: bytes | None = None
    offset: int | None = None
    flags: int = 0
    created: bool = False
    error: str | None = None  # errno name when the operation failed
    injected: bool = False
    label: str | None = None  # marks: "begin <n> <step>" / "end <n> <step>"

    def describe(self) -> str:
        parts = [f"#{self.index} {self.kind}"]
        if self.path:
            parts.append(os.path.basename(self.path))
        if self.path2:
            parts.append("-> " + os.path.basename(self.path2))
        if self.data is not None:
            parts.append(f"{len(self.data)} bytes @{self.offset}")
        if self.handle is not None:
            parts.append(f"h{self.handle}")
        if self.label:
            parts.append(self.label)
        if self.error:
            parts.append(f"FAILED {self.error}{' (injected)' if self.injected else ''}")
        return " ".join(parts)


class InjectedFault(OSError):
    """An OSError raised on purpose (a real OSError subclass: the store must treat it as one)."""


class RecordingOps(FileOps):
    """Real operations, recorded in `ops`. `mark()` adds labels between them."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._handles: dict[int, int] = {}  # fd -> handle
        self._next_handle = 0
        self.io_count = 0  # operations so far (marks excluded)
        self._lock = threading.RLock()  # the store may run some operations in a helper thread

    def fault_for(self, op: Op) -> int | None:
        """An errno to fail `op` with, or None to perform it. Subclasses override this."""
        return None

    # --- recording ---------------------------------------------------------------------

    def mark(self, label: str) -> None:
        self.ops.append(Op(len(self.ops), "mark", label=label))

    def external(self, path: str, data: bytes) -> None:
        """Someone else (not the store) rewrote `path` in place, long enough ago to be durable."""
        with open(path, "wb") as f:
            f.write(data)
        self.ops.append(Op(len(self.ops), "external", path=str(path), data=data))

    def _begin(self, op: Op, record: bool = True) -> Op:
        with self._lock:
            self.io_count += 1
            if record:
                self._append(op)
            code = self.fault_for(op)
            if code is not None:
                op.error, op.injected = _errno.errorcode.get(code, str(code)), True
                if not record:
                    self._append(op)
                if op.kind == "close":
                    # close() releases the descriptor even when it reports an error (Linux).
                    fd = next((fd for fd, h in self._handles.items() if h == op.handle), None)
                    if fd is not None:
                        del self._handles[fd]
                        os.close(fd)
                raise InjectedFault(code, f"{os.strerror(code)} (injected at operation {self.io_count}, {op.kind})",
                                    op.path)
        return op

    def _append(self, op: Op) -> None:
        op.index = len(self.ops)
        self.ops.append(op)

    def _run(self, op: Op, fn: Callable[[], Any], *, when_done: bool = False) -> Any:
        """Run `fn` for `op`. With `when_done` (fsyncs) the op is recorded when it returns: the
        data is durable from then on, and operations another thread started meanwhile (the
        store may fsync the journal in a helper thread) come before it."""
        self._begin(op, record=not when_done)
        try:
            result = fn()
        except OSError as exc:
            op.error = _errno.errorcode.get(exc.errno or 0, str(exc.errno))
            raise
        finally:
            if when_done and not op.injected:
                with self._lock:
                    self._append(op)
        return result

    # --- FileOps -----------------------------------------------------------------------

    def open(self, path: str, flags: int, mode: int = 0o666) -> int:
        created = bool(flags & os.O_CREAT) and not os.path.lexists(path)
        op = Op(0, "open", path=str(path), flags=flags, created=created)
        fd = self._run(op, lambda: os.open(path, flags, mode))
        with self._lock:
            self._next_handle += 1
            op.handle = self._next_handle
            self._handles[fd] = op.handle
        return fd

    def write(self, fd: int, data: bytes) -> int:
        op = Op(0, "write", handle=self._handles.get(fd))
        n = self._run(op, lambda: os.write(fd, data))
        op.data = bytes(data[:n])
        op.offset = os.lseek(fd, 0, os.SEEK_CUR) - n  # right for O_APPEND too
        return n

    def fsync(self, fd: int) -> None:
        self._run(Op(0, "fsync", handle=self._handles.get(fd)), lambda: os.fsync(fd), when_done=True)

    def close(self, fd: int) -> None:
        op = Op(0, "close", handle=self._handles.get(fd))
        self._begin(op)
        with self._lock:
            self._handles.pop(fd, None)
        try:
            os.close(fd)
        except OSError as exc:
            op.error = _errno.errorcode.get(exc.errno or 0, str(exc.errno))
            raise

    def replace(self, src: str, dst: str) -> None:
        self._run(Op(0, "replace", path=str(src), path2=str(dst)), lambda: os.replace(src, dst))

    def rename(self, src: str, dst: str) -> None:
        self._run(Op(0, "rename", path=str(src), path2=str(dst)), lambda: os.rename(src, dst))

    def link(self, src: str, dst: str) -> None:
        self._run(Op(0, "link", path=str(src), path2=str(dst)), lambda: os.link(src, dst))

    def unlink(self, path: str) -> None:
        self._run(Op(0, "unlink", path=str(path)), lambda: os.unlink(path))

    def ftruncate(self, fd: int, size: int) -> None:
        op = Op(0, "ftruncate", handle=self._handles.get(fd), offset=size)
        self._run(op, lambda: os.ftruncate(fd, size))

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        self._run(Op(0, "mkdir", path=str(path)), lambda: os.mkdir(path, mode))

    def fchmod(self, fd: int, mode: int) -> None:
        self._run(Op(0, "fchmod", handle=self._handles.get(fd)), lambda: os.fchmod(fd, mode))

    def fchown(self, fd: int, uid: int, gid: int) -> None:
        self._run(Op(0, "fchown", handle=self._handles.get(fd)), lambda: os.fchown(fd, uid, gid))

    def lchown(self, path: str, uid: int, gid: int) -> None:
        self._run(Op(0, "lchown", path=str(path)), lambda: os.lchown(path, uid, gid))

    def fsync_dir(self, path: str) -> None:
        # One operation here: its open/fsync/close are not separate crash points.
        def run() -> None:
            fd = os.open(path, os.O_RDONLY | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._run(Op(0, "fsync_dir", path=str(path)), run, when_done=True)

    # --- questions about the recording -------------------------------------------------

    def io_ops(self) -> list[Op]:
        return [o for o in self.ops if o.kind not in ("mark", "external")]

    def fsync_retries(self) -> list[str]:
        """Writes or fsyncs on a descriptor after an fsync on it failed (the kernel may have
        dropped its dirty pages already: a retry can report success for data that is gone)."""
        failed: set[int] = set()
        found = []
        for o in self.ops:
            if o.handle is None:
                continue
            if o.handle in failed and o.kind in ("write", "fsync"):
                found.append(f"{o.describe()} after a failed fsync on the same descriptor")
            if o.kind == "fsync" and o.error:
                failed.add(o.handle)
        return found

    def open_handles(self) -> list[int]:
        """Descriptors opened through the seam and not closed (a leak)."""
        return sorted(self._handles.values())


class NthOpFaults(RecordingOps):
    """Fail operation number `fail_at` (1-based, marks excluded) with `code` (per kind in
    `codes`); with `persistent`, every later operation fails too (a disk that went away).

    `before(op)` runs just before each operation (a test can act there: an attacker
    winning a race plants a link at the path about to be opened)."""

    def __init__(self, fail_at: int | None = None, *, persistent: bool = False, code: int = _errno.EIO,
                 codes: dict[str, int] | None = None, before: Callable[[Op], None] | None = None) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.persistent = persistent
        self.code = code
        self.codes = codes or {}
        self.before = before
        self.injected: list[Op] = []

    def fault_for(self, op: Op) -> int | None:
        if self.before is not None:
            self.before(op)
        if self.fail_at is None:
            return None
        if self.io_count == self.fail_at or (self.persistent and self.io_count > self.fail_at):
            self.injected.append(op)
            return self.codes.get(op.kind, self.code)
        return None


class NoSyncOps(FileOps):
    """Real operations without fsyncs: for checking crash states quickly, where the
    durability of the checker's own writes does not matter."""

    def fsync(self, fd: int) -> None:
        pass

    def fsync_dir(self, path: str) -> None:
        pass


# --- the power-loss model ---------------------------------------------------------------

class _Node:
    __slots__ = ("is_dir", "data", "synced", "entries", "durable", "pending")

    def __init__(self, is_dir: bool, data: bytes = b""):
        self.is_dir = is_dir
        self.data = bytearray(data)  # files: what a read sees now
        self.synced = bytes(data)  # files: what is on the platter
        self.entries: dict[str, int] = {}  # directories: now
        self.durable: dict[str, int] = {}  # directories: on the platter
        self.pending: list[list[tuple]] = []  # directories: unsynced operations, each a list of edits


class ModelError(AssertionError):
    """The recording does not explain the folder: an operation bypassed the seam."""


class CrashModel:
    """The folder as the recorded operations left it, with what is durable and what is not.
    Everything in the folder when the model is built counts as durable."""

    def __init__(self, root: Path, start: Path | None = None):
        self.root = Path(root)
        self.nodes: dict[int, _Node] = {0: _Node(True)}
        self.handles: dict[int, int] = {}
        self._load(Path(start) if start is not None else self.root, 0)

    def _new(self, node: _Node) -> int:
        ino = len(self.nodes)
        self.nodes[ino] = node
        return ino

    def _load(self, path: Path, ino: int) -> None:
        d = self.nodes[ino]
        for name in sorted(os.listdir(path)):
            p = path / name
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                child = self._new(_Node(True))
                self._load(p, child)
            elif stat.S_ISREG(st.st_mode):
                child = self._new(_Node(False, p.read_bytes()))
            else:
                raise ModelError(f"{p}: not a regular file or directory; the model handles only those")
            d.entries[name] = d.durable[name] = child

    # --- paths -------------------------------------------------------------------------

    def _split(self, path: str) -> tuple[int, str]:
        rel = os.path.relpath(path, self.root)
        if rel.startswith(".."):
            raise ModelError(f"{path}: an operation outside the folder under test ({self.root})")
        parts = rel.split(os.sep)
        ino = 0
        for part in parts[:-1]:
            nxt = self.nodes[ino].entries.get(part)
            if nxt is None:
                raise ModelError(f"{path}: its folder {part!r} is not in the model (created outside the seam?)")
            ino = nxt
        return ino, parts[-1]

    def _lookup(self, path: str) -> int | None:
        if os.path.abspath(path) == str(self.root):
            return 0
        d, name = self._split(path)
        return self.nodes[d].entries.get(name)

    def _edit(self, d: int, edits: list[tuple]) -> None:
        node = self.nodes[d]
        node.pending.append(edits)
        _apply(node.entries, edits)

    # --- replay ------------------------------------------------------------------------

    def apply(self, op: Op) -> None:
        if op.error or op.kind == "mark":
            return  # a failed operation changed nothing (an injected one never ran)
        k = op.kind
        if k == "open":
            ino = self._lookup(op.path)
            if ino is None:
                if not op.created:
                    raise ModelError(f"{op.describe()}: the file is not in the model (created outside the seam?)")
                ino = self._new(_Node(False))
                d, name = self._split(op.path)
                self._edit(d, [("set", name, ino)])
            if op.flags & os.O_TRUNC:
                self.nodes[ino].data = bytearray()
            self.handles[op.handle] = ino
        elif k == "write":
            node = self.nodes[self.handles[op.handle]]
            if len(node.data) < op.offset:
                node.data.extend(b"\0" * (op.offset - len(node.data)))
            node.data[op.offset:op.offset + len(op.data)] = op.data
        elif k == "ftruncate":
            node = self.nodes[self.handles[op.handle]]
            del node.data[op.offset:]
            if len(node.data) < op.offset:
                node.data.extend(b"\0" * (op.offset - len(node.data)))
        elif k == "fsync":
            node = self.nodes[self.handles[op.handle]]
            if node.is_dir:
                node.durable, node.pending = dict(node.entries), []
            else:
                node.synced = bytes(node.data)
        elif k == "close":
            self.handles.pop(op.handle, None)
        elif k in ("replace", "rename"):
            sd, sname = self._split(op.path)
            dd, dname = self._split(op.path2)
            ino = self.nodes[sd].entries[sname]
            if sd == dd:
                self._edit(sd, [("del", sname), ("set", dname, ino)])
            else:
                self._edit(sd, [("del", sname)])
                self._edit(dd, [("set", dname, ino)])
        elif k == "link":
            ino = self._lookup(op.path)
            dd, dname = self._split(op.path2)
            self._edit(dd, [("set", dname, ino)])
        elif k == "unlink":
            d, name = self._split(op.path)
            self._edit(d, [("del", name)])
        elif k == "mkdir":
            d, name = self._split(op.path)
            self._edit(d, [("set", name, self._new(_Node(True)))])
        elif k == "fsync_dir":
            node = self.nodes[self._lookup(op.path)]
            node.durable, node.pending = dict(node.entries), []
        elif k == "external":
            node = self.nodes[self._lookup(op.path)]
            node.data, node.synced = bytearray(op.data), bytes(op.data)
        elif k in ("fchmod", "fchown", "lchown"):
            pass  # metadata: not modelled
        else:
            raise ModelError(f"unknown operation {k}")

    # --- trees -------------------------------------------------------------------------

    def current(self) -> dict[str, bytes | None]:
        """relative path -> bytes (None for a directory), as a read sees it now."""
        return self._tree({}, {})

    def _entries(self, ino: int, dir_choice: dict[int, list[list[tuple]]]) -> dict[str, int]:
        node = self.nodes[ino]
        if ino not in dir_choice:
            return node.entries
        entries = dict(node.durable)
        for edits in dir_choice[ino]:
            _apply(entries, edits)
        return entries

    def _tree(self, dir_choice: dict[int, list[list[tuple]]], file_choice: dict[int, bytes]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        stack: list[tuple[int, str]] = [(0, "")]
        while stack:
            ino, prefix = stack.pop()
            for name, child in self._entries(ino, dir_choice).items():
                rel = prefix + name
                cnode = self.nodes[child]
                if cnode.is_dir:
                    out[rel] = None
                    stack.append((child, rel + "/"))
                else:
                    out[rel] = file_choice.get(child, bytes(cnode.data))
        return out

    def _reachable_files(self, choice: dict[int, list[list[tuple]]]) -> list[int]:
        found = []
        stack = [0]
        while stack:
            for child in self._entries(stack.pop(), choice).values():
                if self.nodes[child].is_dir:
                    stack.append(child)
                else:
                    found.append(child)
        return found

    def crash_states(self, rng: random.Random, cap: int = 48) -> list[dict[str, bytes | None]]:
        """Trees a power loss now could leave. Always includes "every unsynced operation and
        byte lost" and "everything kept"; beyond `cap` combinations, a seeded sample of the rest."""
        dirty_dirs = [ino for ino, n in self.nodes.items() if n.is_dir and n.pending]
        per_dir = [[(ino, v) for v in _dir_variants(self.nodes[ino].pending)] for ino in dirty_dirs]
        combos = []
        for dcombo in itertools.product(*per_dir):
            choice = dict(dcombo)
            dirty = [i for i in self._reachable_files(choice) if self.nodes[i].data != self.nodes[i].synced]
            per_file = [[(i, v) for v in _file_variants(self.nodes[i])] for i in dict.fromkeys(dirty)]
            for fcombo in itertools.product(*per_file):
                combos.append((choice, dict(fcombo)))
        if len(combos) > cap:
            first, last = combos[0], combos[-1]  # all reverted and dropped; all kept
            rest = combos[1:-1]
            rng.shuffle(rest)
            combos = [first, last] + rest[: cap - 2]
        return [self._tree(choice, files) for choice, files in combos]


def _apply(entries: dict[str, int], edits: list[tuple]) -> None:
    for e in edits:
        if e[0] == "set":
            entries[e[1]] = e[2]
        else:
            entries.pop(e[1], None)


def _dir_variants(pending: list[list[tuple]]) -> list[list[list[tuple]]]:
    """Which of a directory's unsynced operations persist: every prefix, and all but one."""
    m = len(pending)
    return [pending[:j] for j in range(m + 1)] + [pending[:i] + pending[i + 1:] for i in range(m - 1)]


def _file_variants(node: _Node) -> list[bytes]:
    """Unsynced bytes dropped, kept, zeroed, or torn (half, all but the last byte, one byte)."""
    data, synced = bytes(node.data), node.synced
    if data.startswith(synced):
        tail = data[len(synced):]
        out = [synced, data, synced + b"\0" * len(tail)]
        if len(tail) > 1:
            out += [synced + tail[: len(tail) // 2], synced + tail[:-1]]
        if len(tail) > 8:
            out.append(synced + tail[:1])
    else:
        out = [synced, data, b"\0" * len(data)]
    return list(dict.fromkeys(out))


# --- trees on disk -----------------------------------------------------------------------

def snapshot_tree(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        prefix = "" if rel == "." else rel + "/"
        for d in dirnames:
            out[prefix + d] = None
        for f in filenames:
            out[prefix + f] = Path(dirpath, f).read_bytes()
    return out


def tree_key(tree: dict[str, bytes | None]) -> str:
    h = hashlib.sha256()
    for name in sorted(tree):
        data = tree[name]
        h.update(name.encode() + b"\0" + (b"D" if data is None else hashlib.sha256(data).digest()))
    return h.hexdigest()


def materialise(tree: dict[str, bytes | None], root: Path) -> None:
    """Write `tree` under `root` (emptied first)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in sorted((n for n, d in tree.items() if d is None), key=lambda n: n.count("/")):
        (root / name).mkdir()
    for name, data in tree.items():
        if data is not None:
            (root / name).write_bytes(data)


@dataclass
class CrashTally:
    sequences: int = 0
    operations: int = 0  # recorded file operations
    crash_points: int = 0  # prefixes of the recordings where a power loss was simulated
    crash_states: int = 0  # distinct trees
    checks: int = 0  # (tree, expectation) pairs checked
    violations: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
