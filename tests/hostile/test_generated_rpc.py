"""Generated hostile JSON-RPC answers from a loopback server (tests/hostile/rpc.py): garbage
bytes, JSON that is not JSON-RPC, results of the wrong kind for every call, numbers too big
for any balance or date, error objects, HTTP errors, an answer dripped a byte at a time, no
answer, a body bigger than any reading, a closed connection. The chain reader (in-process,
the many) and the CLI's reconcile and chain check (a share) must give a reading with sane
figures or a typed one-line error, never a hang past the timeout, a traceback or the URL's
credentials."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal

from statetui.core.config import PUSD, USDC_E, Config
from statetui.core.errors import StatetuiError
from statetui.testing import scenarios
from tests.hostile.harness import Case, Tally, judge, run_cases
from tests.hostile.rpc import WALLET
from tests.hostile.sizes import SIZES, seed
from tests.reliability.figures import publish

KEY = "ApiKeyInPath9"


def url(port: int) -> str:
    return f"http://user:pw0rdXYZ@127.0.0.1:{port}/v2/{KEY}?id=qSecret77#frag9"


SECRETS = [KEY, "pw0rdXYZ", "qSecret77", "frag9"]
HEX = ["0x", "0x0", "0xzz", "0x" + "f" * 64, "0x" + "f" * 65, "0x" + "0" * 64, "0x" + "f" * 128, "0x1", "0X10", "10"]
VALUES: list = [None, True, 0, -1, 1.5, 1e400, 10**80, "", "x", [], {}, {"timestamp": "0x" + "f" * 64},
                {"timestamp": "0x1"}, {"timestamp": None}, [1, 2], "0x" + "ab" * 1000] + HEX
METHODS = ["eth_chainId", "eth_blockNumber", "eth_getBlockByNumber", "eth_call", "eth_getCode"]
RAW = [b"", b"[]", b"{}", b"null", b"[1,2]", b'{"error": "x"}', b'{"error": {"code": -32000, "message": "\\u001b[2J"}}',
       b"[" * 100_000, b"[" + b"9" * 5000 + b"]", b"\xff\xfe", b"[1e999]", b'[{"id": 0}]', b'[{"id": 0, "result": "0x89"}]',
       b"<html>502</html>", b'[{"jsonrpc":"2.0","id":"0","result":"0x89"}]', b'{"jsonrpc":"2.0","id":0,"result":"0x89"}']
HTTP = [301, 400, 401, 403, 404, 413, 429, 500, 502, 503, 504]
ERRORS = [{"code": -32000, "message": "header not found"}, {"code": 429, "message": "rate limited " + KEY}, {"message": None},
          "just a string", 5, {"code": {"nested": 1}, "message": ["x"]}, {"message": "x" * 10_000}]


def modes(rng: random.Random, n: int) -> list[tuple[str, str, object]]:
    """(name, mode, arg) for HostileRpc.set, `n` of them, every family represented."""
    out: list[tuple[str, str, object]] = []
    for m in METHODS:
        for v in VALUES:
            out.append((f"{m} -> {str(v)[:30]}", "method", (m, v)))
    out += [(f"every result {str(v)[:30]}", "result", v) for v in VALUES]
    out += [(f"raw {r[:20]!r}", "raw", r) for r in RAW]
    out += [(f"HTTP {c}", "http", (c, json.dumps({"error": f"{c} for /v2/{KEY}"}).encode())) for c in HTTP]
    out += [(f"error object {str(e)[:30]}", "error-object", e) for e in ERRORS]
    out += [("echoes the path (404)", "echo", 404), ("echoes the path (200)", "echo", 200)]
    out += [(f"figures {f}", "honest-with", f) for f in (
        {"chain_id": 1}, {"chain_id": 2**255}, {"cash_raw": 2**256 - 1}, {"cash_raw": 2**256 - 1, "decimals": 0},
        {"decimals": 77}, {"decimals": 78}, {"decimals": 2**255}, {"timestamp": 2**255}, {"timestamp": 0},
        {"block": 2**255}, {"cash_raw": 0})]
    rng.shuffle(out)
    out = out[:n] if n < len(out) else out + [rng.choice(out) for _ in range(n - len(out))]
    # the slow ones, always: a drip slower than the timeout, silence, a huge body, a hang-up
    out += [("drip, 1 byte every 0.05 s", "drip", 0.05), ("silent past the timeout", "silent", 1.5),
            ("40 MiB body", "huge-body", 40 * 1024 * 1024), ("hangs up", "close", None)]
    return out


def _sane(reading) -> list[str]:
    problems = []
    if not (isinstance(reading.cash, Decimal) and reading.cash.is_finite() and reading.cash >= 0):
        problems.append(f"cash {reading.cash!r}")
    if not 0 <= reading.block_time < 253402300800:
        problems.append(f"block time {reading.block_time}")
    json.dumps(reading.to_dict())
    return problems


def test_generated_rpc_answers_to_the_chain_reader(hostile_rpc):
    from statetui.core.chain import clear_token_cache, close_connections, read_chain

    s = seed()
    rng = random.Random(s + 7)
    tally = Tally()
    cfg = Config(rpc_url=url(hostile_rpc.port), wallet=WALLET, tokens=[PUSD, USDC_E], rpc_timeout=0.5)
    for name, mode, arg in modes(rng, SIZES["rpc_answers"]):
        hostile_rpc.set(mode, arg)
        clear_token_cache()
        close_connections()
        started = time.monotonic()
        problems: list[str] = []
        try:
            reading = read_chain(cfg, [1, 2**256 - 1])
            problems += _sane(reading)
        except StatetuiError as exc:
            text = str(exc)
            if "\n" in text or not text:
                problems.append(f"not one line: {text!r}")
            if "127.0.0.1" not in text and "chain" not in text and "address" not in text:
                problems.append(f"does not name the RPC: {text!r}")
            problems += [f"secret {x} shown: {text!r}" for x in SECRETS if x in text or x in repr(exc)]
        except BaseException as exc:  # noqa: BLE001 - what this test hunts
            problems.append(f"raw {type(exc).__name__}: {str(exc)[:200]}")
        elapsed = time.monotonic() - started
        if elapsed > 10:  # far past the 0.5 s timeout (a bound for a loaded CI machine, not a benchmark)
            problems.append(f"took {elapsed:.1f} s with a 0.5 s timeout")
        tally.count("rpc answers")
        tally.fail(f"{name} (seed {s})", problems)
    close_connections()
    publish("hostile_input-rpc_answers", {"cases": sum(tally.by_surface.values()), "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n".join(tally.problems[:20])


def test_generated_rpc_answers_through_the_cli(tmp_path, hostile_rpc):
    s = seed()
    rng = random.Random(s + 8)
    sc = scenarios.jan16(tmp_path / "bot")
    before = sc.state.read_bytes()
    env = {"STATETUI_STATE": str(sc.state), "STATETUI_PID_FILE": str(sc.root / "bot.pid"), "STATETUI_RPC_URL": url(hostile_rpc.port),
           "STATETUI_WALLET": WALLET, "STATETUI_TOKENS": PUSD, "STATETUI_RPC_TIMEOUT": "0.5"}
    tally = Tally()
    verbs = [(["reconcile"], {0, 2, 4}), (["reconcile", "--json"], {0, 2, 4}),
             (["audit", "--check", "chain-reconcile"], {0, 1, 2}), (["audit", "--check", "chain-reconcile", "--json"], {0, 1, 2})]
    for i, (name, mode, arg) in enumerate(modes(rng, SIZES["rpc_cli"])[:SIZES["rpc_cli"]]):
        if mode in ("silent", "huge-body", "drip"):
            continue  # the reader test covers them; here they would only cost time
        argv, codes = rng.choice(verbs)
        hostile_rpc.set(mode, arg)

        def check(res, codes=codes, argv=argv):
            problems = judge(res, codes, error_line=None, secrets=SECRETS)
            if res.code == 4 and "reconcile" in argv:
                problems += judge(res, 4, names=["127.0.0.1", "chain", "address"], secrets=SECRETS)
            return problems

        # the server's mode is set per case, so the cases run here one by one (no subprocess pool)
        run_cases("rpc answers (CLI)", [Case(f"{' '.join(argv)}: {name} (seed {s})", argv, env, check, tmp_path)], tally, s + i,
                  subprocess_every=SIZES["subprocess_every"], workers=1)
    if sc.state.read_bytes() != before:
        tally.fail("reconcile without --apply", ["the state changed"])
    publish("hostile_input-rpc_cli", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                      "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])
