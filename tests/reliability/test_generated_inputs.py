"""Generated bad inputs (tests/reliability/fuzz.py): CI 1,000, the long tier 10,000.

Each input goes to the state path and is loaded. It must give exactly the outcome the
independent oracle (statetui.testing.corpus.oracle) predicts: the typed error, with a
one-line message naming the file (and the field, for a wrong type), or a state. Never a
raw exception. A state that loads is saved unchanged (nothing written), then changed and
saved (it loads back). Every 20th broken input is also recovered: the newest good backup
comes back and the broken bytes are kept, exactly, under a quarantine name. A sample goes
through the real CLI too: one line on stderr, no traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from statetui.core.errors import StateCorruptError, StateInvalidError, StatetuiError
from statetui.core.store import StateStore
from statetui.testing.corpus import OK, oracle
from statetui.testing.faults import NoSyncOps
from statetui.testing.states import realistic_state
from tests.reliability.figures import publish
from tests.reliability.fuzz import generate
from tests.reliability.tier import SIZES, seed

NAME = "trading_state.json"


def expect(data: bytes) -> tuple[object, str | None]:
    """corpus.oracle, plus one rule it leaves to the parser's order: a document that is not
    valid JSON is corrupt even when a refused number (NaN, 1e400, a 5,000-digit integer)
    comes before the place where it breaks."""
    expected, field = oracle(data)
    if expected is StateInvalidError:
        try:
            json.loads(data.decode("utf-8"), parse_float=_num, parse_int=_num, parse_constant=_num)
        except json.JSONDecodeError:
            return StateCorruptError, None
        except (ValueError, RecursionError, UnicodeDecodeError):
            pass
    return expected, field


def _num(token: str) -> int:
    return 0


def test_generated_bad_inputs_give_their_typed_error_or_load(tmp_path):
    first = seed()
    n = SIZES["bad_inputs"]
    path = tmp_path / NAME
    store = StateStore(path, ops=NoSyncOps(), auto_backup_interval=None)
    store.init(realistic_state(5))
    good = store.backup(reason="good")
    good_bytes = good.path.read_bytes()
    problems: list[str] = []
    outcomes: dict[str, int] = {}
    recovered = cli_checked = 0
    cli_sample: list[tuple[str, bytes]] = []
    for name, data in generate(first, n):
        expected, field = expect(data)
        path.write_bytes(data)
        try:
            got = store.load()
        except StatetuiError as exc:
            got = exc
        except BaseException as exc:  # the very thing this test hunts
            problems.append(f"{name}: raw {type(exc).__name__}: {str(exc)[:200]}")
            continue
        kind = type(got).__name__ if isinstance(got, StatetuiError) else "loads"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if expected == OK:
            if isinstance(got, StatetuiError):
                problems.append(f"{name}: the oracle says it is valid; got {kind}: {got}")
                continue
            problems += [f"{name}: {p}" for p in _saves(store, got, data)]
            continue
        if not isinstance(got, StatetuiError):
            problems.append(f"{name}: expected {expected.__name__}, but it loaded")
            continue
        if type(got) is not expected:
            problems.append(f"{name}: expected {expected.__name__}, got {kind}: {got}")
        msg = str(got)
        if "\n" in msg or str(path) not in msg:
            problems.append(f"{name}: message is not one line naming the file: {msg[:200]!r}")
        if isinstance(got, StateInvalidError) and field is not None and field != "$" and field not in msg:
            problems.append(f"{name}: message does not name the field {field}: {msg[:200]!r}")
        if len(cli_sample) < SIZES["bad_inputs_cli"] and len(data) < 1_000_000:
            cli_sample.append((name, data))
        if sum(outcomes.values()) % 20 == 0:
            recovered += 1
            problems += [f"{name}: recovery: {p}" for p in _recovers(store, data, good_bytes)]
    for name, data in cli_sample:
        cli_checked += 1
        problems += [f"{name}: CLI: {p}" for p in _cli(tmp_path / "cli" / NAME, data)]
    publish("bad_inputs", {"seed": first, "generated": n, "outcomes": outcomes, "recoveries_checked": recovered,
                           "through_the_cli": cli_checked, "problems": len(problems)})
    assert not problems, f"{len(problems)} problem(s) (STATETUI_SEED={first} replays):\n" + "\n".join(problems[:20])


def _saves(store: StateStore, state, data: bytes) -> list[str]:
    out = []
    try:
        res = store.save(state, reason="unchanged")
        if res.changed or store.path.read_bytes() != data:
            out.append("saving it unchanged rewrote the file")
        trades = state.total_trades if isinstance(state.total_trades, int) and not isinstance(state.total_trades, bool) else 0
        state.total_trades = trades + 1
        store.save(state, reason="changed")
        if store.load().total_trades != trades + 1:
            out.append("a changed save does not load back")
    except StatetuiError:
        pass  # a typed refusal (a value that must never be written) is a fine answer
    except BaseException as exc:
        out.append(f"saving it raised a raw {type(exc).__name__}: {str(exc)[:200]}")
    return out


def _recovers(store: StateStore, data: bytes, good_bytes: bytes) -> list[str]:
    out = []
    try:
        store.load(recover=True)
    except StatetuiError as exc:
        return [f"load(recover=True) failed: {exc}"]
    if store.path.read_bytes() != good_bytes:
        out.append("the recovered file is not the good backup")
    kept = [p for p in store.path.parent.iterdir() if ".corrupt-" in p.name]
    if not any(hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256(data).digest() for p in kept):
        out.append("the broken bytes were not kept under a quarantine name")
    for p in kept:
        p.unlink()
    return out


def _cli(path, data: bytes) -> list[str]:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    proc = subprocess.run([sys.executable, "-m", "statetui", "show", "--state", str(path)],
                          capture_output=True, text=True, timeout=60, env=env)
    out = []
    if proc.returncode == 0:
        out.append("`statetui show` exited 0 for a broken file")
    if "Traceback" in proc.stderr or "Traceback" in proc.stdout:
        out.append("a traceback reached the user")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if len(lines) != 1 or str(path) not in lines[0]:
        out.append(f"stderr is not one line naming the file: {proc.stderr[:300]!r}")
    return out
