"""metrics: every bot's Prometheus metrics, printed, written for node_exporter's textfile
collector, or served on /metrics. A scrape never writes and never calls the chain."""

from __future__ import annotations

import argparse
import sys

from statetui.cli.exits import EXIT_OK
from statetui.core.errors import UsageError


def configure_metrics(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--textfile", metavar="FILE",
                       help="write the metrics to FILE atomically (node_exporter's textfile collector: *.prom)")
    where.add_argument("--listen", metavar="HOST:PORT",
                       help="serve /metrics on HOST:PORT until stopped (port 0: any free port, printed on stderr)")
    p.add_argument("--no-checks", action="store_true", help="leave out statetui_check_status (no audit checks run)")


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)")
    return host, int(port)


def run_metrics(args, config) -> int:
    from statetui.core.fleet import select_bot

    bots = [select_bot(args.fleet, args.bot)] if getattr(args, "bot", None) else list(args.fleet)
    checks = not args.no_checks
    if args.listen:
        from statetui.cli.metrics_server import serve

        return serve(bots, listen_address(args.listen), checks=checks)
    from statetui.core.metrics import render

    if args.textfile:
        from statetui.core.outfile import check_target, write_output

        check_target(args.textfile, "metrics", read_only=config.read_only)
        write_output(args.textfile, render(bots, checks=checks), "metrics", read_only=config.read_only)
        return EXIT_OK
    sys.stdout.write(render(bots, checks=checks))
    return EXIT_OK
