"""The store's fast save path keeps every guarantee of the slow one.

A save serializes the document field by field and compares each field's text with the
text it last wrote (instead of deep-copying the state, parsing the file again and walking
both documents). Checked here on real files: the bytes equal json.dumps in every style;
1, 1.0 and true still differ; values changed in place are seen; results do not alias the
state; a file changed by someone else is still noticed; strays are still cleaned up."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statetui.core.errors import StateTypeError
from statetui.core.jsondoc import FieldTexts, JsonFormat, detect_format, json_copy
from statetui.core.store import StateStore
from statetui.testing.states import STYLES, encode, realistic_state

NAME = "trading_state.json"

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=25)
documents = st.dictionaries(st.text(max_size=10), json_values, max_size=8)


def fmt_of(style: str) -> JsonFormat:
    doc = realistic_state(1)
    text = encode(doc, style).decode()
    return detect_format(text, json.loads(text))


@pytest.mark.parametrize("style", sorted(STYLES))
@settings(max_examples=60, deadline=None)
@given(doc=documents)
def test_field_texts_joined_are_exactly_dumps(style, doc):
    fmt = fmt_of(style)
    assert fmt.join((k, fmt.value_text(v)) for k, v in doc.items()) == fmt.dumps(doc)


def _retype(value):
    """The same value with some leaves of another JSON type (1 -> 1.0 -> true) and object
    keys in reverse order: equal in Python, different in JSON."""
    if isinstance(value, dict):
        return {k: _retype(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_retype(v) for v in value]
    if value is True:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) if abs(value) < 2**53 else value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@pytest.mark.parametrize("style", ["indent2", "compact", "tab"])
@settings(max_examples=60, deadline=None)
@given(first=documents, second=documents, keep=st.sets(st.text(max_size=10)))
def test_field_texts_memo_only_reuses_a_text_for_the_very_same_json(style, first, second, keep):
    """Texts from the memo equal a fresh encoding, whatever changed in between: values
    changed in place, retyped leaves (1 / 1.0 / true), reordered keys, tuples for lists."""
    fmt = fmt_of(style)
    memo = FieldTexts(fmt)
    doc = {k: json_copy(v) for k, v in first.items()}
    assert memo.texts(doc) == {k: fmt.value_text(v) for k, v in doc.items()}
    for key in list(doc):  # change some values in place, retype others, keep the rest
        value = doc[key]
        if key in keep:
            continue
        if isinstance(value, list):
            value.append(len(value))
        elif isinstance(value, dict):
            doc[key] = _retype(value)
        else:
            doc[key] = _retype(value)
    doc.update({k: v for k, v in second.items() if k not in doc})
    if doc:
        k0 = next(iter(doc))
        if isinstance(doc[k0], list):
            doc[k0] = tuple(doc[k0])
    for _ in range(2):
        assert memo.texts(doc) == {k: fmt.value_text(v) for k, v in doc.items()}


@given(value=json_values)
@settings(max_examples=100, deadline=None)
def test_json_copy_is_an_equal_independent_copy(value):
    copied = json_copy({"v": value})
    assert json.dumps(copied) == json.dumps({"v": value})
    if isinstance(value, (dict, list)):
        assert copied["v"] is not value


@pytest.fixture
def store(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(encode(realistic_state(2), "indent4"))  # the bot's own style
    return StateStore(path, auto_backup_interval=None)


def identity(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_every_save_writes_what_dumps_writes_in_the_files_style(store):
    state = store.load()
    for i in range(3):
        state.total_trades += 1
        state.positions[0]["size"] = 10 + i  # changed in place: no assignment the model sees
        assert store.save(state, reason=f"save {i}").changed
        doc = json.loads(store.path.read_bytes())
        assert store.path.read_bytes() == encode(doc, "indent4")
        assert doc["positions"][0]["size"] == 10 + i


def test_json_types_stay_strict_on_the_text_path(store):
    """1 and 1.0 are different texts of one JSON type (number): both are written as given. A
    value whose JSON type changes (a bool into a number field) is refused, naming the field."""
    state = store.load()
    state.total_trades += 1
    store.save(state, reason="warm the cache")
    journal = []
    for value in (1, 1.0, 1, None, True, None, [1], None, {"a": 1}, {"a": 1.0}):
        state.extra_flag = value
        res = store.save(state, reason=f"set {value!r}")
        assert res.changed, value
        assert json.loads(store.path.read_bytes())["extra_flag"] == value
        assert type(json.loads(store.path.read_bytes())["extra_flag"]) is type(value)
        journal.append(store.journal.last()["changes"]["extra_flag"])
        before = identity(store.path)
        again = store.save(state, reason="same again")
        assert not again.changed and identity(store.path) == before  # unchanged: not rewritten
    assert journal[1] == [1, 1.0] and journal[2] == [1.0, 1]
    assert journal[9] == [{"a": 1}, {"a": 1.0}]
    assert [type(v[1]) for v in journal[:3]] == [int, float, int]
    for value, kind in ((True, "boolean"), ("1", "string"), ([1], "array"), ({"a": "x"}, "string")):
        state.extra_flag = {"a": 1.0}
        state.extra_flag = value
        before = identity(store.path)
        with pytest.raises(StateTypeError) as err:
            store.save(state, reason="retype")
        assert "extra_flag" in str(err.value) and kind in str(err.value)
        assert identity(store.path) == before


def test_negative_zero_is_still_equal_to_zero(store):
    state = store.load()
    state.daily_pnl = 0.0
    store.save(state, reason="zero")
    state.daily_pnl = -0.0
    assert not store.save(state, reason="minus zero").changed  # as strict_equal says
    state.positions[0]["pnl"] = 0.0
    assert store.save(state, reason="nested zero").changed
    state.positions[0]["pnl"] = -0.0
    assert not store.save(state, reason="nested minus zero").changed
    state.daily_pnl = -0.05
    assert store.save(state, reason="a loss").changes["daily_pnl"] == [0.0, -0.05]
    state.daily_pnl = -0.06
    assert store.save(state, reason="a bigger loss").changes["daily_pnl"] == [-0.05, -0.06]


def test_in_place_changes_are_seen_and_the_old_value_is_the_old_one(store):
    state = store.load()
    before = json_copy(state.positions)
    state.positions[0]["size"] = 12345
    res = store.save(state, reason="resize")
    assert set(res.changes) == {"positions"}
    old, new = res.changes["positions"]
    assert old == before and new[0]["size"] == 12345
    state.positions[0]["size"] = 999  # the result must not change with the state
    assert res.changes["positions"][1][0]["size"] == 12345
    assert store.journal.last()["changes"]["positions"][0] != store.journal.last()["changes"]["positions"][1]
    state.positions.append({"token_id": "1", "size": 1.5})
    res = store.save(state, reason="append")
    assert res.changes["positions"][0][0]["size"] == 12345 and len(res.changes["positions"][1]) == len(before) + 1


def test_to_document_is_a_copy(store):
    state = store.load()
    doc = state.to_document()
    doc["positions"][0]["size"] = -1
    assert state.positions[0]["size"] != -1


def test_a_file_changed_by_someone_else_is_noticed_after_cached_saves(store):
    state = store.load()
    for i in range(2):
        state.total_trades += 1
        store.save(state, reason=f"own {i}")
    doc = json.loads(store.path.read_bytes())
    doc["current_balance"] = 1.0
    store.path.write_bytes(encode(doc, "indent4"))  # the bot, by hand: same style, one field
    state.total_trades += 1
    res = store.save(state, reason="over it")
    last = store.journal.last()
    assert last.get("replaced_outside_write") and last.get("stale_base")
    assert set(res.changes) == {"current_balance", "total_trades"}
    assert res.changes["current_balance"][0] == 1.0
    # Someone writes back exactly what the store wrote: unchanged, nothing to do.
    raw = store.path.read_bytes()
    store.path.write_bytes(raw)
    assert not store.save(state, reason="same bytes").changed


def test_strays_of_a_writer_killed_mid_save_are_removed_by_a_long_lived_store(store):
    from statetui.core.fsio import FileOps

    class CrashAtReplace(BaseException):
        pass

    class Crash(FileOps):  # dies at the replace, before it can clean up, as after kill -9
        def replace(self, src, dst):
            raise CrashAtReplace()

        def unlink(self, path):
            raise CrashAtReplace()

    state = store.load()
    state.total_trades += 1
    store.save(state, reason="long-lived store, first save")
    other = StateStore(store.path, auto_backup_interval=None, ops=Crash())
    with pytest.raises(CrashAtReplace):
        with other.transaction(reason="killed") as s:
            s.total_trades += 100
    strays = store.stray_temp_files()
    assert len(strays) == 1 and store.status().stray_temp_files == strays
    state.total_trades += 1
    res = store.save(state, reason="next save of the long-lived store")
    assert res.removed_temp_files == strays and store.stray_temp_files() == []


def test_a_new_store_removes_any_stray_on_its_first_save(store):
    state = store.load()
    state.total_trades += 1
    store.save(state, reason="first")
    (store.path.parent / f".{NAME}.tmp-1-deadbeef").write_bytes(b'{"half": ')
    assert store.stray_temp_files() == [f".{NAME}.tmp-1-deadbeef"]
    fresh = StateStore(store.path, auto_backup_interval=None)
    state = fresh.load()
    state.total_trades += 1
    assert fresh.save(state, reason="first save of a new store").removed_temp_files == [f".{NAME}.tmp-1-deadbeef"]
    assert fresh.stray_temp_files() == []


def test_the_journal_keeps_the_values_that_were_written(store):
    state = store.load()
    state.positions[0]["size"] = 1.5
    store.save(state, reason="one")
    first = store.journal.last()["changes"]["positions"]
    state.positions[0]["size"] = 2.5
    store.save(state, reason="two")
    second = store.journal.last()["changes"]["positions"]
    assert isinstance(first[1], str) and first[1].startswith("<array of")  # big: summarised
    assert second[0] == first[1] != second[1]
    # A small value handed back in a result and changed by the caller afterwards: the next
    # entry still records what the file held.
    state.extra_list = [1]
    res = store.save(state, reason="small")
    res.changes["extra_list"][1].append(99)
    state.extra_list = [2]
    store.save(state, reason="small again")
    assert store.journal.last()["changes"]["extra_list"] == [[1], [2]]
