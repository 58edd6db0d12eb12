"""Polymarket's contracts on Polygon, the event topics and call selectors statetui reads,
and the few ABI words it encodes and decodes by hand (no web3 on these paths).

Topics and selectors are keccak256 of the signatures in the comments; a test recomputes
them."""

from __future__ import annotations

from typing import Any

from statetui.core.config import CTF, PUSD, USDC_E

CTF_EXCHANGE = "0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E"
NEG_RISK_CTF_EXCHANGE = "0xC5d563A36AE78145C45a50134d48A1215220f80a"
CTF_EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"  # since 28 April 2026
NEG_RISK_CTF_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
EXCHANGES = (CTF_EXCHANGE, NEG_RISK_CTF_EXCHANGE, CTF_EXCHANGE_V2, NEG_RISK_CTF_EXCHANGE_V2)
# A collateral transfer to or from one of these is trading, not a deposit or withdrawal.
TRADING_COUNTERPARTIES = {a.lower(): name for a, name in (
    (CTF_EXCHANGE, "CTF Exchange"), (NEG_RISK_CTF_EXCHANGE, "NegRisk CTF Exchange"),
    (CTF_EXCHANGE_V2, "CTF Exchange V2"), (NEG_RISK_CTF_EXCHANGE_V2, "NegRisk CTF Exchange V2"),
    (NEG_RISK_ADAPTER, "NegRisk Adapter"), (CTF, "Conditional Tokens"))}
COLLATERAL = (PUSD, USDC_E)
ZERO_ADDRESS = "0x" + "0" * 40

# Transfer(address,address,uint256)
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# TransferSingle(address,address,address,uint256,uint256)
TRANSFER_SINGLE = "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62"
# TransferBatch(address,address,address,uint256[],uint256[])
TRANSFER_BATCH = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"
# PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)  (Conditional Tokens)
PAYOUT_REDEMPTION = "0x2682012a4a4f1973119f1c9b90745d1bd91fa2bab387344f044cb3586864d18d"
# PayoutRedemption(address,bytes32,uint256[],uint256)  (NegRisk Adapter)
ADAPTER_PAYOUT_REDEMPTION = "0x9140a6a270ef945260c03894b3c6b3b2695e9d5101feef0ff24fec960cfd3224"
# TokenRegistered(uint256,uint256,bytes32)  (the exchanges: position id -> condition)
TOKEN_REGISTERED = "0xbc9a2432e8aeb48327246cddd6e872ef452812b4243c04e6bfb786a2cd8faf0d"
# PositionSplit / PositionsMerge(address,address,bytes32,bytes32,uint256[],uint256)
POSITION_SPLIT = "0x2e6bb91f8cbcda0c93623c54d0403a43514fabc40084ec96b6d5379a74786298"
POSITIONS_MERGE = "0x6f13ca62553fcc2bcd2372180a43949c1e4cebba603901ede2f4e14f36b282ca"

BALANCE_OF = "0x70a08231"  # balanceOf(address)
DECIMALS = "0x313ce567"  # decimals()
PAYOUT_DENOMINATOR = "0xdd34de67"  # payoutDenominator(bytes32)
PAYOUT_NUMERATORS = "0x0504c814"  # payoutNumerators(bytes32,uint256)
OUTCOME_SLOT_COUNT = "0xd42dc0c2"  # getOutcomeSlotCount(bytes32)
COLLECTION_ID = "0x856296f7"  # getCollectionId(bytes32,bytes32,uint256)
POSITION_ID = "0x39dd7530"  # getPositionId(address,bytes32)
BALANCE_OF_1155 = "0x00fdd58e"  # balanceOf(address,uint256)


def word(value: int | str) -> str:
    """One 32-byte ABI word (64 hex digits) of an int, an address or a 0x bytes32."""
    if isinstance(value, int):
        return f"{value:064x}"
    return value[2:].lower().rjust(64, "0")


def topic(value: int | str) -> str:
    return "0x" + word(value)


def topic_address(value: str) -> str:
    """The address in an indexed topic, lower case."""
    return "0x" + value[-40:].lower()


def words(data: str) -> list[int]:
    body = data[2:]
    return [int(body[i:i + 64], 16) for i in range(0, len(body) - len(body) % 64, 64)]


def uint_array(ws: list[int], offset_word: int) -> list[int]:
    """A dynamic uint256[] whose head word (a byte offset) is ws[offset_word]."""
    start = ws[offset_word] // 32
    length = ws[start]
    return ws[start + 1:start + 1 + length]


def call(to: str, data: str, tag: str) -> tuple[str, list[Any]]:
    return ("eth_call", [{"to": to, "data": data}, tag])
