"""statetui.core.model.check_fields (no pydantic: the console's and the store's reads) refuses
exactly what TradingState (pydantic) refuses, with the same message, field by field and in
the model's order; and reading a file's status does not import pydantic."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from statetui.core.errors import StateInvalidError
from statetui.core.model import FIELD_TYPES, check_fields
from statetui.core.state_model import TradingState

VALUES = [None, 0, 1, -3, 10**30, 0.0, 1.5, -2.25, 1e300, True, False, "", "x", "100", "null", [], [1, "a"], {},
          {"k": [1]}, float("nan"), float("inf")]


def outcome(fn, doc):
    try:
        fn(doc)
    except StateInvalidError as exc:
        return str(exc), exc.field
    return None


def test_every_field_and_value_agrees_with_the_model():
    fields = [*FIELD_TYPES, "extra_field"]
    assert list(FIELD_TYPES) == [f for f in TradingState.model_fields]  # same fields, same order
    for field, value in itertools.product(fields, VALUES):
        doc = {field: value}
        model = outcome(lambda d: TradingState.from_document(d, "p.json"), doc)
        plain = outcome(lambda d: check_fields(d, "p.json"), doc)
        assert plain == model, (field, value)


def test_the_first_bad_field_is_named_in_the_model_order():
    bad = {"positions": 3, "mode": 1, "total_wins": 1.0, "current_balance": "12"}
    for order in itertools.permutations(bad):
        doc = {k: bad[k] for k in order}
        model = outcome(lambda d: TradingState.from_document(d, "p.json"), doc)
        assert model is not None and outcome(lambda d: check_fields(d, "p.json"), doc) == model
        assert model[1] == "current_balance"


def test_a_status_read_imports_no_pydantic(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"current_balance": 1.5, "mode": 7}))
    script = (f"import sys\nfrom statetui.core.store import StateStore\n"
              f"fs = StateStore({str(state)!r}).status(model=False)\n"
              f"print(repr(str(fs.error)), 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"
    assert "field mode: expected a string, got 7" in out.stdout


@pytest.mark.parametrize("doc", [{"current_balance": 1}, {"halted": "yes"}, {"positions": "none"}])
def test_status_with_and_without_the_model_agree(tmp_path, doc):
    from statetui.core.store import StateStore

    state = tmp_path / "state.json"
    state.write_text(json.dumps(doc))
    with_model, plain = StateStore(state).status(), StateStore(state).status(model=False)
    assert str(with_model.error) == str(plain.error)
    if with_model.error is None:
        assert plain.document == with_model.state.to_document() and plain.raw == state.read_bytes()
