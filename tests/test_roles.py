"""Roles: detection on the schemas of tests/schemas.py, overrides, and every face through them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statetui.audit.base import AuditContext, Status
from statetui.audit.engine import run_audit
from statetui.core.config import Config, load_config
from statetui.core.errors import ConfigError
from statetui.core.roles import role_map, roles_for
from statetui.core.store import StateStore
from statetui.repair.runner import apply_plan, plan_repair
from tests.conftest import run_cli
from tests.schemas import BY_NAME, SCHEMAS


def write(tmp_path: Path, doc: dict, name: str = "state.json") -> Path:
    path = tmp_path / "bot" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=4))
    return path


@pytest.mark.parametrize("schema", SCHEMAS, ids=[s.name for s in SCHEMAS])
def test_detection(schema):
    rm = role_map(schema.doc)
    assert {r: rm.path(r) for r in schema.roles} == schema.roles
    if rm.mapped("peak"):
        assert rm.peak_basis == schema.basis
    assert rm.currency == schema.currency
    for role in ("cash", "peak"):  # an unmapped cash or peak always says how to map it
        if not rm.mapped(role):
            assert f"fields.{role}" in rm.hints[role]


def test_values_follow_the_paths():
    per_symbol = BY_NAME["per-symbol"].doc
    rm = role_map(per_symbol)
    assert rm.money(per_symbol, "cash") == Decimal("125.75")  # summed over traders.*.balance
    inverted = BY_NAME["inverted-flag"]
    rm = role_map(inverted.doc)
    assert rm.halted(inverted.doc) is False and rm.halted(inverted.halted_doc) is True
    status = BY_NAME["status-string"]
    rm = role_map(status.doc)
    assert rm.halted(status.doc) is False and rm.halted(status.halted_doc) is True
    root = BY_NAME["positions-root"].doc
    assert len(role_map(root).positions(root)) == 2


def test_config_overrides_detection_and_can_unmap(tmp_path):
    doc = BY_NAME["ambiguous-cash"].doc
    cfg = tmp_path / "c.toml"
    cfg.write_text('[fields]\ncash = "live_balance"\npeak = ""\ncurrency = "usd"\n')
    config = load_config({}, env={}, config_file=cfg)
    rm = roles_for(config, doc)
    assert rm.path("cash") == "live_balance" and rm.bindings["cash"].source == "configured"
    assert rm.path("peak") is None and not rm.mapped("peak")
    # the flag wins over the file, role by role
    config = load_config({"fields": ["cash=paper_balance"]}, env={}, config_file=cfg)
    assert roles_for(config, doc).path("cash") == "paper_balance"


@pytest.mark.parametrize("table,needle", [
    ('[fields]\ncash = 5\n', "fields.cash must be a dotted path"),
    ('[fields]\nbalance = "x"\n', "fields.balance: unknown role"),
    ('[fields]\npeak_basis = "nav"\n', "peak_basis must be"),
    ('[fields]\ncash = "a..b"\n', "empty segment"),
    ('[fields]\npeak = "!peak"\n', "only the halted flag can be inverted"),
])
def test_bad_field_tables_are_config_errors(tmp_path, table, needle):
    cfg = tmp_path / "c.toml"
    cfg.write_text(table)
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        load_config({}, env={}, config_file=cfg)


def test_cli_fields_show_and_override(tmp_path):
    state = write(tmp_path, BY_NAME["ambiguous-cash"].doc)
    res = run_cli("fields", "--state", str(state))
    assert res.returncode == 0, res.stderr
    assert "ambiguous: paper_balance, live_balance" in res.stdout and "fields.cash" in res.stdout
    res = run_cli("show", "--json", "--state", str(state), "--field", "cash=live_balance")
    out = json.loads(res.stdout)
    assert out["roles"]["cash"] == {"path": "live_balance", "value": "40.0"}
    assert out["roles"]["peak"] == {"path": "peak_balance", "value": "120.0"}
    assert out["derived"]["drawdown"] == str((Decimal("120.0") - Decimal("40.0")) / Decimal("120.0"))
    res = run_cli("show", "--state", str(state), "--field", "cash")
    assert res.returncode == 2 and "--field: expected ROLE=PATH" in res.stderr and "Traceback" not in res.stderr
    text = run_cli("show", "--state", str(state), "--field", "cash=live_balance").stdout
    assert "40.00 (live_balance)" in text and "peak 120.00 (peak_balance" in text
    before = state.read_bytes()
    assert state.read_bytes() == before


EXPECTED_PEAK_STATUS = {
    "flat": Status.WARNING,  # a peak, no journal: cannot tell whether it is true
    "nested-account": Status.WARNING,  # the peak's basis is unknown
    "per-symbol": Status.SKIPPED, "positions-root": Status.SKIPPED, "only-kill-switch": Status.SKIPPED,
    "neither": Status.SKIPPED,
    "positions-object": Status.WARNING,  # an equity peak and no equity figure
    "eur": Status.WARNING, "only-peak": Status.WARNING, "inverted-flag": Status.WARNING,
    "status-string": Status.WARNING,  # peak == cash: really reached, but no journal records the peak's updates
    "ambiguous-cash": Status.WARNING, "camel-case": Status.WARNING,
}


@pytest.mark.parametrize("schema", SCHEMAS, ids=[s.name for s in SCHEMAS])
def test_audit_runs_through_roles(tmp_path, schema):
    state = write(tmp_path, schema.doc)
    config = Config(state=state, pid_file=tmp_path / "bot.pid")
    results = {r.id: r for r in run_audit(AuditContext(config), ["state-file", "peak-drawdown"])}
    assert results["state-file"].status in (Status.PASS, Status.WARNING), results["state-file"].findings
    peak = results["peak-drawdown"]
    assert peak.status == EXPECTED_PEAK_STATUS[schema.name], (peak.summary, [f.message for f in peak.findings])
    if schema.name in ("flat", "camel-case", "inverted-flag", "eur"):
        assert any("cannot tell" in f.message for f in peak.findings)
    if schema.name == "status-string":
        assert any("was really reached" in f.message for f in peak.findings)


@pytest.mark.parametrize("name", ["flat", "inverted-flag", "camel-case", "status-string", "eur"])
def test_set_peak_writes_the_bots_own_fields_its_own_way(tmp_path, name):
    """A human's peak clears a drawdown halt the bot's way: its flag (or inverted flag), its
    mode, its reason cleared as the bot clears it; field names, types and key order kept."""
    schema = BY_NAME[name]
    state = tmp_path / "bot" / "state.json"
    state.parent.mkdir()
    store = StateStore(state, auto_backup_interval=None, model=dict)
    store.init(schema.doc)
    store.save(schema.halted_doc, reason="bot halted")  # the journal shows how the bot runs
    config = Config(state=state, pid_file=tmp_path / "bot.pid")
    rm = role_map(schema.halted_doc)
    cash = rm.basis_value(schema.halted_doc)
    plan = plan_repair("set-peak", config, value=str(cash), reason="operator knows the true peak")
    assert plan.can_apply, plan.render()
    peak_path = rm.path("peak")
    assert plan.changes[0][0] == peak_path
    knows_why = rm.mapped("halt_reason")  # a bot that does not record why it halted keeps its halt
    assert bool(plan.halt_fields) == knows_why, plan.render()
    if not knows_why:
        assert any("the bot does not record why it halted" in n for n in plan.notes)
    apply_plan(plan, config, verify=False)
    doc = json.loads(state.read_text())
    assert list(doc) == list(schema.halted_doc)  # key order kept, nothing added or dropped
    assert rm.halted(doc) is (not knows_why)
    assert rm.money(doc, "peak") == cash
    for path, before, after in plan.changes:
        assert type(before) is type(after) or before is None or after is None or {type(before), type(after)} <= {int, float}
    entry = StateStore(state).journal.last()
    assert entry["evidence"]["manual"] is True and "operator knows" in entry["reason"]
    assert entry["roles"]["halted"] is (not knows_why)


def test_set_peak_refusals(tmp_path):
    state = write(tmp_path, BY_NAME["flat"].halted_doc)
    config = Config(state=state, pid_file=tmp_path / "bot.pid")
    before = state.read_bytes()
    for params, needle, code in (({"value": "100", "reason": "x"}, "below cash", 5),
                                 ({"value": "300"}, "--reason is required", 2),
                                 ({"value": "-1", "reason": "x"}, "positive amount", 2),
                                 ({"value": "nan", "reason": "x"}, "positive amount", 2)):
        plan = plan_repair("set-peak", config, **params)
        assert plan.blocked and needle in plan.blocked and plan.exit_code == code, plan.render()
    assert state.read_bytes() == before


def test_journal_records_role_values_under_the_bots_own_names(tmp_path):
    schema = BY_NAME["nested-account"]
    state = tmp_path / "bot" / "state.json"
    state.parent.mkdir()
    store = StateStore(state, auto_backup_interval=None, model=dict, fields={"peak_basis": "equity"})
    store.init(schema.doc)
    doc = store.load()
    doc["account"]["cash"] = 80.0
    store.save(doc, reason="trade")
    entry = store.journal.last()
    assert entry["roles"] == {"cash": 80.0, "equity": 120.0, "peak": 130.0, "halted": False}
    assert entry["changes"]["account"][1]["cash"] == 80.0



JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=16), JSON, max_size=8))
def test_detection_never_raises_and_only_maps_what_is_there(doc):
    rm = role_map(doc)
    for role, binding in rm.bindings.items():
        assert binding.path is not None and (binding.path == "$" or rm.present(doc, role)), (role, binding)
        rm.values(doc)  # every value readable
    rm.snapshot(doc)
