"""Fixtures for the hostile-input suite: sandboxes built through the real store, a real
anvil node behind a path-ignoring forwarder (a provider URL with the key in its path), and
a loopback JSON-RPC server that misbehaves on demand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from statetui.testing import scenarios
from tests.hostile.rpc import HostileRpc


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_statetui_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if (key.startswith("STATETUI_") and key not in ("STATETUI_SEED", "STATETUI_LONG")) or key == "NO_COLOR":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """In-process runs set the caps from each case's config: put the defaults back."""
    try:
        from statetui.core.limits import LIMITS
    except ImportError:  # (the suite run against the code before issue 11, to see it fail)
        yield
        return
    saved = dict(LIMITS.__dict__)
    yield
    LIMITS.__dict__.update(saved)


@pytest.fixture
def healthy(tmp_path: Path) -> scenarios.Scenario:
    return scenarios.healthy(tmp_path / "bot")


@pytest.fixture
def jan16(tmp_path: Path) -> scenarios.Scenario:
    return scenarios.jan16(tmp_path / "bot")


@pytest.fixture(scope="module")
def hostile_rpc() -> Iterator[HostileRpc]:
    with HostileRpc() as server:
        yield server


@pytest.fixture(scope="session")
def anvil_node(anvil_binary: str):
    """A real anvil with the test tokens at the real pUSD / USDC.e / CTF addresses."""
    from statetui.testing import anvil

    with anvil.polymarket_node(anvil_binary) as node:
        yield node
