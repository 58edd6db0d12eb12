"""Recording and fault-injecting FileOps.

`RecordingOps` performs every operation for real and records it (with the bytes written
and the offset they landed at); statetui.testing.crashmodel replays such a recording to
enumerate what a power loss could leave on disk. `NthOpFaults` fails operation number n
of a run, once or from then on (SQLite's I/O-error loops).

(statetui.testing.faultops.FaultyOps is the simpler per-kind injector the store's own
file-system tests use.)"""

from __future__ import annotations

import errno as _errno
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from statetui.core.fsio import O_CLOEXEC, FileOps


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
