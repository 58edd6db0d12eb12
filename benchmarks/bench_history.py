"""History benchmark (issue 18): do the faces cost the same on a long history as on a short one?

    python3 benchmarks/bench_history.py                      # 1,000 vs 1,000,000 entries, 30 vs 3,000 backups
    python3 benchmarks/bench_history.py --large 100000       # a smaller "large" (e.g. on the code before issue 18)
    python3 benchmarks/bench_history.py --keep /tmp/hist     # keep (and reuse) the built histories

Builds two histories in the same run, then measures on each, interleaved (small, large,
small, large ...), --runs times, the real `python -m statetui` processes:

- `statetui audit --local`, `statetui journal --limit 50`, `statetui show`: wall time of the
  process and its peak memory (ru_maxrss from wait4);
- the console in a pseudo-terminal (80x24, as over SSH): start -> complete dashboard (the
  balances, lock, file, backups and history panels all filled), and then an external write
  (a temp file + os.replace of the state by this process, outside the store) -> the new cash
  on screen, median of --updates writes; peak memory (VmHWM) at each of those two moments.

Each figure is printed as the ratio large/small (median time, peak memory; and, for the
commands, their own CPU time, which other jobs on a shared machine move less than wall time).
Target: every time and memory ratio <= 1.2.

How the histories are built (through the store, honestly): `init` and the first
--real-head and last --real-tail saves are real `StateStore.write_bytes` calls (lock, compare,
backup rules, journal entry fsync'd, durable replace). In between, for a large history, the
entries are made by the store's own entry builder (`StateStore._journal`: generation,
sha256 of the document's bytes, prev_sha256 chain, changes, role snapshot) and appended with
the journal's own append path (`Journal.begin_append`, which rotates into sealed segments
exactly as in a real save), with durability batched: one fsync per 10,000 entries instead
of one per entry, and the intermediate documents serialized compactly (their bytes are never
written to the state file; the last one is written, indent-2, with a real durable replace,
so the journal's newest entry is the file's). Backups are real `StateStore.backup()` calls.
Building 1,000,000 entries takes a few minutes; with --keep the built folders are reused."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_console import Pty, console, replace  # noqa: E402

TARGET = 1.2
CASH_FINAL = 4321.09


def _mutate(doc: dict, rng: random.Random, i: int) -> dict:
    """One minute of trading: cash moves, the peak follows it up, counters and the time move."""
    old = {k: doc[k] for k in ("current_balance", "peak_balance", "total_trades", "daily_pnl", "last_updated")}
    doc["current_balance"] = round(max(50.0, doc["current_balance"] + rng.uniform(-3.0, 3.0)), 2)
    doc["peak_balance"] = max(doc["peak_balance"], doc["current_balance"])
    doc["total_trades"] += 1
    doc["daily_pnl"] = round(doc["daily_pnl"] + rng.uniform(-1, 1), 2)
    doc["last_updated"] = f"2026-{1 + i // 44640 % 12:02d}-{1 + i // 1440 % 28:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
    return {k: [v, doc[k]] for k, v in old.items() if doc[k] != v}


def build(root: Path, entries: int, backups: int, real_head: int, real_tail: int) -> Path:
    """A bot folder with `entries` journal entries and `backups` backups (see the module doc)."""
    from statetui.core.fsio import durable_replace
    from statetui.core.store import StateStore
    from statetui.testing.states import realistic_state

    state = root / "state" / "trading_state.json"
    done = root / "built.json"
    if done.exists() and json.loads(done.read_text()) == {"entries": entries, "backups": backups, "shape": 2}:
        return state
    shutil.rmtree(root, ignore_errors=True)
    state.parent.mkdir(parents=True)
    store = StateStore(state, backup_dir=state.parent / "backups", auto_backup_interval=None, writer="bot.py")
    rng = random.Random(entries)
    doc = realistic_state(0, positions=3)
    doc["current_balance"], doc["peak_balance"] = 1000.0, 1000.0
    store.init(doc)
    saves = entries - 1  # after init
    head = min(real_head, saves - 1)
    tail = min(real_tail, saves - head)  # at least one: the last sets CASH_FINAL
    bulk = saves - head - tail
    i = 0
    for _ in range(head):
        _mutate(doc, rng, i)
        store.write_bytes(json.dumps(doc, indent=2).encode(), reason="trade", backup=False)
        i += 1
    if bulk:
        journal = store.journal
        last = journal.last()
        prev = hashlib.sha256(state.read_bytes()).hexdigest()
        for k in range(bulk):
            changes = _mutate(doc, rng, i)
            i += 1
            final = k == bulk - 1
            data = json.dumps(doc, indent=2).encode() if final else json.dumps(doc, separators=(",", ":")).encode()
            _result, entry = store._journal(data, prev, changes, "trade", None, None, None, last, None,
                                            store.role_values(doc))
            pending = journal.begin_append(entry)
            if final or (k + 1) % 10000 == 0:
                journal.finish_append(pending)
            else:
                os.close(pending.fd)  # durability batched: the next finish_append (or os.sync) covers it
            last, prev = entry, entry["sha256"]
        durable_replace(state, data)  # the file now holds the newest entry's bytes
        os.sync()
    for k in range(tail):
        _mutate(doc, rng, i)
        i += 1
        if k == tail - 1:  # both histories end alike, in the Jan 16 shape: a peak above any cash
            doc["current_balance"] = CASH_FINAL  # (so the audit judges it from the evidence in both)
            doc["peak_balance"] = max(doc["peak_balance"], CASH_FINAL) + 250.0
        store.write_bytes(json.dumps(doc, indent=2).encode(), reason="trade", backup=False)
    for _ in range(backups):
        store.backup("hourly")
    done.write_text(json.dumps({"entries": entries, "backups": backups, "shape": 2}))
    return state


def run_cli(state: Path, *args: str) -> tuple[float, float, int, float]:
    """(seconds, peak MB, exit code, CPU seconds) of `python -m statetui ... args`."""
    argv = [sys.executable, "-m", "statetui", "--state", str(state), "--pid-file", str(state.parent / "bot.pid"), *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def cash_shown(cash: float) -> bytes:
    """The balances panel's cash row as the console draws it: `cash (current_balance) 4,321.09`."""
    return f"(current_balance) {cash:,.2f}".encode()


# Balances, lock, file and backups panels filled, and the history panel's peak sparkline drawn.
READY = (cash_shown(CASH_FINAL), b"no pid file", b"via the store", b"all verify", "peak \u2580".encode()[:-1])  # a sparkline


def run_console(state: Path, updates: int) -> dict[str, float]:
    p = Pty(console(state, state.parent / "bot.pid"))
    t_ready = p.wait_for(READY, timeout=300)
    start_s = t_ready - p.t0
    start_mb = p.rss()[1]
    doc = json.loads(state.read_bytes())
    lat = []
    for i in range(updates):
        cash = CASH_FINAL + 1 + i + 0.37
        doc["current_balance"] = cash
        mark = len(p.text)
        t0 = replace(state, doc)
        lat.append(p.wait_for((cash_shown(cash),), start=mark, timeout=60) - t0)
        time.sleep(0.1)
    write_mb = p.rss()[1]
    p.quit()
    doc["current_balance"] = CASH_FINAL  # back as built (the next run looks for it)
    replace(state, doc)
    return {"start_s": start_s, "start_mb": start_mb, "write_s": statistics.median(lat), "write_mb": write_mb,
            "writes": lat}


def measure(state: Path, updates: int, writes: list[float]) -> dict[str, tuple[float, float, float | None]]:
    """name -> (wall seconds, peak MB, CPU seconds of the process: None for the console, whose
    work is shared with its helper processes). Every external write's latency is added to `writes`."""
    out = {}
    for name, args in (("audit --local", ("audit", "--local")), ("journal --limit 50", ("journal", "--limit", "50")),
                       ("show", ("show",))):
        t, mb, _code, cpu = run_cli(state, *args)
        out[name] = (t, mb, cpu)
    c = run_console(state, updates)
    out["console start -> dashboard"] = (c["start_s"], c["start_mb"], None)
    out["external write -> on screen"] = (c["write_s"], c["write_mb"], None)
    writes.extend(c["writes"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="history benchmark (see the module docstring)")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small-backups", type=int, default=30)
    parser.add_argument("--large-backups", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--updates", type=int, default=30, help="external writes per console run")
    parser.add_argument("--real-head", type=int, default=300)
    parser.add_argument("--real-tail", type=int, default=200)
    parser.add_argument("--keep", metavar="DIR", help="build (or reuse) the histories here and keep them")
    parser.add_argument("--writes-only", type=int, metavar="ROUNDS",
                        help="only the external write: ROUNDS console runs per folder, alternating")
    args = parser.parse_args()
    os.environ["TERM"] = "xterm-256color"
    for key in [k for k in os.environ if k.startswith("STATETUI_") or k == "NO_COLOR"]:
        os.environ.pop(key)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="statetui-bench-history-"))
    base.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(base)  # no user config file: every run reads the same defaults
    try:
        sizes = {"small": (args.small, args.small_backups), "large": (args.large, args.large_backups)}
        states = {}
        for label, (n, b) in sizes.items():
            t0 = time.perf_counter()
            states[label] = build(base / f"{label}-{n}-{b}", n, b, args.real_head, args.real_tail)
            journal_mb = sum(f.stat().st_size for f in states[label].parent.glob("trading_state.journal*")) / 1e6
            print(f"built {label}: {n:,} entries ({journal_mb:.1f} MB of journal), {b:,} backups in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            # Untimed: `statetui verify --save-index` writes the backups' index and summary (as the
            # daily timer in examples/ does); the console and the audit only read them.
            run_cli(states[label], "verify", "--save-index")
        if args.writes_only:
            pooled: dict[str, list[float]] = {"small": [], "large": []}
            for _round in range(args.writes_only):
                for label in ("small", "large"):
                    pooled[label] += run_console(states[label], args.updates)["writes"]
            s_w, l_w = (statistics.median(pooled[k]) * 1000 for k in ("small", "large"))
            print(f"external write -> on screen, {len(pooled['small'])} writes each: {s_w:.1f} ms / {l_w:.1f} ms "
                  f"= {l_w / s_w:.2f}x")
            return 0 if l_w / s_w <= TARGET else 1
        results: dict[str, dict[str, list[tuple[float, float, float | None]]]] = {"small": {}, "large": {}}
        # A write's latency is ~20 ms, a few ms of scheduler noise is a large share of it: the ratio
        # is taken between the medians of every write of every run (not the median of 3 medians).
        writes: dict[str, list[float]] = {"small": [], "large": []}
        for _run in range(args.runs):
            for label in ("small", "large"):
                for name, fig in measure(states[label], args.updates, writes[label]).items():
                    results[label].setdefault(name, []).append(fig)
        ok = True
        # CPU x: the process's own CPU time, large/small (less moved by other jobs than wall time)
        print(f"\n{'':30} {'small':>16} {'large':>16} {'time x':>7} {'mem x':>7} {'cpu x':>7}")
        for name in results["small"]:
            s_t = statistics.median(t for t, _, _ in results["small"][name])
            l_t = statistics.median(t for t, _, _ in results["large"][name])
            if name == "external write -> on screen":
                s_t, l_t = statistics.median(writes["small"]), statistics.median(writes["large"])
            s_m = max(m for _, m, _ in results["small"][name])
            l_m = max(m for _, m, _ in results["large"][name])
            rt, rm = l_t / s_t, l_m / s_m
            cpus = [[c for _, _, c in results[k][name] if c is not None] for k in ("small", "large")]
            rc = f"{statistics.median(cpus[1]) / statistics.median(cpus[0]):6.2f}x" if all(cpus) else f"{'-':>7}"
            ok &= rt <= TARGET and rm <= TARGET
            print(f"{name:30} {s_t * 1000:7.0f} ms {s_m:4.0f} MB {l_t * 1000:7.0f} ms {l_m:4.0f} MB {rt:6.2f}x {rm:6.2f}x {rc}")
        print(f"\n{args.small:,} vs {args.large:,} entries, {args.small_backups:,} vs {args.large_backups:,} backups; "
              f"median of {args.runs} runs (time; the external write: of all {args.runs * args.updates} writes), max (peak memory); target every ratio <= {TARGET}")
        print("all targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        Pty.kill_all()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
