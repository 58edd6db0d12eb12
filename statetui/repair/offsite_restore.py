"""restore-offsite: put an off-site backup back, through the store, like a local restore.

The plan downloads the object to a temp folder, verifies it (size, sha256, loads as a state)
and shows the diff against the current file; it binds to the object's name and sha256. Apply
downloads it again, refuses it unless it is the very object planned, and hands it to the
store's restore (the current file is kept first: a good one as a pre-restore backup, a damaged
one as quarantine; the journal names the object's URL, redacted). The temp folder is removed
either way: nothing but the store writes locally."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone

from statetui.core.config import Config
from statetui.core.model import changed_fields
from statetui.core.offsite import OffsiteStore
from statetui.core.offsite_config import offsite_settings
from statetui.core.offsite_errors import OffsiteError
from statetui.repair.base import Outcome, Plan, Repair, register
from statetui.repair.restore import current_document, store_for


def _remote(config: Config, store) -> OffsiteStore:
    return OffsiteStore(offsite_settings(config), store.path.stem)


def plan(config: Config, backup: str = "latest", sha256: str | None = None) -> Plan:
    store = store_for(config)
    remote = _remote(config, store)
    chosen = remote.resolve(backup)  # unreachable, no bucket, bad credentials: one line, exit 4
    data = remote.download(chosen)  # verified, or refused with one line (tampered, truncated, not a state)
    url = remote.settings.object_url(chosen.name)
    digest = hashlib.sha256(data).hexdigest()
    taken = datetime.fromtimestamp(chosen.created, timezone.utc).isoformat()
    p = Plan("restore-offsite", "Restore an off-site backup", f"restore {chosen.name} (taken {taken}) from {url}",
             verify_checks=["state-file", "peak-drawdown"])
    p.params = {"backup": chosen.name, "sha256": digest}  # `latest` is pinned to the object it named
    p.evidence = {"object": url, "sha256": digest, "size": len(data), "binds": f"{url}@{digest}"}
    if sha256 is not None and digest != sha256:
        p.refuse(f"{url}: the object changed since the plan was made (sha256 {digest[:16]}, planned {sha256[:16]})", code=4)
        return p
    p.require(True, f"downloaded and verified: sha256 {digest[:16]}, {len(data)} bytes, loads as a state")
    old, why = current_document(store)
    if why and not os.path.lexists(store.path):
        p.notes.append(f"there is no state file at {store.path}: the restore creates it")
    elif why:
        p.notes.append(f"the current file is unusable ({why}); it is kept as quarantine, not as a backup")
    new = store.parse(data, url).to_document()
    p.changes = [(k, a, b) for k, (a, b) in changed_fields(old, new).items()]
    p.nothing_to_do = old is not None and not p.changes
    return p


def apply(p: Plan, config: Config) -> Outcome:
    store = store_for(config)
    remote = _remote(config, store)
    url, planned = p.evidence["object"], p.params["sha256"]
    with remote.fetched(remote.resolve(p.params["backup"])) as info:
        if info.sha256 != planned:
            raise OffsiteError(f"{url}: the object changed since the plan was made (sha256 {(info.sha256 or '')[:16]}, "
                               f"planned {planned[:16]}); nothing written")
        result = store.restore(info, reason=f"restore off-site {url}", expect_sha256=planned)
    kept = result.pre_backup or result.quarantined
    undo = kept.name if kept is not None else None
    return Outcome(
        True,
        f"restored {result.restored.name} from off-site (generation {result.save.generation})"
        + (f"; the damaged file is kept as {result.quarantined.name}" if result.quarantined else ""),
        backup=undo,
        undo=f"statetui restore {undo}" if undo else None,
        details={"generation": result.save.generation, "object": url},
    )


register(Repair("restore-offsite", "restore an off-site backup", plan, apply, params=("backup", "sha256")))
