"""Pure parts of the chain history scanner: provider error texts, the cache file, topics."""

from __future__ import annotations

import json

import pytest

from statetui.core.chainhist import abi, limits
from statetui.core.chainhist.cache import StreamCache, merge, missing
from statetui.core.chainhist.cash import parse_since
from statetui.core.errors import ConfigError

# (message, JSON-RPC code, HTTP status) -> (kind, max span), as providers answer.
CASES = [
    ("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the "
     "response size, or you can request any block range with a cap of 10K logs in the response. Based on your "
     "parameters and the response size limit, this block range should work: [0x0, 0x3e7]", -32602, None,
     limits.SPLIT_RESULTS, 1000),  # Alchemy, result cap
    ("Under the Free tier plan, you can make eth_getLogs requests with up to a 10 block range. Based on your "
     "parameters, this block range should work: [0x64, 0x6d]", -32600, None, limits.SPLIT_RANGE, 10),  # Alchemy free
    ("query returned more than 10000 results. Try with this block range [0xBDE5F8, 0xBDE6F7].", -32005, None,
     limits.SPLIT_RESULTS, 256),  # Infura, geth, Bor
    ("range 1000000 exceeds limit of 10000", -32602, None, limits.SPLIT_RANGE, 10000),  # Infura
    ("eth_getLogs is limited to a 10,000 range", -32614, 413, limits.SPLIT_RANGE, 10000),  # QuickNode
    ("eth_getLogs and eth_newFilter are limited to a 10,000 blocks range", None, None, limits.SPLIT_RANGE, 10000),
    ("block range is too wide", -32600, None, limits.SPLIT_RANGE, None),  # Ankr
    ("ranges over 10000 blocks are not supported on freetier", 35, None, limits.SPLIT_RANGE, 10000),  # drpc
    ("Block range limit exceeded.", -32000, None, limits.SPLIT_RANGE, None),  # Chainstack
    ("eth_getLogs block range too large, range: 99991, max: 3500", None, None, limits.SPLIT_RANGE, 3500),  # Polygon
    ("exceed maximum block range: 50000", -32000, None, limits.SPLIT_RANGE, 50000),  # publicnode, Bor
    ("query exceeds max block range 100000", -32602, None, limits.SPLIT_RANGE, 100000),  # Reth
    ("eth_getLogs is limited to 1024 block range. Please check the parameter requirements", -32602, None,
     limits.SPLIT_RANGE, 1024),  # BlockPI
    ("range 9009594 is bigger than range limit 2000", -32602, None, limits.SPLIT_RANGE, 2000),  # thirdweb, Tenderly
    ("eth_getLogs range is too large, max is 1k blocks", -32603, None, limits.SPLIT_RANGE, 1000),  # merkle
    ("query exceeds max results 20000, retry with the range 23879634-23879696", -32602, None,
     limits.SPLIT_RESULTS, 63),  # Reth, llamarpc
    ("query timeout exceeded", -32005, None, limits.SPLIT_RESULTS, None),  # Infura, heavy query
    ("Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely "
     "ignore this message.", 429, 429, limits.RATE_LIMITED, None),  # Alchemy
    ("project ID request rate exceeded", -32005, 429, limits.RATE_LIMITED, None),  # Infura
    ("100/second request limit reached - reduce calls per second or upgrade your account at quicknode.com", -32007,
     None, limits.RATE_LIMITED, None),  # QuickNode
    ("credits limited to 6000/sec", -32012, None, limits.RATE_LIMITED, None),  # QuickNode
    ("Too many requests, reason: call rate limit exhausted, retry in 10s", -32090, None, limits.RATE_LIMITED, None),
    ("over rate limit", -32016, None, limits.RATE_LIMITED, None),
    ("Bad Gateway", None, 502, limits.TRANSIENT, None),
    ("execution reverted", 3, None, limits.FATAL, None),
]


@pytest.mark.parametrize("text, code, status, kind, span", CASES)
def test_provider_errors_are_recognised(text, code, status, kind, span):
    verdict = limits.classify(text, code=code, status=status)
    assert verdict.kind == kind
    assert verdict.max_span == span


def test_rate_limit_waits_come_from_the_provider():
    assert limits.classify("Too many requests, retry in 10s", code=-32090).wait == 10
    assert limits.classify('rate {"backoff_seconds": 2}', code=-32005, status=429).wait == 2
    assert limits.classify("Too Many Requests", status=429, retry_after=3).wait == 3


def test_topics_and_selectors_are_the_signatures_hashes():
    from eth_hash.auto import keccak

    def h(sig: str) -> str:
        return "0x" + keccak(sig.encode()).hex()

    assert abi.TRANSFER == h("Transfer(address,address,uint256)")
    assert abi.TRANSFER_SINGLE == h("TransferSingle(address,address,address,uint256,uint256)")
    assert abi.TRANSFER_BATCH == h("TransferBatch(address,address,address,uint256[],uint256[])")
    assert abi.PAYOUT_REDEMPTION == h("PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)")
    assert abi.ADAPTER_PAYOUT_REDEMPTION == h("PayoutRedemption(address,bytes32,uint256[],uint256)")
    assert abi.TOKEN_REGISTERED == h("TokenRegistered(uint256,uint256,bytes32)")
    for selector, sig in [(abi.PAYOUT_DENOMINATOR, "payoutDenominator(bytes32)"),
                          (abi.PAYOUT_NUMERATORS, "payoutNumerators(bytes32,uint256)"),
                          (abi.OUTCOME_SLOT_COUNT, "getOutcomeSlotCount(bytes32)"),
                          (abi.COLLECTION_ID, "getCollectionId(bytes32,bytes32,uint256)"),
                          (abi.POSITION_ID, "getPositionId(address,bytes32)"),
                          (abi.BALANCE_OF_1155, "balanceOf(address,uint256)"), (abi.DECIMALS, "decimals()")]:
        assert selector == h(sig)[:10]


def test_intervals():
    assert merge([(5, 9), (1, 3), (4, 4), (20, 30)]) == [(1, 9), (20, 30)]
    assert missing([(1, 9), (20, 30)], 0, 40) == [(0, 0), (10, 19), (31, 40)]
    assert missing([(0, 100)], 10, 50) == []


WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TOKEN = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"


def test_cache_round_trip_and_damage(tmp_path):
    cache = StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN)
    assert cache.load().covered == []
    cache.append(0, 99, [[5, 0, "0xaa", "0x11", "100", None]])
    cache.append(100, 199, [])
    assert not cache.path.exists()  # appends are buffered ...
    cache.flush()  # ... and written together, each line chained to the one before
    again = StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN).load()
    assert again.covered == [(0, 199)] and again.records == [[5, 0, "0xaa", "0x11", "100", None]] and not again.problem
    # another chain id or wallet never reads this file
    assert StreamCache(tmp_path, 80002, WALLET, "erc20", TOKEN).load().covered == []

    text = cache.path.read_text().splitlines()
    cache.path.write_text("\n".join([text[0], text[1].replace('"100"', '"900"'), text[2]]) + "\n")
    damaged = StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN)
    state = damaged.load()
    assert state.covered == [] and state.dropped_lines == 2 and "checksum" in state.problem
    damaged.append(0, 49, [])  # the broken tail is cut off, the chain continues from the good prefix
    damaged.flush()
    assert StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN).load().covered == [(0, 49)]
    assert len(cache.path.read_text().splitlines()) == 2
    mark = damaged.mark
    damaged.append(50, 59, [[55, 1, "0xbb", "0x22", "-7", None]])
    damaged.flush()
    tail = StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN).load_after(mark)
    assert tail.covered == [(50, 59)] and tail.records == [[55, 1, "0xbb", "0x22", "-7", None]]
    text = cache.path.read_text().splitlines()
    cache.path.write_text("\n".join([text[0], text[1].replace('"a":0', '"a":1'), text[2]]) + "\n")
    assert StreamCache(tmp_path, 137, WALLET, "erc20", TOKEN).load_after(mark) is None  # the summarised part changed


def test_parse_since():
    assert parse_since("2026-01-16") == 1768521600
    assert parse_since("2026-01-16T12:00:00Z") == 1768521600 + 43200
    assert parse_since(1768521600) == 1768521600
    with pytest.raises(ConfigError):
        parse_since("last tuesday")


def test_a_cache_line_encoded_by_hand_is_what_json_writes():
    from statetui.core.chainhist.scan import encode_line

    records = [[5, 0, "0xaa", "0x11", -100, None, 1], [6, 2, "0xbb", "0x22", 7, 1700000000, 0]]
    assert encode_line(3, 9, records) == json.dumps({"a": 3, "b": 9, "r": records}, separators=(",", ":")).encode()


def test_the_decoder_refuses_what_a_cache_line_could_not_hold():
    from statetui.core.chainhist import abi
    from statetui.core.chainhist.scan import decoder

    decode = decoder(WALLET, [TOKEN])
    log = {"address": TOKEN.lower(), "topics": [abi.TRANSFER, abi.topic(WALLET), abi.topic("0x" + "11" * 20)],
           "data": "0x" + "5".rjust(64, "0"), "blockNumber": "0x7", "logIndex": "0x1", "transactionHash": "0x" + "ab" * 32,
           "removed": False}
    assert decode([log], 0, 9, 0) == [[7, 1, "0x" + "ab" * 32, "0x" + "11" * 20, -5, None, 0]]
    with pytest.raises(ValueError):
        decode([{**log, "transactionHash": '0x"},{"evil'}], 0, 9, 0)
    with pytest.raises(ValueError):
        decode([log], 0, 6, 0)  # a log outside the blocks asked for
