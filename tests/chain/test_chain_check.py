"""The chain-reconcile audit check against a real anvil and a real state file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from statetui.audit.base import REGISTRY, AuditContext, Status, run_check
from statetui.audit.checks import chain_reconcile  # noqa: F401  (registers the check)
from statetui.core.config import PUSD, USDC_E, Config
from statetui.testing.anvil import free_port, set_erc20_balance

CHECK = REGISTRY["chain-reconcile"]
BIG_ID = 71321045679252212594626385532706912750332728571942532289631379312455583992563


def write_state(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "state" / "trading_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"current_balance": 200.97, "peak_balance": 200.97, "mode": "normal", "positions": []}
    doc.update(fields)
    path.write_text(json.dumps(doc, indent=2))
    return path


def run(config: Config):
    ctx = AuditContext(config)
    return run_check(CHECK, ctx), ctx


@pytest.fixture
def funded(chain_node):
    """The Jan 16 wallet: $200.97 on chain, split over pUSD and USDC.e."""
    chain_node.set_cash(PUSD, 150_500_000)
    chain_node.set_cash(USDC_E, 50_470_000)
    return chain_node


def test_registered_as_a_network_check():
    assert (CHECK.title, CHECK.local) == ("Chain Reconciliation", False)


def test_match(funded, tmp_path):
    result, ctx = run(funded.config(state=write_state(tmp_path, current_balance=200.97)))
    assert result.status is Status.PASS
    assert result.repairs == []
    assert "state cash (current_balance) $200.97 matches on-chain $200.97 at block" in result.summary
    assert "pUSD 150.50 + USDC.e 50.47" in result.summary
    assert result.data["chain"]["cash"] == "200.970000"
    assert result.data["chain"]["block_number"] == ctx.cache["chain"].block_number
    json.dumps(result.to_dict())  # the whole result stays JSON-safe


def test_small_difference_is_within_threshold(funded, tmp_path):
    result, _ = run(funded.config(state=write_state(tmp_path, current_balance=201.97)))  # exactly $1.00 over
    assert result.status is Status.PASS
    assert result.data["difference"] == "1.000000"


def test_jan16_incident_state_over_chain(funded, tmp_path):
    state = write_state(tmp_path, current_balance=386.97, peak_balance=386.97)
    result, _ = run(funded.config(state=state))
    assert result.status is Status.FAIL
    assert result.summary.startswith("state cash (current_balance) claims $386.97 but the wallet holds $200.97 at block ")
    assert result.summary.endswith(": $186.00 that is not on chain")
    assert result.findings[0].file == str(state)
    assert result.repairs == ["reconcile"]
    assert result.data["difference"] == "186.000000"


def test_state_under_chain(funded, tmp_path):
    result, _ = run(funded.config(state=write_state(tmp_path, current_balance=150.00)))
    assert result.status is Status.WARNING
    assert "$50.97 more than the state's $150.00" in result.summary
    assert result.repairs == ["reconcile"]


def test_threshold_is_configurable(funded, tmp_path):
    cfg = funded.config(state=write_state(tmp_path, current_balance=150.00), mismatch_threshold=Decimal(60))
    assert run(cfg)[0].status is Status.PASS


def test_skipped_without_chain(tmp_path):
    result, _ = run(Config(state=write_state(tmp_path)))
    assert result.status is Status.SKIPPED
    assert result.summary.startswith("chain not configured")
    assert "chain" not in result.data


def test_rpc_down(start_node, tmp_path):
    node = start_node()
    cfg = Config(state=write_state(tmp_path), rpc_url=node.url, wallet="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    set_erc20_balance(node.url, PUSD, cfg.wallet, 200_970_000)
    assert run(cfg)[0].status is Status.PASS
    node.stop()
    result, _ = run(cfg)
    assert result.status is Status.FAIL
    assert result.summary == f"cannot read the chain: RPC {node.url} unreachable: connection refused"
    assert result.repairs == [] and "chain" not in result.data


def test_wrong_chain_is_a_finding(start_node, tmp_path):
    node = start_node(chain_id=1)
    cfg = Config(state=write_state(tmp_path), rpc_url=node.url, wallet="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    result, _ = run(cfg)
    assert result.status is Status.FAIL
    assert "serves chain id 1, expected 137" in result.summary


def test_credentials_stay_out_of_the_report(tmp_path):
    url = f"http://me:topsecretpw@127.0.0.1:{free_port()}/v3/ZZZZ0123456789abcdefZZZZ"
    result, _ = run(Config(state=write_state(tmp_path), rpc_url=url, wallet="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))
    text = json.dumps(result.to_dict())
    assert result.status is Status.FAIL and "unreachable" in text
    assert "topsecretpw" not in text and "ZZZZ0123456789abcdefZZZZ" not in text


def test_missing_state_still_reports_chain_cash(funded, tmp_path):
    result, _ = run(funded.config(state=tmp_path / "nope.json"))
    assert result.status is Status.FAIL
    assert "state file not found" in result.summary
    assert any(f.severity == "INFO" and "on-chain cash is $200.97" in f.message for f in result.findings)
    assert result.data["chain"]["cash"] == "200.970000"


def test_positions_held_redeemed_and_gone(funded, tmp_path):
    funded.set_position(BIG_ID, 12_500_000)  # open and held
    funded.set_position(555, 3_000_000)  # the state says redeemed, the wallet still holds it
    positions = [
        {"market": "will-x-happen", "token_id": str(BIG_ID), "size": 12.5},
        {"market": "done", "asset": 555, "status": "redeemed"},
        {"market": "sold-off", "tokenId": "0x309", "status": "open"},  # 777, none held
        {"market": "closed-and-gone", "token_id": 888, "closed": True},
        {"market": "no id"},
    ]
    result, _ = run(funded.config(state=write_state(tmp_path, positions=positions)))
    messages = {f.severity: [] for f in result.findings}
    for f in result.findings:
        messages[f.severity].append(f.message)
    assert result.status is Status.WARNING
    assert messages["INFO"] == [f"position {BIG_ID} still held on chain: 12.50 shares (unredeemed, not counted as cash)",
                                "unredeemed: $0.00 in 0 resolved markets (on chain, at block 1)"]  # set without events
    assert messages["WARNING"] == [
        "position 555: the state marks it redeemed but the wallet still holds 3.00 shares "
        "(unredeemed: that cash is not in the wallet yet)",
        "position 777: the state lists it as open but the wallet holds none (sold or redeemed since: the state is stale)",
    ]
    assert result.data["chain"]["positions"] == {str(BIG_ID): "12500000", "555": "3000000", "777": "0", "888": "0"}
    assert [r["state_says"] for r in result.data["positions"]] == ["open", "redeemed", "open", "closed"]


def test_positions_as_a_dict(funded, tmp_path):
    funded.set_position(42, 1_000_000)
    result, _ = run(funded.config(state=write_state(tmp_path, positions={"m1": {"token_id": 42}})))
    assert result.data["chain"]["positions"] == {"42": "1000000"}
    assert any("position 42 still held on chain: 1.00 shares" in f.message for f in result.findings)
