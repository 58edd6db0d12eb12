"""demo: the built-in demo incident (see statetui.demo)."""

from __future__ import annotations

import argparse


def configure_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="keep the sandbox in DIR instead of a temporary folder")
    p.add_argument("--incident", choices=("jan16", "corrupt", "stale-lock", "mismatch", "none"), default="jan16",
                   help="the incident the simulated bot stages after its first trades (default jan16, the false "
                        "peak of the reference audit; none: a calm bot; D in the console stages any of them)")
    # Hidden: run without the console for SECONDS (tests, scripted recordings).
    p.add_argument("--headless", type=float, nargs="?", const=30.0, metavar="SECONDS", help=argparse.SUPPRESS)
    # Hidden: which local EVM to use (default: py-evm when installed, else anvil).
    p.add_argument("--chain", choices=("auto", "py-evm", "anvil"), default="auto", help=argparse.SUPPRESS)


def run_demo(args, config) -> int:
    from statetui.demo.run import run_demo as run

    if config.read_only:  # the demo is a sandbox a simulated bot writes to: read-only writes nothing
        from statetui.core.errors import ReadOnlyError

        raise ReadOnlyError("read-only mode: the demo writes a sandbox and runs a bot in it; run it without --read-only")

    return run(args)
