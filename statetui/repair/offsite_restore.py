"""restore-offsite: put an off-site backup back, through the store, like a local restore.

The plan downloads the object to a temp folder, verifies it (size, sha256, loads as a state)
and shows the diff against the current file; it binds to the object's name and sha256. Apply
downloads it again, refuses it unless it is the very object planned, and hands it to the
store's restore (the current file is backed up first; the journal names the object's URL,
redacted). The temp folder is removed either way: nothing but the store writes locally."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from statetui.core.config import Config
from statetui.core.model import changed_fields
from statetui.core.offsite import OffsiteStore
from statetui.core.offsite_config import offsite_settings
from statetui.core.offsite_errors import OffsiteError
from statetui.repair.base import Outcome, Plan, Precondition, Repair, register
from statetui.repair.restore import current_document, store_for


def _remote(config: Config, store) -> OffsiteStore:
    return OffsiteStore(offsite_settings(config), store.path.stem)


def plan(config: Config, backup: str = "latest") -> Plan:
    store = store_for(config)
    remote = _remote(config, store)
    chosen = remote.resolve(backup)
    data = remote.download(chosen)  # verified, or OffsiteObjectRefused (one line, exit 4)
    url = remote.settings.object_url(chosen.name)
    taken = datetime.fromtimestamp(chosen.created, timezone.utc).isoformat()
    p = Plan("restore-offsite", "Restore an off-site backup", f"restore {chosen.name} (taken {taken}) from {url}",
             verify_checks=["state-file", "peak-drawdown"], params={"backup": backup})
    digest = hashlib.sha256(data).hexdigest()
    p.evidence = {"object": url, "sha256": digest, "size": len(data), "resolved": chosen.name}
    p.preconditions.append(Precondition(True, f"downloaded and verified: sha256 {digest[:16]}, {len(data)} bytes, loads as a state"))
    new = store.parse(data, url).to_document()
    old, why = current_document(store)
    if why:
        p.preconditions.append(Precondition(True, f"current file is unusable: {why}"))
    p.changes = [(k, a, b) for k, (a, b) in changed_fields(old, new).items()]
    p.nothing_to_do = old is not None and not p.changes
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    remote = _remote(config, store)
    chosen = remote.resolve(p.evidence["resolved"])
    with remote.fetched(chosen) as info:
        if info.sha256 != p.evidence["sha256"]:
            raise OffsiteError(f"{p.evidence['object']}: the object changed since the plan was made "
                               f"(planned {p.evidence['sha256'][:16]}, now {(info.sha256 or '')[:16]}); review the new plan")
        result = store.restore(info, reason=f"restore off-site {p.evidence['object']}")
    undo = result.pre_backup.name if result.pre_backup else None
    return Outcome(
        True,
        f"restored {chosen.name} from off-site (generation {result.save.generation})",
        backup=undo,
        undo=f"statetui restore {undo}" if undo else None,
        details={"generation": result.save.generation, "object": p.evidence["object"]},
    )


register(Repair("restore-offsite", "restore an off-site backup", plan, apply, params=("backup",)))
