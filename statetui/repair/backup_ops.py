"""backup-now and prune-backups: they touch only the backups folder, never the state."""

from __future__ import annotations

from statetui.core.config import Config
from statetui.repair.base import Outcome, Plan, Repair, register
from statetui.repair.restore import store_for


def plan_backup(config: Config) -> Plan:
    store = store_for(config)
    return Plan("backup-now", "Take a backup now", f"snapshot {store.path} into {store.backups.dir}",
                writes_state=False, verify_checks=["backups"])


def apply_backup(p: Plan, config: Config) -> Outcome:
    info = store_for(config).backup(reason="manual")
    return Outcome(True, f"backup written: {info.name}", backup=info.name, undo=f"rm {info.path}")


def plan_prune(config: Config) -> Plan:
    store = store_for(config)
    doomed = store.backups.prune(config.retention_days, config.keep_min, dry_run=True)
    p = Plan("prune-backups", "Prune old backups",
             f"remove {len(doomed)} statetui backup(s) older than {config.retention_days} days, keeping the newest {config.keep_min}",
             writes_state=False, verify_checks=["backups"])
    p.changes = [(b.name, "kept", "removed") for b in doomed]
    p.nothing_to_do = not doomed
    return p


def apply_prune(p: Plan, config: Config) -> Outcome:
    removed = store_for(config).backups.prune(config.retention_days, config.keep_min)
    return Outcome(True, f"removed {len(removed)} backup(s)", details={"removed": [b.name for b in removed]})


register(Repair("backup-now", "take a backup now", plan_backup, apply_backup, needs_bot_stopped=False))
register(Repair("prune-backups", "prune backups", plan_prune, apply_prune, needs_bot_stopped=False))
