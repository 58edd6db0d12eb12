"""Startup reconciliation, for the bot to call before it trades (the seed audit's "On
startup: fetch on-chain balance and reconcile; if mismatch > $1: log warning +
auto-correct"). The bot-facing import is `statetui.reconcile`.

    result = on_startup(store, config_or_settings, allow_unreadable_chain=False)

Reads the wallet's cash at one pinned block and compares it with the state's cash role
(only a USD cash role: the chain holds USD stablecoins). Within `mismatch_threshold`
nothing is written. Beyond it, a warning is logged and the cash role is set to the
chain's figure through the store (locked, a backup first, a journal entry whose evidence
is the chain's reading: RPC URL redacted, chain id, wallet, block, time, balances); the
peak only rises to the new cash (never lowered here: that needs evidence of its origin,
`statetui repair recompute-peak`). When the chain cannot be read, StartupChainError is
raised and nothing is written: the bot must not trade on a figure nobody checked, unless
it passed allow_unreadable_chain=True, which logs the failure and returns a result whose
status says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from statetui.core.config import Config, load_config
from statetui.core.errors import ChainError, ConfigError
from statetui.core.money import fmt_money, to_json_number
from statetui.core.roles import value_at

MATCHED, CORRECTED, SKIPPED, UNREADABLE = "matched", "corrected", "skipped", "chain-unreadable"
REASON = "startup reconcile"
_LOG = logging.getLogger("statetui.reconcile")


class StartupChainError(ChainError):
    """The chain could not be read at startup: nothing was compared or written, and the bot
    must not trade (pass allow_unreadable_chain=True to continue anyway)."""


class StartupReconcileError(ConfigError):
    """Startup reconciliation cannot run for this bot (no chain configured, no single cash
    field to compare and correct): the bot asked for a check that cannot be made."""


@dataclass
class StartupReconcile:
    status: str  # matched | corrected | skipped (nothing to compare) | chain-unreadable (allowed to continue)
    message: str
    state_cash: Decimal | None = None
    chain_cash: Decimal | None = None
    threshold: Decimal | None = None
    block: int | None = None  # where the chain was read
    rpc: str | None = None  # redacted
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [before, after]
    generation: int | None = None  # the journal entry of the correction
    error: str | None = None  # why the chain could not be read

    @property
    def difference(self) -> Decimal | None:
        if self.state_cash is None or self.chain_cash is None:
            return None
        return self.state_cash - self.chain_cash

    @property
    def chain_read(self) -> bool:
        return self.status != UNREADABLE

    def __str__(self) -> str:
        return self.message


def on_startup(store: Any, config_or_settings: Config | Mapping[str, Any] | None = None, *,
               allow_unreadable_chain: bool = False, log: logging.Logger | None = None) -> StartupReconcile:
    """Compare the state's cash with the wallet's on chain, correct it when they differ by
    more than the threshold. `config_or_settings`: a statetui Config, or a mapping of its
    settings (rpc_url, wallet, tokens, chain_id, mismatch_threshold, fields, ...; the config
    file and STATETUI_* environment fill in the rest), or None (config file and environment)."""
    log = log or _LOG
    config = config_or_settings if isinstance(config_or_settings, Config) else load_config(flags=dict(config_or_settings or {}))
    if not config.chain_configured:
        raise StartupReconcileError("startup reconcile: no chain configured (set rpc_url and wallet)")
    doc = store.parse(store.read_bytes()).to_document()
    roles = store.roles(doc)
    cash_path = roles.path("cash")
    if cash_path is None or "*" in cash_path:
        raise StartupReconcileError(
            f"startup reconcile: {store.path}: " + ("the state keeps no cash field statetui can find (map it: "
                                                    "StateStore(..., fields={'cash': 'PATH'}))" if cash_path is None
                                                    else f"cash is summed over {cash_path}: there is no one field to correct"))
    if roles.currency != "USD":
        result = StartupReconcile(SKIPPED, f"startup reconcile skipped: the bot's cash is in {roles.currency}; "
                                           "the chain holds USD stablecoins")
        log.info(result.message)
        return result

    from statetui.core.chain import read_chain

    try:
        reading = read_chain(config)
    except ChainError as exc:
        if not allow_unreadable_chain:
            log.error("startup reconcile: the chain cannot be read (%s): not trading", exc)
            raise StartupChainError(f"startup reconcile: the chain cannot be read: {exc}") from None
        result = StartupReconcile(UNREADABLE, f"startup reconcile: the chain cannot be read ({exc}); continuing "
                                              "unchecked, as the bot chose", error=str(exc))
        log.warning(result.message)
        return result

    threshold = config.mismatch_threshold
    result = StartupReconcile(MATCHED, "", chain_cash=reading.cash, threshold=threshold, block=reading.block_number,
                              rpc=reading.rpc_url)
    with store.locked():  # no other writer between this read and the correction
        state = store.parse(store.read_bytes())
        doc = state.to_document()
        result.state_cash = cash = roles.money(doc, "cash")
        shown = f"${fmt_money(reading.cash)} at block {reading.block_number}"
        if cash is not None and abs(cash - reading.cash) <= threshold:
            result.message = (f"startup reconcile: state cash ${fmt_money(cash)} matches the wallet's {shown} "
                              f"(within ${fmt_money(threshold)})")
            log.info(result.message)
            return result
        changes = _changes(doc, roles, reading.cash)
        if cash_path not in changes:
            raise StartupReconcileError(f"startup reconcile: {store.path}: {cash_path} holds no number to correct")
        log.warning("startup reconcile: state cash %s differs from the wallet's %s by more than $%s: correcting",
                    "absent" if cash is None else f"${fmt_money(cash)}", shown, fmt_money(threshold))
        evidence = {**reading.evidence(), "state_cash": None if cash is None else str(cash),
                    "chain_cash": str(reading.cash), "threshold": str(threshold),
                    "changes": {path: list(change) for path, change in changes.items()}}
        for path, (_, after) in changes.items():
            _assign(state, path, after)
        saved = store.save(state, REASON, backup="pre-startup-reconcile", evidence=evidence)
    result.status, result.changes, result.generation = CORRECTED, changes, saved.generation
    result.message = (f"startup reconcile: corrected {cash_path} "
                      f"{'absent' if cash is None else '$' + fmt_money(cash)} -> ${fmt_money(reading.cash)} "
                      f"(the wallet's cash at block {reading.block_number}; journal #{saved.generation})")
    log.warning(result.message)
    return result


def _changes(doc: dict[str, Any], roles: Any, chain_cash: Decimal) -> dict[str, list[Any]]:
    """field -> [before, after]: the cash to the chain's, and a cash peak up to it when below."""
    out: dict[str, list[Any]] = {}
    path = roles.path("cash")
    before = value_at(doc, path)
    if isinstance(before, (int, float)) and not isinstance(before, bool):
        out[path] = [before, to_json_number(chain_cash, before)]
    peak_path, peak = roles.path("peak"), roles.money(doc, "peak")
    if (roles.peak_basis == "cash" and peak is not None and peak < chain_cash and peak_path
            and "*" not in peak_path and not peak_path.startswith("!")):
        was = value_at(doc, peak_path)
        out[peak_path] = [was, to_json_number(chain_cash, was)]
    return out


def _assign(state: Any, path: str, value: Any) -> None:
    """Set a (possibly dotted) field of the parsed state, keeping the rest of its top-level value."""
    from statetui.core.jsondoc import json_copy
    from statetui.core.roles import set_path, split_path

    parts = split_path(path)
    if len(parts) == 1:
        setattr(state, parts[0], value)
        return
    top = json_copy(getattr(state, parts[0]))
    set_path({parts[0]: top}, path, value)
    setattr(state, parts[0], top)
