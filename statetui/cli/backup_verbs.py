"""backup, backups, verify, restore, prune."""

from __future__ import annotations

import argparse
import time

from statetui.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, error
from statetui.cli.output import age, non_negative_days, non_negative_int, print_json, store_for as _store


def _offsite_flag(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--offsite", action="store_true", help=help_text)


def _offsite(verb: str):
    from statetui.cli import offsite_verbs

    return getattr(offsite_verbs, f"run_{verb}")


def configure_backup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reason", default="manual", help="a word recorded in the backup's name (default manual)")
    _offsite_flag(p, "then upload every verified backup not yet off-site ([offsite] url)")


def run_backup(args, config) -> int:
    if config.read_only and not args.offsite:
        return error("read-only mode: not writing a backup; nothing was written", EXIT_REFUSED)
    import os

    from statetui.cli.notifying import bot_name, notify_targets, send
    from statetui.core.errors import StatetuiError
    from statetui.core.notify import OK, Outcome

    urls = notify_targets(args, config)
    outcome = Outcome("backup", bot_name(args), OK, state=os.path.abspath(config.state),
                      key="backup --offsite" if args.offsite else "backup")
    try:
        code = _offsite("push")(args, config) if args.offsite else _local_backup(args, config, outcome)
    except StatetuiError as exc:
        outcome.status, outcome.headline = "ERROR", str(exc)
        outcome.next_step = f"statetui --bot {outcome.bot} verify"
        send(args, config, outcome, urls)
        raise
    if args.offsite:
        outcome.headline = "off-site push done" if code == EXIT_OK else f"off-site push failed (exit {code})"
        outcome.status = OK if code == EXIT_OK else "ERROR"
        if code != EXIT_OK:
            outcome.next_step = f"statetui --bot {outcome.bot} backups --offsite"
    send(args, config, outcome, urls)
    return code


def _local_backup(args, config, outcome) -> int:
    info = _store(config).backup(reason=args.reason)
    outcome.headline = f"backup written: {info.name}"
    if args.json:
        print_json(info.to_dict())
    else:
        print(f"backup written: {info.path}")
    return EXIT_OK


def configure_backups(p: argparse.ArgumentParser) -> None:
    _offsite_flag(p, "list the off-site backups instead")


def run_backups(args, config) -> int:
    if args.offsite:
        return _offsite("list")(args, config)
    from statetui.core.money import fmt_money

    store = _store(config)
    infos = store.backups.list(verify=True)
    now = time.time()
    if args.json:
        print_json({"backup_dir": str(store.backups.dir), "backups": [b.to_dict(now) for b in infos]})
        return EXIT_OK
    if not infos:
        print(f"no backups in {store.backups.dir}")
        return EXIT_OK
    print(f"{'AGE':>6}  {'CHECKSUM':10} {'SIZE':>7}  {'CASH':>10} {'PEAK':>10}  NAME")
    for b in infos:
        cash = fmt_money(b.cash) if b.valid else ("damaged" if b.kind == "quarantine" else "invalid")
        print(f"{age(b.age_s(now)):>6}  {b.checksum:10} {b.size:>7}  {cash:>10} {fmt_money(b.peak) if b.valid else '':>10}  {b.name}")
    return EXIT_OK


def configure_verify(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="read every backup in full (default: the backups' index, "
                   "plus the newest N and a random sample read in full)")
    p.add_argument("--newest", type=non_negative_int, default=10, metavar="N", help="read the newest N in full (default 10)")
    p.add_argument("--sample", type=non_negative_int, default=10, metavar="K",
                   help="and a random sample of K others (default 10)")
    p.add_argument("--save-index", action="store_true",
                   help="write what was verified to backups/.statetui-index.json, which later listings read "
                        "instead of every backup (nothing else ever writes it)")


def run_verify(args, config) -> int:
    from statetui.core.errors import StateLoadError

    store = _store(config)
    problems: list[str] = []
    try:
        store.load()
        state_ok = "ok"
    except StateLoadError as exc:
        state_ok = "bad"
        problems.append(str(exc))
    infos = store.backups.list(verify=True, full=args.all, newest=args.newest, sample=args.sample, save_index=args.save_index)
    bad = [b for b in infos if b.bad]  # (a quarantine copy is evidence, never a bad backup)
    problems += [_named(b.path, b.error or f"checksum {b.checksum}") for b in bad]
    if args.json:
        print_json({"state": state_ok if state_ok == "ok" else problems[0], "backups": len(infos),
                    "bad_backups": [b.to_dict() for b in bad], "ok": not problems})
    else:
        print(f"state file: {state_ok}")
        kept = sum(1 for b in infos if b.kind == "quarantine")
        print(f"backups: {len(infos) - kept} found, {len(infos) - kept - len(bad)} verify, {len(bad)} bad"
              + (f"; {kept} damaged file(s) kept as quarantine" if kept else ""))
    for line in problems:  # errors go where errors go: one line each on stderr, naming the file
        error(line)
    return EXIT_OK if not problems else EXIT_ERROR


def _named(path, cause: str) -> str:
    """`<path>: <cause>`, without the path twice when the cause already starts with it."""
    text = str(cause)
    return text if text.startswith(str(path)) else f"{path}: {text}"


def configure_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("backup", help="backup name, unique prefix, path, or 'latest'")
    p.add_argument("--apply", action="store_true", default=True, help=argparse.SUPPRESS)
    p.add_argument("--plan", dest="apply", action="store_false", help="only show the plan")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _offsite_flag(p, "restore an off-site backup (NAME or latest): downloaded, verified, then restored the same way")


def run_restore(args, config) -> int:
    if args.offsite:
        return _offsite("restore")(args, config)
    from statetui.cli.repair_verbs import plan_confirm_apply

    return plan_confirm_apply(args, config, "restore-backup", {"backup": args.backup})


def configure_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep-days", type=non_negative_days, help="keep backups younger than this (default: config retention_days, 30)")
    p.add_argument("--keep-min", type=non_negative_int, help="always keep the newest N (default: config keep_min, 10)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed")
    _offsite_flag(p, "prune the off-site backups ([offsite] retention_days, keep_min)")


def run_prune(args, config) -> int:
    if args.offsite:
        return _offsite("prune")(args, config)
    if config.read_only and not args.dry_run:
        return error("read-only mode: not pruning; nothing was removed", EXIT_REFUSED)
    store = _store(config)
    keep_days = args.keep_days if args.keep_days is not None else config.retention_days
    keep_min = args.keep_min if args.keep_min is not None else config.keep_min
    removed = store.backups.prune(keep_days, keep_min, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    if args.json:
        print_json({verb.replace(" ", "_"): [b.name for b in removed]})
    else:
        print(f"{verb} {len(removed)} backup(s)")
        for b in removed:
            print(f"  {b.name}")
    return EXIT_OK
