"""Read the state, and run the startup audit, before Textual is imported, on the other core.

Importing Textual (~170 ms) and the core's store, roles and checks are all CPU work,
and threads take turns on the GIL: in a thread they cost their sum. So run_app forks
a short-lived helper process, before any thread exists, that imports the core, gathers
the dashboard's first views and then runs the local checks, while this process imports
Textual; views come back pickled over a pipe as plain dataclasses (statetui.tui.data),
checks as their JSON dicts, so this process imports neither the checks nor pydantic to
show them (the console stays small: its budget is 50 MB). A 10 MB state is parsed in the
helper, not here. The helper dies with the console (PR_SET_PDEATHSIG), and runs the checks
at a lower priority than the console (os.nice): they are needed after the first paint.

Where fork is unavailable or fails, a thread does the same (slower, same result). The
app falls back to reading in-process if the helper dies or says nothing. No Textual."""

from __future__ import annotations

import os
import pickle
import signal
import threading
from concurrent.futures import Future
from typing import Any, Callable

from statetui.core.config import Config

KINDS = ("state", "lock", "history", "backups", "audit")  # the order the dashboard needs them
AUDIT_NICENESS = 10  # the helper's startup checks yield the CPU to the console's own start


def startup_check_ids(config: Config) -> list[str]:
    """The local checks, and the chain check when it has nothing to read (it says so)."""
    from statetui.audit.checks import MODULES, NETWORK

    return [i for i in MODULES if i not in NETWORK or not config.chain_configured]


def startup_audit(config: Config) -> list[dict[str, Any]]:
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import run_audit

    # The console's own check runs never touch the network: the chain is read on c only.
    return [r.to_dict() for r in run_audit(AuditContext(config, network=False), startup_check_ids(config))]


def _jobs() -> list[tuple[str, Callable[[Config], Any]]]:
    from statetui.tui import data

    return [("state", data.gather_state), ("lock", data.gather_lock),
            ("history", data.gather_history), ("backups", data.gather_backups), ("audit", startup_audit)]


def start(config: Config) -> dict[str, Future]:
    """kind -> Future of its first view ("audit": the startup checks' results, as dicts)."""
    futures: dict[str, Future] = {kind: Future() for kind in KINDS}
    if hasattr(os, "fork") and threading.active_count() == 1:
        try:
            _fork(config, futures)
            return futures
        except OSError:
            pass
    _thread(config, futures)
    return futures


def _thread(config: Config, futures: dict[str, Future]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def run() -> None:
        for kind, fn in _jobs():
            try:
                futures[kind].set_result(fn(config))
            except BaseException as exc:  # the app reads again in-process
                futures[kind].set_exception(exc)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statetui-prefetch")
    pool.submit(run)
    pool.shutdown(wait=False)


def _fork(config: Config, futures: dict[str, Future]) -> None:
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the helper: gather, send, exit at once (no cleanup of the parent's state)
        code = 0
        try:
            from statetui.tui.children import die_with_parent

            die_with_parent(signal.SIGKILL)
            if os.getppid() != parent:  # the console died before the line above: no one to answer
                os._exit(0)
            os.close(r)
            with os.fdopen(w, "wb") as out:
                for kind, fn in _jobs():
                    if kind == "audit":
                        # The checks are needed after the first paint; the console is still
                        # importing Textual: on a busy machine, it goes first.
                        _lower_priority()
                    try:
                        item = (kind, True, fn(config))
                    except BaseException as exc:
                        item = (kind, False, f"{type(exc).__name__}: {exc}")
                    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)

    def read() -> None:
        try:
            with os.fdopen(r, "rb") as src:
                while True:
                    try:
                        kind, ok, value = pickle.load(src)
                    except EOFError:
                        break
                    if ok:
                        futures[kind].set_result(value)
                    else:
                        futures[kind].set_exception(RuntimeError(f"prefetch helper: {value}"))
        except Exception as exc:  # a broken pipe or an unpicklable view: read in-process instead
            for f in futures.values():
                if not f.done():
                    f.set_exception(RuntimeError(f"prefetch helper: {exc}"))
        finally:
            for f in futures.values():
                if not f.done():
                    f.set_exception(RuntimeError("prefetch helper ended without an answer"))
            os.waitpid(pid, 0)  # reap it: no zombie for the life of the console

    threading.Thread(target=read, name="statetui-prefetch", daemon=True).start()


def _lower_priority() -> None:
    try:
        os.nice(AUDIT_NICENESS)
    except OSError:  # not permitted here: the same priority as the console, as before
        pass
