"""audit and config."""

from __future__ import annotations

import argparse
import os
import sys

from statetui.cli.exits import EXIT_OK
from statetui.cli.output import print_json
from statetui.core.errors import UsageError


def configure_audit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check", action="append", metavar="ID", help="run only this check (repeatable)")
    p.add_argument("--format", choices=("text", "md", "json"), help="output format (default text; --json = json)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--local", action="store_true",
                   help="never touch the network: skip the chain checks and off-site backups, and judge the peak "
                        "without the chain's history")
    p.add_argument("--offsite", action="store_true",
                   help="also test a restore from the newest off-site backup (downloaded and loaded in a sandbox)")
    p.add_argument("--include-tests", action="store_true",
                   help="the persistence-code review also reads the bot's test code (left out by default)")


def run_audit(args, config) -> int:
    # statetui uses no pydantic plugin; skip their discovery (a scan of every installed package).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from statetui.audit.base import AuditContext, overall
    from statetui.audit.engine import all_check_ids, run_audit as run
    from statetui.audit.report import dumps_json, to_markdown, to_text

    from statetui.core.outfile import check_target, write_output

    ids = args.check or all_check_ids(local_only=args.local)
    known = all_check_ids()
    unknown = [i for i in ids if i not in known]
    if unknown:  # before any check runs: a typo is a usage error, not a failed audit
        raise UsageError(f"unknown check {unknown[0]!r} (known: {', '.join(known)})")
    if args.output:  # refused now (read-only, a FIFO, a folder...) rather than after the checks
        check_target(args.output, "report", read_only=config.read_only)
    from statetui.cli.notifying import notify_targets

    urls = notify_targets(args, config)
    offsite = "skip" if args.local else ("restore-test" if args.offsite else "age")
    ctx = AuditContext(config, offsite=offsite, include_tests=args.include_tests, network=not args.local)
    progress = None
    if not args.local and config.chain_configured and sys.stderr.isatty():
        from statetui.cli.chain_verbs import StderrProgress

        progress = ctx.cache["chain_progress"] = StderrProgress()
    results = run(ctx, ids, fork=True)
    if progress is not None:
        progress.done()
    fmt = args.format or ("json" if args.json else "text")
    text = {"json": lambda: dumps_json(results, config), "md": lambda: to_markdown(results, config),
            "text": lambda: to_text(results)}[fmt]()
    if args.output:
        where = write_output(args.output, text if text.endswith("\n") else text + "\n", "report",
                             read_only=config.read_only)
        print(f"report written to {where} (overall {overall(results).value})", file=sys.stderr)
    else:
        print(text)
    _after_audit(args, config, ctx, results, urls)
    import statetui.cli

    statetui.cli.fast_exit = True  # every file is closed; a forked check's child was reaped
    return overall(results).exit_code


def _after_audit(args, config, ctx, results, urls) -> None:
    """Notify (notify_on decides), and remember a chain reading the audit took for metrics."""
    from statetui.cli.notifying import bot_name, send

    chain = next((r for r in results if r.id == "chain-reconcile" and "state_cash" in r.data), None)
    reading = ctx.cache.get("chain")
    if chain is not None and reading is not None and not config.read_only:
        from decimal import Decimal

        from statetui.core.chain_status import record
        from statetui.core.errors import StatetuiError

        try:
            record(config, Decimal(chain.data["state_cash"]), reading.cash, reading.block_number, "audit")
        except (StatetuiError, OSError) as exc:
            from statetui.cli.exits import warn

            warn(f"cannot remember the chain reading for metrics: {exc}")
    if urls:
        from statetui.core.notify import audit_outcome

        outcome = audit_outcome(bot_name(args), os.path.abspath(config.state), results)
        # An audit of some checks is compared with the last audit of the same checks only.
        outcome.key = "audit " + ",".join(r.id for r in results)
        send(args, config, outcome, urls)


def configure_config(p: argparse.ArgumentParser) -> None:
    pass


def run_config(args, config) -> int:
    from statetui.core.config import default_config_path

    data = config.public_dict()
    data["default_config_file"] = str(default_config_path())
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key:22} {value}")
    return EXIT_OK
