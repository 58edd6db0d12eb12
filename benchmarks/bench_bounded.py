"""Bounded work (issue 11): what reading hostile or giant files costs, as peak memory over a
baseline measured in the same run, and time.

Each measurement runs in its own child process: its peak RSS (VmHWM, reset through
/proc/self/clear_refs once the modules are imported) over what it held before the work.

    python3 benchmarks/bench_bounded.py            # --mb 60: the accepted state's size

- `statetui backups` with a 2 GiB sparse file in backups/ (issue 11: 18 s, 4.2 GB before):
  refused by its size, never read.
- Reading an accepted state of ~60 MB (under the 64 MiB cap): the bytes, as a multiple of
  the file (target <= ~2x); and a whole load (bytes, text, parsed objects), for scale.
- A streamed checksum of that file, and a journal scan of a ~100 MB journal: memory must
  not grow with the file."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
from statetui.core import fsio, journal, store, backups  # the same imports for every measurement
what, path = sys.argv[1], sys.argv[2]

def hwm():  # peak RSS in KB (ru_maxrss would carry the parent's peak across exec)
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])

open("/proc/self/clear_refs", "w").write("5")  # reset the peak to now
base = hwm()
t = time.perf_counter()
if what == "read":
    data = fsio.read_regular(__import__("pathlib").Path(path), "state file")
elif what == "load":
    s = store.StateStore(path).load()
elif what == "sha":
    fsio.sha256_of(__import__("pathlib").Path(path), "state file")
elif what == "journal":
    scan = journal.Journal(__import__("pathlib").Path(path)).scan(limit=400)
elif what == "backups":
    from statetui.cli import main
    import io, contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        main(["backups", "--state", path, "--pid-file", path + ".pid"])
elapsed = time.perf_counter() - t
peak = hwm()
print(json.dumps({{"base_kb": base, "peak_kb": peak, "seconds": elapsed}}))
"""


def measure(what: str, path: Path) -> dict:
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, what, str(path)], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{what}: {out.stderr[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=60, help="size of the accepted state (under the 64 MiB cap)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-bounded-"))
    try:
        from statetui.testing.states import realistic_state

        # A state of ~args.mb MB: a realistic one with a long history list the bot keeps.
        doc = realistic_state(1)
        def entries(n: int) -> list[dict]:
            return [{"ts": 1768528560 + i, "cash": 200.0 + (i % 997) / 100, "note": "trade"} for i in range(n)]

        doc["history"] = entries(10_000)
        per = len(json.dumps(doc["history"], indent=2)) / 10_000
        n = int(args.mb * 1024 * 1024 / per)
        doc["history"] = entries(n)
        actual = len(json.dumps(doc, indent=2))
        doc["history"] = entries(int(n * args.mb * 1024 * 1024 / actual))  # one correction for the nesting
        state = tmp / "state" / "trading_state.json"
        state.parent.mkdir()
        state.write_text(json.dumps(doc, indent=2) + "\n")
        size_mb = state.stat().st_size / 1024 / 1024
        (state.parent / "backups").mkdir()
        with open(state.parent / "backups" / "trading_state.backup-2gib.json", "wb") as f:
            f.truncate(2 * 1024**3)
        jpath = tmp / "state" / "big.journal.jsonl"
        line = json.dumps({"ts": "2026-01-16T00:00:00.000Z", "generation": 1, "sha256": "ab" * 32, "reason": "trade",
                           "changes": {"current_balance": [1.0, 2.0]}}) + "\n"
        with open(jpath, "w") as f:
            n = 100 * 1024 * 1024 // len(line)
            for i in range(n):
                f.write(line.replace('"generation": 1', f'"generation": {i + 1}'))
        jsize = jpath.stat().st_size / 1024 / 1024
        print(f"state {size_mb:.1f} MB, journal {jsize:.1f} MB, a 2 GiB sparse file in backups/\n")
        rows = [("backups (2 GiB sparse file beside them)", "backups", state, None),
                (f"read the state's bytes ({size_mb:.0f} MB)", "read", state, size_mb),
                (f"streamed sha256 of the state ({size_mb:.0f} MB)", "sha", state, size_mb),
                (f"journal scan, newest 400 ({jsize:.0f} MB)", "journal", jpath, jsize),
                (f"load the state: bytes + text + objects ({size_mb:.0f} MB)", "load", state, size_mb)]
        print(f"{'measurement':52} {'peak over baseline':>20} {'x file':>8} {'time':>8}")
        for label, what, path, mb in rows:
            m = measure(what, path)
            delta = (m["peak_kb"] - m["base_kb"]) / 1024
            ratio = f"{delta / mb:.2f}x" if mb else "—"
            print(f"{label:52} {delta:17.1f} MB {ratio:>8} {m['seconds']:7.2f}s")
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
