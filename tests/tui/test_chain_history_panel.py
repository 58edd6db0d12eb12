"""The chain panel's history lines on a real anvil: the wallet's cash curve beside the
state's peak, what is unredeemed on chain, and the peak check using what the chain worker
read (the console's own check runs never touch the network)."""

from __future__ import annotations


import pytest

from statetui.core import chain
from statetui.core.config import Config
from statetui.testing import anvil
from statetui.testing.chainhist import USDC, History, deploy
from statetui.tui.app import StateTuiApp
from statetui.tui.widgets.chain_panel import ChainPanel

from tests.tui.conftest import ready, wait_for

pytestmark = pytest.mark.anyio
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(scope="module")
def node(anvil_binary):
    n = anvil.start_anvil(137, binary=anvil_binary)
    try:
        deploy(n.url)
        h = History(n.url, WALLET)
        h.deposit(250 * USDC)  # cash never went above $250 ...
        won = h.market(1)
        h.buy(won, "yes", 186 * USDC, 4903 * USDC // 100)  # ... and $186 of winnings were never redeemed
        h.resolve(won, "yes")
        yield n
    finally:
        n.stop()
        chain.close_connections()


async def test_the_chain_worker_reads_the_history_and_the_peak_check_uses_it(jan16, node, tmp_path):
    cfg = Config(state=jan16.state, backup_dir=jan16.backup_dir, pid_file=jan16.pid_file, rpc_url=node.url,
                 wallet=WALLET, rpc_timeout=5.0, chain_cache_dir=tmp_path / "cache")
    app = StateTuiApp(cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        first = app.ctx.audit["peak-drawdown"].result
        assert "chain_curve" not in first.data  # the console's own runs read no chain
        await pilot.press("c")
        await wait_for(pilot, lambda: app.ctx.chain_view is not None and not app.ctx.chain_busy, "the chain reading")
        text = app.screen.query_one(ChainPanel).render().plain
        assert "mark 250.00" in text and "peak 386.97" in text, text
        assert "unredeemed: $186.00 in 1 resolved market" in text
        await wait_for(pilot, lambda: "chain_curve" in app.ctx.audit["peak-drawdown"].result.data, "the peak check again")
        result = app.ctx.audit["peak-drawdown"].result
        assert any("FALSE DRAWDOWN HALT" in f.message for f in result.findings)
