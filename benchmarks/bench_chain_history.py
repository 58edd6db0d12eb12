"""The chain history scan against the bare eth_getLogs reads it is made of, same run.

    python3 benchmarks/bench_chain_history.py [--transfers 10000] [--blocks 1000000] [--max-range 10000] [--repeat 5]
    python3 benchmarks/bench_chain_history.py --anvil [--blocks 2000]    # a real node, a short chain

Default: 10,000 ERC-20 Transfer logs (pUSD and USDC.e, to and from one wallet) spread over
1,000,000 blocks, served by benchmarks/chain_log_server.py: a loopback JSON-RPC server in
its own process that holds that history as data and caps eth_getLogs ranges at
`--max-range` blocks with the error Polygon's nodes send (so the scan learns the cap as it
would from a provider, and reads 1,000,000 / 10,000 = 100 ranges). anvil cannot make a
million blocks here (mining block n costs time proportional to n); with --anvil the same
measurement runs on anvil with real transactions over `--blocks` blocks, the scan capped
to 100 ranges as well.

- bare: the eth_getLogs requests the cold scan made (each range it read x 2 topic filters),
  replayed as raw HTTP on one kept-alive http.client connection (the client statetui's
  reader uses), json.loads of each answer, nothing else; same server, same run.
- cold: scan_cash_history with an empty cache: the reads, decoding, the cache, the walk,
  the checkpoint, the anchor, the historic balanceOf cross-check and the block times.
- warm: scan_cash_history again on the filled cache and checkpoint (chain id, head, the
  anchor, and the unfinal tail's eth_getLogs still come from the node).
Runs interleave (bare, cold, warm) so machine noise hits all three alike; medians.
Targets: cold <= 1.5x bare; warm <= 50 ms."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from statetui.core.chainhist import abi, scan_cash_history  # noqa: E402
from statetui.core.config import PUSD, USDC_E, Config  # noqa: E402

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def log_server(transfers: int, blocks: int, max_range: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(HERE / "chain_log_server.py"), "--transfers", str(transfers),
                             "--blocks", str(blocks), "--max-range", str(max_range)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("port "):
        proc.kill()
        raise SystemExit(f"the log server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def anvil_chain(transfers: int, blocks: int) -> tuple[object, str]:
    """A real node: `transfers` transfers in `blocks` blocks (a batch of sends, then one mine)."""
    from statetui.testing import anvil
    from statetui.testing.chainhist import BRIDGE, deploy

    node = anvil.start_anvil(137)
    url = node.url
    deploy(url)
    for who in (BRIDGE, WALLET):
        anvil.rpc(url, "anvil_setBalance", [who, hex(10 ** 22)])
    anvil.rpc(url, "evm_setAutomine", [False])
    for token in (PUSD, USDC_E):
        anvil.set_erc20_balance(url, token, BRIDGE, 10 ** 18)
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    per_block, sent = -(-transfers // blocks), 0
    for _ in range(blocks):
        calls = []
        for _ in range(min(per_block, transfers - sent)):
            token = PUSD if (sent // 2) % 3 else USDC_E
            sender, to, value = (BRIDGE, WALLET, 10_000_000 + sent) if sent % 2 == 0 else (WALLET, abi.CTF_EXCHANGE, 10 ** 6)
            calls.append({"jsonrpc": "2.0", "id": len(calls), "method": "eth_sendTransaction", "params": [
                {"from": sender, "to": token, "gas": hex(100_000), "data": "0xa9059cbb" + abi.word(to) + abi.word(value)}]})
            sent += 1
        calls.append({"jsonrpc": "2.0", "id": len(calls), "method": "evm_mine", "params": []})
        conn.request("POST", "/", json.dumps(calls), {"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()
    anvil.rpc(url, "evm_setAutomine", [True])
    anvil.mine(url, 70)  # all of it final (cacheable)
    return node, url


def bare_reads(url: str, ranges: list[tuple[int, int]]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, logs) of the eth_getLogs requests alone."""
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    me = abi.topic(WALLET)
    filters = [{"address": [PUSD, USDC_E], "topics": [abi.TRANSFER, me]},
               {"address": [PUSD, USDC_E], "topics": [abi.TRANSFER, None, me]}]
    wall, cpu, n = time.perf_counter(), time.process_time(), 0
    for a, b in ranges:
        for flt in filters:
            body = json.dumps([{"jsonrpc": "2.0", "id": 0, "method": "eth_getLogs",
                                "params": [{**flt, "fromBlock": hex(a), "toBlock": hex(b)}]}]).encode()
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            n += len(json.loads(conn.getresponse().read())[0]["result"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return wall, cpu, n


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", type=int, default=10_000)
    ap.add_argument("--blocks", type=int, help="default 1,000,000 (2,000 with --anvil)")
    ap.add_argument("--max-range", type=int, default=10_000, help="the log server's eth_getLogs block-range cap")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--anvil", action="store_true", help="a real anvil node instead of the log server")
    args = ap.parse_args()
    blocks = args.blocks or (2_000 if args.anvil else 1_000_000)

    started = time.perf_counter()
    if args.anvil:
        server, url = anvil_chain(args.transfers, blocks)
        span = None  # set from the chain's length below: 100 ranges, as a 10,000-block cap makes of a million
    else:
        server, url = log_server(args.transfers, blocks, args.max_range)
    try:
        config = Config(rpc_url=url, wallet=WALLET, rpc_timeout=60)
        probe = scan_cash_history(config, use_cache=False)  # also warms up imports and the connection
        if args.anvil:
            span = -(-probe.pinned_block // 100)
            probe = scan_cash_history(config, use_cache=False, max_span=span)
        assert probe.transfer_count == args.transfers and probe.consistent, (probe.transfer_count, probe.mismatches)
        ranges = probe.read_ranges
        print(f"{'anvil' if args.anvil else 'log server'}: {args.transfers:,} transfers over {probe.pinned_block:,} "
              f"blocks, ready in {time.perf_counter() - started:.1f} s; {len(ranges)} ranges x 2 filters")

        rows = []
        for _ in range(args.repeat):
            bare = bare_reads(url, ranges)
            assert bare[2] == args.transfers
            folder = tempfile.mkdtemp(prefix="statetui-bench-")
            try:
                cold = timed(lambda: scan_cash_history(config, cache_dir=folder, max_span=span if args.anvil else None))
                warm = timed(lambda: scan_cash_history(config, cache_dir=folder, max_span=span if args.anvil else None))
            finally:
                shutil.rmtree(folder)
            assert warm[2].scan["resumed_from"] is not None and warm[2].cash == cold[2].cash
            assert warm[2].high_water_mark() == cold[2].high_water_mark() == probe.high_water_mark()
            assert cold[2].read_ranges == ranges
            rows.append((bare[0], bare[1], cold[0], cold[1], warm[0], warm[1]))
        bw, bc, cw, cc, ww, wc = (statistics.median(r[k] for r in rows) for k in range(6))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{args.repeat} runs each, interleaved (medians; CPU is this process's, all threads); "
              f"load average {load:.1f} on {os.cpu_count()} cores")
        print(f"bare eth_getLogs reads (baseline): {bw * 1000:8.1f} ms   cpu {bc * 1000:7.1f} ms")
        print(f"cold scan (empty cache):           {cw * 1000:8.1f} ms   cpu {cc * 1000:7.1f} ms   {cw / bw:.2f}x bare   "
              f"target <= 1.5x: {'met' if cw / bw <= 1.5 else 'NOT met'}")
        print(f"warm scan (cache + checkpoint):    {ww * 1000:8.1f} ms   cpu {wc * 1000:7.1f} ms   {ww / bw:.3f}x bare   "
              f"target <= 50 ms: {'met' if ww <= 0.05 else 'NOT met'}")
        print(f"per run, cold/bare: {', '.join(f'{r[2] / r[0]:.2f}' for r in rows)}; "
              f"warm ms: {', '.join(f'{r[4] * 1000:.1f}' for r in rows)}")
        print(f"cold scan cost: {cold[2].scan}")
    finally:
        if args.anvil:
            server.stop()  # type: ignore[attr-defined]
        else:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
