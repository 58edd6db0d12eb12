"""The chain panel and the reconcile repair against a real anvil node (skipped when
anvil cannot be found or installed, like tests/chain)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from statetui.core import chain
from statetui.core.config import PUSD, USDC_E, Config
from statetui.testing import anvil
from statetui.tui.app import StateTuiApp
from statetui.tui.widgets.chain_panel import ChainPanel

from tests.tui.conftest import ready, screen_text, wait_for
from tests.tui.test_repairs import confirm_and_apply, pick

pytestmark = pytest.mark.anyio
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(scope="module")
def node(anvil_binary):
    try:
        with anvil.polymarket_node(anvil_binary) as n:
            yield n
    finally:
        chain.close_connections()


def with_chain(cfg: Config, url: str) -> Config:
    return Config(state=cfg.state, backup_dir=cfg.backup_dir, pid_file=cfg.pid_file, rpc_url=url, wallet=WALLET,
                  rpc_timeout=5.0)


async def test_chain_panel_reads_on_demand_and_reconcile_fixes_the_state(jan16, node):
    # A redemption landed after the halt: the wallet holds 210.97, the state says 200.97.
    anvil.set_erc20_balance(node.url, PUSD, WALLET, 160_500_000)
    anvil.set_erc20_balance(node.url, USDC_E, WALLET, 50_470_000)
    chain.clear_token_cache()
    cfg = with_chain(jan16, node.url)
    app = StateTuiApp(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        panel = app.screen.query_one(ChainPanel)
        assert "not read yet" in panel.render().plain  # never read on its own
        app.run_checks(["chain-reconcile"])  # the audit reads the chain: the panel shows that reading
        await wait_for(pilot, lambda: "chain-reconcile" in app.ctx.audit and not app.ctx.audit_running, "the check")
        assert "(audit)" in panel.render().plain and "= 210.97" in panel.render().plain
        await pilot.press("c")
        await wait_for(pilot, lambda: app.ctx.chain_view.source == "c" and not app.ctx.chain_busy, "the chain reading")
        text = panel.render().plain
        assert app.ctx.chain_view.error is None, app.ctx.chain_view.error
        assert "pUSD 160.50" in text and "USDC.e 50.47" in text and "= 210.97" in text
        assert "mismatch -10.00" in text and "> 1.00" in text
        assert f"block {app.ctx.chain_view.block_number:,}" in text

        await pilot.press("p")
        await pick(pilot, "reconcile")
        wizard = await confirm_and_apply(pilot)
        assert wizard.outcome.ok, screen_text(app)
        verify = {r.id: r for r in wizard.outcome.verify}
        # Cash now matches; the check still warns that the redeemed positions are listed as open.
        assert verify["chain-reconcile"].status.value in ("PASS", "WARNING")
        assert verify["peak-drawdown"].status.value == "PASS"
        await pilot.press("enter")  # close the result
        await wait_for(pilot, lambda: app.ctx.state_view.derived.cash == Decimal("210.97") if app.ctx.state_view.ok else False,
                       "the reconciled file on the dashboard")
        await pilot.press("c")
        await wait_for(pilot, lambda: not app.ctx.chain_busy and app.ctx.chain_view.state_cash == Decimal("210.97"), "a second reading")
        assert "mismatch 0.00 ok" in panel.render().plain
    doc = json.loads(cfg.state.read_bytes())
    assert doc["current_balance"] == 210.97 and doc["peak_balance"] == 210.97


async def test_chain_not_configured_says_so(healthy):
    app = StateTuiApp(healthy)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("c")
        await wait_for(pilot, lambda: app.ctx.chain_view is not None, "the chain panel")
        assert "chain not configured" in app.screen.query_one(ChainPanel).render().plain
