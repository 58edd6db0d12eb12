"""What the bot's process looks like, and which live processes are it.

Three descriptions, any of which may be configured: `process_pattern` (a regex over the
command line), the command of the configured systemd unit (its ExecStart, read from the
unit file, so it works where systemd is not PID 1), and the bot's entry point found in
`bot_source` (a script run by an interpreter, `python -m package`, or a console script).
A script is matched by the file it resolves to (relative paths against the process's
working folder), never by its name alone: `vim main.py` or another bot's `main.py` is not
this bot."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from statetui.core import procinfo

# Where systemd looks for unit files (system, then user), in its own order of precedence.
UNIT_DIRS: list[Path] = [Path(p) for p in (
    "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system", "/lib/systemd/system",
    "~/.config/systemd/user", "/etc/systemd/user", "/usr/lib/systemd/user")]

_INTERPRETER = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|node|nodejs|bun|deno|ruby|perl|bash|sh|dash|zsh)$")
# Interpreter options that take a value (so the value is not the script).
_OPT_WITH_VALUE = {"-W", "-X", "-Q", "--check-hash-based-pycs"}
# Entry points worth the name, by file name; other scripts in a bot's tree are tools.
_ENTRY_NAMES = ("main.py", "bot.py", "run.py", "app.py", "start.py", "trader.py", "__main__.py")
_MAIN_GUARD = re.compile(rb"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.M)
_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "docs", "build", "dist"}
_MAX_SCAN_FILES = 2000
# A program here is a shared tool (uv, docker, env), not the bot: never match every process running it.
_SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/lib/", "/snap/")


@dataclass
class BotCommand:
    """Everything that says "this process is the bot"."""

    pattern: str | None = None
    exact: dict[tuple[str, ...], str] = field(default_factory=dict)  # ExecStart argv (as systemd passes it) -> from where
    scripts: dict[str, str] = field(default_factory=dict)  # realpath -> where it came from
    modules: dict[str, str] = field(default_factory=dict)  # `python -m NAME` -> where it came from
    console_scripts: dict[str, str] = field(default_factory=dict)  # installed script name -> where from
    notes: list[str] = field(default_factory=list)  # what could not be read (one line each)

    @property
    def empty(self) -> bool:
        return not (self.pattern or self.exact or self.scripts or self.modules or self.console_scripts)

    def describe(self) -> str:
        parts = []
        if self.pattern:
            parts.append(f"process_pattern {self.pattern!r}")
        parts += sorted({*self.scripts.values(), *self.modules.values(), *self.console_scripts.values()})
        if self.exact and not parts:
            parts.append("the unit's ExecStart")
        return ", ".join(dict.fromkeys(parts))


@dataclass(frozen=True)
class Match:
    proc: procinfo.ProcInfo
    why: str  # "matches process_pattern 'x'", "runs /opt/bot/main.py (the entry point in bot_source)"


# --- building the description ------------------------------------------------------------

def bot_command(config, *, from_source: bool = True) -> BotCommand:
    """The configured pattern and, when `from_source` (config `detect_bot_command`, on by
    default), the unit's ExecStart and the entry point in bot_source."""
    cmd = BotCommand(pattern=getattr(config, "process_pattern", None) or None)
    if not from_source:
        return cmd
    unit = getattr(config, "systemd_unit", None)
    if unit:
        _add_unit(cmd, unit)
    source = getattr(config, "bot_source", None)
    if source:
        _add_entry_points(cmd, Path(source))
    return cmd


def unit_file(unit: str) -> tuple[Path | None, list[Path]]:
    """The unit's file and its drop-ins (`UNIT.d/*.conf`), as systemd would find them."""
    name = unit if "." in unit else unit + ".service"
    main = None
    drop_ins: dict[str, Path] = {}
    for d in UNIT_DIRS:
        d = d.expanduser()
        if main is None and (d / name).is_file():
            main = d / name
        try:
            for conf in sorted((d / (name + ".d")).glob("*.conf")):
                drop_ins.setdefault(conf.name, conf)
        except OSError:
            pass
    return main, [drop_ins[k] for k in sorted(drop_ins)]


def parse_exec_start(texts: list[str]) -> tuple[list[list[str]], str | None]:
    """ExecStart argv lists and WorkingDirectory from unit file texts (main file first, then
    drop-ins; an empty `ExecStart=` resets the list, as in systemd)."""
    execs: list[list[str]] = []
    workdir = None
    for text in texts:
        section = None
        for line in _logical_lines(text):
            if line.startswith("["):
                section = line.strip("[] ")
                continue
            if section != "Service" or "=" not in line:
                continue
            key, value = (s.strip() for s in line.split("=", 1))
            if key == "WorkingDirectory":
                workdir = value.lstrip("-") or None
            elif key == "ExecStart":
                if not value:
                    execs = []
                    continue
                value = value.lstrip("@-:+!")
                try:
                    argv = shlex.split(value)
                except ValueError:
                    continue
                if argv:
                    execs.append(argv)
    return execs, workdir


def _logical_lines(text: str):
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield buf + line
        buf = ""
    if buf:
        yield buf


def _add_unit(cmd: BotCommand, unit: str) -> None:
    main, drop_ins = unit_file(unit)
    if main is None:
        cmd.notes.append(f"no unit file for {unit} in the systemd folders: its command is not matched")
        return
    texts = []
    for p in [main, *drop_ins]:
        try:
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            cmd.notes.append(f"{p}: cannot read ({exc.strerror or exc})")
    execs, workdir = parse_exec_start(texts)
    where = f"the command of {unit}"
    base = workdir or "/"  # systemd's default working folder for system units
    for argv in execs:
        cmd.exact.setdefault(tuple(argv), where)
        run = _without_env(argv)
        script, module = _script_of(run)
        if module is not None:
            cmd.modules.setdefault(module, where)
        # The script itself, and any .py a launcher is given (uv run bot.py, poetry run python main.py).
        for arg in ([script] if script else []) + [a for a in run[1:] if a.endswith(".py") and not a.startswith("-")]:
            cmd.scripts.setdefault(_real(os.path.join(base, arg)), where)
        if run and os.path.isabs(run[0]) and not is_interpreter(run[0]) and not run[0].startswith(_SYSTEM_DIRS):
            cmd.scripts.setdefault(_real(run[0]), where)  # the bot's own wrapper script or binary


def _without_env(argv: list[str]) -> list[str]:
    """`/usr/bin/env [-opts] [VAR=value ...] prog args` -> `prog args`."""
    if not argv or os.path.basename(argv[0]) != "env":
        return list(argv)
    rest = list(argv[1:])
    while rest and (rest[0].startswith("-") or "=" in rest[0]):
        rest.pop(0)
    return rest


def _add_entry_points(cmd: BotCommand, source: Path) -> None:
    try:
        if source.is_file():
            cmd.scripts.setdefault(_real(str(source)), f"{source} (bot_source)")
            return
        if not source.is_dir():
            cmd.notes.append(f"bot_source {source} is not a file or folder")
            return
    except OSError as exc:
        cmd.notes.append(f"bot_source {source}: {exc.strerror or exc}")
        return
    for name, where in _console_scripts(source).items():
        cmd.console_scripts.setdefault(name, where)
    named, guarded = [], []
    for path in _python_files(source):
        rel = path.relative_to(source)
        if path.name == "__main__.py" and len(rel.parts) >= 2:
            pkg = ".".join(rel.parts[:-1])
            if rel.parts[0] == "src" and len(rel.parts) > 2:
                pkg = ".".join(rel.parts[1:-1])
            cmd.modules.setdefault(pkg, f"python -m {pkg} (bot_source)")
            continue
        if len(rel.parts) > 3 or not _has_main_guard(path):
            continue
        (named if path.name in _ENTRY_NAMES else guarded).append(path)
    # Prefer files named like an entry point; a tree of tools with main guards otherwise.
    top = [p for p in guarded if len(p.relative_to(source).parts) == 1]
    for path in named or top:
        cmd.scripts.setdefault(_real(str(path)), f"{path} (entry point in bot_source)")
    if cmd.empty:
        cmd.notes.append(f"no entry point found in {source} (no main.py, bot.py ... with a __main__ guard)")


def _python_files(root: Path):
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py") and not name.startswith("test_"):
                count += 1
                if count > _MAX_SCAN_FILES:
                    return
                yield Path(dirpath) / name


_GUARD_CACHE: dict[str, tuple[tuple[int, int], bool]] = {}


def _has_main_guard(path: Path) -> bool:
    """Cached by size and mtime: the console asks every few seconds."""
    try:
        st = path.stat()
    except OSError:
        return False
    key = (st.st_size, st.st_mtime_ns)
    hit = _GUARD_CACHE.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with open(path, "rb") as f:
            found = bool(_MAIN_GUARD.search(f.read(1 << 20)))
    except OSError:
        found = False
    _GUARD_CACHE[str(path)] = (key, found)
    return found


def _console_scripts(source: Path) -> dict[str, str]:
    """[project.scripts] names in the bot's pyproject.toml."""
    path = source / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    scripts = data.get("project", {}).get("scripts", {}) if isinstance(data.get("project"), dict) else {}
    if not isinstance(scripts, dict):
        return {}
    return {str(k): f"console script {k} ({path})" for k in scripts}


# --- matching -------------------------------------------------------------------------------

def is_interpreter(arg0: str) -> bool:
    return bool(_INTERPRETER.match(os.path.basename(arg0)))


def _script_of(argv: list[str] | tuple[str, ...]) -> tuple[str | None, str | None]:
    """(script, module) an interpreter command line runs; (None, None) for `-c` or no script."""
    if not argv or not is_interpreter(argv[0]):
        return None, None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-m":
            return None, argv[i + 1] if i + 1 < len(argv) else None
        if a.startswith("-m") and len(a) > 2 and os.path.basename(argv[0]).startswith("py"):
            return None, a[2:]
        if a == "-c" or a.startswith("-c"):
            return None, None
        if a in _OPT_WITH_VALUE:
            i += 2
            continue
        if a.startswith("-") and a != "-":
            i += 1
            continue
        return a, None
    return None, None


def _real(path: str) -> str:
    return os.path.realpath(os.path.expanduser(path))


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(procinfo.PROC / str(pid) / "cwd")
    except OSError:
        return None


def match_processes(cmd: BotCommand, procs: list[procinfo.ProcInfo], *, exclude: set[int] = frozenset()) -> list[Match]:
    """The processes `cmd` says are the bot, each with why."""
    rx = None
    if cmd.pattern:
        try:
            rx = re.compile(cmd.pattern)
        except re.error:
            rx = None
    out = []
    for p in procs:
        if p.pid in exclude:
            continue
        why = _why(cmd, p, rx)
        if why:
            out.append(Match(p, why))
    return out


def _why(cmd: BotCommand, p: procinfo.ProcInfo, rx) -> str | None:
    argv = p.argv
    if cmd.pattern:
        line = " ".join(argv)
        if (rx.search(line) if rx is not None else cmd.pattern in line):
            return f"matches process_pattern {cmd.pattern!r}"
    if tuple(argv) in cmd.exact:
        return f"runs {cmd.exact[tuple(argv)]}"
    script, module = _script_of(argv)
    if module is not None and module in cmd.modules:
        return f"runs {cmd.modules[module]}"
    if script is not None and cmd.console_scripts and os.path.basename(script) in cmd.console_scripts:
        return f"runs {cmd.console_scripts[os.path.basename(script)]}"
    if cmd.scripts:
        for candidate in ([script] if script else []) + ([argv[0]] if not is_interpreter(argv[0]) else []):
            if os.path.isabs(candidate):
                real = _real(candidate)
            else:
                cwd = _cwd(p.pid)
                if cwd is None:
                    continue
                real = _real(os.path.join(cwd, candidate))
            if real in cmd.scripts:
                return f"runs {real} ({cmd.scripts[real]})"
    return None
