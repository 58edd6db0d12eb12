"""statetui_chain_mismatch on a real anvil node: from a reconcile's reading, and from the
exporter's background refresh (a scrape itself never calls the chain)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from statetui.core.config import PUSD
from tests.conftest import run_cli
from tests.fleet.fleetkit import Receiver, fleet_config
from tests.fleet.prom import MetricsServer, wait_for

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _mismatch(text: str) -> dict[str, float]:
    return {s.labels["bot"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "statetui_chain_mismatch"}


def test_reconcile_reading_becomes_the_metric(tmp_path, chain_node):
    chain_node.set_cash(PUSD, 90_000_000)  # $90 on chain; the state says $100
    config = fleet_config(tmp_path, {"alpha": {"cash": 100, "peak": 100}, "beta": {"cash": 5, "peak": 5}},
                          top=f'[chain]\nrpc_url = "{chain_node.url}"\nwallet = "{WALLET}"\n'
                              f'tokens = ["{PUSD}"]\n')
    before = run_cli("--config", str(config), "metrics")
    assert before.returncode == 0 and _mismatch(before.stdout) == {}  # nothing read yet: absent, not 0
    r = run_cli("--config", str(config), "--bot", "alpha", "reconcile")
    assert r.returncode == 0, r.stderr
    after = run_cli("--config", str(config), "metrics")
    assert _mismatch(after.stdout) == {"alpha": 10.0}


def test_listen_refreshes_the_chain_in_the_background(tmp_path, chain_node):
    chain_node.set_cash(PUSD, 97_500_000)
    config = fleet_config(tmp_path, {"alpha": {"cash": 100, "peak": 100}},
                          top=f'chain_refresh_interval = 1\n[chain]\nrpc_url = "{chain_node.url}"\n'
                              f'wallet = "{WALLET}"\ntokens = ["{PUSD}"]\n')
    server = MetricsServer("--config", str(config))
    try:
        def scraped():
            with urllib.request.urlopen(server.url, timeout=30) as resp:
                return _mismatch(resp.read().decode())

        assert wait_for(scraped, 60, "the background chain reading") == {"alpha": 2.5}
        chain_node.set_cash(PUSD, 100_000_000)
        assert wait_for(lambda: scraped() == {"alpha": 0.0}, 60, "the next reading")
    finally:
        code = server.stop()
        print("".join(server.stderr))
        assert code == 0


def test_a_reconcile_that_finds_a_mismatch_notifies_the_next_step(tmp_path, chain_node):
    chain_node.set_cash(PUSD, 90_000_000)
    receiver = Receiver()
    try:
        config = fleet_config(tmp_path, {"alpha": {"cash": 100, "peak": 100}},
                              top=f'notify = ["{receiver.url}"]\n[chain]\nrpc_url = "{chain_node.url}"\n'
                                  f'wallet = "{WALLET}"\ntokens = ["{PUSD}"]\n')
        r = run_cli("--config", str(config), "reconcile")
        assert r.returncode == 0, r.stderr  # a plan: the exit code is the plan's, notified or not
        (sent,) = [m["json"] for m in receiver.received]
        assert sent["title"] == "statetui: alpha reconcile FAIL"
        lines = sent["message"].splitlines()
        assert lines[1] == "reconcile: FAIL - state cash differs from on-chain cash: 10.00 (state over chain; threshold 1.00)"
        assert lines[-1] == "next step: statetui --bot alpha reconcile --apply"
        assert chain_node.url.split("//")[1] not in sent["message"]
    finally:
        receiver.close()
