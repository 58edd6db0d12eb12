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


def run_checks(config: Config, ids: list[str], now: float) -> Iterator[Any]:
    """CheckResults, one per id in order, as each finishes in the child."""
    proc = _child({"job": "checks", "config": config, "ids": list(ids), "now": now})
    seen = []
    for answer in _answers(proc):
        seen.append(answer.id)
        yield answer
    missing = [i for i in ids if i not in seen]
    if missing:
        raise RuntimeError(f"the check process ended before {', '.join(missing)} (exit {proc.returncode})")


def read_chain(config: Config, cash: Decimal | None, tokens: list[int], now: float):
    """statetui.tui.data.ChainView, read in a child (web3 never loads in the console)."""
    proc = _child({"job": "chain", "config": config, "cash": cash, "tokens": tokens, "now": now})
    answers = list(_answers(proc))
    if not answers:
        raise RuntimeError(f"the chain process ended without an answer (exit {proc.returncode})")
    return answers[0]


# --- the child ---------------------------------------------------------------------------

def _do_checks(req: dict[str, Any], send: Callable[[Any], None]) -> None:
    from statetui.audit.base import AuditContext
    from statetui.audit.engine import run_audit

    ctx = AuditContext(req["config"], now=req["now"])
    for cid in req["ids"]:
        send(run_audit(ctx, [cid])[0])


def _do_chain(req: dict[str, Any], send: Callable[[Any], None]) -> None:
    from statetui.tui.data import gather_chain

    send(gather_chain(req["config"], req["cash"], req["tokens"], req["now"]))


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
