"""Run a snippet of Python as an unprivileged user, for permission tests.

CI runs as root, where permission checks never fail, so these tests run their code as
`nobody`. setpriv/runuser cannot be used here: the interpreter and its packages live
under /root (mode 0700), which nobody cannot even traverse. So the child starts as root,
imports statetui and runs one full load/save/backup/CLI cycle on a scratch state (every
lazy import done), then drops to the user for good (setgroups, setresgid, setresuid)
and runs the snippet. From there on the kernel checks every access as that user.

When the tests already run unprivileged, the snippet runs as the current user."""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int


def unprivileged() -> User:
    """`nobody`/`nogroup` when root; the current user otherwise."""
    if os.geteuid() != 0:
        return User(pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid())
    pw = pwd.getpwnam("nobody")
    for group in ("nogroup", "nobody"):
        try:
            return User("nobody", pw.pw_uid, grp.getgrnam(group).gr_gid)
        except KeyError:
            continue
    return User("nobody", pw.pw_uid, pw.pw_gid)


_PRELUDE = r"""
import contextlib, io, json, os, sys, tempfile
sys.path.insert(0, {repo!r})
from statetui.core.store import StateStore
from statetui.core.errors import StatetuiError
import statetui.cli

def _warm():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trading_state.json")
        store = StateStore(path)
        store.init({{"current_balance": 1.0, "total_trades": 0}})
        state = store.load()
        state.total_trades = 1
        store.save(state, reason="warm", backup=True)
        store.backups.list(verify=True)
        store.status()
        with contextlib.redirect_stdout(io.StringIO()):
            statetui.cli.main(["show", "--state", path])
            statetui.cli.main(["show", "--json", "--state", path])

_warm()
{prepare}
if os.geteuid() == 0:
    os.setgroups([])
    os.setresgid({gid}, {gid}, {gid})
    os.setresuid({uid}, {uid}, {uid})

def outcome(fn):
    # The snippet's result as JSON: a value, or the typed error, or a raw exception (a finding).
    try:
        return {{"ok": fn()}}
    except StatetuiError as exc:
        return {{"error": type(exc).__name__, "message": str(exc)}}
    except BaseException as exc:
        return {{"raw": type(exc).__name__, "message": str(exc)}}
"""


def run_as(user: User, code: str, *args: str, timeout: float = 60, prepare: str = "") -> subprocess.CompletedProcess:
    """Run `code` (with `outcome()` and StateStore defined, sys.argv[1:] = args) as `user`.
    `prepare` runs first, still as root: imports the snippet needs beyond the warm-up cycle
    (the user cannot read the interpreter's own library)."""
    script = _PRELUDE.format(repo=REPO, uid=user.uid, gid=user.gid, prepare=prepare) + "\n" + code
    env = {**os.environ, "HOME": tempfile.gettempdir(), "PYTHONDONTWRITEBYTECODE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("STATETUI_")}
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd="/")


def run_json(user: User, code: str, *args: str, prepare: str = "") -> Any:
    """run_as, then the JSON the snippet printed last."""
    proc = run_as(user, code, *args, prepare=prepare)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"snippet failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
