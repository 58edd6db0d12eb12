"""The --offsite side of backup, backups, restore and prune (backup_verbs hands over here).

Every verb reaches the bucket before it changes anything locally, so a network error, a
missing bucket, wrong credentials or a skewed clock is one line, exit 4, nothing changed."""

from __future__ import annotations

import time

from statetui.cli.exits import EXIT_OK, EXIT_REFUSED, error
from statetui.cli.output import age, print_json


def _remote(config):
    from statetui.core.offsite import OffsiteStore
    from statetui.core.offsite_config import offsite_settings
    from statetui.core.store import StateStore

    settings = offsite_settings(config)  # not configured or invalid: one line, exit 2
    store = StateStore(config.state, backup_dir=config.backup_dir, fields=config.fields)
    return store, OffsiteStore(settings, store.path.stem)


def run_push(args, config) -> int:
    """`backup --offsite`: take a backup, then upload every verified backup not yet there."""
    if config.read_only:
        return error("read-only mode: not writing a backup or uploading", EXIT_REFUSED)
    store, remote = _remote(config)
    remote.list()  # the bucket answers before anything is written here
    info = store.backup(reason=args.reason)
    report = remote.push(store.backups.list(verify=True), store.backups.read)
    if args.json:
        print_json({"offsite": remote.settings.public_dict(), "backup": info.to_dict(), **report.to_dict()})
        return EXIT_OK
    print(f"backup written: {info.path}")
    print(f"off-site {remote.settings.where()}: pushed {len(report.pushed) + len(report.replaced)}, "
          f"already there {len(report.present)}, skipped {len(report.skipped)}")
    for name in report.pushed:
        print(f"  pushed    {name}")
    for name in report.replaced:
        print(f"  replaced  {name} (the copy there had the wrong size)")
    for name, why in report.skipped:
        print(f"  skipped   {name}: {why}")
    return EXIT_OK


def run_list(args, config) -> int:
    """`backups --offsite`: this state's off-site backups, newest first, with age and size."""
    store, remote = _remote(config)
    backups = remote.list()
    now = time.time()
    settings = remote.settings
    if args.json:
        print_json({"offsite": settings.public_dict(), "backups": [b.to_dict(settings, now) for b in backups],
                    "other_objects": remote.others})
        return EXIT_OK
    if not backups:
        print(f"no off-site backups of {store.path.name} in {settings.where()} (push with: statetui backup --offsite)")
        return EXIT_OK
    print(f"off-site backups in {settings.where()}")
    print(f"{'AGE':>6}  {'UPLOADED':>8}  {'SIZE':>7}  {'SHA256':16}  NAME")
    for b in backups:
        uploaded = age(now - b.uploaded) if b.uploaded else "?"
        print(f"{age(b.age_s(now)):>6}  {uploaded:>8}  {b.size:>7}  {b.expected:16}  {b.name}")
    if remote.others:
        print(f"({remote.others} other object(s) under the prefix, not backups of {store.path.name}: left alone)")
    return EXIT_OK


def run_restore(args, config) -> int:
    """`restore --offsite NAME|latest`: the restore wizard on an off-site backup."""
    from statetui.cli.repair_verbs import plan_confirm_apply

    return plan_confirm_apply(args, config, "restore-offsite", {"backup": args.backup})


def run_prune(args, config) -> int:
    """`prune --offsite`: apply the off-site retention (older than retention_days, keeping keep_min)."""
    if config.read_only and not args.dry_run:
        return error("read-only mode: not pruning", EXIT_REFUSED)
    store, remote = _remote(config)
    keep_days = args.keep_days if args.keep_days is not None else remote.settings.retention_days
    keep_min = max(1, args.keep_min if args.keep_min is not None else remote.settings.keep_min)
    removed = remote.prune(keep_days, keep_min, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    if args.json:
        print_json({"offsite": remote.settings.public_dict(), verb.replace(" ", "_"): [r.name for r in removed],
                    "keep_days": keep_days, "keep_min": keep_min})
        return EXIT_OK
    print(f"{verb} {len(removed)} off-site backup(s) from {remote.settings.where()} "
          f"(older than {keep_days:g} days, keeping the newest {keep_min})")
    for r in removed:
        print(f"  {r.name}")
    return EXIT_OK
