"""The Chain panel's view: one reading at a pinned block (gathered in a child process,
statetui.tui.offload, so web3 never loads in the console), or the reading the
chain-reconcile check already made. No Textual import."""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Any

from statetui.core.config import Config
from statetui.core.errors import StatetuiError
from statetui.core.lazy_dataclass import lazy_dataclass


@lazy_dataclass(eq=False)
class TokenView:
    symbol: str | None
    address: str
    amount: Decimal


@lazy_dataclass(eq=False)
class ChainView:
    at: float  # when it was read (our clock)
    configured: bool
    rpc: str | None = None  # redacted
    block_number: int | None = None
    block_time: float | None = None
    tokens: list[TokenView] = field(default_factory=list)
    cash: Decimal | None = None  # None: no reading
    error: str | None = None
    state_cash: Decimal | None = None
    threshold: Decimal = Decimal("1.00")
    source: str = "c"  # "c" (read on request) or "audit" (the chain-reconcile check read it)
    witness: Any = None  # the realized-cash history (ChainWitness), or why it is unread (ChainUnread)
    unredeemed: str | None = None  # "unredeemed: $X in N resolved markets", or why it could not be read

    @property
    def mismatch(self) -> Decimal | None:
        if self.cash is None or self.state_cash is None:
            return None
        return self.state_cash - self.cash

    @property
    def matches(self) -> bool | None:
        m = self.mismatch
        return None if m is None else abs(m) <= self.threshold


def gather_chain(config: Config, state_cash: Decimal | None, tokens: list[int], now: float,
                 progress: Any = None) -> ChainView:
    """One on-chain reading at a pinned block, then the wallet's realized-cash history (a
    cached scan; `progress` gets its ScanProgress) and its unredeemed positions. Imported
    here, never at console start (the console runs it in a child: statetui.tui.offload)."""
    from statetui.core.redact import redact_url

    view = ChainView(at=now, configured=config.chain_configured, state_cash=state_cash,
                     threshold=config.mismatch_threshold,
                     rpc=redact_url(config.rpc_url) if config.rpc_url else None)
    if not config.chain_configured:
        view.error = "chain not configured: set rpc_url and wallet (--rpc-url/--wallet or STATETUI_RPC_URL/STATETUI_WALLET)"
        return view
    from statetui.core.chain import read_chain

    try:
        r = read_chain(config, tokens)
    except StatetuiError as exc:
        view.error = str(exc)
        return view
    view.block_number, view.block_time, view.cash = r.block_number, r.block_time, r.cash
    view.tokens = [TokenView(t.symbol, t.address, t.amount) for t in r.tokens]
    from statetui.core.chainhist import read_positions
    from statetui.core.chainhist.witness import obtain

    view.witness = obtain(config, progress=progress)
    try:
        view.unredeemed = read_positions(config, block=r.block_number, progress=progress).summary()
    except StatetuiError as exc:
        view.unredeemed = f"positions unread: {exc}"
    return view


def chain_of_check(result: Any, config: Config, now: float) -> ChainView | None:
    """The reading the chain-reconcile check made (its `data`), as the Chain panel's view."""
    chain = (result.data or {}).get("chain") if result is not None else None
    if not isinstance(chain, dict):
        return None
    try:
        view = ChainView(at=now, configured=True, rpc=chain.get("rpc_url"), block_number=int(chain["block_number"]),
                         block_time=float(chain["block_time"]), cash=Decimal(str(chain["cash"])),
                         threshold=config.mismatch_threshold, source="audit")
        view.tokens = [TokenView(t.get("symbol"), str(t.get("address")), Decimal(str(t.get("amount"))))
                       for t in chain.get("tokens", []) if isinstance(t, dict)]
        if result.data.get("state_cash") is not None:
            view.state_cash = Decimal(str(result.data["state_cash"]))
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    return view
