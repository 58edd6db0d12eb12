"""What the review finds, as plain dataclasses. Every `file` is relative to the bot's
source root and every `line` is 1-based in that file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Problem:
    file: str
    line: int | None
    message: str


@dataclass
class LockInfo:
    file: str
    line: int
    function: str
    api: str
    scope: str  # "file" (a separate lock file) | "state-file" | "thread" | "async" | "multiprocessing"

    @property
    def cross_process(self) -> bool:
        return self.scope in ("file", "state-file")


@dataclass
class Writer:
    """A place that writes the state file."""

    file: str
    line: int
    function: str
    kind: str  # "in-place" | "atomic" | "atomic+fsync" | "atomic+fsync+dirsync" | "ci-commit"
    api: str  # 'open(..., "w")', "os.replace", "shell >", "mv", "git commit"...
    source: str = "python"  # "python" | "shell" | "ci"
    via: str | None = None  # the helper that performs the write, "name (file:line)"
    temp: str | None = None  # an atomic writer's temp path, as written in the code
    temp_fixed: bool | None = None  # True: the same temp name every time (shared by processes)
    temp_line: int | None = None
    fsync_line: int | None = None
    dir_fsync_line: int | None = None
    lock: LockInfo | None = None
    resolved: bool = True  # False: the path is only named like the state (STATE_FILE from config)
    entry_points: list[str] = field(default_factory=list)  # programs that reach this writer

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class OtherWriter:
    """A writer of another JSON file (not the state): listed apart, lower severity."""

    file: str
    line: int
    function: str
    target: str
    api: str


@dataclass
class Loader:
    file: str
    line: int
    function: str
    api: str
    on_corrupt: str  # "crash" | "reset" | "backup" | "keep previous" | "skip"
    logged: bool = False  # a reset after a log line (else silent)
    handler: str | None = None  # where the corrupt file is handled, "file:line (function)"
    what: str = ""  # what happens, in words
    on_missing: str = "crash"  # "defaults" | "crash" | like on_corrupt
    written_back: str | None = None  # "file:line" of a save right after a reset
    startup: bool = False  # runs when the bot starts
    read_only: bool = False  # a reader (dashboard, report) that never writes the state
    called_at: list[str] = field(default_factory=list)  # for a generic helper: where it reads the state


@dataclass
class Hazard:
    kind: str  # "unlink-then-write" | "split-save" | "fixed-temp" | "truncate-before-read" | "ci-commit" | ...
    file: str
    line: int
    function: str
    detail: str
    severity: str = "WARNING"


@dataclass
class Guard:
    """A single-instance guard: what keeps a second copy of the bot from running.

    `kind`: "pidlock" (statetui.pidlock.PidLock, pid/pidfile/tendo libraries), "flock"
    (fcntl.flock/lockf with LOCK_NB), "O_EXCL pid file" (os.open with O_CREAT|O_EXCL),
    "filelock" (a FileLock acquired without blocking at startup), "systemd" (a service unit:
    systemd runs one instance of it). `protects`: the entry points that take it.
    `bypassed_by`: entry points that reach a writer of the state file without taking it;
    None when that cannot be told (no state path given)."""

    file: str
    line: int | None
    kind: str
    function: str | None
    detail: str
    protects: list[str] = field(default_factory=list)
    bypassed_by: list[str] | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StoreUse:
    file: str
    line: int
    function: str
    api: str
    writes: bool


@dataclass
class Review:
    root: str
    state_name: str
    files: int = 0
    lines: int = 0
    tests_skipped: int = 0
    writers: list[Writer] = field(default_factory=list)
    other_writers: list[OtherWriter] = field(default_factory=list)
    loaders: list[Loader] = field(default_factory=list)
    locks: list[LockInfo] = field(default_factory=list)  # every lock taken
    unused_locks: list[LockInfo] = field(default_factory=list)  # locks that protect no writer
    guards: list[Guard] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    store_uses: list[StoreUse] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    entry_points: list[str] = field(default_factory=list)
    writer_programs: list[str] = field(default_factory=list)  # entry points that reach a writer
    writer_launches: list[str] = field(default_factory=list)  # "file:line" of scripts/units that start them
    state_env_vars: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
