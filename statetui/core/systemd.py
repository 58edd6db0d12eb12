"""Ask systemd about a unit (read only): whether systemctl can be asked here at all, and
a unit's load/active state and main pid, for "may the bot be running?" and the console."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from statetui.core import procinfo

SYSTEMD_PROPERTIES = ("LoadState", "ActiveState", "SubState", "MainPID", "Restart", "FragmentPath")


def systemd_unavailable_reason() -> str | None:
    """None when systemctl can be asked; otherwise why not, in one line."""
    if shutil.which("systemctl") is None:
        return "systemd not available on this host (no systemctl)"
    if not procinfo.systemd_booted():
        return f"systemd not available on this host (not PID 1: {procinfo.SYSTEMD_RUN_DIR} missing)"
    return None


def systemd_status(unit: str, *, user: bool = False, timeout: float = 3.0) -> dict[str, Any] | None:
    """`systemctl show` for the unit; None when systemd is not available (see
    systemd_unavailable_reason). A failed query returns {"unit", "error"}."""
    if systemd_unavailable_reason() is not None:
        return None
    cmd = ["systemctl"] + (["--user"] if user else []) + [
        "show", unit, "--no-pager", "--property=" + ",".join(SYSTEMD_PROPERTIES)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"unit": unit, "error": f"systemctl show {unit} failed: {exc}"}
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        return {"unit": unit, "error": f"systemctl show {unit}: {err[0] if err else 'exit ' + str(proc.returncode)}"}
    out: dict[str, Any] = {"unit": unit}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in SYSTEMD_PROPERTIES:
            out[key] = int(value) if key == "MainPID" and value.isdigit() else value
    return out
