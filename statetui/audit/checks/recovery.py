"""recovery: exercise recovery for real, in a temporary sandbox copy, never on the live file.

Scenarios (the reference report's, measured instead of guessed): the file deleted, invalid
JSON, a partial write (a truncated copy), and the store's fallback to the newest backup."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from statetui.audit.base import AuditContext, Report, register
from statetui.audit.checks.state_file import backups_summary, sandbox_root, store_for
from statetui.core.errors import StateLoadError, StatetuiError
from statetui.core.fsio import read_regular
from statetui.core.store import StateStore

# The fallback takes the newest backup that verifies; a second one shows it skips a bad one.
MAX_BACKUPS_COPIED = 2


@register("recovery", "State Recovery Scenarios")
def check(ctx: AuditContext, report: Report) -> None:
    live = store_for(ctx)
    good = backups_summary(ctx, live).newest_good  # the newest MAX_BACKUPS_COPIED (or more) that verify
    seed = _seed(live, good)
    if seed is None:
        report.warn("nothing to exercise: no readable state file and no backup that verifies")
        report.recommend("Create the state (statetui init) and take a backup (statetui backup)")
        report.repair("backup-now")
        return
    if ctx.config.read_only:  # read-only writes nothing, not even a sandbox
        report.skip("read-only mode: the damage scenarios need a scratch sandbox, and nothing is written")
        return
    with tempfile.TemporaryDirectory(prefix="statetui-recovery-", dir=sandbox_root()) as tmp:
        sandbox = Path(tmp)
        results = {}
        for name, damage in (
            ("state file deleted", lambda p: p.unlink()),
            ("invalid JSON", lambda p: p.write_bytes(b"{\"current_balance\": 12,, oops")),
            ("partial write (truncated copy)", lambda p: p.write_bytes(seed[: max(1, len(seed) // 2)])),
        ):
            results[name] = _scenario(sandbox / name.split()[0], seed, good, damage)
        for i, (name, (ok, text)) in enumerate(results.items(), 1):
            if ok:
                report.ok(f"Scenario {i} ({name}): {text}")
            else:
                report.warn(f"Scenario {i} ({name}): {text}")
    if good:
        report.ok(f"Scenario 4 (fallback to backups): newest good backup {good[0].name} loads and validates")
    else:
        report.warn("Scenario 4 (fallback to backups): no backup verifies; a corrupt or lost file would halt the bot "
                    "until the state is rebuilt by hand")
        report.recommend("Take backups (statetui backup, and a daily timer: see examples/)")
        report.repair("backup-now")
    report.info("Scenario 5 (stale state after a crash, positions settled): measured by chain-reconcile, not here")
    recovered = sum(ok for ok, _ in results.values())
    report.summary = (f"{recovered}/{len(results)} damage scenarios detected and recovered from backup"
                      + ("" if good else "; no backup to fall back on"))
    if any(not ok for ok, _ in results.values()):
        report.recommend("Keep at least one verified backup so the store can recover (statetui.store load(recover=True))")


def _seed(live: StateStore, good: list) -> bytes | None:
    try:
        raw = live.read_bytes()
        live.parse(raw)
        return raw
    except StateLoadError:
        pass
    for b in good:
        try:
            return read_regular(b.path, "backup")
        except OSError:
            continue
    return None


def _scenario(folder: Path, seed: bytes, good: list, damage) -> tuple[bool, str]:
    """Set up a sandbox (state + copies of the good backups), damage it, then load and recover."""
    folder.mkdir()
    state = folder / "trading_state.json"
    state.write_bytes(seed)
    backups = folder / "backups"
    backups.mkdir()
    for b in good[:MAX_BACKUPS_COPIED]:
        shutil.copy2(b.path, backups / b.name)
    damage(state)
    store = StateStore(state, backup_dir=backups, auto_backup_interval=None, lock_timeout=5)
    try:
        store.load()
        return False, "damaged file loaded without an error: the damage went undetected"
    except StateLoadError as exc:
        detected = f"detected as {exc.kind} ({type(exc).__name__})"
    try:
        store.load(recover=True)
    except StatetuiError as exc:
        return False, f"{detected}; recovery refused: {str(exc).split(';')[-1].strip()} (never silent defaults)"
    rec = store.last_recovery
    kept = f", bad file kept as {rec.quarantined.name}" if rec and rec.quarantined and rec.quarantined.exists() else ""
    return True, f"{detected}; recovered from backup {rec.backup.name if rec and rec.backup else '?'}{kept}"
