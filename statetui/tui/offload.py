"""Work the console hands to a short-lived child process: audit checks and the chain read.

The console stays small (its budget is 50 MB resident): the checks (the AST review, the
recovery sandboxes, the backups' verification) and web3 load tens of megabytes that a
process never gives back. A child does the work and exits; its memory goes with it. A
check that hangs or crashes takes only its child down. The child is one of the console's
registered children (statetui.tui.children): a lost terminal stops it too.

    python -m statetui.tui.offload   (a pickled request on stdin, pickled answers on stdout)

No Textual import."""

from __future__ import annotations

import pickle
import subprocess
import sys
from decimal import Decimal
from typing import Any, Callable, Iterator

from statetui.core.config import Config


def _child(request: dict[str, Any]) -> subprocess.Popen:
    from statetui.tui import children

    proc = subprocess.Popen([sys.executable, "-m", "statetui.tui.offload"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    children.register(proc)
    assert proc.stdin is not None
    try:
        pickle.dump(request, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    return proc


def _answers(proc: subprocess.Popen) -> Iterator[Any]:
    from statetui.tui import children

    assert proc.stdout is not None
    try:
        while True:
            try:
                yield pickle.load(proc.stdout)
            except EOFError:
                return
            except (pickle.UnpicklingError, ValueError, OSError) as exc:
                raise RuntimeError(f"the check process sent garbage: {exc}") from None
    finally:
        proc.stdout.close()
        proc.wait()
        children.unregister(proc)


def run_checks(config: Config, ids: list[str], now: float, witness: Any = None) -> Iterator[Any]:
    """CheckResults, one per id in order, as each finishes in the child. `witness`: what the
    console's chain read found (the peak check cites it; the checks never read the network)."""
    proc = _child({"job": "checks", "config": config, "ids": list(ids), "now": now, "witness": witness})
    seen = []
    for answer in _answers(proc):
        seen.append(answer.id)
        yield answer
    missing = [i for i in ids if i not in seen]
    if missing:
        raise RuntimeError(f"the check process ended before {', '.join(missing)} (exit {proc.returncode})")


def read_chain(config: Config, cash: Decimal | None, tokens: list[int], now: float,
               progress: Callable[[float], None] | None = None):
    """statetui.tui.chain_data.ChainView, read in a child (web3 never loads in the console);
    `progress` gets the history scan's fraction done while it runs."""
    proc = _child({"job": "chain", "config": config, "cash": cash, "tokens": tokens, "now": now})
    view = None
    for answer in _answers(proc):
        if isinstance(answer, tuple) and answer[:1] == ("progress",):
            if progress is not None:
                progress(answer[1])
        else:
            view = answer
    if view is None:
        raise RuntimeError(f"the chain process ended without an answer (exit {proc.returncode})")
    return view


# --- the child ---------------------------------------------------------------------------

def _do_checks(req: dict[str, Any], send: Callable[[Any], None]) -> None:
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import run_audit

    # The console reads the chain only in its chain worker (c): checks get what it found.
    ctx = AuditContext(req["config"], now=req["now"], network=False)
    if req.get("witness") is not None:
        ctx.cache["chain_witness"] = req["witness"]
    for cid in req["ids"]:
        send(run_audit(ctx, [cid])[0])


def _do_chain(req: dict[str, Any], send: Callable[[Any], None]) -> None:
    import time

    from statetui.tui.chain_data import gather_chain

    shown = [0.0]

    def progress(p: Any) -> None:  # a long history scan: the console draws a bar, at most 5 times a second
        if time.monotonic() - shown[0] >= 0.2:
            shown[0] = time.monotonic()
            send(("progress", float(p.fraction)))

    send(gather_chain(req["config"], req["cash"], req["tokens"], req["now"], progress=progress))


def main() -> int:
    from statetui.tui.children import die_with_parent

    die_with_parent()
    req = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer

    def send(obj: Any) -> None:
        pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    {"checks": _do_checks, "chain": _do_chain}[req["job"]](req, send)
    return 0


if __name__ == "__main__":
    import os

    try:
        code = main()
    except BrokenPipeError:  # the console went away
        code = 1
    sys.stdout.flush()
    os._exit(code)  # nothing to tear down: skip the interpreter's module cleanup
