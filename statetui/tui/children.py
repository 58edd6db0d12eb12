"""Every process the console (or the demo around it) starts, so that none outlives it.

- Each child is registered and reaped by a thread blocked in wait(): a stopped child
  never lingers as <defunct>.
- Children started from the main thread get PR_SET_PDEATHSIG (Linux): the kernel sends
  them SIGTERM if this process dies, even by SIGKILL. (The signal follows the thread that
  forked the child, so it is not set for children started from a worker thread; those are
  short-lived commands, killed by `terminate_all`.)
- Losing the terminal (SIGHUP, SIGTERM, the pty closing) calls `lost_terminal`: every
  child is stopped, the cleanup hooks run (the demo removes its sandbox), and the
  process leaves with os._exit: it never waits on a worker thread stuck in I/O.

No Textual import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 0.4  # SIGTERM, then SIGKILL: the whole exit must fit in a second
HOOK_BUDGET_S = 0.3

_lock = threading.RLock()  # re-entrant: the signal handler may run while the main thread holds it
_children: dict[int, subprocess.Popen] = {}
_hooks: list[Callable[[], None]] = []
_leaving = threading.Event()


_PRCTL: Callable | None | bool = False  # False: not looked up yet (ctypes is not on the first paint's path)


def _prctl() -> Callable | None:
    """libc's prctl, looked up once; call it before forking (never import in a fork's child)."""
    global _PRCTL
    if _PRCTL is False:
        _PRCTL = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # this process's own symbols: libc is among them
            except (OSError, AttributeError):
                pass
    return _PRCTL  # type: ignore[return-value]


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (call it in a
    child right after fork, or first thing in a helper program)."""
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, int(sig))


def _preexec() -> None:
    die_with_parent(signal.SIGTERM)


def spawn(argv: list[str], *, stdout=subprocess.DEVNULL, cwd=None, env=None, new_session: bool = True) -> subprocess.Popen:
    """Start a child that this process owns: reaped when it exits, stopped when we leave."""
    on_main = threading.current_thread() is threading.main_thread()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=new_session,
                            preexec_fn=_preexec if (on_main and _prctl() is not None) else None)
    adopt(proc)
    return proc


def run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    """A short command (systemctl ...), registered while it runs so a lost terminal stops it."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with _lock:
        _children[proc.pid] = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise
    finally:
        with _lock:
            _children.pop(proc.pid, None)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def adopt(proc: subprocess.Popen) -> None:
    """Register a child started elsewhere (the demo's bot and chain): reaped, stopped on exit."""
    with _lock:
        _children[proc.pid] = proc
    threading.Thread(target=_reap, args=(proc,), name=f"reap-{proc.pid}", daemon=True).start()


def register(proc: subprocess.Popen) -> None:
    """Register a child whose owner waits for it itself (no reaper thread)."""
    with _lock:
        _children[proc.pid] = proc


def unregister(proc: subprocess.Popen) -> None:
    with _lock:
        _children.pop(proc.pid, None)


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait()
    finally:
        with _lock:
            _children.pop(proc.pid, None)


def alive() -> list[int]:
    with _lock:
        return [pid for pid, p in _children.items() if p.poll() is None]


def terminate_all(grace: float = STOP_GRACE_S) -> list[int]:
    """SIGTERM every live child (its whole session when it leads one), SIGKILL what is left
    after `grace` seconds. Returns the pids that were running."""
    with _lock:
        procs = [p for p in _children.values() if p.returncode is None]
    running = []
    for p in procs:
        if _signal(p, signal.SIGTERM):
            running.append(p.pid)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(p, signal.SIGKILL)
            try:
                p.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
    return running


def _signal(p: subprocess.Popen, sig: int) -> bool:
    if p.poll() is not None:
        return False
    try:
        if os.getpgid(p.pid) == p.pid:  # it leads its own group (start_new_session): signal all of it
            os.killpg(p.pid, sig)
        else:
            os.kill(p.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def on_exit(hook: Callable[[], None]) -> None:
    """Run `hook` when the terminal is lost (after the children are stopped)."""
    _hooks.append(hook)


def remove_hook(hook: Callable[[], None]) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def lost_terminal(code: int) -> None:
    """Stop everything we started, run the cleanup hooks, and leave now."""
    if _leaving.is_set():
        return
    _leaving.set()
    # Whatever happens below, this process is gone within the second.
    threading.Timer(0.9, os._exit, (code,)).start()
    try:
        terminate_all()
    except Exception:
        pass
    deadline = time.monotonic() + HOOK_BUDGET_S
    for hook in list(_hooks):
        if time.monotonic() > deadline:
            break
        try:
            hook()
        except Exception:
            pass
    os._exit(code)


def install_signal_guard() -> dict[int, object]:
    """Until the console's event loop takes over: SIGHUP/SIGTERM end everything at once.
    Returns the previous handlers (restore them with `restore_signals`)."""
    previous = {}
    for sig in (signal.SIGHUP, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda signum, _frame: lost_terminal(128 + signum))
    return previous


def restore_signals(previous: dict[int, object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
