"""Which files the review reads, and reading them fast: summaries are made in parallel
across cores and cached by path, size and mtime, so the console's repeated audits parse
only what changed.

Parallel work: in a single-threaded process (the CLI's forked check, a script) the files
are split by size over forked children, the parent taking a share; in a threaded process
(the console) a forkserver pool is used for big trees only, since forking a process with
threads is unsafe. Summaries travel back as marshal data, much cheaper than pickled trees."""

from __future__ import annotations

import gc
import marshal
import os
import stat
import threading
from dataclasses import dataclass, field

from statetui.audit.review.extract import extract
from statetui.audit.review.summary import Summary, from_wire, to_wire
from statetui.audit.review.model import Problem

SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", "dist-packages", "venv", "env", "virtualenv",
             ".venv", ".tox", ".eggs", ".git", ".hg", ".mypy_cache", ".pytest_cache"}
TEST_DIRS = {"tests", "test", "__tests__"}
MAX_FILES = 5000
MAX_FILE_BYTES = 2_000_000
PARALLEL_MIN_BYTES = 400_000  # below this, forking costs more than it saves
POOL_MIN_BYTES = 3_000_000  # a forkserver pool (threaded caller) costs ~0.2 s to start
_CACHE_LIMIT = 20_000

_cache: dict[str, tuple[int, int, Summary]] = {}
_cache_lock = threading.Lock()


@dataclass
class Collected:
    py: list[str] = field(default_factory=list)
    text: list[tuple[str, str]] = field(default_factory=list)  # (path, kind)
    names: set[str] = field(default_factory=set)  # every file name seen (is the state file in the repo?)
    tests_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)


def is_test(rel: str) -> bool:
    parts = rel.replace("\\", "/").split("/")
    name = parts[-1]
    return (any(p in TEST_DIRS for p in parts[:-1]) or name.startswith("test_") or name.endswith("_test.py")
            or name == "conftest.py")


def _text_kind(rel: str, name: str, path: str) -> str | None:
    if name.endswith((".sh", ".bash")):
        return "sh"
    if "/.github/workflows/" in "/" + rel and name.endswith((".yml", ".yaml")) or name == ".gitlab-ci.yml":
        return "ci"
    if name.endswith(".service"):
        return "systemd"
    if name.startswith("Dockerfile") or name.startswith(("docker-compose", "compose.")) and name.endswith(
            (".yml", ".yaml")):
        return "docker"
    if name == "Procfile":
        return "procfile"
    if name == "pyproject.toml":
        return "pyproject"
    if name in ("setup.py", "setup.cfg"):
        return "setup"
    if "." not in name and ("/bin/" in "/" + rel or "/scripts/" in "/" + rel):
        try:
            with open(path, "rb") as f:
                head = f.read(64)
        except OSError:
            return None
        if head.startswith(b"#!") and (b"sh" in head.split(b"\n", 1)[0]):
            return "sh"
    return None


def collect(source: str, include_tests: bool) -> Collected:
    """The .py files under `source` (or `source` itself when it is a file), sorted, skipping
    virtualenvs, VCS and cache folders, hidden folders (but .github/workflows), folders
    that hold a pyvenv.cfg, and test code unless `include_tests`; plus the scripts, CI
    workflows, service units, Dockerfiles and Procfiles beside them."""
    col = Collected()
    if not os.path.isdir(source):
        col.py.append(source)
        return col

    def onerror(exc: OSError) -> None:
        col.problems.append(Problem(os.path.relpath(exc.filename or source, source), None,
                                    f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(source, onerror=onerror):
        rel_dir = os.path.relpath(dirpath, source)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIP_DIRS and (not d.startswith(".") or (d == ".github" and not rel_dir)
                                       or (rel_dir == ".github/" and d == "workflows"))
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg")))
        for name in sorted(filenames):
            col.names.add(name)
            rel = rel_dir + name
            path = os.path.join(dirpath, name)
            if name.endswith((".py", ".pyw")) and not rel.startswith(".github/"):
                if not include_tests and is_test(rel):
                    col.tests_skipped += 1
                    continue
                col.py.append(path)
                if len(col.py) >= MAX_FILES:
                    col.problems.append(Problem(".", None, f"stopped after {MAX_FILES} files"))
                    return col
                continue
            kind = _text_kind(rel, name, path)
            if kind is not None and (include_tests or not is_test(rel)):
                col.text.append((path, kind))
    return col


# --- summaries ---------------------------------------------------------------------------------
def _read(path: str) -> tuple[int, int, bytes | None, str | None]:
    """(size, mtime_ns, data, problem), never following a FIFO or a device."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            return 0, 0, None, "not a regular file"
        if st.st_size > MAX_FILE_BYTES:
            return st.st_size, st.st_mtime_ns, None, f"skipped: larger than {MAX_FILE_BYTES // 1_000_000} MB"
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            return st.st_size, st.st_mtime_ns, f.read(), None
    except OSError as exc:
        return 0, 0, None, f"cannot read: {exc.strerror or exc}"


def _work(paths: list[str]) -> bytes:
    out = []
    for p in paths:
        size, mtime, data, problem = _read(p)
        out.append((p, size, mtime, to_wire(extract(p, data)) if data is not None else None, problem))
    return marshal.dumps(out)


def _chunks(paths: list[str], sizes: dict[str, int], n: int) -> list[list[str]]:
    bins: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for p in sorted(paths, key=lambda x: -sizes.get(x, 0)):
        i = load.index(min(load))
        bins[i].append(p)
        load[i] += sizes.get(p, 0) + 2000
    return [b for b in bins if b]


def _fork_map(chunks: list[list[str]]) -> list[bytes]:
    children = []
    for chunk in chunks[1:]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: summarize its share, send it, leave without cleanup handlers
            code = 0
            try:
                os.close(r)
                gc.disable()
                data = _work(chunk)
                with os.fdopen(w, "wb") as f:
                    f.write(data)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        children.append((pid, r, chunk))
    results = [_work(chunks[0])]
    for pid, r, chunk in children:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
        results.append(data if data else _work(chunk))
    return results


def _pool_map(chunks: list[list[str]]) -> list[bytes]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=ctx) as pool:
        return list(pool.map(_work, chunks))


def _fork_safe() -> bool:
    """Forking is safe only with no other thread (a lock held there stays held forever)."""
    return threading.active_count() == 1 and hasattr(os, "fork")


def _idle_core() -> bool:
    """A second process helps only when a core is free: on a machine already busy (load
    average at the core count) forking just adds the cost of sending summaries back."""
    try:
        return os.getloadavg()[0] < _cpus() - 0.5
    except OSError:
        return True


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def summaries(paths: list[str], parallel: bool = True) -> dict[str, tuple[Summary | None, str | None]]:
    """path -> (summary, problem). Cached by path, size and mtime; parsed in parallel."""
    out: dict[str, tuple[Summary | None, str | None]] = {}
    todo: list[str] = []
    sizes: dict[str, int] = {}
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            todo.append(p)
            continue
        hit = _cache.get(p)
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            out[p] = (hit[2], hit[2].problem[1] if hit[2].problem else None)
        else:
            todo.append(p)
            sizes[p] = st.st_size
    if not todo:
        return out
    total = sum(sizes.values())
    n = min(_cpus(), 8, max(1, len(todo) // 4))
    single = _fork_safe()
    results: list = []
    if parallel and n > 1 and total >= (PARALLEL_MIN_BYTES if single else POOL_MIN_BYTES) and _idle_core():
        chunks = _chunks(todo, sizes, n)
        try:
            blobs = _fork_map(chunks) if single else _pool_map(chunks)
            for b in blobs:
                results += [(p, size, mtime, from_wire(w) if w is not None else None, problem)
                            for p, size, mtime, w, problem in marshal.loads(b)]
        except Exception:  # a pool that cannot start (no /dev/shm, limits): do it here
            results = []
    if not results:
        for p in todo:
            size, mtime, data, problem = _read(p)
            results.append((p, size, mtime, extract(p, data) if data is not None else None, problem))
    with _cache_lock:
        if len(_cache) > _CACHE_LIMIT:
            _cache.clear()
        for p, size, mtime, s, problem in results:
            if s is not None:
                _cache[p] = (size, mtime, s)
                problem = s.problem[1] if s.problem else None
            out[p] = (s, problem)
    return out


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
