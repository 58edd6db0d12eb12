"""The headless CLI: `statetui <verb>`; with no verb, the console.

Verb modules are imported lazily so `statetui show` never pays for Textual or web3.
Common options are accepted before and after the verb."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import Callable, Sequence

from statetui.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, epilog, error, exit_code_of

# verb -> (module, help). Each module defines configure_<verb>(parser) and run_<verb>(args, config) -> int.
VERBS: dict[str, tuple[str, str]] = {
    "init": ("statetui.cli.state_verbs", "create a default state file (never overwrites one)"),
    "show": ("statetui.cli.state_verbs", "show the state and derived figures"),
    "backup": ("statetui.cli.backup_verbs", "take a checksummed backup now"),
    "backups": ("statetui.cli.backup_verbs", "list backups with size, age, checksum and preview"),
    "verify": ("statetui.cli.backup_verbs", "verify the state file and every backup's checksum"),
    "restore": ("statetui.cli.backup_verbs", "restore a backup (backs up the current file first)"),
    "prune": ("statetui.cli.backup_verbs", "prune old backups (keep N days and at least the newest K)"),
    "journal": ("statetui.cli.journal_verbs", "print the write journal (streamed, filtered); --verify, --prune"),
    "fields": ("statetui.cli.state_verbs", "show which of the bot's fields plays which role (cash, peak, halt ...)"),
    "audit": ("statetui.cli.audit_verbs", "run the audit checks; exit code 0/1/2/3 by worst status"),
    "config": ("statetui.cli.audit_verbs", "print the effective configuration"),
    "repair": ("statetui.cli.repair_verbs", "plan (and with --apply, run) a repair by id"),
    "reconcile": ("statetui.cli.repair_verbs", "reconcile the state to the on-chain balance"),
    "demo": ("statetui.cli.demo_verbs", "open the console on a built-in demo incident"),
    "chain-history": ("statetui.cli.chain_verbs", "the wallet's cash history, true peak, flows and unredeemed positions from the chain"),
    "metrics": ("statetui.cli.metrics_verbs", "Prometheus metrics of every bot: print, --textfile FILE or --listen HOST:PORT"),
    "bots": ("statetui.cli.fleet_verbs", "list the configured bots: name, state file, loads, halted, running"),
}


# Verbs that look at every configured bot unless --bot narrows them.
FLEET_VERBS = frozenset({"bots", "metrics"})


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (`statetui: error: ...`, exit 2): a cron
    mail or a journald line shows the cause, not a usage block."""

    def error(self, message: str):  # type: ignore[override]
        error(f"{message} (see: {self.prog} --help)", EXIT_USAGE)
        raise SystemExit(EXIT_USAGE)

    def _get_values(self, action, arg_strings):  # type: ignore[override]
        # `--balance=--`: argparse drops the "--" and hands the option an empty list, past its
        # type check. A one-value option's value is the string it was given, "--" included.
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            return self._get_value(action, "--")
        return super()._get_values(action, arg_strings)


def add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options every verb takes. On subparsers their defaults are SUPPRESS, so a value
    given before the verb is not overwritten by the subparser's default."""
    d = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("common options")
    g.add_argument("--state", metavar="PATH", default=d, help="state file (env STATETUI_STATE)")
    g.add_argument("--config", metavar="FILE", default=d, help="TOML config file (env STATETUI_CONFIG)")
    g.add_argument("--bot", metavar="NAME", default=d, help="which [[bots]] table of the config (default: the only one)")
    g.add_argument("--notify", action="append", metavar="URL", default=d,
                   help="audit, reconcile, backup: also notify this Apprise URL (repeatable; adds to notify = [...])")
    g.add_argument("--backup-dir", metavar="DIR", default=d, help="backups folder (env STATETUI_BACKUP_DIR)")
    g.add_argument("--bot-source", metavar="PATH", default=d, help="bot source file or folder (env STATETUI_BOT_SOURCE)")
    g.add_argument("--pid-file", metavar="PATH", default=d, help="bot pid lock file (env STATETUI_PID_FILE)")
    g.add_argument("--rpc-url", metavar="URL", default=d, help="Polygon RPC URL (env STATETUI_RPC_URL)")
    g.add_argument("--wallet", metavar="ADDR", default=d, help="funder address holding the cash (env STATETUI_WALLET)")
    g.add_argument("--chain-id", metavar="N", default=d, help="expected chain id, default 137 (env STATETUI_CHAIN_ID)")
    g.add_argument("--field", action="append", metavar="ROLE=PATH", default=d,
                   help="map a role to the bot's own field, e.g. cash=account.cash (repeatable; overrides [fields])")
    g.add_argument("--offsite-url", metavar="S3URL", default=d, help="off-site backups, s3://BUCKET/PREFIX (env STATETUI_OFFSITE)")
    g.add_argument("--read-only", action="store_true", default=d, help="never write anything")
    g.add_argument("--json", action="store_true", default=d if suppress else False, help="JSON output")


_FLAG_KEYS = ("state", "backup_dir", "bot_source", "pid_file", "rpc_url", "wallet", "chain_id", "offsite_url")


_VALUE_OPTIONS = {"--state", "--config", "--bot", "--notify", "--backup-dir", "--bot-source", "--pid-file", "--rpc-url", "--wallet", "--chain-id",
                  "--field", "--offsite-url"}


def _first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option or a common option's value."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(only: str | None = None, verbs: bool = True) -> argparse.ArgumentParser:
    """The whole parser; with `only`, the other verbs get just their name and help text
    (configuring every verb's options costs ~8 ms of a cron audit's start). verbs=False:
    the common options alone, for a command line with no verb nor any other word (the
    console; the 18 verbs' subparsers cost ~5 ms of its start)."""
    parser = Parser(
        prog="statetui",
        description="Store, audit, repair and watch a trading bot's JSON state file.",
        epilog="With no verb, opens the console. " + epilog(),
    )
    parser.add_argument("--version", action="version", version=f"statetui {_version()}")
    add_common(parser, suppress=False)
    if not verbs:
        parser.set_defaults(verb=None)
        return parser
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    for verb, (module, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        if only is not None and verb != only:
            continue
        add_common(p, suppress=True)
        configure = _verb_function(module, "configure", verb)
        if configure is not None:
            configure(p)
    return parser


def _version() -> str:
    from statetui import __version__

    return __version__


def _verb_function(module: str, prefix: str, verb: str) -> Callable | None:
    mod = importlib.import_module(module)
    return getattr(mod, f"{prefix}_{verb.replace('-', '_')}", None)


def fleet_from_args(args: argparse.Namespace):
    """Every configured bot, with the command line's settings applied (statetui.core.fleet)."""
    from statetui.core.fleet import load_fleet

    flags = {k: getattr(args, k) for k in _FLAG_KEYS if getattr(args, k, None) is not None}
    if getattr(args, "read_only", None):
        flags["read_only"] = True
    if getattr(args, "field", None):
        flags["fields"] = list(args.field)
    return load_fleet(flags, config_file=getattr(args, "config", None))


def config_from_args(args: argparse.Namespace):
    """The chosen bot's config (--bot NAME; default the only bot). `args.fleet` keeps every
    bot for the verbs that see them all (bots, metrics) and the console; those run with
    several bots and no --bot, on the first bot's config."""
    from statetui.core.fleet import select_bot

    args.fleet = fleet_from_args(args)
    name = getattr(args, "bot", None)
    if name is None and len(args.fleet) > 1 and (args.verb is None or args.verb in FLEET_VERBS):
        args.bot_name = args.fleet[0].name
        return args.fleet[0].config
    bot = select_bot(args.fleet, name)
    args.bot_name = bot.name
    return bot.config


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; the exit code (statetui.cli.exits). Never a traceback: a typed
    error is one line; anything else is one line saying so (STATETUI_DEBUG=1 shows it)."""
    from statetui.cli.output import terminal_safe_streams

    argv = sys.argv[1:] if argv is None else list(argv)
    word = _first_word(argv)
    verb = word if word in VERBS else None
    console = verb is None and not _asks_help(argv)
    collecting = gc.isenabled()
    if console:
        # The console's start allocates mostly what lives as long as it does (modules,
        # classes, widgets): the collector's passes over them are wasted work on the way to
        # the first paint. The app freezes them and collects again after its first frame
        # (statetui.tui.console); here only if it never got that far.
        gc.disable()
    try:
        with terminal_safe_streams(console=console):
            try:
                # No verb (the console, --help, --version): no verb's own options are needed.
                parser = build_parser(only=verb or "", verbs=word is not None or not console)
                args = parser.parse_args(argv)
            except SystemExit as exc:  # --help, --version, or a usage error already printed
                return exc.code if isinstance(exc.code, int) else EXIT_USAGE
            return _run(args)
    finally:
        if collecting:
            gc.enable()


def _asks_help(argv: Sequence[str]) -> bool:
    return any(a in ("-h", "--help", "--version") for a in argv)


def _run(args: argparse.Namespace) -> int:
    from statetui.core.errors import StatetuiError

    try:
        config = config_from_args(args)
        from statetui.core.limits import configure

        configure(config)
        if args.verb is None:
            from statetui.cli.console_verb import run_console

            return run_console(args, config)
        run = _verb_function(VERBS[args.verb][0], "run", args.verb)
        return run(args, config)
    except StatetuiError as exc:
        return error(str(exc), exit_code_of(exc))
    except KeyboardInterrupt:
        return error("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `statetui journal | head`: the reader went away; not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line, and the traceback only when asked for
        if os.environ.get("STATETUI_DEBUG") == "1":
            raise
        return error(f"internal error: {type(exc).__name__}: {exc} (STATETUI_DEBUG=1 for details; "
                     "please report it)", EXIT_ERROR)


# Set by a verb whose process has nothing left to close when it returns (the audit run by cron):
# the entry point then exits without the interpreter's teardown of every module (~20 ms).
fast_exit = False


def entry() -> None:
    """The `statetui` command and `python -m statetui`."""
    code = main()
    if fast_exit:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # `statetui audit | head`: the reader left; nothing to report
                pass
        os._exit(code)
    sys.exit(code)


__all__ = ["main", "entry", "build_parser", "add_common", "EXIT_USAGE"]
