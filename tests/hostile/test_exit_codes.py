"""One exit-code table (statetui/cli/exits.py), enforced: every verb runs through every
error class, and its exit code is the table's code for that class (or, where the class
does not concern the verb, the verb's ordinary code: a missing state file does not stop
`config`). An error exit prints exactly one line on stderr. The README's table is the one
generated from the code."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from statetui.cli import exits
from statetui.cli.exits import EXIT_CRITICAL as CRIT
from statetui.cli.exits import EXIT_ERROR as FAILED
from statetui.cli.exits import EXIT_INTERRUPTED as INTERRUPTED
from statetui.cli.exits import EXIT_OK as OK
from statetui.cli.exits import EXIT_REFUSED as REFUSED
from statetui.cli.exits import EXIT_USAGE as USAGE
from statetui.testing import scenarios
from statetui.testing.states import left_by_a_stopped_bot
from tests.hostile.harness import cli, judge
from tests.hostile.rpc import WALLET

ROOT = Path(__file__).resolve().parents[2]
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"

# Each verb as it is run (a write applied with --yes where it would ask).
VERBS = {
    "init": ["init", "--balance", "100"],
    "show": ["show"],
    "backup": ["backup"],
    "backups": ["backups"],
    "verify": ["verify"],
    "restore": ["restore", "latest", "--yes"],
    "prune": ["prune", "--keep-days", "0", "--keep-min", "1"],
    "journal": ["journal"],
    "audit": ["audit", "--local"],
    "config": ["config"],
    "repair": ["repair", "recompute-peak", "--apply", "--yes"],
    "reconcile": ["reconcile", "--apply", "--yes"],
    "fields": ["fields"],
    "chain-history": ["chain-history", "--no-positions", "--no-cache"],
    "demo": ["demo", "--headless", "0.1"],
    "console": [],
    "bots": ["bots"],
    "metrics": ["metrics"],
}

# Error class -> verb -> expected exit code. A verb missing from a row is not concerned by that
# class: it must exit with its ordinary code (ORDINARY). The codes are the table's constants.
ORDINARY = {"init": FAILED, "show": OK, "backup": OK, "backups": OK, "verify": OK, "restore": OK, "prune": OK,
            "journal": OK, "audit": 2, "config": OK, "repair": OK, "reconcile": OK, "fields": OK,
            "chain-history": USAGE, "bots": OK, "metrics": OK}  # (chain-history without a chain configured: a usage error)
# (bots and metrics report a broken state as data, statetui_up 0, not as an error exit)
# (init on an existing state fails; the audit of the jan16 sandbox finds its FAIL: exit 2 without an error line)
EVERY = {v: USAGE for v in VERBS}
MATRIX: dict[str, dict[str, int]] = {
    "usage: unknown option": EVERY,
    "config: bad setting": EVERY,
    "usage: unknown repair or check": {"repair": USAGE, "audit": USAGE},
    "chain not configured": {"reconcile": USAGE, "chain-history": USAGE},
    "chain: malformed wallet": {"reconcile": USAGE, "chain-history": USAGE},
    "state missing": {"init": OK, "show": FAILED, "backup": FAILED, "verify": FAILED, "audit": CRIT, "repair": FAILED,
                      "reconcile": FAILED, "fields": FAILED},
    "state corrupt": {"show": FAILED, "verify": FAILED, "audit": CRIT, "repair": FAILED, "reconcile": FAILED,
                      "fields": FAILED},
    "state is a FIFO": {"show": FAILED, "backup": FAILED, "verify": FAILED, "restore": FAILED, "audit": CRIT,
                        "repair": FAILED, "reconcile": FAILED, "fields": FAILED},
    "state over the size cap": {"show": FAILED, "backup": FAILED, "verify": FAILED, "restore": FAILED, "audit": 2,
                                "repair": FAILED, "reconcile": FAILED, "fields": FAILED},
    "read-only": {"init": REFUSED, "backup": REFUSED, "restore": REFUSED, "prune": REFUSED, "repair": REFUSED,
                  "reconcile": REFUSED, "demo": REFUSED},
    "bot running": {"restore": REFUSED, "repair": REFUSED, "reconcile": REFUSED},
    "not confirmed": {"restore": REFUSED, "repair": REFUSED, "reconcile": REFUSED},
    "chain unreachable": {"reconcile": FAILED, "chain-history": FAILED},
    "chain answers garbage": {"reconcile": FAILED, "chain-history": FAILED},
    "interrupted": {v: INTERRUPTED for v in VERBS},
}
# The console and the demo start a UI or a simulated bot: only the classes decided before that.
HEAVY = {"demo": {"usage: unknown option", "config: bad setting", "read-only", "interrupted"},
         "console": {"usage: unknown option", "config: bad setting", "interrupted"}}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exit-codes") / "bot"
    scenarios.jan16(root)
    return root


@pytest.fixture(scope="module")
def chain(hostile_rpc):
    return hostile_rpc


def _case(cls: str, verb: str, root: Path, rpc, lock_holder) -> tuple[list[str], dict[str, str], list[str]]:
    """(argv, env, names the error line may use) for running `verb` through `cls`."""
    state = root / "state" / "trading_state.json"
    argv = list(VERBS[verb])
    env = {"STATETUI_STATE": str(state), "STATETUI_PID_FILE": str(root / "bot.pid")}
    names = [str(state)]
    # reconcile reads a chain: an honest one (its cash differs from the state's) unless the class says otherwise
    rpc.set("honest-with", {"cash_raw": 250_000_000})
    chain_classes = ("chain: malformed wallet", "chain unreachable", "chain answers garbage")
    if verb == "reconcile" or (verb == "chain-history" and cls in chain_classes):
        env.update({"STATETUI_RPC_URL": rpc.url, "STATETUI_WALLET": WALLET, "STATETUI_TOKENS": PUSD})
    if verb == "chain-history" and cls not in chain_classes:
        names = ["chain not configured"]
    if cls == "interrupted":
        names = ["interrupted"]
    elif cls == "usage: unknown option":
        argv.append("--no-such-option")
        names = ["--no-such-option"]
    elif cls == "config: bad setting":
        env["STATETUI_HALT_THRESHOLD"] = "150"
        names = ["STATETUI_HALT_THRESHOLD"]
    elif cls == "usage: unknown repair or check":
        if verb == "repair":
            argv[1] = "no-such-repair"
        elif verb == "audit":
            argv += ["--check", "no-such-check"]
        names = ["no-such-"]
    elif cls == "chain not configured":
        for k in ("STATETUI_RPC_URL", "STATETUI_WALLET", "STATETUI_TOKENS"):
            env.pop(k, None)
        names = ["chain not configured"]
    elif cls == "chain: malformed wallet":
        if verb in ("reconcile", "chain-history"):
            env["STATETUI_WALLET"] = WALLET.lower().replace("0x5a", "0x5A")  # fails its EIP-55 checksum
        names = ["wallet"]
    elif cls == "state missing":
        state.unlink()
    elif cls == "state corrupt":
        state.write_bytes(b'{"current_balance": 12,, oops')
        left_by_a_stopped_bot(state)  # a fresh outside write is a running bot's sign: another class
    elif cls == "state is a FIFO":
        state.unlink()
        os.mkfifo(state)
    elif cls == "state over the size cap":
        with open(state, "r+b") as f:
            f.truncate(65 * 1024 * 1024)  # sparse: costs nothing, over the 64 MiB default cap
        left_by_a_stopped_bot(state)
    elif cls == "read-only":
        env["STATETUI_READ_ONLY"] = "1"
        names = ["read-only"]
    elif cls == "bot running":
        lock_holder(root / "bot.pid")
        names = ["holds its lock", "bot is running", "bot may be running: pid lock"]
    elif cls == "not confirmed":
        argv = [a for a in argv if a != "--yes"]
        names = ["not confirmed"]
    elif cls == "chain unreachable":
        if verb in ("reconcile", "chain-history"):
            env["STATETUI_RPC_URL"] = "http://127.0.0.1:9/v2/key"
        names = ["127.0.0.1:9"]
    elif cls == "chain answers garbage":
        rpc.set("raw", b"<html>502 Bad Gateway</html>")
        names = [rpc.url.split("//")[1]]
    return argv, env, names


@pytest.mark.parametrize("cls", list(MATRIX))
def test_every_verb_through_every_error_class(cls, template, tmp_path, chain, lock_holder, monkeypatch):
    problems = []
    for verb in VERBS:
        if verb in HEAVY and cls not in HEAVY[verb]:
            continue
        root = tmp_path / verb
        shutil.copytree(template, root, symlinks=True)
        argv, env, names = _case(cls, verb, root, chain, lock_holder)
        expected = MATRIX[cls].get(verb, ORDINARY.get(verb))
        if cls == "interrupted":
            _interrupt_the_verb(monkeypatch, verb)
        res = cli(argv, root, env)
        concerned = verb in MATRIX[cls]
        # the audit's 2 and 3 are its checks' FAIL and CRITICAL (shown on stdout), not an error line
        audit_status = verb == "audit" and cls not in ("usage: unknown option", "config: bad setting",
                                                      "usage: unknown repair or check", "interrupted")
        wants_line = expected in (USAGE, FAILED, REFUSED, INTERRUPTED) and not audit_status
        found = judge(res, expected, names=names if concerned else (), error_line=wants_line)
        if found:
            problems.append(f"{verb} / {cls}: {'; '.join(found)}\n{res}")
        monkeypatch.undo()
    assert not problems, "\n\n".join(problems)


def _interrupt_the_verb(monkeypatch, verb: str) -> None:
    """Ctrl+C while the verb runs: the verb's run function raises KeyboardInterrupt."""
    import importlib

    from statetui import cli as cli_module

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    if verb == "console":
        monkeypatch.setattr(importlib.import_module("statetui.cli.console_verb"), "run_console", interrupted)
    else:
        module = importlib.import_module(cli_module.VERBS[verb][0])
        monkeypatch.setattr(module, f"run_{verb.replace('-', '_')}", interrupted)


def test_the_readme_table_is_the_code_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == exits.readme_table()
    assert {code for code, _ in exits.TABLE} == {0, 1, 2, 3, 4, 5, 130}


def test_every_typed_error_class_has_a_code_in_the_table():
    import inspect

    from statetui.core import chain, errors

    codes = {code for code, _ in exits.TABLE}
    classes = [c for mod in (errors, chain) for _, c in inspect.getmembers(mod, inspect.isclass)
               if issubclass(c, errors.StatetuiError)]
    assert len(classes) > 20
    for cls in classes:
        err = cls.__new__(cls)
        assert exits.exit_code_of(err) in codes, cls
    assert exits.exit_code_of(errors.ConfigError("x")) == USAGE
    assert exits.exit_code_of(chain.BadAddressError("x", "wallet")) == USAGE
    assert exits.exit_code_of(chain.RpcUnreachableError("x")) == FAILED
    assert exits.exit_code_of(errors.BotRunningError("x")) == REFUSED
    assert exits.exit_code_of(errors.ReadOnlyError("x")) == REFUSED


def test_the_help_epilog_is_the_table():
    res = cli(["--help"], ROOT)
    assert res.code == 0 and " ".join(exits.epilog().split()) in " ".join(res.out.split())


def _interactive_sigint() -> None:
    """In the child: SIGINT delivered as in an interactive shell (a background job ignores it,
    and a test run may have left it blocked in the inherited signal mask)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_the_real_command_exits_with_the_table_code_on_sigint(template, tmp_path):
    """A real process interrupted by SIGINT (a blocking confirmation prompt on a pty)."""
    import pty
    import subprocess
    import sys
    import time

    root = tmp_path / "bot"
    shutil.copytree(template, root, symlinks=True)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "statetui", "repair", "recompute-peak", "--apply", "--state",
                             str(root / "state" / "trading_state.json"), "--pid-file", str(root / "bot.pid")],
                            stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
                            # ctrl+c reaches it as from an interactive shell (a background job ignores SIGINT)
                            preexec_fn=_interactive_sigint)
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 180  # a bound for a loaded machine
        while b"apply this plan?" not in seen and time.monotonic() < deadline:
            import select

            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 4096)
        assert b"apply this plan?" in seen
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        while True:  # the rest of what it wrote
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    tail = seen.decode(errors="replace").split("apply this plan?", 1)[1]
    assert proc.returncode == INTERRUPTED and tail.strip().endswith("statetui: error: interrupted"), tail


def test_a_yes_typed_at_the_real_prompt_applies(template, tmp_path):
    """The prompt reads a line typed on the terminal (confirm waits in short selects, so that
    a ctrl+c is seen at once; the answer must still get through)."""
    import json
    import pty
    import select
    import subprocess
    import sys
    import time

    root = tmp_path / "bot"
    shutil.copytree(template, root, symlinks=True)
    state = root / "state" / "trading_state.json"
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "statetui", "repair", "recompute-peak", "--apply", "--state",
                             str(state), "--pid-file", str(root / "bot.pid")],
                            stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 180
        while b"apply this plan?" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 4096)
        assert b"apply this plan?" in seen
        os.write(master, b"y\n")
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == OK, seen.decode(errors="replace")[-2000:]
    assert json.loads(state.read_text())["peak_balance"] == 200.97
