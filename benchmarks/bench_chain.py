"""Latency of one reconcile read against a local anvil, against baselines from the same run.

    python3 benchmarks/bench_chain.py [--reads 200] [--web3]

read_chain = chain id + block number + block time + balanceOf on pUSD and USDC.e at the
pinned block, decimals cached (two HTTP round trips). Baselines: one raw eth_call on a
kept-alive connection, and (with --web3) web3's contract helper for one balanceOf.
Issue 4's target: read_chain median <= 15 ms."""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statetui.core.chain import clear_token_cache, read_chain  # noqa: E402
from statetui.core.config import PUSD, USDC_E, Config  # noqa: E402
from statetui.testing import anvil  # noqa: E402

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def time_ms(fn, n: int) -> list[float]:
    fn()  # warm: connection open, caches filled
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=200)
    ap.add_argument("--web3", action="store_true", help="also time web3's contract helper (imports web3)")
    args = ap.parse_args()

    node = anvil.start_anvil(137)
    try:
        anvil.deploy_polymarket(node.url)
        anvil.set_erc20_balance(node.url, PUSD, WALLET, 150_500_000)
        anvil.set_erc20_balance(node.url, USDC_E, WALLET, 50_470_000)
        cfg = Config(rpc_url=node.url, wallet=WALLET)

        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
            {"to": PUSD, "data": "0x70a08231" + WALLET[2:].lower().rjust(64, "0")}, "latest"]}).encode()

        def raw_call() -> None:
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            result = json.loads(conn.getresponse().read())["result"]
            assert int(result, 16) == 150_500_000

        def reconcile_read() -> None:
            assert read_chain(cfg).cash == Decimal("200.97")

        raw = time_ms(raw_call, args.reads)
        clear_token_cache()
        t = time.perf_counter()
        read_chain(cfg)  # first read: also decimals() and symbol() of both tokens
        cold = (time.perf_counter() - t) * 1000
        reads = time_ms(reconcile_read, args.reads)

        raw_med, raw_p95 = stats(raw)
        med, p95 = stats(reads)
        print(f"anvil at {node.url}, {args.reads} samples each")
        print(f"raw eth_call round trip (baseline): median {raw_med:.3f} ms, p95 {raw_p95:.3f} ms")
        print(f"read_chain, first (decimals read):  {cold:.3f} ms")
        print(f"read_chain, decimals cached:        median {med:.3f} ms, p95 {p95:.3f} ms")
        print(f"ratio read_chain / raw eth_call:    {med / raw_med:.2f}x (median)")
        print(f"target median <= 15 ms:             {'met' if med <= 15 else 'NOT met'}")

        if args.web3:
            t = time.perf_counter()
            from web3 import Web3
            imported = (time.perf_counter() - t) * 1000
            w3 = Web3(Web3.HTTPProvider(node.url))
            abi = [{"name": "balanceOf", "type": "function", "stateMutability": "view",
                    "inputs": [{"name": "a", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]
            token = w3.eth.contract(address=PUSD, abi=abi)
            helper = time_ms(lambda: token.functions.balanceOf(WALLET).call(), min(args.reads, 100))
            h_med, h_p95 = stats(helper)
            print(f"import web3:                        {imported:.0f} ms")
            print(f"web3 contract helper, 1 balanceOf:  median {h_med:.3f} ms, p95 {h_p95:.3f} ms "
                  f"({h_med / raw_med:.2f}x raw)")
        conn.close()
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
