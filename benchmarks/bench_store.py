"""Store save vs the bare durable-write recipe vs SQLite, interleaved in one run.

    python3 benchmarks/bench_store.py            # N=600 each, figures + ratios
    python3 benchmarks/bench_store.py --profile  # also: where a store save spends its time

Each iteration times one of each, in a rotating order so the three share the machine's
noise (page cache write-back, other processes):
  store   StateStore.save of a ~10 KB realistic state (one counter and the timestamp
          change each time): lock, compare with the file on disk, durable replace, journal.
  bare    what a careful bot would do alone: json.dumps(indent=2) -> temp file (O_EXCL)
          -> write -> fsync -> os.replace -> fsync the directory. No lock, no journal.
  sqlite  the same document as one row per top-level field in a WAL database with
          synchronous=FULL; each commit updates the one changed row.
Target: store median <= 1.25x bare."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statetui.core.fsio import FileOps  # noqa: E402
from statetui.core.store import StateStore  # noqa: E402
from statetui.testing.states import encode, realistic_state  # noqa: E402

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def bare_save(path: Path, doc: dict, counter: int) -> None:
    data = json.dumps(doc, indent=2).encode()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{counter}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class Sqlite:
    def __init__(self, path: Path, doc: dict):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO state VALUES (?, ?)", [(k, json.dumps(v)) for k, v in doc.items()])
        self.db.execute("COMMIT")

    def save(self, key: str, value) -> None:
        self.db.execute("BEGIN")
        self.db.execute("UPDATE state SET value = ? WHERE key = ?", (json.dumps(value), key))
        self.db.execute("COMMIT")


class TimedOps(FileOps):
    """Passes every call through to the real os call and adds up the time per operation."""

    def __init__(self):
        self.totals: dict[str, float] = {}

    def _t(self, name, fn, *a):
        t0 = time.perf_counter()
        try:
            return fn(*a)
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t0

    def open(self, path, flags, mode=0o666):
        return self._t("open", super().open, path, flags, mode)

    def write(self, fd, data):
        return self._t("write", super().write, fd, data)

    def fsync(self, fd):
        return self._t("fsync (file, journal, dir)", super().fsync, fd)

    def close(self, fd):
        return self._t("close", super().close, fd)

    def replace(self, src, dst):
        return self._t("replace", super().replace, src, dst)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(n: int, warmup: int, root: Path, positions: bool = False) -> dict[str, list[float]]:
    doc = realistic_state(1)
    (root / "store").mkdir()
    (root / "bare").mkdir()
    store_path = root / "store" / "trading_state.json"
    store_path.write_bytes(encode(doc, "indent2"))
    store = StateStore(store_path)
    state = store.load()
    bare_path = root / "bare" / "trading_state.json"
    bare_path.write_bytes(encode(doc, "indent2"))
    bare_doc = json.loads(bare_path.read_bytes())
    sql = Sqlite(root / "state.db", doc)

    times: dict[str, list[float]] = {"store": [], "bare": [], "sqlite": []}
    counter = doc["total_trades"]

    def do_store():
        state.total_trades += 1
        if positions:  # a position changes too: the store re-encodes the positions field
            state.positions[0]["size"] = counter
        state.last_updated = f"2026-01-16T02:{counter % 60:02d}:00Z"
        t0 = time.perf_counter()
        store.save(state, reason="bench")
        return time.perf_counter() - t0

    def do_bare():
        bare_doc["total_trades"] += 1
        if positions:
            bare_doc["positions"][0]["size"] = counter
        bare_doc["last_updated"] = f"2026-01-16T02:{counter % 60:02d}:00Z"
        t0 = time.perf_counter()
        bare_save(bare_path, bare_doc, counter)
        return time.perf_counter() - t0

    def do_sqlite():
        t0 = time.perf_counter()
        sql.save("total_trades", counter)
        return time.perf_counter() - t0

    kinds = [("store", do_store), ("bare", do_bare), ("sqlite", do_sqlite)]
    for i in range(warmup + n):
        counter += 1
        order = kinds[i % 3:] + kinds[: i % 3]
        for name, fn in order:
            dt = fn()
            if i >= warmup:
                times[name].append(dt)
    return times


def phase_times(root: Path, n: int) -> dict[str, float]:
    """Where a store save spends its time: the save's steps wrapped with timers (ms/save).
    Steps nest (durable_replace includes its fsyncs), so they do not add up to the total.
    TimedOps overrides fsync, so here the journal's fsync runs inline, before the temp
    file's (fsio.overlap_fsyncs), not beside it as in the timed runs above."""
    import statetui.core.journal as journal_mod
    import statetui.core.state_model as state_model_mod
    import statetui.core.store as store_mod
    import statetui.core.store_journaling as journaling_mod

    d = root / "phases"
    d.mkdir()
    path = d / "trading_state.json"
    path.write_bytes(encode(realistic_state(2), "indent2"))
    ops = TimedOps()
    store = StateStore(path, ops=ops)
    state = store.load()
    totals: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    patches = [
        (store_mod, "parse_document", "parse the file on disk (when not what the store wrote)"),
        (store_mod, "read_capped", "read the file on disk"),
        (store_mod, "strict_equal", "unchanged? (strict_equal, when not what the store wrote)"),
        (store_mod, "changed_fields", "changed_fields (when not what the store wrote)"),
        (store_mod, "text_changes", "changed fields from field texts"),
        (store_mod, "serialize_fields", "serialize (per-field json text + join)"),
        (journaling_mod, "durable_replace", "durable_replace (temp, fsync, replace, dir fsync)"),
        (store_mod, "check_writable", "check_writable"),
        (journal_mod.Journal, "last", "journal: read the newest entry"),
        (journal_mod.Journal, "begin_append", "journal: write the entry"),
        (journal_mod.Journal, "finish_append", "journal: fsync the entry"),
        (state_model_mod.TradingState, "_document", "the state's document (no copy)"),
        (store_mod.StateStore, "stray_temp_files", "stray temp listing"),
    ]
    saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in patches]
    lock = store._lock
    acquire, release = lock.acquire, lock.release
    try:
        for obj, attr, name in patches:
            setattr(obj, attr, timed(name, getattr(obj, attr)))
        lock.acquire = timed("lock acquire (flock)", acquire)
        lock.release = timed("lock release (flock)", release)
        for _ in range(20):
            state.total_trades += 1
            store.save(state, reason="warm")
        totals.clear()
        ops.totals.clear()
        t0 = time.perf_counter()
        for _ in range(n):
            state.total_trades += 1
            store.save(state, reason="phases")
        wall = time.perf_counter() - t0
    finally:
        for obj, attr, fn in saved:
            setattr(obj, attr, fn)
        lock.acquire, lock.release = acquire, release
    out = {"whole save": wall}
    out.update(totals)
    out.update({f"  os: {k}": v for k, v in ops.totals.items()})
    return {k: v / n * 1e3 for k, v in out.items()}


def profile_store(root: Path, n: int) -> None:
    """Phase timings, then cProfile's view of the same saves."""
    phases = phase_times(root, n)
    print(f"\n--- where a store save spends its time ({n} saves, ms/save; steps nest) ---")
    for name, ms in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {name:52} {ms:7.3f}")
    d = root / "profile"
    d.mkdir()
    path = d / "trading_state.json"
    path.write_bytes(encode(realistic_state(2), "indent2"))
    store = StateStore(path)
    state = store.load()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        state.total_trades += 1
        store.save(state, reason="profile")
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    print(f"\n--- cProfile, {n} saves, by own time ---")
    print("\n".join(out.getvalue().splitlines()[6:30]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=600, help="timed saves of each kind (default 600)")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--dir", help="where to write (default: a temp dir; use the bot's disk for real figures)")
    ap.add_argument("--profile", action="store_true", help="also profile the store's save")
    ap.add_argument("--positions", action="store_true",
                    help="also change a position on every save (the positions list must be re-encoded)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.dir) as tmp:
        root = Path(tmp)
        size = len(encode(realistic_state(1), "indent2"))
        times = run(args.n, args.warmup, root, args.positions)
        med = {k: statistics.median(v) for k, v in times.items()}
        p95 = {k: pct(v, 0.95) for k, v in times.items()}
        figures = {
            "n": args.n, "state_bytes": size,
            "median_ms": {k: round(v * 1e3, 4) for k, v in med.items()},
            "p95_ms": {k: round(v * 1e3, 4) for k, v in p95.items()},
            "store_over_bare": round(med["store"] / med["bare"], 3),
            "sqlite_over_bare": round(med["sqlite"] / med["bare"], 3),
        }
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            print(f"{args.n} saves each of a {size}-byte state, interleaved, in {root}")
            print(f"{'':8} {'median':>9} {'p95':>9}")
            for k in ("store", "bare", "sqlite"):
                print(f"{k:8} {med[k] * 1e3:7.3f}ms {p95[k] * 1e3:7.3f}ms")
            print(f"store/bare  {figures['store_over_bare']:.2f}x  (target <= 1.25x: "
                  f"{'met' if figures['store_over_bare'] <= 1.25 else 'NOT met'})")
            print(f"sqlite/bare {figures['sqlite_over_bare']:.2f}x")
        if args.profile:
            profile_store(root, max(100, args.n // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
