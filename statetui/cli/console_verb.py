"""`statetui` with no verb: the console (the fleet screen first when several bots are
configured and no --bot names one)."""

from __future__ import annotations


def run_console(args, config) -> int:
    from statetui.tui.app import run_app

    return run_app(config, fleet=getattr(args, "fleet", None), bot=getattr(args, "bot", None))
