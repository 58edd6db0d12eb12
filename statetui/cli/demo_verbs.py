"""demo: the built-in demo incident (see statetui.demo)."""

from __future__ import annotations

import argparse


def configure_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="keep the sandbox in DIR instead of a temporary folder")
    p.add_argument("--incident", choices=("jan16",), help="trigger the scripted incident at start")
    p.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)


def run_demo(args, config) -> int:
    from statetui.demo.run import run_demo as run

    return run(args)
