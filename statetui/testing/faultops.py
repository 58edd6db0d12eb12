"""A FileOps that records every operation and can fail one of them, for I/O-error tests.

It is the store's own seam (statetui.core.fsio.FileOps): every call still goes to the
real os function unless it is the one chosen to fail, so the files on disk are real.

    ops = FaultyOps(fail_op="fsync", fail_nth=1)   # the 1st fsync raises EIO, once
    StateStore(path, ops=ops).save(...)
    ops.calls            # [("open", ".trading_state.json.tmp-..."), ("write", 3), ...]
    ops.max_fsyncs_per_open()   # 1: no fsync was ever retried on the same descriptor"""

from __future__ import annotations

import errno
import os
from typing import Any

from statetui.core.fsio import FileOps


class FaultyOps(FileOps):
    def __init__(self, fail_op: str | None = None, fail_nth: int = 1, *, err: int = errno.EIO,
                 persistent: bool = False):
        self.fail_op, self.fail_nth, self.err, self.persistent = fail_op, fail_nth, err, persistent
        self.counts: dict[str, int] = {}
        self.calls: list[tuple[str, Any]] = []
        self.failed: list[tuple[str, Any]] = []
        self._open_fds: dict[int, int] = {}  # fd -> index of its lifetime in _fsyncs
        self._fsyncs: list[int] = []  # fsync calls per descriptor lifetime
        self._fd_paths: dict[int, str] = {}

    def _maybe_fail(self, op: str, what: Any) -> None:
        n = self.counts[op] = self.counts.get(op, 0) + 1
        self.calls.append((op, what))
        if op == self.fail_op and (n == self.fail_nth or (self.persistent and n > self.fail_nth)):
            self.failed.append((op, what))
            raise OSError(self.err, f"injected {os.strerror(self.err)} on {op} #{n}")

    def open(self, path: str, flags: int, mode: int = 0o666) -> int:
        self._maybe_fail("open", os.path.basename(path))
        fd = super().open(path, flags, mode)
        self._open_fds[fd] = len(self._fsyncs)
        self._fsyncs.append(0)
        self._fd_paths[fd] = os.path.basename(path)
        return fd

    def write(self, fd: int, data: bytes) -> int:
        self._maybe_fail("write", self._fd_paths.get(fd, fd))
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        if fd in self._open_fds:
            self._fsyncs[self._open_fds[fd]] += 1
        self._maybe_fail("fsync", self._fd_paths.get(fd, fd))
        super().fsync(fd)

    def close(self, fd: int) -> None:
        self._open_fds.pop(fd, None)
        self.calls.append(("close", self._fd_paths.pop(fd, fd)))
        super().close(fd)

    def replace(self, src: str, dst: str) -> None:
        self._maybe_fail("replace", os.path.basename(dst))
        super().replace(src, dst)

    def link(self, src: str, dst: str) -> None:
        self._maybe_fail("link", os.path.basename(dst))
        super().link(src, dst)

    def rename(self, src: str, dst: str) -> None:
        self._maybe_fail("rename", os.path.basename(dst))
        super().rename(src, dst)

    def unlink(self, path: str) -> None:
        self._maybe_fail("unlink", os.path.basename(path))
        super().unlink(path)

    def max_fsyncs_per_open(self) -> int:
        """The most fsync calls any one descriptor got between its open and close."""
        return max(self._fsyncs, default=0)

    def open_descriptors(self) -> list[str]:
        """Descriptors opened through the seam and never closed (a leak)."""
        return sorted(str(self._fd_paths.get(fd, fd)) for fd in self._open_fds)
