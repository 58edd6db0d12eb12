"""Static review of how a bot persists its JSON state, from the Python AST.

`analyze_sources(paths, state_names)` parses each file once and walks each tree once,
recording raw events with the context the walk knows: assignments, returns, calls,
with-items, imports, the enclosing function, whether a `try` that catches
`JSONDecodeError` (or `ValueError`, `Exception`, bare) encloses the node, and which
with-items enclose it. Names are then resolved over those recorded events (never the
tree again) to a few "kinds" until nothing changes: the state path, a temp path derived
from it, the state's directory, file handles and descriptors on those, file locks, a
`statetui` StateStore. Finally the calls are classified into writers, fsyncs, renames,
locks and loads, and each writer is judged with what its function (and the functions it
calls) does.

What counts as the state path: a string literal whose last component is one of
`state_names`; a name or attribute assigned such a value anywhere in the analyzed
sources, or named like `*state*_file` / `*state*_path`; `Path(...)`, `os.path.join`,
`/`, `+`, f-strings and `.format` built from those. Temp paths: the state path plus a
suffix, `with_suffix`/`with_name`, a name starting with the state file's stem,
`tempfile.NamedTemporaryFile` and `tempfile.mkstemp`. Names ending in `.lock` are lock
files, neither state nor temp.

Deliberate limits (pragmatic, not a Python interpreter):
- Names are resolved flow-insensitively: a variable that is ever assigned the state path
  is the state path everywhere in its scope. Attributes (`self.state_path`) are resolved
  by attribute name across all analyzed modules.
- Calls are followed to functions defined in the analyzed sources when called by name,
  through `self.`/`cls.`, or through an imported module/name; arguments flow into
  parameters and return values flow back. Calls through other objects are not followed.
- A lock protects a write when it is taken anywhere in the writing function, when a
  `with <lock>:` encloses the write, or when every call of the writer (found in the
  sources) is inside a locked region; lock/unlock order within a function is not checked.
- `open()` with a non-literal mode is treated as a read; fsync order is judged by line
  number within the writing function (a callee's fsync counts at its call line).
- Star imports, `exec`, `getattr` and dynamic dispatch are not followed.
- A file nested deeper than Python's recursion limit (e.g. a 1,000-term `a + b + ...`)
  is reported as a problem and not analyzed.
"""

from __future__ import annotations

import ast
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

# --- kinds of values ----------------------------------------------------------------
STATE, TEMP, DIR, SNAME = "state", "temp", "dir", "state-name"
HW_STATE, HW_TEMP, HR_STATE, HR_TEMP = "hw:state", "hw:temp", "hr:state", "hr:temp"
FD_STATE, FD_TEMP, FD_DIR = "fd:state", "fd:temp", "fd:dir"
TEXT = "text:state"
LOCK, LOCK_STATE = "lock", "lock:state"
STORE = "store"
MKSTEMP = "mkstemp"

_E: frozenset[str] = frozenset()
_S_STATE, _S_TEMP, _S_DIR = frozenset({STATE}), frozenset({TEMP}), frozenset({DIR})

# --- the APIs that matter, by qualified name ------------------------------------------
_OPEN = {"open", "io.open", "builtins.open", "codecs.open", "aiofiles.open"}
_PATH_SAME = {
    "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath", "Path", "PurePath",
    "os.fspath", "str", "os.path.abspath", "os.path.realpath", "os.path.expanduser", "os.path.normpath",
    "os.path.expandvars", "os.fsencode", "os.fsdecode",
}
_JOIN = {"os.path.join", "posixpath.join"}
_DIRNAME = {"os.path.dirname", "posixpath.dirname"}
_BASENAME = {"os.path.basename", "posixpath.basename"}
_ENV_GET = {"os.environ.get", "os.getenv", "environ.get", "getenv"}
_RENAME = {"os.replace", "os.rename", "os.renames", "shutil.move", "aiofiles.os.replace", "aiofiles.os.rename"}
_COPY = {"shutil.copy", "shutil.copyfile", "shutil.copy2"}
_FSYNC = {"os.fsync", "os.fdatasync", "aiofiles.os.fsync"}
_OS_OPEN = {"os.open"}
_FDOPEN = {"os.fdopen"}
_TEMPFILE = {"tempfile.NamedTemporaryFile", "tempfile.TemporaryFile", "tempfile.SpooledTemporaryFile"}
_MKSTEMP = {"tempfile.mkstemp"}
_FLOCK = {"fcntl.flock", "fcntl.lockf", "portalocker.lock"}
_LOCK_CTORS = {
    "filelock.FileLock", "filelock.SoftFileLock", "filelock.UnixFileLock", "filelock.AsyncFileLock",
    "filelock.AsyncSoftFileLock", "portalocker.Lock", "portalocker.RLock", "portalocker.TemporaryFileLock",
}
_JSON_LOAD = {"json.load", "ujson.load", "simplejson.load", "rapidjson.load"}
_JSON_LOADS = {"json.loads", "ujson.loads", "simplejson.loads", "orjson.loads", "rapidjson.loads"}
_STORE_CTORS = {"statetui.store.StateStore", "statetui.core.store.StateStore"}
_STORE_WRITES = {"save", "transaction", "write_bytes", "init", "restore"}
_GUARD_NAMES = {"JSONDecodeError", "ValueError", "Exception", "BaseException", "DecodeError"}
_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"}


# --- results -------------------------------------------------------------------------
@dataclass
class LockUse:
    file: str
    line: int
    function: str
    api: str
    on_state: bool  # the lock is taken on the state file itself


@dataclass
class Writer:
    file: str
    line: int
    function: str
    kind: str  # "in-place" or "atomic"
    api: str  # e.g. 'open(..., "w")' or "os.replace"
    fsync_line: int | None = None  # atomic: a file fsync before the rename
    dir_fsync_line: int | None = None  # atomic: a directory fsync after the rename
    temp_line: int | None = None  # atomic: where the temp file is written
    lock: LockUse | None = None  # the lock that protects this write, if any


@dataclass
class Load:
    file: str
    line: int
    function: str
    api: str
    guarded: bool
    by_callers: bool = False  # guarded by a try around every call of the loading function


@dataclass
class StoreUse:
    file: str
    line: int
    function: str
    api: str
    writes: bool  # a save/transaction/... call (not just the constructor)


@dataclass
class Problem:
    file: str
    line: int | None
    message: str


@dataclass
class Analysis:
    files: int = 0
    lines: int = 0
    writers: list[Writer] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    locks: list[LockUse] = field(default_factory=list)  # every lock taken
    lock_objects: list[LockUse] = field(default_factory=list)  # lock objects created
    store_uses: list[StoreUse] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_locking(self) -> bool:
        return bool(self.locks or self.lock_objects)


# --- collecting files ----------------------------------------------------------------
_SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", "dist-packages", "venv", "env", "virtualenv"}
MAX_FILES = 2000
MAX_FILE_BYTES = 2_000_000


def collect_sources(source: Path) -> tuple[list[Path], list[Problem]]:
    """The .py files under `source` (or `source` itself when it is a file), sorted,
    skipping virtualenvs, VCS and cache folders, hidden folders and symlinked folders."""
    if not source.is_dir():
        return [source], []
    problems: list[Problem] = []

    def onerror(exc: OSError) -> None:
        problems.append(Problem(str(exc.filename or source), None, f"cannot list folder: {exc.strerror or exc}"))

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(source, onerror=onerror):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in _SKIP_DIRS and not d.startswith(".")
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for name in sorted(filenames):
            if name.endswith((".py", ".pyw")):
                files.append(Path(dirpath) / name)
                if len(files) >= MAX_FILES:
                    problems.append(Problem(str(source), None, f"stopped after {MAX_FILES} files"))
                    return files, problems
    return files, problems


# --- the single walk -----------------------------------------------------------------
class _Func:
    __slots__ = ("id", "mod", "name", "qualname", "cls", "parent", "params", "locals", "globals",
                 "is_module", "line", "bound")

    def __init__(self, fid: int, mod: "_Module", name: str, qualname: str, cls: str | None,
                 parent: "_Func | None", line: int, is_module: bool = False) -> None:
        self.id = fid
        self.mod = mod
        self.name = name
        self.qualname = qualname
        self.cls = cls
        self.parent = parent
        self.params: list[str] = []
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.is_module = is_module
        self.line = line
        self.bound = False  # called as obj.method(...): the first parameter is the instance


class _Call:
    __slots__ = ("node", "func", "guard", "withs", "qn", "callees")

    def __init__(self, node: ast.Call, func: _Func, guard: bool, withs: tuple) -> None:
        self.node = node
        self.func = func
        self.guard = guard
        self.withs = withs
        self.qn: str | None = None
        self.callees: list[_Func] = []


class _Ctx(NamedTuple):
    func: _Func
    cls: str | None  # set directly inside a class body
    guard: bool  # inside the body of a try that catches JSONDecodeError
    withs: tuple  # with-item expressions enclosing this node, in this function


class _Module:
    def __init__(self, mid: int, path: str, modname: str) -> None:
        self.id = mid
        self.path = path
        self.modname = modname
        self.imports: dict[str, str] = {}
        self.funcs: list[_Func] = []
        self.top: dict[str, _Func] = {}
        self.by_name: dict[str, list[_Func]] = {}
        self.methods: dict[tuple[str, str], _Func] = {}
        self.classes: set[str] = set()
        self.assigns: list[tuple] = []  # (key, value expr, scope func, tuple element or None)
        self.returns: list[tuple[_Func, ast.expr]] = []
        self.calls: list[_Call] = []
        self.withs: list[tuple[_Func, ast.expr]] = []
        self.module_func: _Func | None = None


# Fields that never hold a call, a name or a scope: expression contexts and operators.
_LEAF_FIELDS = {"ctx", "op", "ops", "type_comment", "kind"}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


class _Walker:
    def __init__(self, mod: _Module, next_id: list[int]) -> None:
        self.mod = mod
        self.next_id = next_id
        self.handlers = {
            ast.Name: self._name,
            ast.Constant: _noop,
            ast.FunctionDef: self._funcdef,
            ast.AsyncFunctionDef: self._funcdef,
            ast.ClassDef: self._classdef,
            ast.Try: self._try,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.Assign: self._assign,
            ast.AnnAssign: self._annassign,
            ast.NamedExpr: self._namedexpr,
            ast.Return: self._return,
            ast.Call: self._call,
            ast.Import: self._import,
            ast.ImportFrom: self._importfrom,
            ast.Global: self._global,
            ast.ExceptHandler: self._excepthandler,
        }
        if hasattr(ast, "TryStar"):
            self.handlers[ast.TryStar] = self._try

    def _new_func(self, name: str, qualname: str, cls: str | None, parent: _Func | None, line: int,
                  is_module: bool = False) -> _Func:
        self.next_id[0] += 1
        f = _Func(self.next_id[0], self.mod, name, qualname, cls, parent, line, is_module)
        self.mod.funcs.append(f)
        return f

    def walk(self, tree: ast.Module) -> None:
        top = self._new_func("<module>", "<module>", None, None, 1, is_module=True)
        self.mod.module_func = top
        ctx = _Ctx(top, None, False, ())
        for stmt in tree.body:
            self.visit(stmt, ctx)

    def visit(self, node: ast.AST, ctx: _Ctx) -> None:
        t = type(node)
        h = self.handlers.get(t)
        if h is not None:
            h(node, ctx)
            return
        fields = _CHILD_FIELDS.get(t)
        if fields is None:
            fields = _CHILD_FIELDS[t] = tuple(n for n in t._fields if n not in _LEAF_FIELDS)
        for name in fields:
            v = getattr(node, name, None)
            if type(v) is list:
                for x in v:
                    if isinstance(x, ast.AST):
                        self.visit(x, ctx)
            elif isinstance(v, ast.AST):
                self.visit(v, ctx)

    def _visit_all(self, nodes: Iterable[ast.AST], ctx: _Ctx) -> None:
        for n in nodes:
            self.visit(n, ctx)

    # names and scopes
    def _name(self, node: ast.Name, ctx: _Ctx) -> None:
        if type(node.ctx) is ast.Store and ctx.cls is None and not ctx.func.is_module:
            ctx.func.locals.add(node.id)

    def _excepthandler(self, node: ast.ExceptHandler, ctx: _Ctx) -> None:
        if node.name and ctx.cls is None and not ctx.func.is_module:
            ctx.func.locals.add(node.name)
        if node.type is not None:
            self.visit(node.type, ctx)
        self._visit_all(node.body, ctx)

    def _global(self, node: ast.Global, ctx: _Ctx) -> None:
        ctx.func.globals.update(node.names)

    def _key(self, target: ast.expr, ctx: _Ctx) -> tuple | None:
        if isinstance(target, ast.Name):
            if ctx.cls is not None:
                return ("CA", self.mod.id, ctx.cls, target.id)  # class attribute, read back as self.NAME
            f = ctx.func
            if f.is_module or target.id in f.globals:
                return ("G", self.mod.id, target.id)
            return ("L", f.id, target.id)
        if isinstance(target, ast.Attribute):
            owner = _self_class(target, ctx.func)
            if owner is not None:
                return ("CA", self.mod.id, owner, target.attr)
            return ("A", target.attr)
        return None

    def _bind(self, target: ast.expr, value: ast.expr, ctx: _Ctx) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(elts):
                for t, v in zip(elts, value.elts):
                    self._bind(t, v, ctx)
                return
            for i, t in enumerate(elts):
                key = self._key(t, ctx)
                if key is not None:
                    self.mod.assigns.append((key, value, ctx.func, i))
            return
        key = self._key(target, ctx)
        if key is not None:
            self.mod.assigns.append((key, value, ctx.func, None))

    def _assign(self, node: ast.Assign, ctx: _Ctx) -> None:
        self.visit(node.value, ctx)
        for t in node.targets:
            self.visit(t, ctx)
            self._bind(t, node.value, ctx)

    def _annassign(self, node: ast.AnnAssign, ctx: _Ctx) -> None:
        self.visit(node.target, ctx)
        if node.value is not None:
            self.visit(node.value, ctx)
            self._bind(node.target, node.value, ctx)

    def _namedexpr(self, node: ast.NamedExpr, ctx: _Ctx) -> None:
        self.visit(node.value, ctx)
        self.visit(node.target, ctx)
        self._bind(node.target, node.value, ctx)

    def _return(self, node: ast.Return, ctx: _Ctx) -> None:
        if node.value is not None:
            self.mod.returns.append((ctx.func, node.value))
            self.visit(node.value, ctx)

    def _call(self, node: ast.Call, ctx: _Ctx) -> None:
        self.mod.calls.append(_Call(node, ctx.func, ctx.guard, ctx.withs))
        self.visit(node.func, ctx)
        self._visit_all(node.args, ctx)
        for kw in node.keywords:
            self.visit(kw.value, ctx)

    def _import(self, node: ast.Import, ctx: _Ctx) -> None:
        for a in node.names:
            if a.asname:
                self.mod.imports[a.asname] = a.name
            else:
                first = a.name.split(".", 1)[0]
                self.mod.imports[first] = first

    def _importfrom(self, node: ast.ImportFrom, ctx: _Ctx) -> None:
        base = node.module or ""
        for a in node.names:
            if a.name == "*":
                continue
            self.mod.imports[a.asname or a.name] = f"{base}.{a.name}" if base else a.name

    # definitions
    def _funcdef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> None:
        self._visit_all(node.decorator_list, ctx)
        args = node.args
        self._visit_all(args.defaults, ctx)
        self._visit_all([d for d in args.kw_defaults if d is not None], ctx)
        parent = None if ctx.func.is_module else ctx.func
        if ctx.cls is not None:
            qual = f"{ctx.cls}.{node.name}"
        elif parent is not None:
            qual = f"{parent.qualname}.{node.name}"
        else:
            qual = node.name
        f = self._new_func(node.name, qual, ctx.cls, parent, node.lineno)
        positional = [a.arg for a in args.posonlyargs + args.args]
        f.params = positional + [a.arg for a in args.kwonlyargs]
        f.locals.update(f.params)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                f.locals.add(extra.arg)
        if ctx.cls is not None:
            static = any(_tail(d) == "staticmethod" for d in node.decorator_list)
            f.bound = not static and bool(positional)
            self.mod.methods[(ctx.cls, node.name)] = f
        for p, d in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            self.mod.assigns.append((("L", f.id, p), d, ctx.func, None))
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            if d is not None:
                self.mod.assigns.append((("L", f.id, a.arg), d, ctx.func, None))
        self.mod.by_name.setdefault(node.name, []).append(f)
        if ctx.func.is_module and ctx.cls is None:
            self.mod.top[node.name] = f
        body = _Ctx(f, None, False, ())
        self._visit_all(node.body, body)

    def _classdef(self, node: ast.ClassDef, ctx: _Ctx) -> None:
        self._visit_all(node.decorator_list, ctx)
        self._visit_all(node.bases, ctx)
        for kw in node.keywords:
            self.visit(kw.value, ctx)
        if ctx.func.is_module and ctx.cls is None:
            self.mod.classes.add(node.name)
        inner = _Ctx(ctx.func, node.name, ctx.guard, ctx.withs)
        self._visit_all(node.body, inner)

    # context that matters for the events
    def _catches_json(self, t: ast.expr | None) -> bool:
        if t is None:
            return True
        if isinstance(t, ast.Tuple):
            return any(self._catches_json(e) for e in t.elts)
        name = _qualname(t, self.mod.imports) or ""
        return name.rsplit(".", 1)[-1] in _GUARD_NAMES

    def _try(self, node: ast.Try, ctx: _Ctx) -> None:
        catches = any(self._catches_json(h.type) for h in node.handlers)
        inner = ctx._replace(guard=True) if catches and not ctx.guard else ctx
        self._visit_all(node.body, inner)
        self._visit_all(node.handlers, ctx)
        self._visit_all(node.orelse, ctx)
        self._visit_all(node.finalbody, ctx)

    def _with(self, node: ast.With | ast.AsyncWith, ctx: _Ctx) -> None:
        exprs = []
        guard = ctx.guard
        for item in node.items:
            e = item.context_expr
            self.visit(e, ctx)
            if item.optional_vars is not None:
                self.visit(item.optional_vars, ctx)
                self._bind(item.optional_vars, e, ctx)
            self.mod.withs.append((ctx.func, e))
            exprs.append(e)
            if (isinstance(e, ast.Call) and _tail(e.func) == "suppress"
                    and any(self._catches_json(a) for a in e.args)):
                guard = True
        inner = _Ctx(ctx.func, ctx.cls, guard, ctx.withs + tuple(exprs))
        self._visit_all(node.body, inner)


def _noop(node: ast.AST, ctx: _Ctx) -> None:
    return None


def _owner(f: _Func | None) -> _Func | None:
    """The method that encloses f (f itself, or the method a nested function sits in)."""
    while f is not None and f.cls is None:
        f = f.parent
    return f


def _self_class(e: ast.Attribute, f: _Func) -> str | None:
    """The class C when `e` is self.X / cls.X inside a method of C."""
    if isinstance(e.value, ast.Name) and e.value.id in ("self", "cls"):
        owner = _owner(f)
        if owner is not None:
            return owner.cls
    return None


def _tail(e: ast.expr) -> str:
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attribute):
        return e.attr
    return ""


def _qualname(e: ast.expr, imports: dict[str, str]) -> str | None:
    """`os.path.join` -> "os.path.join", `FileLock` (from filelock import FileLock) ->
    "filelock.FileLock"; None when the chain does not start with a plain name."""
    parts: list[str] = []
    while isinstance(e, ast.Attribute):
        parts.append(e.attr)
        e = e.value
    if not isinstance(e, ast.Name):
        return None
    parts.append(imports.get(e.id, e.id))
    return ".".join(reversed(parts))


@lru_cache(maxsize=4096)
def _name_hint(name: str) -> frozenset[str]:
    """Kinds suggested by an identifier alone: STATE_FILE, self.state_path, tmp_state_path, STATE_DIR."""
    s = name.lower().lstrip("_")
    tokens = s.split("_")
    compact = s.replace("_", "")
    if "state" not in tokens and not compact.endswith(("statefile", "statepath", "statefilename", "statedir")):
        return _E
    if "lock" in s or "backup" in s or "bak" in tokens:
        return _E
    if compact.endswith(("file", "path", "filename", "filepath", "fname")):
        return _S_TEMP if ("tmp" in s or "temp" in s) else _S_STATE
    if compact.endswith(("dir", "directory", "folder")):
        return _S_DIR
    return _E


def _flag_names(e: ast.expr | None) -> set[str]:
    out: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, ast.BinOp):
            stack.extend((n.left, n.right))
        elif isinstance(n, (ast.Attribute, ast.Name)):
            out.add(_tail(n))
    return out


def _arg(call: ast.Call, pos: int, kw: str | None = None) -> ast.expr | None:
    if len(call.args) > pos and not any(isinstance(a, ast.Starred) for a in call.args[: pos + 1]):
        return call.args[pos]
    if kw is not None:
        for k in call.keywords:
            if k.arg == kw:
                return k.value
    return None


def _const_str(e: ast.expr | None) -> str | None:
    if isinstance(e, ast.Constant) and isinstance(e.value, str):
        return e.value
    return None


def _short(e: ast.expr, limit: int = 40) -> str:
    try:
        s = ast.unparse(e)
    except Exception:  # unparse of odd trees: a description is not worth a crash
        return "?"
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --- resolution and classification ---------------------------------------------------
class _Facts:
    __slots__ = ("inplace", "renames", "temps", "fsyncs", "dirsyncs", "locks", "held_locks", "unlocks")

    def __init__(self) -> None:
        self.inplace: list[tuple[int, str]] = []
        self.renames: list[tuple[int, str]] = []
        self.temps: list[int] = []
        self.fsyncs: list[int] = []
        self.dirsyncs: list[int] = []
        self.locks: list[LockUse] = []  # taken in this function (with-regions included)
        self.held_locks: list[LockUse] = []  # taken outside any with-block: maybe still held on return
        self.unlocks = False  # an explicit LOCK_UN / release() in the function


class _Analyzer:
    def __init__(self, mods: list[_Module], state_names: Iterable[str]) -> None:
        self.mods = mods
        self.names = {n for n in state_names if n}
        self.stems = {n.rsplit(".", 1)[0] for n in self.names if n.rsplit(".", 1)[0]}
        self.env: dict[tuple, frozenset[str]] = {}
        self.rets: dict[int, frozenset[str]] = {}
        self.funcs: dict[int, _Func] = {f.id: f for m in mods for f in m.funcs}
        self._modcache: dict[str, list[_Module]] = {}
        self.any_attr: dict[str, frozenset[str]] = {}  # attribute name -> kinds over every class

    # modules and callees
    def _mods_named(self, dotted: str) -> list[_Module]:
        hit = self._modcache.get(dotted)
        if hit is None:
            hit = [m for m in self.mods
                   if m.modname == dotted or m.modname.endswith("." + dotted) or dotted.endswith("." + m.modname)]
            self._modcache[dotted] = hit
        return hit

    def _imported(self, dotted: str) -> tuple[_Module, str] | None:
        """`pkg.config.STATE_FILE` -> (the analyzed module pkg/config.py, "STATE_FILE")."""
        modpart, _, name = dotted.rpartition(".")
        if modpart:
            for m in self._mods_named(modpart):
                return m, name
        return None

    def _callees(self, call: _Call) -> list[_Func]:
        fn = call.node.func
        mod = call.func.mod
        if isinstance(fn, ast.Name):
            f = mod.top.get(fn.id)
            if f is not None:
                return [f]
            if fn.id in mod.classes:  # constructing a class: its __init__
                init = mod.methods.get((fn.id, "__init__"))
                return [init] if init is not None else []
            local = [g for g in mod.by_name.get(fn.id, ()) if g.cls is None]
            if local:
                return local
            dotted = mod.imports.get(fn.id)
            if dotted:
                hit = self._imported(dotted)
                if hit:
                    other, name = hit
                    if name in other.top:
                        return [other.top[name]]
                    if name in other.classes and (name, "__init__") in other.methods:
                        return [other.methods[(name, "__init__")]]
            return []
        if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
            base = fn.value.id
            if base in ("self", "cls"):
                owner = _owner(call.func)
                if owner is not None:
                    m = mod.methods.get((owner.cls, fn.attr))
                    if m is not None:
                        return [m]
                return [g for g in mod.by_name.get(fn.attr, ()) if g.cls is not None]
            dotted = mod.imports.get(base)
            if dotted:
                for m in self._mods_named(dotted):
                    if fn.attr in m.top:
                        return [m.top[fn.attr]]
        return []

    # kinds
    def _add(self, key: tuple, kinds: frozenset[str]) -> bool:
        old = self.env.get(key, _E)
        new = old | kinds
        if new != old:
            self.env[key] = new
            if key[0] == "CA":
                self.any_attr[key[3]] = self.any_attr.get(key[3], _E) | kinds
            return True
        return False

    def _const(self, s: str) -> frozenset[str]:
        base = s.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if not base:
            return _E
        if base in self.names:
            return _S_STATE
        if base.endswith(".lock"):
            return _E
        if any(stem in base for stem in self.stems):
            return _S_TEMP
        return _E

    def _name(self, name: str, f: _Func, mod: _Module) -> frozenset[str]:
        fn: _Func | None = f
        while fn is not None and not fn.is_module:
            if name in fn.locals and name not in fn.globals:
                return self.env.get(("L", fn.id, name), _E) | _name_hint(name)
            fn = fn.parent
        got = self.env.get(("G", mod.id, name))
        if got is None:
            dotted = mod.imports.get(name)
            if dotted:
                hit = self._imported(dotted)
                if hit:
                    got = self.env.get(("G", hit[0].id, hit[1]))
        return (got or _E) | _name_hint(name)

    def kinds(self, e: ast.expr | None, f: _Func, mod: _Module) -> frozenset[str]:
        if e is None:
            return _E
        t = type(e)
        if t is ast.Constant:
            return self._const(e.value) if isinstance(e.value, str) else _E
        if t is ast.Name:
            return self._name(e.id, f, mod)
        if t is ast.Attribute:
            return self._attr(e, f, mod)
        if t is ast.Call:
            return self._call_kinds(e, f, mod)
        if t is ast.BinOp:
            if isinstance(e.op, ast.Div):
                return self._join(self.kinds(e.left, f, mod), e.right, f, mod)
            if isinstance(e.op, (ast.Add, ast.Mod)):
                return self._concat(e, f, mod)
            return _E
        if t is ast.JoinedStr:
            return self._fstring(e, f, mod)
        if t is ast.IfExp:
            return self.kinds(e.body, f, mod) | self.kinds(e.orelse, f, mod)
        if t is ast.BoolOp:
            out = _E
            for v in e.values:
                out = out | self.kinds(v, f, mod)
            return out
        if t is ast.Await or t is ast.NamedExpr:
            return self.kinds(e.value, f, mod)
        if t is ast.Subscript:
            key = _const_str(e.slice)
            if key is not None:
                return _name_hint(key) | self._const(key)
            idx = e.slice.value if isinstance(e.slice, ast.Constant) else None
            if idx in (0, 1) and MKSTEMP in self.kinds(e.value, f, mod):
                return _element(frozenset({MKSTEMP}), idx)
            return _E
        return _E

    def _attr(self, e: ast.Attribute, f: _Func, mod: _Module) -> frozenset[str]:
        a = e.attr
        if a == "parent":
            return _S_DIR if self.kinds(e.value, f, mod) & {STATE, TEMP} else _E
        if a == "name":
            base = self.kinds(e.value, f, mod)
            if HW_TEMP in base:
                return _S_TEMP  # NamedTemporaryFile(...).name
            return frozenset({SNAME}) if STATE in base else _E
        if isinstance(e.value, ast.Name) and e.value.id in mod.imports:
            for m in self._mods_named(mod.imports[e.value.id]):
                got = self.env.get(("G", m.id, a))
                if got:
                    return got | _name_hint(a)
        got = self.env.get(("A", a), _E) | _name_hint(a)
        owner = _self_class(e, f)
        if owner is not None:
            mine = self.env.get(("CA", mod.id, owner, a))
            if mine is not None:  # the class sets it itself: do not borrow other classes' values
                return got | mine
        return got | self.any_attr.get(a, _E)

    def _join(self, left: frozenset[str], right: ast.expr, f: _Func, mod: _Module) -> frozenset[str]:
        rk = self.kinds(right, f, mod)
        if STATE in rk or SNAME in rk:
            return _S_STATE
        if TEMP in rk:
            return _S_TEMP
        s = _const_str(right)
        if DIR in left and s is not None and _looks_temp(s):
            return _S_TEMP
        return _E

    def _concat(self, e: ast.BinOp, f: _Func, mod: _Module) -> frozenset[str]:
        lk = self.kinds(e.left, f, mod)
        rk = self.kinds(e.right, f, mod)
        if isinstance(e.op, ast.Mod):  # "%s.tmp" % STATE_FILE
            tpl = _const_str(e.left)
            if tpl is not None and (rk & {STATE, SNAME}):
                return _S_STATE if tpl.strip() == "%s" else _S_TEMP
            return lk
        if STATE in rk or SNAME in rk:
            return _S_STATE
        if TEMP in rk:
            return _S_TEMP
        s = _const_str(e.right)
        if s is not None and s.endswith(".lock"):
            return _E
        if lk & {STATE, SNAME, TEMP}:
            return _S_TEMP
        if DIR in lk and s is not None and _looks_temp(s):
            return _S_TEMP
        return _E

    def _fstring(self, e: ast.JoinedStr, f: _Func, mod: _Module) -> frozenset[str]:
        vals = e.values
        if not vals:
            return _E
        last = vals[-1]
        tail = _const_str(last) or ""
        if tail.endswith(".lock"):
            return _E
        if tail:
            k = self._const(tail)
            if k:
                return k
        parts = [self.kinds(v.value, f, mod) for v in vals if isinstance(v, ast.FormattedValue)]
        if isinstance(last, ast.FormattedValue) and parts and parts[-1] & {STATE, SNAME}:
            return _S_STATE
        if any(p & {STATE, SNAME, TEMP} for p in parts):
            return _S_TEMP
        if any(DIR in p for p in parts) and _looks_temp(tail):
            return _S_TEMP
        return _E

    def _open_kinds(self, path: frozenset[str], mode: ast.expr | None, default: str = "r") -> frozenset[str]:
        m = _const_str(mode) if mode is not None else default
        writes = m is not None and any(c in m for c in "wax+")
        out = set()
        if STATE in path:
            out.add(HW_STATE if writes else HR_STATE)
        if TEMP in path:
            out.add(HW_TEMP if (writes or m is None) else HR_TEMP)
        return frozenset(out)

    def _os_open_kinds(self, call: ast.Call, f: _Func, mod: _Module) -> frozenset[str]:
        pk = self.kinds(_arg(call, 0, "path"), f, mod)
        flags = _flag_names(_arg(call, 1, "flags"))
        if "O_DIRECTORY" in flags or DIR in pk or (flags and flags <= {"O_RDONLY", "O_CLOEXEC", "O_NOFOLLOW"}
                                                   and not pk & {STATE, TEMP}):
            return frozenset({FD_DIR})
        out = set()
        if STATE in pk:
            out.add(FD_STATE)
        if TEMP in pk:
            out.add(FD_TEMP)
        return frozenset(out)

    def _call_kinds(self, e: ast.Call, f: _Func, mod: _Module) -> frozenset[str]:
        call = self._call_index.get(id(e))
        name = (call.qn if call is not None else _qualname(e.func, mod.imports)) or ""
        if name in _PATH_SAME:
            if len(e.args) > 1:  # Path(a, b, c) joins like a / b / c
                acc = self.kinds(e.args[0], f, mod)
                for a in e.args[1:]:
                    acc = self._join(acc, a, f, mod)
                return acc
            return self.kinds(_arg(e, 0), f, mod)
        if name in _JOIN:
            if not e.args:
                return _E
            acc = self.kinds(e.args[0], f, mod)
            for a in e.args[1:]:
                acc = self._join(acc, a, f, mod)
            return acc
        if name in _DIRNAME:
            return _S_DIR if self.kinds(_arg(e, 0), f, mod) & {STATE, TEMP} else _E
        if name in _BASENAME:
            return frozenset({SNAME}) if STATE in self.kinds(_arg(e, 0), f, mod) else _E
        if name in _ENV_GET:
            key = _const_str(_arg(e, 0))
            return self.kinds(_arg(e, 1, "default"), f, mod) | (_name_hint(key) if key else _E)
        if name in _OPEN:
            return self._open_kinds(self.kinds(_arg(e, 0, "file"), f, mod), _arg(e, 1, "mode"))
        if name in _TEMPFILE:
            return frozenset({HW_TEMP})
        if name in _MKSTEMP:
            return frozenset({MKSTEMP})
        if name in _OS_OPEN:
            return self._os_open_kinds(e, f, mod)
        if name in _FDOPEN:
            fd = self.kinds(_arg(e, 0, "fd"), f, mod)
            mode = _const_str(_arg(e, 1, "mode")) or "r"
            w = any(c in mode for c in "wax+")
            out = set()
            if FD_TEMP in fd:
                out.add(HW_TEMP if w else HR_TEMP)
            if FD_STATE in fd:
                out.add(HW_STATE if w else HR_STATE)
            return frozenset(out)
        if name in _LOCK_CTORS:
            target = self.kinds(_arg(e, 0, "lock_file") or _arg(e, 0, "filename"), f, mod)
            return frozenset({LOCK_STATE if STATE in target else LOCK})
        if name in _STORE_CTORS:
            return frozenset({STORE})
        fn = e.func
        if isinstance(fn, ast.Attribute):
            m = fn.attr
            if m in ("resolve", "absolute", "expanduser", "as_posix", "__fspath__"):
                return self.kinds(fn.value, f, mod) & {STATE, TEMP, DIR}
            if m in ("with_suffix", "with_name", "with_stem"):
                base = self.kinds(fn.value, f, mod)
                if not base & {STATE, TEMP}:
                    return _E
                arg_e = _arg(e, 0)
                if _ends_lock(arg_e):
                    return _E
                arg = _const_str(arg_e)
                if arg is not None and self._const(arg) == _S_STATE and m == "with_name":
                    return _S_STATE
                return _S_TEMP
            if m == "joinpath":
                acc = self.kinds(fn.value, f, mod)
                for a in e.args:
                    acc = self._join(acc, a, f, mod)
                return acc
            if m == "open":
                base = self.kinds(fn.value, f, mod)
                if base & {STATE, TEMP}:
                    return self._open_kinds(base, _arg(e, 0, "mode"))
                return _E
            if m == "fileno":
                base = self.kinds(fn.value, f, mod)
                out = set()
                if base & {HW_STATE, HR_STATE}:
                    out.add(FD_STATE)
                if base & {HW_TEMP, HR_TEMP}:
                    out.add(FD_TEMP)
                return frozenset(out)
            if m in ("read_text", "read_bytes"):
                return frozenset({TEXT}) if STATE in self.kinds(fn.value, f, mod) else _E
            if m in ("read", "readlines"):
                return frozenset({TEXT}) if HR_STATE in self.kinds(fn.value, f, mod) else _E
            if m in ("decode", "strip"):
                return self.kinds(fn.value, f, mod) & {TEXT}
            if m == "acquire":
                return self.kinds(fn.value, f, mod) & {LOCK, LOCK_STATE}
            if m == "format":
                tpl = _const_str(fn.value)
                if tpl is not None:
                    k = self._const(tpl)
                    if k:
                        return k
                    args = [self.kinds(a, f, mod) for a in e.args] + [self.kinds(k.value, f, mod) for k in e.keywords]
                    if any(a & {STATE, SNAME} for a in args):
                        return _S_STATE if tpl.strip() == "{}" else _S_TEMP
                return _E
            if m == "get":
                key = _const_str(_arg(e, 0))
                hint = (_name_hint(key) | self._const(key)) if key else _E
                return hint | self.kinds(_arg(e, 1), f, mod)
        # a function defined in the sources: what it returns
        if call is not None and call.callees:
            out = _E
            for c in call.callees:
                out = out | self.rets.get(c.id, _E)
            return out
        return _E

    # the fixed point
    def resolve(self) -> None:
        self._call_index = {id(c.node): c for m in self.mods for c in m.calls}
        for m in self.mods:
            for c in m.calls:
                c.qn = _qualname(c.node.func, m.imports)
                c.callees = self._callees(c)
        for _ in range(12):
            changed = False
            for m in self.mods:
                for key, value, scope, elt in m.assigns:
                    k = self.kinds(value, scope, m)
                    if elt is not None:
                        k = _element(k, elt)
                    if k and self._add(key, k):
                        changed = True
                for scope, value in m.returns:
                    k = self.kinds(value, scope, m)
                    old = self.rets.get(scope.id, _E)
                    if k - old:
                        self.rets[scope.id] = old | k
                        changed = True
                for c in m.calls:
                    if c.callees and (c.node.args or c.node.keywords):
                        changed |= self._bind_args(c, m)
            if not changed:
                break

    def _bind_args(self, c: _Call, m: _Module) -> bool:
        changed = False
        node = c.node
        via_attr = isinstance(node.func, ast.Attribute)
        for callee in c.callees:
            params = callee.params
            offset = 1 if (callee.bound and (via_attr or callee.name == "__init__")) else 0
            for i, a in enumerate(node.args):
                if isinstance(a, ast.Starred) or i + offset >= len(params):
                    break
                k = self.kinds(a, c.func, m)
                if k and self._add(("L", callee.id, params[i + offset]), k):
                    changed = True
            for kw in node.keywords:
                if kw.arg and kw.arg in params:
                    k = self.kinds(kw.value, c.func, m)
                    if k and self._add(("L", callee.id, kw.arg), k):
                        changed = True
        return changed

    # events
    def analyze(self, out: Analysis) -> None:
        self.resolve()
        facts: dict[int, _Facts] = {fid: _Facts() for fid in self.funcs}
        loads: list[tuple[_Call, str]] = []
        self.callers: dict[int, list[_Call]] = {}
        self.calls_in: dict[int, list[_Call]] = {}
        for m in self.mods:
            for c in m.calls:
                self.calls_in.setdefault(c.func.id, []).append(c)
                for callee in c.callees:
                    self.callers.setdefault(callee.id, []).append(c)
                self._classify_call(c, m, facts[c.func.id], loads, out)
        # with-regions: first locks by kind, then context managers defined in the sources
        self.lock_exprs: dict[int, LockUse] = {}
        pending = []
        for m in self.mods:
            for f, e in m.withs:
                k = self.kinds(e, f, m)
                if k & {LOCK, LOCK_STATE}:
                    self._with_lock(f, e, f"with {_short(e)}", LOCK_STATE in k, facts, out)
                elif isinstance(e, ast.Call):
                    pending.append((f, e))
        for f, e in pending:  # `with my_lock():` where my_lock takes a lock (a context manager)
            c = self._call_index.get(id(e))
            inner = next((u for x in (c.callees if c else ()) for u in facts[x.id].locks), None)
            if inner is not None:
                facts[f.id].locks.append(inner)
                self.lock_exprs[id(e)] = inner
        for fa in facts.values():
            if fa.unlocks:
                fa.held_locks = []
        self.facts = facts
        self._memo: dict[int, _Facts] = {}
        self._prot: dict[int, LockUse | None] = {}
        self._guard: dict[int, bool] = {}
        for fid, fa in facts.items():
            if not (fa.inplace or fa.renames):
                continue
            fn = self.funcs[fid]
            eff = self._effective(fid, frozenset())
            lock = self._protection(fn, frozenset())
            for line, api in fa.inplace:
                out.writers.append(Writer(fn.mod.path, line, _display(fn), "in-place", api, lock=lock))
            for line, api in fa.renames:
                before = [x for x in eff.fsyncs if x <= line]
                after = [x for x in eff.dirsyncs if x >= line]
                temps = [x for x in eff.temps if x <= line]
                out.writers.append(Writer(
                    fn.mod.path, line, _display(fn), "atomic", api,
                    fsync_line=max(before) if before else None,
                    dir_fsync_line=min(after) if after else None,
                    temp_line=min(temps) if temps else None,
                    lock=lock,
                ))
        for c, api in loads:
            by_callers = not c.guard and self._guarded(c.func, frozenset())
            out.loads.append(Load(c.func.mod.path, c.node.lineno, _display(c.func), api,
                                  c.guard or by_callers, by_callers))
        out.writers.sort(key=lambda w: (w.file, w.line))
        out.loads.sort(key=lambda x: (x.file, x.line))
        seen: set[tuple[str, int]] = set()
        out.locks = [u for u in sorted(out.locks, key=lambda x: (x.file, x.line))
                     if (u.file, u.line) not in seen and not seen.add((u.file, u.line))]

    def _with_lock(self, f: _Func, e: ast.expr, api: str, on_state: bool, facts: dict[int, _Facts],
                   out: Analysis) -> None:
        use = LockUse(f.mod.path, e.lineno, _display(f), api, on_state)
        facts[f.id].locks.append(use)
        self.lock_exprs[id(e)] = use
        out.locks.append(use)

    def _classify_call(self, c: _Call, m: _Module, fa: _Facts, loads: list, out: Analysis) -> None:
        e = c.node
        name = c.qn or ""
        line = e.lineno
        f = c.func
        fn = e.func
        meth = fn.attr if isinstance(fn, ast.Attribute) else None
        if name in _OPEN or (meth == "open" and name not in _OS_OPEN):
            if name in _OPEN:
                path = self.kinds(_arg(e, 0, "file"), f, m)
                mode_e = _arg(e, 1, "mode")
            else:
                path = self.kinds(fn.value, f, m)
                mode_e = _arg(e, 0, "mode")
            mode = _const_str(mode_e) if mode_e is not None else "r"
            if mode is not None and any(ch in mode for ch in "wax+"):
                if STATE in path:
                    where = "open" if name in _OPEN else "Path.open"
                    fa.inplace.append((line, f'{where}(..., "{mode}")'))
                if TEMP in path:
                    fa.temps.append(line)
            elif mode is None and TEMP in path:
                fa.temps.append(line)
            return
        if meth in ("write_text", "write_bytes"):
            path = self.kinds(fn.value, f, m)
            if STATE in path:
                fa.inplace.append((line, f"Path.{meth}"))
            if TEMP in path:
                fa.temps.append(line)
            return
        if name in _OS_OPEN:
            flags = _flag_names(_arg(e, 1, "flags"))
            path = self.kinds(_arg(e, 0, "path"), f, m)
            if flags & _WRITE_FLAGS:
                if STATE in path:
                    fa.inplace.append((line, "os.open(..., O_WRONLY)"))
                if TEMP in path:
                    fa.temps.append(line)
            return
        if name in _TEMPFILE or name in _MKSTEMP:
            fa.temps.append(line)
            return
        if name in _COPY:
            if STATE in self.kinds(_arg(e, 1, "dst"), f, m):
                fa.inplace.append((line, name))
            return
        if name in _RENAME:
            if STATE in self.kinds(_arg(e, 1, "dst"), f, m):
                fa.renames.append((line, name))
            return
        if meth in ("replace", "rename") and len(e.args) == 1 and not e.keywords:
            if STATE in self.kinds(e.args[0], f, m):
                fa.renames.append((line, f"Path.{meth}"))
            return
        if name in _FSYNC:
            k = self.kinds(_arg(e, 0, "fd"), f, m)
            if FD_DIR in k:
                fa.dirsyncs.append(line)
            elif not (k & {FD_STATE, HW_STATE, HR_STATE}) or k & {FD_TEMP, HW_TEMP}:
                fa.fsyncs.append(line)  # the temp file, or a descriptor we cannot trace
            return
        if name in _FLOCK:
            op = _flag_names(_arg(e, 1))
            if op and op <= {"LOCK_UN"}:
                fa.unlocks = True
                return
            target = self.kinds(_arg(e, 0), f, m)
            use = LockUse(m.path, line, _display(f), name, bool(target & {FD_STATE, HW_STATE, HR_STATE}))
            fa.locks.append(use)
            if not c.withs:  # inside a with-block the file (and its lock) is closed on exit
                fa.held_locks.append(use)
            out.locks.append(use)
            return
        if name in _LOCK_CTORS:
            target = self.kinds(_arg(e, 0, "lock_file"), f, m)
            out.lock_objects.append(LockUse(m.path, line, _display(f), name, STATE in target))
            return
        if name in _JSON_LOAD:
            if self.kinds(_arg(e, 0, "fp"), f, m) & {HR_STATE, HW_STATE}:
                loads.append((c, name))
            return
        if name in _JSON_LOADS:
            if TEXT in self.kinds(_arg(e, 0), f, m):
                loads.append((c, name))
            return
        if name in _STORE_CTORS:
            out.store_uses.append(StoreUse(m.path, line, _display(f), "StateStore", False))
            return
        if meth is not None:
            base = self.kinds(fn.value, f, m)
            if meth == "acquire" and base & {LOCK, LOCK_STATE}:
                use = LockUse(m.path, line, _display(f), f"{_short(fn.value)}.acquire", LOCK_STATE in base)
                fa.locks.append(use)
                if not c.withs:
                    fa.held_locks.append(use)
                out.locks.append(use)
            elif meth == "release" and base & {LOCK, LOCK_STATE}:
                fa.unlocks = True
            elif meth in _STORE_WRITES and STORE in base:
                out.store_uses.append(StoreUse(m.path, line, _display(f), f"StateStore.{meth}", True))

    def _effective(self, fid: int, stack: frozenset[int]) -> _Facts:
        """A function's facts plus those of the functions it calls, placed at the call line.
        Memoized; inside a call cycle a function contributes its own facts only."""
        memo = self._memo.get(fid)
        if memo is not None:
            return memo
        own = self.facts[fid]
        if fid in stack:
            return own
        eff = _Facts()
        eff.fsyncs, eff.dirsyncs, eff.temps = list(own.fsyncs), list(own.dirsyncs), list(own.temps)
        eff.locks, eff.held_locks = list(own.locks), list(own.held_locks)
        inner = stack | {fid}
        for c in self.calls_in.get(fid, ()):
            for callee in c.callees:
                if callee.id == fid:
                    continue
                sub = self._effective(callee.id, inner)
                line = c.node.lineno
                if sub.fsyncs:
                    eff.fsyncs.append(line)
                if sub.dirsyncs:
                    eff.dirsyncs.append(line)
                if sub.temps:
                    eff.temps.append(line)
                if sub.held_locks:  # a helper that returns holding the lock (acquire/flock)
                    eff.locks.extend(sub.held_locks)
                    eff.held_locks.extend(sub.held_locks)
        self._memo[fid] = eff
        return eff

    def _protection(self, f: _Func, seen: frozenset[int]) -> LockUse | None:
        """The lock held around f's writes: taken in f, or around every call of f."""
        if f.id in self._prot:
            return self._prot[f.id]
        eff = self._effective(f.id, frozenset())
        if eff.locks:
            self._prot[f.id] = eff.locks[0]
            return eff.locks[0]
        if f.id in seen:
            return None
        sites = self.callers.get(f.id)
        first: LockUse | None = None
        for c in sites or ():
            lock = next((self.lock_exprs[id(w)] for w in c.withs if id(w) in self.lock_exprs), None)
            if lock is None:
                lock = self._protection(c.func, seen | {f.id})
            if lock is None:
                first = None
                break
            first = first or lock
        self._prot[f.id] = first
        return first

    def _guarded(self, f: _Func, seen: frozenset[int]) -> bool:
        """Every call of f (found in the sources) sits in a try that catches JSONDecodeError."""
        if f.id in self._guard:
            return self._guard[f.id]
        if f.id in seen:
            return False
        sites = self.callers.get(f.id)
        ok = bool(sites) and all(c.guard or self._guarded(c.func, seen | {f.id}) for c in sites)
        self._guard[f.id] = ok
        return ok


def _element(k: frozenset[str], i: int) -> frozenset[str]:
    if MKSTEMP in k:
        return frozenset({FD_TEMP}) if i == 0 else (_S_TEMP if i == 1 else _E)
    return _E


def _ends_lock(e: ast.expr | None) -> bool:
    """`"x.lock"`, `name + ".lock"`, `f"{name}.lock"`: a lock file's name."""
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
        e = e.right
    elif isinstance(e, ast.JoinedStr) and e.values:
        e = e.values[-1]
    s = _const_str(e)
    return s is not None and s.endswith(".lock")


def _looks_temp(s: str) -> bool:
    base = s.rsplit("/", 1)[-1].lower()
    return "tmp" in base or "temp" in base or base.startswith(".") or base.endswith((".new", ".part", ".partial"))


def _display(f: _Func) -> str:
    return "module-level code" if f.is_module else f.qualname


def _modname(path: Path, root: Path | None) -> str:
    try:
        rel = path.relative_to(root) if root is not None else Path(path.name)
    except ValueError:
        rel = Path(path.name)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts:
        parts = [path.parent.name or "__init__"]
    return ".".join(parts)


# --- entry point ---------------------------------------------------------------------
def analyze_sources(paths: Iterable[Path | str], state_names: Iterable[str], root: Path | str | None = None) -> Analysis:
    """Analyze the given Python files together (imports between them are followed).

    `state_names`: file names of the state (e.g. "trading_state.json"). `root`: the folder
    the files were collected from, used to name modules for relative imports. Never
    raises for bad input: unreadable files and syntax errors become `problems`."""
    out = Analysis()
    root_p = Path(root) if root is not None else None
    mods: list[_Module] = []
    next_id = [0]
    for p in paths:
        p = Path(p)
        sp = str(p)
        try:
            st = p.stat()
            if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
                out.problems.append(Problem(sp, None, "not a regular file"))
                continue
            size = st.st_size
            if size > MAX_FILE_BYTES:
                out.problems.append(Problem(sp, None, f"skipped: larger than {MAX_FILE_BYTES // 1_000_000} MB"))
                continue
            data = p.read_bytes()
        except OSError as exc:
            out.problems.append(Problem(sp, None, f"cannot read: {exc.strerror or exc}"))
            continue
        out.files += 1
        out.lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        try:
            tree = ast.parse(data, filename=sp)
        except SyntaxError as exc:
            out.problems.append(Problem(sp, exc.lineno, f"syntax error: {exc.msg}"))
            continue
        except (ValueError, UnicodeError) as exc:  # NUL bytes, undecodable source
            out.problems.append(Problem(sp, None, f"not Python source: {exc}"))
            continue
        except (RecursionError, MemoryError):
            out.problems.append(Problem(sp, None, "too deeply nested to analyze"))
            continue
        mod = _Module(len(mods), sp, _modname(p, root_p))
        try:
            _Walker(mod, next_id).walk(tree)
        except RecursionError:
            out.problems.append(Problem(sp, None, "too deeply nested to analyze"))
            continue
        mods.append(mod)
    if mods:
        try:
            _Analyzer(mods, state_names).analyze(out)
        except RecursionError:
            out.problems.append(Problem(str(root_p or mods[0].path), None, "too deeply nested to analyze"))
    return out
