"""The hostile-input suite's harness: run the real CLI (in-process through statetui.cli.main,
or as a real `python -m statetui` subprocess), snapshot a sandbox to prove nothing changed,
and judge a result against the exit-code table and the one-line-error rule.

In-process runs are the same code path as the command (argument parsing, configuration,
the verb, the one-line error), minus the interpreter start: ~5 ms instead of ~250 ms, so
the suite can afford thousands of generated cases and still run a representative share
as real subprocesses."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

# The suite's own oracle (not statetui's): what a terminal would obey. C0 controls but the
# newline, DEL, C1 controls, line/paragraph separators, bidi marks, overrides and isolates,
# the BOM, and lone surrogates.
_UNSAFE_BUT_NEWLINE_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e"
                                    "\u2066-\u2069\ufeff\ud800-\udfff]")

ERROR_PREFIX = "statetui: error: "
WARNING_PREFIX = "statetui: warning: "


@dataclass
class Result:
    code: int
    out: str
    err: str
    how: str  # "in-process" | "subprocess"
    argv: list[str] = field(default_factory=list)

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def __str__(self) -> str:
        return f"[{self.how}] statetui {' '.join(self.argv)} -> {self.code}\n--- stdout\n{self.out[-1500:]}\n--- stderr\n{self.err[-1500:]}"


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    """A hang (a FIFO opened for reading, a silent RPC) fails the case instead of the run."""
    def fire(signum, frame):  # noqa: ARG001
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def base_env(root: Path) -> dict[str, str]:
    """The environment a case runs in: no STATETUI_* of the caller's, a private config dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    env["XDG_CONFIG_HOME"] = str(root / "xdg")
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    return env


def cli(argv: list[str], root: Path, env: dict[str, str] | None = None, timeout: int = 90) -> Result:
    """statetui.cli.main(argv), stdout/stderr captured, under `env` (on top of base_env)."""
    full = base_env(root)
    full.update(env or {})
    full.setdefault("LANGUAGE", "C")  # argparse's gettext lookups: no .mo search per string (a third of a run)
    return run_main(argv, full, timeout)


def run_main(argv: list[str], env: dict[str, str], timeout: int = 90, cwd: Path | None = None) -> Result:
    """statetui.cli.main(argv) in this process, as `python -m statetui ARGV` would run it with
    exactly `env` as its environment, `cwd` as its folder and an empty stdin that is not a
    terminal; stdout/stderr captured. Whatever the run changes of the process (environment,
    folder, caps, signal handlers) is put back."""
    from statetui import cli as cli_module
    from statetui.core.limits import LIMITS

    saved = {k: os.environ.get(k) for k in set(env) | set(os.environ)}
    saved_limits = dict(LIMITS.__dict__)
    saved_signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)}
    saved_cwd, saved_stdin = os.getcwd(), sys.stdin
    out, err = io.StringIO(), io.StringIO()
    try:
        _set_env(env)
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO("")
        with _alarm(timeout), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_module.main(list(argv))
    except _Timeout:
        code = -9
        err.write(f"\n[harness] timed out after {timeout}s\n")
    except SystemExit as exc:  # main() never exits; if it did, that is a finding
        code = -2
        err.write(f"\n[harness] SystemExit({exc.code}) escaped main()\n")
    except BaseException as exc:  # noqa: BLE001 - the very thing this suite hunts
        import traceback

        code = -1
        err.write("Traceback (escaped main):\n" + "".join(traceback.format_exception(exc)))
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        _set_env({k: v for k, v in saved.items() if v is not None})
        LIMITS.__dict__.update(saved_limits)
        for sig, handler in saved_signals.items():
            if handler is not None:
                signal.signal(sig, handler)
        cli_module.fast_exit = False
    return Result(code, out.getvalue(), err.getvalue(), "in-process", list(argv))


def _set_env(wanted: dict[str, str]) -> None:
    """os.environ = wanted, touching only the keys that differ (clearing it all costs ms)."""
    for key in [k for k in os.environ if k not in wanted]:
        del os.environ[key]
    for key, value in wanted.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def cli_proc(argv: list[str], root: Path, env: dict[str, str] | None = None, timeout: int = 180,
             cwd: Path | None = None) -> Result:
    """The real command: `python -m statetui ARGV` in a subprocess."""
    full = base_env(root)
    full.update(env or {})
    try:
        res = subprocess.run([sys.executable, "-m", "statetui", *argv], capture_output=True, env=full,
                             cwd=cwd or root, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Result(-9, "", f"[harness] timed out after {timeout}s", "subprocess", list(argv))
    dec = lambda b: b.decode("utf-8", "backslashreplace")  # noqa: E731
    return Result(res.returncode, dec(res.stdout), dec(res.stderr), "subprocess", list(argv))


# --- nothing on disk changed ---------------------------------------------------------------

def snapshot(*roots: Path) -> dict[str, tuple]:
    """Every entry under `roots`: kind, mode, size, and a content hash for regular files
    (sparse giants by size and mtime only), symlink targets. Not followed into links."""
    out: dict[str, tuple] = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        stack = [Path(root)]
        while stack:
            p = stack.pop()
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            mode = stat.S_IFMT(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                out[str(p)] = ("dir", st.st_mode)
                try:
                    stack.extend(p / n for n in os.listdir(p))
                except OSError:
                    pass
            elif stat.S_ISLNK(st.st_mode):
                out[str(p)] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                if st.st_size > 8 * 1024 * 1024:
                    out[str(p)] = ("file", st.st_mode, st.st_size, st.st_mtime_ns)
                else:
                    try:
                        digest = hashlib.sha256(p.read_bytes()).hexdigest()
                    except OSError:
                        digest = "unreadable"
                    out[str(p)] = ("file", st.st_mode, st.st_size, digest)
            else:
                out[str(p)] = ("special", mode, st.st_mode)
    return out


def changes(before: dict[str, tuple], after: dict[str, tuple], ignore: Iterable[str] = ()) -> list[str]:
    ignored = tuple(ignore)
    out = []
    for path in sorted(set(before) | set(after)):
        if ignored and any(part in path for part in ignored):
            continue
        if before.get(path) != after.get(path):
            what = "created" if path not in before else ("removed" if path not in after else "changed")
            out.append(f"{what}: {path}")
    return out


def left_behind(listing: Callable[[], set[str]], before: set[str], settle_s: float = 30.0) -> set[str]:
    """What `listing()` (names in a scratch folder) shows that was not there `before` and
    stays there: a sandbox that another test of the run (another xdist worker) makes and
    removes meanwhile is not a leftover of the run under test; a leftover never goes."""
    new = listing() - before
    deadline = time.monotonic() + settle_s
    while new and time.monotonic() < deadline:
        time.sleep(0.1)
        new &= listing()
    return new


# --- judging a result -----------------------------------------------------------------------

def unsafe_chars(text: str) -> list[str]:
    return sorted({repr(m.group()) for m in _UNSAFE_BUT_NEWLINE_RE.finditer(text)})


def judge(res: Result, codes: int | Iterable[int], *, names: Iterable[str] = (), error_line: bool | None = None,
          warnings: bool = False, secrets: Iterable[str] = ()) -> list[str]:
    """What is wrong with `res`, or []:
    - the exit code is one of `codes`;
    - no traceback, no "internal error" (a bug caught by the last-resort handler);
    - an error exit has exactly one stderr line, `statetui: error: ...`, naming one of `names`
      (the file or the key); `error_line` forces the check on or off;
    - warnings (`statetui: warning: ...`) only when allowed;
    - stdout and stderr hold no control character (newlines aside);
    - no secret appears anywhere."""
    problems = []
    expected = {codes} if isinstance(codes, int) else set(codes)
    if res.code not in expected:
        problems.append(f"exit {res.code}, expected {sorted(expected)}")
    if "Traceback" in res.err or "internal error" in res.err or "[harness]" in res.err:
        problems.append("traceback, internal error or hang")
    lines = res.err_lines
    errors = [ln for ln in lines if ln.startswith(ERROR_PREFIX)]
    warns = [ln for ln in lines if ln.startswith(WARNING_PREFIX)]
    others = [ln for ln in lines if ln not in errors and ln not in warns and not ln.startswith("report written to ")]
    wants_error = error_line if error_line is not None else res.code in (4, 5, 130) or (res.code == 2 and bool(names))
    if wants_error:
        if len(errors) != 1:
            problems.append(f"{len(errors)} error lines on stderr, expected 1")
        elif names and not any(n in errors[0] for n in names):
            problems.append(f"the error does not name any of {list(names)!r}: {errors[0]!r}")
    elif errors and error_line is False:
        problems.append(f"unexpected error line: {errors[0]!r}")
    if others:
        problems.append(f"stray stderr lines: {others[:2]!r}")
    if warns and not warnings:
        problems.append(f"unexpected warnings: {warns[:2]!r}")
    for stream, text in (("stdout", res.out), ("stderr", res.err)):
        bad = unsafe_chars(text)
        if bad:
            problems.append(f"control characters on {stream}: {bad[:5]}")
    for secret in secrets:
        if secret and (secret in res.out or secret in res.err):
            problems.append(f"secret {secret!r} shown")
    return problems


@dataclass
class Tally:
    """Case counts for RELIABILITY.md: by surface, and how each case was run."""

    by_surface: dict[str, int] = field(default_factory=dict)
    subprocess: int = 0
    in_process: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, surface: str, res: Result | None = None, n: int = 1) -> None:
        self.by_surface[surface] = self.by_surface.get(surface, 0) + n
        if res is not None:
            if res.how == "subprocess":
                self.subprocess += 1
            else:
                self.in_process += 1

    def fail(self, case: str, problems: list[str], res: Result | None = None) -> None:
        if problems:
            self.problems.append(f"{case}: {'; '.join(problems)}" + (f"\n{res}" if res is not None else ""))


def sample(items: list, every: int, seed: int) -> list:
    """A seeded, representative share (1 in `every`, spread over the whole list)."""
    import random

    rng = random.Random(seed)
    return [x for x in items if rng.randrange(every) == 0]


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- generated cases ----------------------------------------------------------------------

@dataclass
class Case:
    """One generated case: a command line and environment, and how to judge the result."""

    name: str
    argv: list[str]
    env: dict[str, str]
    check: "object"  # Callable[[Result], list[str]]
    root: Path


SUBPROCESS_EVERY = 25  # a representative share also runs as the real command


def run_cases(surface: str, cases: list[Case], tally: Tally, seed: int, *, subprocess_every: int = SUBPROCESS_EVERY,
              workers: int = 2) -> None:
    """Every case in-process; a seeded 1-in-`subprocess_every` share again as a real subprocess
    (two at a time: CI has 2 cores)."""
    from concurrent.futures import ThreadPoolExecutor

    for case in cases:
        res = cli(case.argv, case.root, case.env)
        tally.count(surface, res)
        tally.fail(f"{surface}: {case.name}", case.check(res), res)
    share = sample(cases, subprocess_every, seed) if subprocess_every else []

    def real(case: Case) -> tuple[Case, Result]:
        return case, cli_proc(case.argv, case.root, case.env)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for case, res in pool.map(real, share):
            tally.count(surface, res)
            tally.fail(f"{surface} (subprocess): {case.name}", case.check(res), res)
