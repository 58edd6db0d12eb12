"""`statetui` with no verb: the console."""

from __future__ import annotations


def run_console(args, config) -> int:
    from statetui.tui.app import run_app

    return run_app(config)
