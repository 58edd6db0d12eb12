"""restore-backup: put a verified backup back (the current file is backed up first)."""

from __future__ import annotations

from statetui.core.config import Config
from statetui.core.errors import StateLoadError
from statetui.core.model import changed_fields
from statetui.core.store import StateStore
from statetui.repair.base import Outcome, Plan, Precondition, Repair, register


def store_for(config: Config) -> StateStore:
    return StateStore(config.state, backup_dir=config.backup_dir, auto_backup_interval=config.auto_backup_interval)


def current_document(store: StateStore) -> tuple[dict | None, str | None]:
    """The current state as a dict, or None with the reason it cannot be read."""
    try:
        return store.load().to_document(), None
    except StateLoadError as exc:
        return None, str(exc)


def plan(config: Config, backup: str = "latest") -> Plan:
    store = store_for(config)
    info = store.backups.resolve(backup)
    store.backups.verify(info)
    p = Plan("restore-backup", "Restore a backup", f"restore {info.name} (taken {info.to_dict()['created']})",
             verify_checks=["state-file", "peak-drawdown"], params={"backup": backup})
    p.evidence = {"backup": info.name, "checksum": info.checksum, "size": info.size}
    if not info.ok:
        p.preconditions.append(Precondition(False, f"backup does not verify: {info.error or info.checksum}"))
        p.blocked = f"{info.name} does not verify ({info.error or info.checksum})"
        return p
    p.preconditions.append(Precondition(True, f"backup verifies (checksum {info.checksum})"))
    new = store.parse(store.backups.read(info), str(info.path)).to_document()
    old, why = current_document(store)
    if why:
        p.preconditions.append(Precondition(True, f"current file is unusable: {why}"))
    p.changes = [(k, a, b) for k, (a, b) in changed_fields(old, new).items()]
    p.nothing_to_do = old is not None and not p.changes
    p.evidence["resolved"] = info.name
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    result = store.restore(p.evidence["resolved"], reason=f"repair restore-backup {p.evidence['resolved']}")
    undo = result.pre_backup.name if result.pre_backup else None
    return Outcome(
        True,
        f"restored {result.restored.name} (generation {result.save.generation})",
        backup=undo,
        undo=f"statetui restore {undo}" if undo else None,
        details={"generation": result.save.generation},
    )


register(Repair("restore-backup", "restore a backup", plan, apply, params=("backup",)))
