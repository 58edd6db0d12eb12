"""Bad inputs: every broken file gives its typed, one-line error naming the file, or loads
when it is actually valid; never a raw exception. Also through the real CLI, and
property-based round trips (hypothesis) of random valid states in every writing style.

The corpus (statetui.testing.corpus) is generated here: every truncation point of a real
~10 KB state, bit flips, blanks, NUL bytes, bad UTF-8, BOM, NaN/Infinity/1e400, wrong
types in every known field, non-object top levels, nesting to 100k levels, 20 MB files,
duplicate keys, and directories, FIFOs, symlinks, sockets and devices at the path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from statetui.core.errors import StateCorruptError, StateInvalidError, StatetuiError
from statetui.core.jsondoc import json_type
from statetui.core.model import MODES, serialize
from statetui.core.store import StateStore
from statetui.testing import corpus
from statetui.testing.states import KNOWN_FIELDS, STYLES, encode
from tests.store_results import record

LONG = os.environ.get("STATETUI_LONG") == "1"


_stores: dict[Path, StateStore] = {}


def load_case(case: corpus.Case, root: Path) -> tuple[object, Path]:
    """Plant the case at `root` and load it: (state or the StatetuiError, path)."""
    plain = case.make is None and root.is_file() and not root.is_symlink()
    if not plain:  # clear whatever the last case planted (a dir, a FIFO, a link and its target)
        for leftover in root.parent.iterdir():
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
    case.plant(root)
    path = root / case.subpath if case.subpath else root
    store = _stores.get(path) or _stores.setdefault(path, StateStore(path))
    try:
        return store.load(), path
    except StatetuiError as exc:
        return exc, path
    except BaseException as exc:  # noqa: BLE001 - the very thing this test hunts
        raise AssertionError(f"{case.name}: raw {type(exc).__name__}: {str(exc)[:200]}") from None


def check_case(case: corpus.Case, got: object, path: Path) -> str | None:
    """None when the outcome is right, else what is wrong."""
    if case.expect == corpus.OK:
        if isinstance(got, StatetuiError):
            return f"expected it to load, got {type(got).__name__}: {got}"
        if case.roundtrip and case.data is not None:
            again = serialize(got.to_document(), got.json_format, str(path))
            if again != case.data:
                return "loads, but writing it back unchanged gives different bytes"
        return None
    if not isinstance(got, StatetuiError):
        return f"expected {case.expect.__name__}, but it loaded"
    if type(got) is not case.expect:
        return f"expected {case.expect.__name__}, got {type(got).__name__}: {got}"
    msg = str(got)
    if "\n" in msg or not msg.strip():
        return f"message is not one line: {msg!r}"
    if str(path) not in msg:
        return f"message does not name the file: {msg!r}"
    if isinstance(got, StateCorruptError):
        size = len(case.data) if case.data is not None else 0
        if not isinstance(got.offset, int) or not 0 <= got.offset <= size:
            return f"corrupt without a byte offset in 0..{size}: offset={got.offset!r}"
    if isinstance(got, StateInvalidError) and case.field is not None:
        if got.field != case.field or (case.field != "$" and case.field not in msg):
            return f"expected field {case.field!r}, got field={got.field!r}: {msg}"
    return None


def test_corpus_of_bad_files_gives_typed_errors(tmp_path):
    cases = list(corpus.build(seed=11, flips=3000 if LONG else 300))
    root = tmp_path / "state" / "trading_state.json"
    root.parent.mkdir()
    failures, outcomes, families = [], Counter(), Counter()
    for case in cases:
        got, path = load_case(case, root)
        problem = check_case(case, got, path)
        if problem:
            failures.append(f"{case.family}: {case.name}: {problem}")
        outcomes["loads" if not isinstance(got, StatetuiError) else type(got).__name__] += 1
        families[case.family] += 1
    assert not failures, f"{len(failures)} of {len(cases)} cases wrong:\n" + "\n".join(failures[:40])
    assert len(cases) >= 200
    # The corpus really covers each kind of error.
    assert {"StateEmptyError", "StateCorruptError", "StateInvalidError", "NotRegularFileError",
            "StateMissingError", "loads"} <= set(outcomes)
    record("bad_inputs_long" if LONG else "bad_inputs", {
        "cases": len(cases), "failures": 0, **{f"outcome {k}": v for k, v in sorted(outcomes.items())},
        **{f"family {k}": v for k, v in sorted(families.items())},
    })


def test_valid_value_still_refused_at_save_when_impossible(tmp_path):
    """A negative balance loads (the audit reports it) but is never written."""
    from statetui.core.errors import StateValueError

    path = tmp_path / "trading_state.json"
    path.write_bytes(b'{"current_balance": -5.0, "total_trades": 3}')
    store = StateStore(path)
    state = store.load()
    state.total_trades = 4
    with pytest.raises(StateValueError) as err:
        store.save(state, reason="test")
    assert err.value.field == "current_balance" and str(path) in str(err.value)
    assert path.read_bytes() == b'{"current_balance": -5.0, "total_trades": 3}'


# --- the CLI ---------------------------------------------------------------------------

CLI_SAMPLE = [
    "empty", "truncated at byte 4000", "UTF-8 BOM", "invalid UTF-8 in a string: lone 0xff", "all NUL",
    "NaN in current_balance", "1e400 in peak_balance", "current_balance = \"100.5\"", "total_trades = 1.5",
    "halted = \"true\"", "top level is array", "nested 100000 levels (list)", "nested 400 levels (list)",
    "integer of 5000 digits", "trailing garbage", "git conflict markers", "missing", "directory", "FIFO",
    "symlink to a valid state", "dangling symlink", "socket", "parent is a file",
]


def test_cli_show_on_bad_files_prints_one_error_line(tmp_path):
    by_name = {c.name: c for c in corpus.build(seed=11, truncations="1000", flips=0, huge_mb=0)}
    procs = []
    for i, name in enumerate(CLI_SAMPLE):
        case = by_name[name]
        root = tmp_path / f"case{i}" / "trading_state.json"
        root.parent.mkdir()
        case.plant(root)
        path = root / case.subpath if case.subpath else root
        for extra in ([], ["--json"]) if i % 5 == 0 else ([],):
            env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
            procs.append((name, path, subprocess.Popen(
                [sys.executable, "-m", "statetui", "show", "--state", str(path), *extra],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)))
    failures = []
    for name, path, p in procs:
        out, err = p.communicate(timeout=120)
        lines = err.splitlines()
        if p.returncode == 0:
            failures.append(f"{name}: exit code 0")
        elif "Traceback" in err or len(lines) != 1:
            failures.append(f"{name}: stderr is not one line: {err[-500:]!r}")
        elif not lines[0].startswith("statetui: error: ") or str(path) not in lines[0]:
            failures.append(f"{name}: {lines[0]!r}")
    assert not failures, "\n".join(failures)


# --- property-based round trips ---------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=12)
money = st.integers(0, 10**6) | st.floats(0, 1e7, allow_nan=False, allow_infinity=False)
KNOWN_VALUES = {
    "current_balance": money, "peak_balance": money, "day_start_balance": money, "starting_balance": money,
    "daily_pnl": st.floats(-1e5, 1e5, allow_nan=False) | st.integers(-1000, 1000),
    "mode": st.sampled_from(MODES) | st.text(max_size=8), "halted": st.booleans() | st.none(),
    "halt_reason": st.none() | st.text(max_size=20), "consecutive_wins": st.integers(0, 50),
    "consecutive_losses": st.integers(0, 50), "total_trades": st.integers(0, 10**6), "total_wins": st.integers(0, 10**6),
    "positions": st.lists(st.dictionaries(st.sampled_from(["token_id", "size", "avg_price", "market"]), json_scalars,
                                          max_size=4), max_size=3) | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    "last_updated": st.text(max_size=25) | st.integers(0, 2**40) | st.floats(0, 2e9, allow_nan=False),
}
extra_keys = st.text(max_size=10).filter(lambda k: k not in KNOWN_FIELDS)


@st.composite
def states(draw):
    known = draw(st.lists(st.sampled_from(KNOWN_FIELDS), unique=True))
    if "current_balance" not in known:
        known.append("current_balance")  # always one field to change
    doc = {k: draw(KNOWN_VALUES[k]) for k in known}
    doc.update(draw(st.dictionaries(extra_keys, json_values, max_size=5)))
    keys = draw(st.permutations(list(doc)))
    return {k: doc[k] for k in keys}


def write_style(doc: dict, style: str) -> bytes:
    return encode(doc, style)


PROPERTY = settings(max_examples=400 if LONG else 120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(doc=states(), style=st.sampled_from(sorted(STYLES)))
def test_unchanged_state_round_trips_byte_exactly(tmp_path, doc, style):
    raw = write_style(doc, style)
    path = tmp_path / "rt.json"
    path.write_bytes(raw)
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    assert serialize(state.to_document(), state.json_format, str(path)) == raw
    assert store.save(state, reason="unchanged").changed is False
    assert path.read_bytes() == raw


CHANGES = {
    "current_balance": money, "total_trades": st.integers(0, 10**6), "mode": st.sampled_from(MODES),
    "halted": st.booleans(), "last_updated": st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=25),
}


@PROPERTY
@given(doc=states(), style=st.sampled_from(sorted(STYLES)), data=st.data())
def test_a_change_rewrites_only_that_field(tmp_path, doc, style, data):
    field = data.draw(st.sampled_from([f for f in CHANGES if f in doc]))
    value = data.draw(CHANGES[field])
    assume(json.dumps(value) != json.dumps(doc[field]))
    assume(doc[field] is None or json_type(value) == json_type(doc[field]))  # a retype is refused (test_store_documents)
    raw = write_style(doc, style)
    path = tmp_path / "change.json"
    path.write_bytes(raw)
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    setattr(state, field, value)
    result = store.save(state, reason="property change")
    expected = dict(doc)
    expected[field] = value
    assert path.read_bytes() == write_style(expected, style)
    assert list(result.changes) == [field]
    again = store.load().to_document()
    assert [type(v) for v in again.values()] == [type(v) for v in expected.values()]
