"""restore-backup: put a verified backup back (the current file is kept first).

The plan resolves the backup once, to a path and a sha256, and binds to them: apply
re-reads that very file and writes those very bytes, or refuses. `latest` is pinned to
the backup it named when the plan was made; a file outside the backups and state folders
is accepted only by an explicit path, verified the same way."""

from __future__ import annotations

from statetui.core.config import Config
from statetui.core.errors import BackupError, StateLoadError
from statetui.core.model import changed_fields
from statetui.core.store import StateStore
from statetui.repair.base import Outcome, Plan, Repair, register


def store_for(config: Config) -> StateStore:
    return StateStore.for_config(config, auto_backup_interval=config.auto_backup_interval)


def current_document(store: StateStore) -> tuple[dict | None, str | None]:
    """The current state as a dict, or None with the reason it cannot be read."""
    try:
        return store.load().to_document(), None
    except StateLoadError as exc:
        return None, str(exc)


def plan(config: Config, backup: str = "latest", sha256: str | None = None) -> Plan:
    store = store_for(config)
    p = Plan("restore-backup", "Restore a backup", f"restore {backup}", verify_checks=["state-file", "peak-drawdown"])
    try:
        info = store.backups.resolve(backup)
    except BackupError as exc:
        p.refuse(str(exc), code=4)
        return p
    store.backups.verify(info)
    pinned = str(info.path) if info.outside else info.name
    p.params = {"backup": pinned, "sha256": info.sha256}
    p.summary = f"restore {pinned} (taken {info.to_dict()['created']})"
    p.evidence = {"backup": str(info.path), "sha256": info.sha256, "checksum": info.checksum, "size": info.size,
                  "binds": f"{info.path}@{info.sha256}"}
    if sha256 is not None and info.sha256 != sha256:
        p.refuse(f"{info.path}: its content changed since the plan was made (sha256 {str(info.sha256)[:16]}, "
                 f"planned {sha256[:16]})", code=4)
        return p
    if info.kind == "quarantine":
        p.require(True, f"{info.name} is a damaged state kept as quarantine: it is put back exactly as it was")
        p.notes.append("the restored file will not load: this undoes a restore made over a damaged file "
                       "(nothing to verify)")
        p.verify_checks = []
    elif not p.require(info.ok, f"backup verifies (checksum {info.checksum})" if info.ok else
                       f"backup does not verify: {info.error or info.checksum}", code=4):
        return p
    old, why = current_document(store)
    if why:
        p.notes.append(f"the current file is unusable ({why}); it is kept as quarantine, not as a backup")
    if info.kind == "quarantine":
        return p
    new = store.parse(store.backups.read(info), str(info.path)).to_document()
    p.changes = [(k, a, b) for k, (a, b) in changed_fields(old, new).items()]
    p.nothing_to_do = old is not None and not p.changes
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    ref = p.params["backup"]
    result = store.restore(ref, reason=f"repair restore-backup {ref}", expect_sha256=p.params.get("sha256"))
    if result.pre_backup is not None:
        undo_ref = result.pre_backup.name
    elif result.quarantined is not None:
        undo_ref = result.quarantined.name
    else:
        undo_ref = None
    return Outcome(
        True,
        f"restored {result.restored.name} (generation {result.save.generation})"
        + (f"; the damaged file is kept as {result.quarantined.name}" if result.quarantined else ""),
        backup=undo_ref,
        undo=f"statetui restore {undo_ref}" if undo_ref else None,
        details={"generation": result.save.generation},
    )


register(Repair("restore-backup", "restore a backup", plan, apply, params=("backup", "sha256")))
