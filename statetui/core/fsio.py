"""The store's I/O seam and the durable atomic replace.

Every file operation the store, the journal and the backups make goes through one
`FileOps` object, so tests can record a save's operations and inject failures
(issue 7). The default methods are plain `os` calls: the seam costs one attribute
lookup per operation."""

from __future__ import annotations

import errno
import os
import queue
import secrets
import stat
import threading
from pathlib import Path
from typing import Any, Callable

from statetui.core.errors import NotRegularFileError

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class FileOps:
    """Plain os calls. Subclass and override to record or fail operations."""

    # Whether the store may run the journal's fsync in a helper thread while it writes and
    # syncs the temp file (see overlap_fsyncs()). None: only when this class keeps FileOps's
    # own fsync, close, open and fsync_dir, since a subclass that records or fails operations
    # numbers them and needs them in one fixed order.
    overlap_fsyncs: bool | None = None

    def open(self, path: str, flags: int, mode: int = 0o666) -> int:
        return os.open(path, flags, mode)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def replace(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def link(self, src: str, dst: str) -> None:
        os.link(src, dst)

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        os.mkdir(path, mode)

    def fchmod(self, fd: int, mode: int) -> None:
        os.fchmod(fd, mode)

    def fchown(self, fd: int, uid: int, gid: int) -> None:
        os.fchown(fd, uid, gid)

    def lchown(self, path: str, uid: int, gid: int) -> None:
        os.lchown(path, uid, gid)

    def fsync_dir(self, path: str) -> None:
        fd = self.open(path, os.O_RDONLY | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
        try:
            self.fsync(fd)
        finally:
            self.close(fd)


REAL_OPS = FileOps()

_HELPER_OPS = ("fsync", "close", "open", "fsync_dir")


def overlap_fsyncs(ops: FileOps) -> bool:
    if ops.overlap_fsyncs is not None:
        return ops.overlap_fsyncs
    cls = type(ops)
    return all(getattr(cls, name) is getattr(FileOps, name) for name in _HELPER_OPS)


class Pending:
    """A call running in the helper thread. result() waits for it and returns the exception
    it raised, or None."""

    __slots__ = ("_done", "error")

    def __init__(self) -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self.error: BaseException | None = None

    def result(self) -> BaseException | None:
        with self._done:
            return self.error


class _Helper:
    """One daemon thread per process that runs the calls handed to it, in order. Two fsyncs
    in flight at once let the file system commit them together (ext4: one journal commit
    instead of two, ~0.1 ms of a save)."""

    def __init__(self) -> None:
        self._pid = -1
        self._queue: "queue.SimpleQueue[tuple[Pending, Callable[..., Any], tuple]]" = queue.SimpleQueue()
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., Any], *args: Any) -> Pending:
        if self._pid != os.getpid():  # first use, or a forked child (threads do not survive fork)
            self._start()
        pending = Pending()
        self._queue.put((pending, fn, args))
        return pending

    def _start(self) -> None:
        if self._pid != -1:
            self._lock = threading.Lock()  # a forked child: the parent's threads are gone
        with self._lock:
            if self._pid == os.getpid():
                return
            q: "queue.SimpleQueue[tuple[Pending, Callable[..., Any], tuple]]" = queue.SimpleQueue()
            threading.Thread(target=self._loop, args=(q,), name="statetui-fsync", daemon=True).start()
            self._queue, self._pid = q, os.getpid()

    @staticmethod
    def _loop(q: "queue.SimpleQueue[tuple[Pending, Callable[..., Any], tuple]]") -> None:
        while True:
            pending, fn, args = q.get()
            try:
                fn(*args)
            except BaseException as exc:  # handed back to the waiting caller
                pending.error = exc
            pending._done.release()


HELPER = _Helper()


def temp_name(path: Path) -> Path:
    """A temp name beside `path`: same directory (so replace is atomic), dot-prefixed,
    recognisable (the console ignores it; the store reports strays)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def is_temp_of(name: str, target: str) -> bool:
    return name.startswith(f".{target}.tmp-")


def is_bot_temp_of(name: str, target: str) -> bool:
    """A temp file a bot's own writer leaves beside its state when killed mid-save
    (`state.json.tmp`, `state.json.<uuid>.tmp`, `state.tmp`, `state.json.new`, `.state.json.x`...).
    Reported, never removed by statetui: it may be the newest data the bot had."""
    if name == target or is_temp_of(name, target):
        return False
    stem = target.rsplit(".", 1)[0] if "." in target else target
    if name in (f"{target}.tmp", f"{stem}.tmp", f"{target}.new", f"{target}.part", f"{target}~", f"{stem}.json.tmp"):
        return True
    if name.startswith(f"{target}.") and name.endswith((".tmp", ".temp", ".part", ".new")):
        return True
    if name.startswith((f"{target}.tmp", f"{stem}.tmp.", f".{target}.", f".{stem}.tmp")):
        return not name.endswith((".lock", ".jsonl")) and ".corrupt-" not in name
    return False


def refuse_non_regular(path: Path, what: str) -> os.stat_result | None:
    """lstat `path`: None when absent; the stat when a regular file; a typed error otherwise."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # absent (or its folder is a file)
        return None
    if stat.S_ISLNK(st.st_mode):
        raise NotRegularFileError(f"{path}: {what} is a symlink; refusing to follow it", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(f"{path}: {what} is not a regular file ({file_kind(st.st_mode)}); refusing", str(path))
    return st


def file_kind(mode: int) -> str:
    """What a non-regular file is, for one-line errors: "a symlink", "a FIFO", ..."""
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def write_all(ops: FileOps, fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = ops.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "short write")
        view = view[n:]


def open_regular(path: Path, what: str = "file") -> tuple[int, os.stat_result]:
    """Open a regular file for reading without following a symlink or blocking on a FIFO:
    (descriptor, its fstat). A typed NotRegularFileError otherwise; OSError as os.open gives it."""
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(f"{path}: {what} is a symlink; refusing to follow it", str(path)) from None
        if exc.errno == errno.ENXIO:  # what opening a Unix socket gives
            refuse_non_regular(Path(path), what)
        raise
    try:
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFileError(f"{path}: {what} is not a regular file ({file_kind(st.st_mode)}); refusing", str(path))
    return fd, st


def read_capped(path: Path, what: str = "file", cap: int | None = None,
                too_large: type[Exception] | None = None) -> bytes:
    """Read a whole regular file (open_regular), refusing one over `cap` bytes before reading
    it (and one that grows past the cap while read). One read call for a regular file: the
    bytes are held once, not as chunks plus their join."""
    from statetui.core.errors import TooLargeError
    from statetui.core.limits import LIMITS, human

    cap = LIMITS.state_bytes if cap is None else cap
    fd, st = open_regular(path, what)
    try:
        if st.st_size > cap:
            raise (too_large or TooLargeError)(
                f"{path}: {what} is {human(st.st_size)}, over the {human(cap)} cap; not read", str(path))
        data = os.read(fd, st.st_size + 1) if st.st_size else b""
        if len(data) <= st.st_size:
            return data
        chunks = [data]  # it grew since the stat: read on, up to the cap
        total = len(data)
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > cap:
                raise (too_large or TooLargeError)(f"{path}: {what} grew over the {human(cap)} cap while read; not read", str(path))
            chunks.append(chunk)
    finally:
        os.close(fd)


def read_regular(path: Path, what: str = "file") -> bytes:
    """read_capped with the state cap (statetui.core.limits)."""
    from statetui.core.errors import StateTooLargeError

    return read_capped(path, what, too_large=StateTooLargeError)


def sha256_of(path: Path, what: str = "file", cap: int | None = None) -> str:
    """A regular file's sha256, streamed in 1 MiB chunks (never the whole file in memory)."""
    import hashlib

    from statetui.core.errors import TooLargeError
    from statetui.core.limits import LIMITS, human

    cap = LIMITS.state_bytes if cap is None else cap
    fd, st = open_regular(path, what)
    try:
        if st.st_size > cap:
            raise TooLargeError(f"{path}: {what} is {human(st.st_size)}, over the {human(cap)} cap; not read", str(path))
        h = hashlib.sha256()
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > cap:
                raise TooLargeError(f"{path}: {what} grew over the {human(cap)} cap while read; not read", str(path))
            h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


def durable_replace(
    path: Path,
    data: bytes,
    ops: FileOps = REAL_OPS,
    *,
    mode: int | None = None,
    owner: tuple[int, int] | None = None,
    exclusive: bool = False,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Temp file (O_CREAT|O_EXCL|O_NOFOLLOW) -> write -> fsync -> mode/owner -> replace -> fsync dir.

    A failed fsync fails the call (never retried on the same descriptor: the kernel may
    already have dropped the dirty pages); the temp file is removed and the old file is
    untouched. With `exclusive`, the target must not exist (link instead of replace).
    `before_replace` runs once the temp file is durable, just before the replace; if it
    raises, the temp file is removed and nothing is replaced."""
    tmp = temp_name(path)
    fd = ops.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600 if mode is None else mode)
    try:
        try:
            write_all(ops, fd, data)
            if mode is not None:
                ops.fchmod(fd, mode)  # the creation mode went through the umask
            if owner is not None and os.geteuid() == 0:
                ops.fchown(fd, *owner)  # root repairing a bot-owned file must not take it over
            ops.fsync(fd)
        finally:
            ops.close(fd)
        if before_replace is not None:
            before_replace()
        refuse_non_regular(path, "target")
        if exclusive:
            ops.link(str(tmp), str(path))
            try:
                ops.unlink(str(tmp))
            except OSError:
                pass  # the target is in place: failing here would report a write that happened as failed
        else:
            ops.replace(str(tmp), str(path))
    except BaseException:
        try:
            ops.unlink(str(tmp))
        except OSError:
            pass
        raise
    try:
        ops.fsync_dir(str(path.parent))
    except OSError as exc:
        raise DirSyncError(exc.errno, f"directory fsync failed: {exc.strerror or exc}") from exc


class DirSyncError(OSError):
    """The new file is in place but the directory fsync failed: its durability is unknown."""


def makedirs(path: Path, ops: FileOps = REAL_OPS, mode: int = 0o777) -> None:
    """Create `path` and missing parents through `ops`, fsyncing each new folder's parent:
    a folder created and not synced into its parent can vanish on power loss, and with it
    every file durably written inside it."""
    path = Path(path)
    if path.is_dir():
        return
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            ops.mkdir(str(d), mode)
        except FileExistsError:
            if not d.is_dir():
                raise
            continue
        ops.fsync_dir(str(d.parent))


def default_file_mode() -> int:
    """0o666 less the umask: the mode a plain open(path, "w") would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
