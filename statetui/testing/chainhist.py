"""Real on-chain histories on anvil for the history scanner's tests and benchmark.

Every step is a real transaction (one block each, automine) sent from an impersonated
account to the test contracts installed at the real Polymarket addresses, so the
wallet's history is read back through ordinary eth_getLogs and eth_call: deposits from
outside, trades through the exchange (collateral out, positions in, in one
transaction), withdrawals, a USDC.e -> pUSD migration, markets split, resolved and
redeemed."""

from __future__ import annotations

import time
from typing import Any

from statetui.core.chainhist import abi
from statetui.core.config import CTF, PUSD, USDC_E
from statetui.testing import anvil

BRIDGE = "0x1111111111111111111111111111111111111111"  # where deposits come from
OWNER = "0x2222222222222222222222222222222222222222"  # where withdrawals go (the owner's EOA)
OPERATOR = "0x3333333333333333333333333333333333333333"  # the exchange's operator (sends fills)
ORACLE = "0x4444444444444444444444444444444444444444"  # resolves markets (UMA adapter on Polygon)
USDC = 10 ** 6


def deploy(url: str) -> None:
    """pUSD, USDC.e, Conditional Tokens and every exchange at their real addresses."""
    anvil.deploy_erc20(url, PUSD, "pUSD", 6)
    anvil.deploy_erc20(url, USDC_E, "USDC.e", 6)
    code = anvil.bytecode()
    anvil.rpc(url, "anvil_setCode", [CTF, code["TestConditionalTokens"]])
    for exchange in (*abi.EXCHANGES, abi.NEG_RISK_ADAPTER):
        anvil.rpc(url, "anvil_setCode", [exchange, code["TestExchange"]])
    anvil.rpc(url, "anvil_autoImpersonateAccount", [True])


def _addr(a: str) -> str:
    return abi.word(a)


def _dyn(values: list[int]) -> str:
    return abi.word(len(values)) + "".join(abi.word(v) for v in values)


class History:
    """Builds one wallet's history on a node where deploy() ran. Amounts are raw (6 decimals)."""

    def __init__(self, url: str, wallet: str):
        self.url = url
        self.wallet = wallet
        self._funded: set[str] = set()
        self.txs: list[str] = []

    # plumbing
    def send(self, sender: str, to: str, data: str) -> str:
        if sender not in self._funded:
            anvil.rpc(self.url, "anvil_setBalance", [sender, hex(10 ** 20)])
            self._funded.add(sender)
        tx = anvil.rpc(self.url, "eth_sendTransaction", [{"from": sender, "to": to, "data": data, "gas": hex(3_000_000)}])
        receipt = None
        for _ in range(500):  # automine answers with the hash; the block follows within moments
            receipt = anvil.rpc(self.url, "eth_getTransactionReceipt", [tx])
            if receipt is not None:
                break
            time.sleep(0.002)
        if receipt is None or int(receipt["status"], 16) != 1:
            raise RuntimeError(f"transaction to {to} reverted: {data[:10]}")
        self.txs.append(tx)
        return tx

    def call(self, to: str, data: str) -> str:
        return anvil.rpc(self.url, "eth_call", [{"to": to, "data": data}, "latest"])

    def block(self) -> int:
        return int(anvil.rpc(self.url, "eth_blockNumber"), 16)

    def mine(self, blocks: int) -> None:
        anvil.mine(self.url, blocks)

    # cash
    def mint(self, token: str, to: str, raw: int) -> str:
        return self.send(OPERATOR, token, "0x40c10f19" + _addr(to) + abi.word(raw))

    def transfer(self, token: str, sender: str, to: str, raw: int) -> str:
        return self.send(sender, token, "0xa9059cbb" + _addr(to) + abi.word(raw))

    def deposit(self, raw: int, token: str = PUSD, source: str = BRIDGE) -> str:
        """Money from outside: minted to the bridge, then sent on to the wallet."""
        self.mint(token, source, raw)
        return self.transfer(token, source, self.wallet, raw)

    def withdraw(self, raw: int, token: str = PUSD, to: str = OWNER) -> str:
        return self.transfer(token, self.wallet, to, raw)

    def migrate(self, raw: int) -> str:
        """USDC.e -> pUSD in one transaction (pUSD.wrap)."""
        return self.send(self.wallet, PUSD, "0xbf376c7a" + _addr(USDC_E) + abi.word(raw))

    # markets
    # selectors: getConditionId 0x852c6ae2, getCollectionId 0x856296f7, getPositionId 0x39dd7530,
    # prepareCondition 0xd96ee754, registerToken 0x68c7450f, splitPosition 0x72ce4275
    def market(self, question: int, *, collateral: str = PUSD, exchange: str = abi.CTF_EXCHANGE,
               inventory: int = 10 ** 12) -> dict[str, Any]:
        """A binary market: condition prepared, both outcome tokens registered on the
        exchange, and `inventory` of each minted to the exchange (a split)."""
        qid = abi.word(question)
        self.send(ORACLE, CTF, "0xd96ee754" + _addr(ORACLE) + qid + abi.word(2))
        condition = "0x" + self.call(CTF, "0x852c6ae2" + _addr(ORACLE) + qid + abi.word(2))[2:66]
        ids = []
        for index_set in (1, 2):
            collection = self.call(CTF, "0x856296f7" + abi.word(0) + condition[2:] + abi.word(index_set))
            ids.append(int(self.call(CTF, "0x39dd7530" + _addr(collateral) + collection[2:66]), 16))
        self.send(OPERATOR, exchange, "0x68c7450f" + abi.word(ids[0]) + abi.word(ids[1]) + condition[2:])
        self.mint(collateral, exchange, 2 * inventory)  # half split into positions, half to pay sellers
        self.send(exchange, CTF, "0x72ce4275" + _addr(collateral) + abi.word(0) + condition[2:] + abi.word(160)
                  + abi.word(inventory) + _dyn([1, 2]))
        return {"question": question, "condition": condition, "yes": ids[0], "no": ids[1], "collateral": collateral,
                "exchange": exchange}

    def buy(self, market: dict[str, Any], outcome: str, shares: int, cost: int) -> str:
        return self.send(OPERATOR, market["exchange"], "0xb7eb8dfe" + _addr(CTF) + _addr(market["collateral"])
                         + _addr(self.wallet) + abi.word(market[outcome]) + abi.word(shares) + abi.word(cost))

    def sell(self, market: dict[str, Any], outcome: str, shares: int, proceeds: int) -> str:
        return self.send(OPERATOR, market["exchange"], "0xa5b6a670" + _addr(CTF) + _addr(market["collateral"])
                         + _addr(self.wallet) + abi.word(market[outcome]) + abi.word(shares) + abi.word(proceeds))

    def resolve(self, market: dict[str, Any], winner: str) -> str:
        payouts = [1, 0] if winner == "yes" else [0, 1]
        return self.send(ORACLE, CTF, "0xc49298ac" + abi.word(market["question"]) + abi.word(64) + _dyn(payouts))

    def redeem(self, market: dict[str, Any]) -> str:
        return self.send(self.wallet, CTF, "0x01b7037c" + _addr(market["collateral"]) + abi.word(0)
                         + market["condition"][2:] + abi.word(128) + _dyn([1, 2]))
