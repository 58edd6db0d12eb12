"""The store for any bot: a dict, a dataclass, a pydantic model, or the loaded state."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import BaseModel

from statetui.core.errors import StateInvalidError, StatetuiError, StateTypeError
from statetui.core.model import TradingState
from statetui.core.store import StateStore

DOC = {"zeta": 1, "cash_usd": 100.0, "kill_switch": False, "positions": {"m1": {"shares": 3}}, "note": "x"}


@dataclasses.dataclass
class BotState:
    cash_usd: float  # required: no default
    kill_switch: bool = False
    positions: dict = dataclasses.field(default_factory=dict)


class BotModel(BaseModel):
    cash_usd: float
    kill_switch: bool = False


def make(tmp_path, **kw) -> StateStore:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(DOC, indent=3) + "\n")
    return StateStore(path, auto_backup_interval=None, **kw)


def test_a_dict_round_trips_in_the_files_own_style(tmp_path):
    store = make(tmp_path, model=dict)
    doc = store.load()
    assert isinstance(doc, dict) and list(doc) == list(DOC)
    doc["cash_usd"] = 90.5
    store.save(doc, reason="trade")
    text = store.path.read_text()
    assert list(json.loads(text)) == list(DOC) and text.startswith('{\n   "zeta"')  # key order, 3-space indent


def test_a_dataclass_keeps_the_fields_it_does_not_declare(tmp_path):
    store = make(tmp_path, model=BotState)
    state = store.load()
    assert isinstance(state, BotState) and state.cash_usd == 100.0
    state.cash_usd = 80.0
    store.save(state, reason="trade")
    doc = json.loads(store.path.read_text())
    assert doc == {**DOC, "cash_usd": 80.0} and list(doc) == list(DOC)  # zeta and note kept, in place
    with store.transaction(reason="kill") as s:
        s.kill_switch = True
    assert json.loads(store.path.read_text())["kill_switch"] is True


def test_a_pydantic_model(tmp_path):
    store = make(tmp_path, model=BotModel)
    state = store.load()
    state.cash_usd = 70.0
    store.save(state, reason="trade")
    assert json.loads(store.path.read_text()) == {**DOC, "cash_usd": 70.0}


def test_a_required_field_missing_is_a_typed_error_not_none(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"kill_switch": True}))
    with pytest.raises(StateInvalidError, match="field cash_usd: missing"):
        StateStore(path, model=BotState).load()
    with pytest.raises(StateInvalidError, match="cash_usd"):
        StateStore(path, model=BotModel).load()


@pytest.mark.parametrize("bad", [42, "text", ["a"], object(), {1: "x"}])
def test_an_unsupported_type_is_a_typed_error(tmp_path, bad):
    store = make(tmp_path)
    before = store.path.read_bytes()
    with pytest.raises(StatetuiError) as err:
        store.save(bad, reason="x")
    assert isinstance(err.value, StateTypeError)
    assert store.path.read_bytes() == before


@pytest.mark.parametrize("field,value,kinds", [
    ("kill_switch", 0, "boolean, now a number"),
    ("cash_usd", "100", "number, now a string"),
    ("positions", [], "object, now a array"),
    ("positions", {"m1": {"shares": "3"}}, "number, now a string"),
])
def test_a_json_type_change_is_refused_naming_the_field(tmp_path, field, value, kinds):
    store = make(tmp_path, model=dict)
    doc = store.load()
    doc[field] = value
    before = store.path.read_bytes()
    with pytest.raises(StateTypeError) as err:
        store.save(doc, reason="retype")
    assert field in str(err.value) and kinds in str(err.value)
    assert store.path.read_bytes() == before


def test_int_and_float_are_one_number_and_null_may_come_and_go(tmp_path):
    store = make(tmp_path, model=dict)
    doc = store.load()
    doc["zeta"], doc["note"] = 1.5, None
    store.save(doc, reason="ok")
    doc["note"] = "back"
    store.save(doc, reason="ok again")
    assert json.loads(store.path.read_text())["note"] == "back"


def test_a_state_built_from_a_document_keeps_its_key_order():
    state = TradingState.from_document({"zeta": 1, "current_balance": 5.0, "alpha": 2})
    assert list(state.to_document()) == ["zeta", "current_balance", "alpha"]
    state = TradingState(zeta=1, current_balance=5.0, alpha=2)
    assert list(state.to_document()) == ["zeta", "current_balance", "alpha"]


def test_the_bots_own_temp_files_are_reported_never_removed(tmp_path):
    store = make(tmp_path)
    for name in ("state.json.tmp", "state.json.3f2a.tmp", ".state.json.swp1", "state.tmp"):
        (tmp_path / name).write_text("{")
    (tmp_path / "unrelated.tmp").write_text("{")
    assert store.bot_temp_files() == sorted(["state.json.tmp", "state.json.3f2a.tmp", ".state.json.swp1", "state.tmp"])
    status = store.status()
    assert status.bot_temp_files == store.bot_temp_files() and status.stray_temp_files == []
    store.save(store.load(), reason="noop")
    doc = store.load()
    doc.zeta = 2
    store.save(doc, reason="change")
    assert (tmp_path / "state.json.tmp").exists()  # the bot's: never removed by statetui
