"""A loopback JSON-RPC server over a synthetic Polygon history, for bench_chain_history.py only.

Why it exists: the benchmark asks for 10,000 transfers over 1,000,000 blocks, and anvil
cannot make a million blocks here (mining block n costs time proportional to n). This
server holds that history as data instead: a deterministic list of ERC-20 Transfer logs
(pUSD and USDC.e, to and from one wallet) spread over `--blocks` blocks, and answers the
few methods a history scan uses, from that data alone:

- eth_getLogs: topic and address filtered, a block-range cap enforced with the error text
  Polygon's Bor nodes send ("exceed maximum block range: N"); logs are pre-serialised
  JSON in the shape a node returns (address, topics, data, blockNumber, blockHash,
  transactionHash, transactionIndex, logIndex, removed);
- eth_call balanceOf(wallet) at any block (prefix sums of the same logs) and decimals();
- eth_chainId (137), eth_blockNumber, eth_getBlockByNumber (number, hash, parentHash,
  timestamp; "finalized" = head - 64).

The bare eth_getLogs reads of the benchmark and the scanner talk to the same server in the
same run, so both pay the same server cost. It runs in its own process (another core),
speaks HTTP/1.1 with keep-alive on a raw socket, and answers a range from pre-built bytes
with two binary searches, so its own time is small next to a real node's.

    python3 benchmarks/chain_log_server.py --transfers 10000 --blocks 1000000   # prints "port N"
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import socket
import sys
import threading

CHAIN_ID = 137
PUSD = "0xc011a7e12a19f7b1f670d46f03b03f3342e82dfb"
USDC_E = "0x2791bca1f2de4661ed88a30c99a7a9449aa84174"
WALLET = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
BRIDGE = "0x1111111111111111111111111111111111111111"
OWNER = "0x2222222222222222222222222222222222222222"
EXCHANGE = "0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e"  # CTF Exchange: payments to it are trading
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
FINALITY = 64
GENESIS_TIME = 1_700_000_000


def _topic(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def _hash(*parts: object) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


class History:
    """The synthetic history: every transfer, in chain order, and its pre-built JSON.

    A trading wallet: two opening deposits from a bridge (pUSD and USDC.e, block 1), then
    buys (the wallet pays the CTF Exchange) and sells and redemptions (the exchange pays
    the wallet), with a deposit or a withdrawal now and then (1 % each); about two thirds
    in pUSD. Blocks are drawn at random (a block may hold several transfers)."""

    def __init__(self, transfers: int, blocks: int, seed: int = 14):
        rng = random.Random(seed)
        spots = sorted(rng.randrange(2, blocks + 1) for _ in range(transfers - 2))
        self.head = blocks + FINALITY + 6  # the last transfers are final, a few blocks are not
        self.logs: list[tuple[int, str, bool, bytes, int]] = []  # (block, token, incoming, json, signed raw)
        moves = [(1, PUSD, BRIDGE, WALLET, 10_000_000_000), (1, USDC_E, BRIDGE, WALLET, 10_000_000_000)]
        for block in spots:
            token = PUSD if rng.random() < 0.67 else USDC_E
            roll = rng.random()
            amount = rng.randrange(1_000_000, 50_000_000)
            if roll < 0.01:
                moves.append((block, token, BRIDGE, WALLET, amount * 10))  # a deposit
            elif roll < 0.02:
                moves.append((block, token, WALLET, OWNER, amount))  # a withdrawal
            elif roll < 0.51:
                moves.append((block, token, WALLET, EXCHANGE, amount))  # a buy
            else:
                moves.append((block, token, EXCHANGE, WALLET, amount * 21 // 20))  # a sell or a redemption
        index_in_block: dict[int, int] = {}
        for block, token, src, dst, value in moves:
            index = index_in_block[block] = index_in_block.get(block, -1) + 1
            log = {"address": token, "topics": [TRANSFER, _topic(src), _topic(dst)], "data": "0x" + f"{value:064x}",
                   "blockNumber": hex(block), "blockHash": _hash("block", block),
                   "transactionHash": _hash("tx", block, index), "transactionIndex": hex(index),
                   "logIndex": hex(index), "removed": False}
            incoming = dst == WALLET
            self.logs.append((block, token, incoming, json.dumps(log, separators=(",", ":")).encode(),
                              value if incoming else -value))
        self.blocks = [log[0] for log in self.logs]
        self.balance: dict[str, list[int]] = {PUSD: [], USDC_E: []}  # running balance after each log, per token
        running = {PUSD: 0, USDC_E: 0}
        self.token_blocks: dict[str, list[int]] = {PUSD: [], USDC_E: []}
        for block, token, _, _, signed in self.logs:
            running[token] += signed
            self.balance[token].append(running[token])
            self.token_blocks[token].append(block)

    def get_logs(self, a: int, b: int, addresses: set[str], incoming: bool) -> bytes:
        lo, hi = bisect.bisect_left(self.blocks, a), bisect.bisect_right(self.blocks, b)
        return b"[" + b",".join(log[3] for log in self.logs[lo:hi]
                                if log[2] == incoming and log[1] in addresses) + b"]"

    def balance_at(self, token: str, block: int) -> int:
        i = bisect.bisect_right(self.token_blocks.get(token, []), block)
        return self.balance[token][i - 1] if i else 0

    def block(self, n: int) -> dict[str, str]:
        return {"number": hex(n), "hash": _hash("block", n), "parentHash": _hash("block", n - 1),
                "timestamp": hex(GENESIS_TIME + 2 * n)}


class Server:
    def __init__(self, history: History, max_range: int):
        self.history = history
        self.max_range = max_range
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                out = self._answer(json.loads(body))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(out)).encode() + b"\r\n\r\n" + out)

    def _answer(self, request: object) -> bytes:
        calls = request if isinstance(request, list) else [request]
        parts = [b'{"jsonrpc":"2.0","id":' + json.dumps(c.get("id")).encode() + b"," + self._one(c) + b"}" for c in calls]
        return (b"[" + b",".join(parts) + b"]") if isinstance(request, list) else parts[0]

    def _one(self, call: dict) -> bytes:
        method, params, h = call.get("method"), call.get("params") or [], self.history
        if method == "eth_getLogs":
            flt = params[0]
            a, b = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
            if b - a + 1 > self.max_range:
                return b'"error":' + json.dumps({"code": -32000, "message": f"exceed maximum block range: {self.max_range}"}).encode()
            addresses = flt.get("address") or [PUSD, USDC_E]
            addresses = {x.lower() for x in ([addresses] if isinstance(addresses, str) else addresses)}
            topics = flt.get("topics") or []
            wallet = _topic(WALLET)
            if len(topics) > 1 and topics[1] == wallet:
                return b'"result":' + h.get_logs(a, b, addresses, incoming=False)
            if len(topics) > 2 and topics[2] == wallet:
                return b'"result":' + h.get_logs(a, b, addresses, incoming=True)
            return b'"result":[]'
        result: object
        if method == "eth_chainId":
            result = hex(CHAIN_ID)
        elif method == "eth_blockNumber":
            result = hex(h.head)
        elif method == "eth_getBlockByNumber":
            tag = params[0]
            n = {"latest": h.head, "finalized": h.head - FINALITY, "safe": h.head - FINALITY}.get(tag)
            n = int(tag, 16) if n is None else n
            result = h.block(n) if 0 <= n <= h.head else None
        elif method == "eth_call":
            to, data = params[0]["to"].lower(), params[0]["data"]
            tag = params[1] if len(params) > 1 else "latest"
            n = h.head if tag == "latest" else int(tag, 16)
            if data.startswith("0x313ce567"):  # decimals()
                result = "0x" + f"{6:064x}"
            elif data.startswith("0x70a08231") and data[-40:].lower() == WALLET[2:]:  # balanceOf(wallet)
                result = "0x" + f"{h.balance_at(to, n):064x}"
            else:
                result = "0x" + "0" * 64
        else:
            return b'"error":' + json.dumps({"code": -32601, "message": f"the method {method} does not exist"}).encode()
        return b'"result":' + json.dumps(result).encode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", type=int, default=10_000)
    ap.add_argument("--blocks", type=int, default=1_000_000)
    ap.add_argument("--max-range", type=int, default=10_000, help="eth_getLogs block-range cap")
    args = ap.parse_args()
    server = Server(History(args.transfers, args.blocks), args.max_range)
    print(f"port {server.port}", flush=True)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
