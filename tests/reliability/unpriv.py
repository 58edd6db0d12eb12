"""Run a function of a test module as an unprivileged user (`nobody` when root).

The interpreter and its packages may live where that user cannot read (here: under /root,
mode 0700), so the child starts as root, runs the whole function once in a scratch folder
(every module and lazy import gets loaded), then drops privileges for good (setgroups,
setresgid, setresuid) and runs it for real. From then on the kernel checks every access
as that user. When the suite runs unprivileged already, it simply runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from statetui.testing.asuser import User, unprivileged

REPO = str(Path(__file__).resolve().parents[2])

_SCRIPT = r"""
import importlib, json, os, shutil, sys, tempfile
sys.path.insert(0, {repo!r})
fn = getattr(importlib.import_module({module!r}), {func!r})
if os.geteuid() == 0:
    warm = tempfile.mkdtemp(prefix="statetui-warm-")
    try:
        fn(warm)
    finally:
        shutil.rmtree(warm, ignore_errors=True)
    os.setgroups([])
    os.setresgid({gid}, {gid}, {gid})
    os.setresuid({uid}, {uid}, {uid})
result = fn(sys.argv[1])
print(json.dumps({{"euid": os.geteuid(), "result": result}}, default=str))
"""


def run_unprivileged(module: str, func: str, folder: str, *, user: User | None = None, timeout: float = 300) -> Any:
    """`module.func(folder)` as `user`; returns what it returned (JSON round-tripped).
    `folder` must be writable by that user."""
    user = user or unprivileged()
    script = _SCRIPT.format(repo=REPO, module=module, func=func, uid=user.uid, gid=user.gid)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    env.update(HOME="/tmp", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", script, folder], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd="/")
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"{module}.{func} as {user.name} failed (exit {proc.returncode}): {proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["euid"] != user.uid:
        raise AssertionError(f"{module}.{func} ran as uid {out['euid']}, not {user.name} ({user.uid})")
    return out["result"]
