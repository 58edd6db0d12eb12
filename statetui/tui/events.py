"""Event sources for the console, so it idles at no cost: inotify for the files it shows
(state, journal, backups, pid file), a pidfd for the bot's exit, and an epoll that wakes
only when the terminal hangs up. Each is a file descriptor the app hands to its asyncio
loop (`loop.add_reader`): nothing polls, nothing is re-read that did not change.

Linux only (ctypes on libc); elsewhere `FileEvents.open` raises OSError and the app falls
back to watchfiles (statetui.tui.watch). No Textual import."""

from __future__ import annotations

import os
import select
import struct
from pathlib import Path

from statetui.core.config import Config

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

# A file replaced atomically shows as MOVED_TO; one written in place as CLOSE_WRITE (read
# after the writer closed it, never half-written); CREATE alone is not read (the file is
# still empty). The journal is appended whole lines at a time: MODIFY is enough.
FILE_DONE = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM
JOURNAL = FILE_DONE | IN_MODIFY
# The pid lock's holder writes its pid into a file it keeps open: MODIFY, not CLOSE_WRITE.
PID_FILE = FILE_DONE | IN_MODIFY | IN_CREATE | IN_ATTRIB
DIR_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED


def _libc():
    import ctypes  # here: the console starts with a pidfd and a hang-up watch, inotify after its first paint

    lib = ctypes.CDLL(None, use_errno=True)  # this process's own symbols: libc is among them (no ldconfig run)
    lib.inotify_init1.argtypes = [ctypes.c_int]
    lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    lib.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    return lib


class Targets:
    """Which paths matter and what a change to each means."""

    def __init__(self, config: Config):
        self.state = Path(os.path.abspath(config.state))
        self.dir = self.state.parent
        from statetui.core.journal import journal_path_for

        self.journal = journal_path_for(self.state)
        self.backups = Path(os.path.abspath(config.backup_dir)) if config.backup_dir else self.dir / "backups"
        self.pid_file = Path(os.path.abspath(config.pid_file))

    def rules(self) -> dict[Path, list[tuple[str | None, int, str]]]:
        """Folder -> [(file name, or None for any other name; mask; kind)]."""
        out: dict[Path, list[tuple[str | None, int, str]]] = {}

        def add(folder: Path, name: str | None, mask: int, kind: str) -> None:
            out.setdefault(folder, []).append((name, mask, kind))

        add(self.dir, self.state.name, FILE_DONE, "state")
        add(self.journal.parent, self.journal.name, JOURNAL, "journal")
        add(self.pid_file.parent, self.pid_file.name, PID_FILE, "lock")
        if self.backups == self.dir:
            add(self.dir, None, FILE_DONE | IN_CREATE, "backups")  # backups kept beside the state
        else:
            # The backups folder appearing or going: watch it (or stop).
            add(self.backups.parent, self.backups.name, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM, "rewatch")
            # IN_CREATE too: the store publishes a backup by link() (no close or move under its name)
            add(self.backups, None, FILE_DONE | IN_CREATE, "backups")
        return out

    def kind(self, folder: Path, name: str, mask: int) -> str | None:
        rules = self.rules().get(folder, [])
        named = [r for r in rules if r[0] == name]
        if named:
            hits = [kind for _n, m, kind in named if mask & m]
            return hits[0] if hits else None
        if name.startswith(".") or name.endswith(".lock"):
            return None  # the store's temp files and lock: never a change worth a read
        return next((kind for n, m, kind in rules if n is None and mask & m), None)


class FileEvents:
    """One inotify descriptor watching the folders of the state, journal, backups and pid
    file (folders, not files: an atomic replace gives the file a new inode)."""

    def __init__(self, config: Config):
        self.targets = Targets(config)
        self._rules = self.targets.rules()
        self._lib = _libc()
        fd = self._lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            import ctypes

            e = ctypes.get_errno()
            raise OSError(e, f"inotify_init1: {os.strerror(e)}")
        self.fd = fd
        self._wds: dict[int, Path] = {}
        self.missing: set[Path] = set()  # folders that do not exist (yet): the app looks again later
        self.watch()

    @classmethod
    def open(cls, config: Config) -> "FileEvents":
        return cls(config)

    def fileno(self) -> int:
        return self.fd

    def watch(self) -> None:
        """Add a watch on every folder that exists and is not watched; note the missing ones."""
        self.missing.clear()
        watched = set(self._wds.values())
        for folder, rules in self._rules.items():
            if folder in watched:
                continue
            mask = 0
            for _name, m, _kind in rules:
                mask |= m
            wd = self._lib.inotify_add_watch(self.fd, os.fsencode(str(folder)), mask | IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF)
            if wd < 0:
                self.missing.add(folder)
                continue
            self._wds[wd] = folder

    def read(self) -> set[str]:
        """Kinds that changed since the last read: state, journal, backups, lock. A watched
        folder that went away (or the backups folder appearing) re-reads everything."""
        kinds: set[str] = set()
        rewatch = False
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except OSError:  # BlockingIOError: nothing more to read
                break
            if not data:
                break
            off = 0
            while off + _EVENT.size <= len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, off)
                name = data[off + _EVENT.size: off + _EVENT.size + size].rstrip(b"\0").decode(errors="surrogateescape")
                off += _EVENT.size + size
                if mask & IN_Q_OVERFLOW:
                    kinds |= ALL_KINDS
                    continue
                folder = self._wds.get(wd)
                if folder is None:
                    continue
                if mask & DIR_GONE:
                    self._wds.pop(wd, None)
                    if mask & IN_MOVE_SELF:
                        self._lib.inotify_rm_watch(self.fd, wd)  # watch the path again, not the moved folder
                    kinds |= ALL_KINDS
                    rewatch = True
                    continue
                kind = self.targets.kind(folder, name, mask)
                if kind == "rewatch":
                    kinds |= {"backups"}
                    rewatch = True
                elif kind is not None:
                    kinds.add(kind)
        if rewatch:
            self.watch()
        return kinds

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


ALL_KINDS = frozenset({"state", "journal", "backups", "lock"})


def pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux >= 5.3), or None."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return opener(pid)
    except OSError:
        return None


class HangupWatch:
    """Readable when the terminal hangs up (the pty closed: an SSH drop, tmux killed):
    an epoll set that asks for no event, so it reports only POLLHUP/POLLERR on the tty."""

    def __init__(self, tty_fd: int):
        self._ep = select.epoll()
        self._ep.register(tty_fd, 0)

    @classmethod
    def open(cls) -> "HangupWatch | None":
        for fd in (0, 1):
            try:
                if os.isatty(fd):
                    return cls(fd)
            except OSError:
                continue
        return None

    def fileno(self) -> int:
        return self._ep.fileno()

    def hung_up(self) -> bool:
        try:
            return bool(self._ep.poll(0))
        except OSError:
            return True

    def close(self) -> None:
        self._ep.close()
