"""A real anvil node for the chain tests (see statetui/testing/anvil.py).

One node per session carries the test contracts at the real pUSD, USDC.e and CTF
addresses; each test runs between an evm_snapshot and an evm_revert, so balances one
test sets never leak into another. Tests that kill a node or need another chain id
start their own with `start_node`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from statetui.core import chain
from statetui.core.config import Config
from statetui.testing import anvil


@pytest.fixture(scope="session")
def session_node(anvil_binary: str) -> Iterator[anvil.Anvil]:
    """(anvil_binary: tests/conftest.py)"""
    with anvil.polymarket_node(anvil_binary) as node:
        yield node


# A funder address (a Safe, say); checksummed as config wants it.
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@dataclass
class Chain:
    node: anvil.Anvil
    wallet: str = WALLET

    @property
    def url(self) -> str:
        return self.node.url

    def config(self, **overrides: object) -> Config:
        values: dict[str, object] = {"rpc_url": self.url, "wallet": self.wallet, "rpc_timeout": 5.0}
        values.update(overrides)
        return Config(**values)  # type: ignore[arg-type]

    def set_cash(self, token: str, raw: int, holder: str | None = None) -> None:
        anvil.set_erc20_balance(self.url, token, holder or self.wallet, raw)

    def set_position(self, token_id: int, raw: int, holder: str | None = None) -> None:
        from statetui.core.config import CTF

        anvil.set_erc1155_balance(self.url, CTF, holder or self.wallet, token_id, raw)


@pytest.fixture
def chain_node(session_node: anvil.Anvil) -> Iterator[Chain]:
    """The session node, reverted to its pristine state after the test."""
    snapshot = session_node.rpc("evm_snapshot")
    chain.clear_token_cache()
    try:
        yield Chain(session_node)
    finally:
        session_node.rpc("evm_revert", [snapshot])
        chain.clear_token_cache()


@pytest.fixture
def start_node(anvil_binary: str) -> Iterator[Callable[..., anvil.Anvil]]:
    """Start extra nodes (own chain id, or to be killed); all are stopped by pid at teardown."""
    nodes: list[anvil.Anvil] = []

    def start(chain_id: int = 137, deploy: bool = True) -> anvil.Anvil:
        node = anvil.start_anvil(chain_id, binary=anvil_binary)
        nodes.append(node)
        if deploy:
            anvil.deploy_polymarket(node.url)
        return node

    yield start
    for node in nodes:
        node.stop()
    chain.close_connections()
