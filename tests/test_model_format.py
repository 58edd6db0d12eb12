"""The file belongs to the bot: key order, types, style and unknown fields survive."""

import json

import pytest

from statetui.core.errors import StateInvalidError, StateValueError
from statetui.core.store import StateStore

DOC = {
    "current_balance": 200,
    "peak_balance": 386.97,
    "bot_specific": {"nested": [1, 2.5, "x", None, True]},
    "mode": "normal",
    "halted": False,
    "total_trades": 7,
    "note": "café ☕",
}

STYLES = [
    dict(indent=2),
    dict(indent=4),
    dict(indent="\t"),
    dict(indent=None),
    dict(indent=None, separators=(",", ":")),
    dict(indent=2, ensure_ascii=False),
    dict(indent=None, separators=(", ", ": "), ensure_ascii=False),
]


@pytest.mark.parametrize("style", STYLES, ids=[str(s) for s in STYLES])
@pytest.mark.parametrize("newline", [True, False])
def test_unchanged_save_keeps_the_bytes(tmp_path, style, newline):
    path = tmp_path / "trading_state.json"
    raw = (json.dumps(DOC, **style) + ("\n" if newline else "")).encode()
    path.write_bytes(raw)
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    result = store.save(state, reason="noop")
    assert not result.changed
    assert path.read_bytes() == raw


@pytest.mark.parametrize("style", STYLES, ids=[str(s) for s in STYLES])
def test_changed_save_keeps_order_types_style_and_unknown_fields(tmp_path, style):
    path = tmp_path / "trading_state.json"
    path.write_text(json.dumps(DOC, **style) + "\n")
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    state.total_trades += 1
    store.save(state, reason="trade")
    expected = dict(DOC, total_trades=8)
    assert path.read_text() == json.dumps(expected, **style) + "\n"
    back = json.loads(path.read_text())
    assert list(back) == list(DOC)
    assert type(back["current_balance"]) is int and type(back["peak_balance"]) is float


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_raw_del_character_is_kept_raw(tmp_path, ensure_ascii):
    """DEL (0x7f) is ASCII, yet json's ensure_ascii escapes it: a file with a raw DEL was
    written with ensure_ascii=False, even when every other character is ASCII (found by the
    property test in test_bad_inputs: the key "\x7f" came back as "\u007f")."""
    doc = {"current_balance": 0, "note\x7f": None, "total_trades": 1}
    path = tmp_path / "trading_state.json"
    path.write_text(json.dumps(doc, ensure_ascii=ensure_ascii, separators=(",", ":")))
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    state.total_trades += 1
    store.save(state, reason="trade")
    assert path.read_text() == json.dumps(dict(doc, total_trades=2), ensure_ascii=ensure_ascii, separators=(",", ":"))


def test_int_balance_becomes_float_only_when_it_must(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"current_balance": 200}')
    store = StateStore(path, auto_backup_interval=None)
    with store.transaction(reason="add") as s:
        s.current_balance += 12.5
    assert json.loads(path.read_text())["current_balance"] == 212.5
    with store.transaction(reason="set") as s:
        s.current_balance = 300
    assert path.read_text() == '{"current_balance": 300}'


def test_new_keys_are_appended_after_the_bot_keys(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"zeta": 1, "current_balance": 5.0}\n')
    store = StateStore(path, auto_backup_interval=None)
    with store.transaction(reason="x") as s:
        s.peak_balance = 6.0
        s.extra_new = "kept"
    assert list(json.loads(path.read_text())) == ["zeta", "current_balance", "peak_balance", "extra_new"]


@pytest.mark.parametrize("field,value,expect", [
    ("current_balance", '"200.97"', 'field current_balance: expected a JSON number, got "200.97"'),
    ("halted", "1", "field halted: expected true or false, got 1"),
    ("total_trades", "7.5", "field total_trades: expected a whole number, got 7.5"),
    ("positions", "3", "field positions: expected an array or an object, got 3"),
    ("mode", "false", "field mode: expected a string, got false"),
])
def test_wrong_types_name_the_field(tmp_path, field, value, expect):
    path = tmp_path / "s.json"
    path.write_text(f'{{"{field}": {value}}}')
    with pytest.raises(StateInvalidError) as err:
        StateStore(path).load()
    assert err.value.field == field
    assert expect in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_refused_at_save(tmp_path, value):
    path = tmp_path / "s.json"
    path.write_text('{"current_balance": 1.0, "meta": {"x": 1}}')
    before = path.read_bytes()
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    state.current_balance = value
    with pytest.raises(StateValueError, match="current_balance"):
        store.save(state, reason="bad")
    state = store.load()
    state.meta = {"x": value}
    with pytest.raises(StateValueError, match=r"meta\.x"):
        store.save(state, reason="bad")
    assert path.read_bytes() == before


@pytest.mark.parametrize("field", ["current_balance", "peak_balance", "day_start_balance", "starting_balance"])
def test_negative_balance_refused(tmp_path, field):
    path = tmp_path / "s.json"
    path.write_text('{"current_balance": 1.0}')
    store = StateStore(path, auto_backup_interval=None)
    state = store.load()
    setattr(state, field, -0.01)
    with pytest.raises(StateValueError, match="cannot be negative"):
        store.save(state, reason="bad")
    assert path.read_text() == '{"current_balance": 1.0}'


def test_daily_pnl_may_be_negative(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"daily_pnl": 1.0}')
    store = StateStore(path, auto_backup_interval=None)
    with store.transaction(reason="loss") as s:
        s.daily_pnl = -4.2
    assert json.loads(path.read_text())["daily_pnl"] == -4.2


def test_money_comparisons_do_not_drift():
    from decimal import Decimal

    from statetui.core.money import to_money

    total = sum((to_money(0.1) for _ in range(10)), Decimal(0))
    assert total == Decimal("1.0")
    assert to_money(0.1 + 0.2) != to_money(0.3)  # the bot's own float noise stays visible
    assert to_money(200.97) - to_money(14.97) == Decimal("186.00")
