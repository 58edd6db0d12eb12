"""Writing a report or an export to a path the user named (`audit --output FILE`, the
console's export): never through a planted link, never over a device or a FIFO.

- `-` is standard output; a character device (/dev/null, /dev/full, a terminal) is written
  to directly: replacing it would turn /dev/null into a regular file.
- A regular file (or a new name) gets a private temp file beside it (mkstemp: O_EXCL,
  O_NOFOLLOW, mode 0600, a name nobody can predict), written, fsync'd, given the old file's
  mode (or the umask's), then renamed over the target, and the folder fsync'd.
- A symlink, directory, FIFO, socket or block device at the path is refused with one line;
  nothing is created."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from statetui.core.errors import OutputError, ReadOnlyError
from statetui.core.fsio import O_CLOEXEC, O_NOFOLLOW, default_file_mode, file_kind, write_all, REAL_OPS


def check_target(target: str | os.PathLike[str], what: str = "report", *, read_only: bool = False,
                 exclusive: bool = False) -> os.stat_result | None:
    """What is at `target` now (None: nothing), or OutputError / ReadOnlyError when a report
    may not be written there. Creates nothing: call it before doing the work."""
    if str(target) == "-":
        return None
    if read_only:
        raise ReadOnlyError(f"{target}: read-only mode: not writing the {what}; nothing was written (use '-' for "
                            "standard output)", str(target))
    if not str(target) or "\0" in str(target):
        raise OutputError(f"{target!r}: not a file path", str(target))
    path = Path(target)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what}: {exc.strerror or exc}", str(path)) from None
    if st is None:
        try:
            parent = os.stat(path.parent)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write the {what}: its folder {path.parent} "
                              f"{'does not exist' if isinstance(exc, FileNotFoundError) else 'cannot be read'}", str(path)) from None
        if not stat.S_ISDIR(parent.st_mode):
            raise OutputError(f"{path}: cannot write the {what}: {path.parent} is not a folder", str(path))
        return None
    if stat.S_ISCHR(st.st_mode) or stat.S_ISREG(st.st_mode):
        if exclusive and stat.S_ISREG(st.st_mode):
            raise OutputError(f"{path}: already exists; not overwritten", str(path))
        return st
    kind = file_kind(st.st_mode)
    hint = ("; give the real path (or '-' for standard output)" if stat.S_ISLNK(st.st_mode)
            else " (use '-' for standard output)")
    raise OutputError(f"{path}: is {kind}; refusing to write the {what} there{hint}", str(path))


def write_output(target: str | os.PathLike[str], text: str, what: str = "report", *, read_only: bool = False,
                 exclusive: bool = False) -> str:
    """Write `text` to `target` (see the module docstring). Returns where it went, for a
    message. OutputError (nothing replaced, no temp file left) or ReadOnlyError."""
    st = check_target(target, what, read_only=read_only, exclusive=exclusive)
    data = text.encode("utf-8", "backslashreplace")
    if str(target) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return "standard output"
    path = Path(target)
    if st is not None and stat.S_ISCHR(st.st_mode):
        _write_device(path, data, what)
        return str(path)
    _replace(path, data, what, st, exclusive)
    return str(path)


def _write_device(path: Path, data: bytes, what: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | O_NOFOLLOW | O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what}: {exc.strerror or exc}", str(path)) from None
    try:
        if not stat.S_ISCHR(os.fstat(fd).st_mode):  # swapped since it was looked at
            raise OutputError(f"{path}: changed while opened; not written", str(path))
        write_all(REAL_OPS, fd, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what}: {exc.strerror or exc}", str(path)) from None
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes, what: str, st: os.stat_result | None, exclusive: bool) -> None:
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what}: {exc.strerror or exc}", str(path)) from None
    try:
        try:
            write_all(REAL_OPS, fd, data)
            os.fchmod(fd, (st.st_mode & 0o7777) if st is not None else default_file_mode())
            if st is not None and os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
                os.fchown(fd, st.st_uid, st.st_gid)  # root rewriting someone's report keeps it theirs
            os.fsync(fd)
        finally:
            os.close(fd)
        now = _lstat(path)  # what is there now must still be what was checked
        if now is not None and not stat.S_ISREG(now.st_mode):
            raise OutputError(f"{path}: became {file_kind(now.st_mode)} while the {what} was written; not replaced", str(path))
        if exclusive:
            os.link(tmp, path)  # fails if anything appeared at the name meanwhile
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, FileExistsError):
            raise OutputError(f"{path}: already exists; not overwritten", str(path)) from None
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write the {what}: {exc.strerror or exc}", str(path)) from None
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # the report is in place; a folder that cannot be synced is not worth failing it


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
