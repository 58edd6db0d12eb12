"""One Prometheus scrape of a 50-bot fleet (local checks), as `statetui metrics --listen`
serves it.

Fixture: 50 bots, each a typical state written through the store (a journal of trades,
three backups), in one [[bots]] config. Every bot's status reads its state, journal and
backups, asks whether the bot runs, and runs the local checks read-only.

Timed, interleaved, median of --runs:
- one bot, cold: the baseline (a scrape of a fleet of one, nothing cached);
- 50 bots, cold (`statetui metrics`, `--textfile`: every bot's checks run);
- 50 bots, served (`--listen`: figures, ages and "running?" afresh on each scrape; the check
  results reused while a bot's files are unchanged, at most 60 s) over real HTTP;
- 50 bots, served, with one bot's state written between scrapes (its checks re-run).

Target (issue 16): one scrape of 50 bots under 200 ms.

    python3 benchmarks/bench_metrics.py [--runs 15] [--bots 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_fleet(root: Path, n: int) -> Path:
    from statetui.testing.scenarios import healthy

    lines = []
    for i in range(n):
        sc = healthy(root / f"bot{i:02d}")
        lines += ["[[bots]]", f'name = "bot{i:02d}"', f'state = "{sc.state}"', f'pid_file = "{root / f"bot{i:02d}.pid"}"', ""]
    path = root / "fleet.toml"
    path.write_text("\n".join(lines))
    return path


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--bots", type=int, default=50)
    args = ap.parse_args()
    from prometheus_client import generate_latest

    from statetui.core.fleet import load_fleet
    from statetui.core.fleet_cache import CachedFleet
    from statetui.core.metrics import registry_for, render
    from statetui.core.store import StateStore

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        config = build_fleet(Path(tmp), args.bots)
        bots = load_fleet({}, env={}, config_file=config)
        served = registry_for(CachedFleet(bots))
        render(bots[:1]), generate_latest(served)  # imports and first-time costs out of the way

        from prometheus_client import start_http_server

        server, _thread = start_http_server(0, addr="127.0.0.1", registry=served)
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        writer = StateStore(bots[0].config.state, auto_backup_interval=None)
        one, cold, warm, moved = [], [], [], []
        for i in range(args.runs):  # interleaved: the machine's noise hits every figure alike
            t = time.perf_counter()
            render(bots[:1])
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            text = render(bots)
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as resp:
                body = resp.read()
            warm.append(time.perf_counter() - t)
            with writer.transaction("bench trade") as state:
                state.total_trades += 1
            t = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as resp:
                resp.read()
            moved.append(time.perf_counter() - t)
        server.shutdown()
        assert text.count("statetui_up{") == args.bots and body.count(b"statetui_up{") == args.bots
        base = median_ms(one)
        print(f"fleet of {args.bots} bots, {args.runs} runs, medians (ratio to one bot, cold):")
        print(f"  one bot, cold (baseline)            {base:8.1f} ms   1.0x")
        for label, samples in ((f"{args.bots} bots, cold (metrics, --textfile)", cold),
                               (f"{args.bots} bots, served (--listen, HTTP)", warm),
                               (f"{args.bots} bots, served, one bot written", moved)):
            m = median_ms(samples)
            print(f"  {label:35} {m:8.1f} ms  {m / base:4.1f}x   (p90 {sorted(samples)[int(len(samples) * 0.9)] * 1000:.1f} ms)")
        served_ms = median_ms(warm)
        print(f"target: one scrape of {args.bots} bots under 200 ms (--listen): "
              f"{'met' if served_ms < 200 else 'NOT met'} ({served_ms:.1f} ms)")


if __name__ == "__main__":
    main()
