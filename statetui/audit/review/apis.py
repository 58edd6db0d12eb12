"""The library calls that matter to persistence, by qualified name, and the atoms that
path values are made of (see values.py)."""

from __future__ import annotations

import re
from functools import lru_cache

# --- atoms of a value ----------------------------------------------------------------------
S = "S"  # the state path
T = "T"  # a path derived from it with a fixed name (state.json.tmp, with_suffix(".tmp"))
U = "U"  # a path derived from it with a unique name (uuid, pid, mkstemp)
D = "D"  # the state's folder
SN = "SN"  # the state's file name (basename, .name, .stem)
H = "h"  # unresolved, but named like the state path (STATE_FILE, state_path, cfg["state_file"])
TXT = "x"  # the state file's text
HWS, HRS, HWT, HRT = "hwS", "hrS", "hwT", "hrT"  # file objects open on the state / a temp
FDS, FDT, FDD = "fdS", "fdT", "fdD"  # descriptors on the state / a temp / the folder
MK = "mk"  # tempfile.mkstemp()'s (fd, path)
LOCK_FILE, LOCK_STATE, LOCK_THREAD, LOCK_ASYNC, LOCK_MP = "Lf", "Ls", "Lt", "La", "Lm"
LOCKS = frozenset({LOCK_FILE, LOCK_STATE, LOCK_THREAD, LOCK_ASYNC, LOCK_MP})
STORE = "st"  # a statetui StateStore
# Tuples: ("o", name) another file; ("i", module, class) an instance of a class of the
# sources; ("C", module, class) the class itself; ("M", module) a module; ("p", gfid,
# param) "comes from this parameter of that function" (kept in that function only).

E: frozenset = frozenset()
PATHS = frozenset({S, T, U, D, SN, H})
STATE_LIKE = frozenset({S, SN})
DERIVED = frozenset({T, U})

# --- qualified names -----------------------------------------------------------------------
OPEN = {"open", "io.open", "builtins.open", "codecs.open", "aiofiles.open"}
PATH_SAME = {
    "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath", "Path", "PurePath",
    "os.fspath", "str", "os.path.abspath", "os.path.realpath", "os.path.expanduser", "os.path.normpath",
    "os.path.expandvars", "os.fsencode", "os.fsdecode", "anyio.Path", "trio.Path", "zpath.Path",
}
JOIN = {"os.path.join", "posixpath.join", "ntpath.join"}
DIRNAME = {"os.path.dirname", "posixpath.dirname"}
BASENAME = {"os.path.basename", "posixpath.basename"}
SPLITEXT = {"os.path.splitext", "posixpath.splitext"}
ENV_GET = {"os.environ.get", "os.getenv", "environ.get", "getenv", "os.environ.setdefault"}
RENAME = {"os.replace", "os.rename", "os.renames", "shutil.move", "aiofiles.os.replace", "aiofiles.os.rename"}
COPY = {"shutil.copy", "shutil.copyfile", "shutil.copy2"}
# Libraries that write atomically and durably (temp + fsync + rename + folder fsync).
ATOMIC_LIBS = {"atomicwrites.atomic_write", "atomicwrites.AtomicWriter"}
UNLINK = {"os.remove", "os.unlink", "aiofiles.os.remove"}
FSYNC = {"os.fsync", "os.fdatasync", "aiofiles.os.fsync"}
OS_OPEN = {"os.open"}
FDOPEN = {"os.fdopen"}
TEMPFILE = {"tempfile.NamedTemporaryFile", "tempfile.TemporaryFile", "tempfile.SpooledTemporaryFile"}
MKSTEMP = {"tempfile.mkstemp"}
FLOCK = {"fcntl.flock", "fcntl.lockf", "portalocker.lock", "msvcrt.locking"}
FILE_LOCKS = {
    "filelock.FileLock", "filelock.SoftFileLock", "filelock.UnixFileLock", "filelock.AsyncFileLock",
    "filelock.AsyncSoftFileLock", "portalocker.Lock", "portalocker.RLock", "portalocker.TemporaryFileLock",
    "fasteners.InterProcessLock", "fasteners.InterProcessReaderWriterLock", "lockfile.LockFile",
    "oslo_concurrency.lockutils.external_lock",
}
THREAD_LOCKS = {"threading.Lock", "threading.RLock", "threading.Semaphore", "threading.BoundedSemaphore",
                "threading.Condition", "_thread.allocate_lock"}
ASYNC_LOCKS = {"asyncio.Lock", "asyncio.Semaphore", "asyncio.BoundedSemaphore", "asyncio.Condition",
               "anyio.Lock", "trio.Lock"}
MP_LOCKS = {"multiprocessing.Lock", "multiprocessing.RLock", "multiprocessing.Semaphore"}
JSON_LOAD = {"json.load", "ujson.load", "simplejson.load", "rapidjson.load", "commentjson.load", "json5.load"}
JSON_LOADS = {"json.loads", "ujson.loads", "simplejson.loads", "orjson.loads", "rapidjson.loads",
              "commentjson.loads", "json5.loads"}
MODEL_LOADS = {"model_validate_json", "parse_raw", "parse_file", "from_json", "loads"}  # Model.x(text)
STORE_CTORS = {"statetui.store.StateStore", "statetui.core.store.StateStore", "statetui.StateStore"}
STORE_WRITES = {"save", "transaction", "write_bytes", "init", "restore", "update"}
PIDLOCKS = {"statetui.pidlock.PidLock", "statetui.core.pidlock.PidLock", "pid.PidFile", "pidfile.PIDFile",
            "pidlockfile.PIDLockFile", "daemon.pidfile.PIDLockFile", "daemon.pidfile.TimeoutPIDLockFile",
            "lockfile.pidlockfile.PIDLockFile", "tendo.singleton.SingleInstance", "singleton.SingleInstance"}
EXITS = {"sys.exit", "os._exit", "exit", "quit", "SystemExit"}
# Exception names a handler may use to catch a corrupt JSON file.
JSON_ERRORS = {"JSONDecodeError", "ValueError", "Exception", "BaseException", "DecodeError", "ValidationError",
               "UnicodeDecodeError", "JSONDecodeErr", "error"}
CATCH_ALL = {"Exception", "BaseException"}
MISSING_ERRORS = {"FileNotFoundError", "OSError", "IOError", "EnvironmentError", "Exception", "BaseException"}
STARTUP_NAMES = {"main", "run", "start", "startup", "setup", "boot", "bootstrap", "initialize", "init",
                 "on_startup", "startup_event", "lifespan", "__init__", "__post_init__", "<module>", "restore"}
LOG_TAILS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print",
             "echo", "secho", "fatal", "notice", "alert", "print_exc"}
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"}

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_FILE_RE = re.compile(r"^[\w.\-~]+\.[A-Za-z0-9]{1,8}$")
_TEMPISH = ("tmp", "temp", "new", "part", "partial", "swp", "writing")


def basename(s: str) -> str:
    return s.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def looks_temp(s: str) -> bool:
    b = basename(s).lower()
    return any(t in b for t in _TEMPISH) or b.startswith(".")


@lru_cache(maxsize=8192)
def name_tokens(name: str) -> tuple[str, ...]:
    """snake_case and camelCase words of an identifier, lower-cased."""
    spaced = _CAMEL.sub(r"\1_\2", name)
    return tuple(t for t in spaced.lower().replace("-", "_").split("_") if t)


class StateName:
    """The configured state path, as the code may spell it."""

    def __init__(self, state_path: str) -> None:
        parts = [p for p in state_path.replace("\\", "/").split("/") if p and p != "."]
        self.name = parts[-1] if parts else "state.json"
        self.stem = self.name.rsplit(".", 1)[0] if "." in self.name[1:] else self.name
        words = set(name_tokens(self.stem)) - {"data", "json", "file", "bot", "db", "store"}
        self.words = frozenset({"state"} | {w for w in words if len(w) >= 4})

    @lru_cache(maxsize=8192)
    def const(self, s: str) -> frozenset:
        """What a string constant is: the state path, a path derived from it, another file."""
        if not s or len(s) > 300 or "\n" in s or "://" in s or " " in s.strip():
            return E
        base = basename(s)
        if not base:
            return E
        if base == self.name:  # whatever the folder: code often spells a deploy path (/app/data/...)
            return frozenset({S})
        if base.endswith(".lock") or base.endswith(".pid"):
            return E
        if base.startswith((self.name, "." + self.name)) or (
                base.startswith((self.stem + ".", self.stem + "_", self.stem + "-", "." + self.stem))
                and looks_temp(base[len(self.stem):])):
            return frozenset({T})
        if _FILE_RE.match(base):
            return frozenset({("o", base)})
        return E

    @lru_cache(maxsize=4096)
    def template(self, parts: tuple) -> bool:
        """Whether a name built from constants and values (None) can be the state's name:
        f"{symbol}_state.json" for btc_state.json, "state_%s.json" for state_eth.json. The
        constants must say more than the extension."""
        comps: list[str | None] = []
        for p in reversed(parts):
            if p is not None and ("/" in p or "\\" in p):
                comps.append(p.replace("\\", "/").rsplit("/", 1)[1])
                break
            comps.append(p)
        comps.reverse()
        literal = "".join(c for c in comps if c)
        ext = self.name.rsplit(".", 1)[1] if "." in self.name else ""
        if None not in comps or len(literal.replace("." + ext, "", 1) if ext else literal) < 3:
            return False
        return _glob(comps, self.name)

    @lru_cache(maxsize=8192)
    def hint(self, name: str) -> frozenset:
        """An identifier that names the state path: STATE_FILE, self.state_path,
        cfg["state_file"], PORTFOLIO_PATH for portfolio.json."""
        tokens = name_tokens(name.lstrip("_"))
        if not tokens or not (self.words & set(tokens)):
            return E
        if {"lock", "backup", "bak", "pid", "log", "tmp", "temp"} & set(tokens):
            return E
        last = tokens[-1]
        if last in ("file", "path", "filename", "filepath", "fname", "fn", "location", "loc"):
            return frozenset({H})
        if last in ("dir", "directory", "folder"):
            return frozenset({D})
        return E


def _glob(comps: list[str | None], name: str) -> bool:
    """Whether `name` is the constants of `comps` in order, each None standing for one or
    more characters (a value)."""
    pos, wild = 0, False
    for i, c in enumerate(comps):
        if c is None:
            wild = True
            continue
        last = i == len(comps) - 1
        if not wild:
            if not name.startswith(c, pos):
                return False
            pos += len(c)
        else:
            at = name.rfind(c) if last else name.find(c, pos + 1)
            if at < pos + 1:
                return False
            pos = at + len(c)
        wild = False
        if last and pos != len(name):
            return False
    return not wild or pos < len(name)


def flag_names(e: tuple | None) -> set[str]:
    """Flag names in `os.O_WRONLY | os.O_CREAT` / `fcntl.LOCK_EX | fcntl.LOCK_NB` (IR)."""
    out: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        n = stack.pop()
        if n[0] == "a":
            out.add(n[2])
        elif n[0] == "n":
            out.add(n[1])
        elif n[0] == "b":
            stack.extend((n[2], n[3]))
    return out
