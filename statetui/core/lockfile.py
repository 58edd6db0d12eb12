"""The store's lock: an exclusive flock on the `.lock` file beside the state.

The lock is taken with filelock's own descriptor primitive (`filelock.lock_descriptor`,
the whole-file `flock` that filelock.FileLock takes), so it excludes every FileLock user
of the same file, in other processes and in other threads of this one. FileLock itself is
not used because its bookkeeping (per-thread contexts, an open and a close per acquire)
cost ~0.17 ms of a ~1 ms save; here an uncontended acquire + release is two flock calls
and an lstat, on a descriptor kept open.

One `PathLock` per lock path per process, shared by every StateStore of that path (as
FileLock's `is_singleton` was): the thread that holds it may take it again
(transaction() -> save()); other threads of this process wait on an in-process lock
first, then on the flock. The descriptor stays open between acquires. It is closed in
a forked child (which opens its own): a child sharing the parent's open file description
would share its flock too, and keep it alive if the parent died holding it."""

from __future__ import annotations

import os
import stat
import threading
import time
import weakref
from pathlib import Path

from statetui.core.errors import NotRegularFileError
from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, refuse_non_regular


def _filelock():
    """filelock, imported at the first lock: reading a state takes none, and filelock's own
    imports (logging, platform...) are ~20-45 ms of a reader's start (the console's helper)."""
    import filelock

    return filelock


class LockTimeout(Exception):
    """The lock was not free before the timeout."""


class PathLock:
    def __init__(self, path: str, poll_interval: float = 0.002):
        self.path = path
        self.poll_interval = poll_interval
        self._pid = os.getpid()
        self._mutex = threading.RLock()
        self._owner: int | None = None
        self._depth = 0
        self._fd = -1
        self._ident: tuple[int, int] | None = None  # (device, inode) of the file _fd is open on

    def acquire(self, timeout: float = -1) -> None:
        """Take the lock; `timeout` < 0 waits for ever. Raises LockTimeout, or OSError /
        NotRegularFileError when the lock file cannot be opened."""
        if self._pid != os.getpid():
            self._forget_parent()
        deadline = None if timeout < 0 else time.monotonic() + timeout
        if not self._mutex.acquire(timeout=-1 if deadline is None else timeout):
            raise LockTimeout(self.path)
        try:
            if self._depth == 0:
                self._flock(deadline)
                self._owner = threading.get_ident()
            self._depth += 1
        except BaseException:
            self._mutex.release()
            raise

    def release(self) -> None:
        if self._owner != threading.get_ident() or self._depth == 0:
            raise RuntimeError(f"{self.path}: lock released by a thread that does not hold it")
        if self._depth == 1:
            self._owner = None
            try:
                _filelock().unlock_descriptor(self._fd)
            except OSError:
                self._close()  # closing the only descriptor of the open file drops its flock
        self._depth -= 1
        self._mutex.release()

    @property
    def is_locked(self) -> bool:
        return self._depth > 0

    def _flock(self, deadline: float | None) -> None:
        while True:
            if self._fd < 0:
                try:
                    self._open()
                except OSError:
                    refuse_non_regular(Path(self.path), "lock file")  # a link or a folder: say so
                    raise
            locked = _filelock().lock_descriptor(self._fd, blocking=False)  # False when held elsewhere
            # The flock must be on the file now at the path: one removed or replaced since
            # it was opened guards nothing (FileLock checks the same after its flock).
            if self._at_path():
                if locked:
                    return
            else:
                if locked:
                    _filelock().unlock_descriptor(self._fd)
                self._close()
                refuse_non_regular(Path(self.path), "lock file")  # a link, FIFO or folder put there
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(self.path)
            time.sleep(self.poll_interval)

    def _at_path(self) -> bool:
        try:
            st = os.lstat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._ident

    def _open(self) -> None:
        flags = os.O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        try:
            fd = os.open(self.path, flags | os.O_CREAT, 0o666)
        except PermissionError:
            # A sticky folder refuses O_CREAT on another account's existing file (as FileLock handles).
            fd = os.open(self.path, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                refuse_non_regular(Path(self.path), "lock file")  # the typed error, worded as everywhere
                raise NotRegularFileError(f"{self.path}: lock file is not a regular file; refusing", self.path)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._ident = fd, (st.st_dev, st.st_ino)

    def _close(self) -> None:
        fd, self._fd, self._ident = self._fd, -1, None
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def _forget_parent(self) -> None:
        """In a forked child: start unlocked, with a descriptor of its own."""
        self._pid = os.getpid()
        self._mutex = threading.RLock()
        self._owner, self._depth = None, 0
        self._close()

    def __del__(self) -> None:
        if self._pid == os.getpid():
            self._close()


_REGISTRY: "weakref.WeakValueDictionary[str, PathLock]" = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()


def path_lock(path: str, poll_interval: float = 0.002) -> PathLock:
    """The one PathLock of `path` in this process (kept while a store refers to it)."""
    with _REGISTRY_LOCK:
        lock = _REGISTRY.get(path)
        if lock is None:
            lock = _REGISTRY[path] = PathLock(path, poll_interval)
        return lock


def _close_all_in_child() -> None:
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()  # another thread may have held it at the fork
    for lock in list(_REGISTRY.values()):
        lock._forget_parent()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_all_in_child)
