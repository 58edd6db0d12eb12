#!/usr/bin/env python3
"""Run the reliability suite (tests/reliability) and publish its figures in RELIABILITY.md.

    python scripts/reliability.py                 # the CI tier (what `bash .ci/run` runs too)
    python scripts/reliability.py --tier long     # 10,000 kill points, 8 x 1,000 transactions, ...
    python scripts/reliability.py --seed 1234     # replay a run

The tests write their own figures (tests/.results/reliability-*.json); this script only
gathers them, with the command, the date and the commit, into
tests/reliability/figures/<tier>.json, and renders RELIABILITY.md from the latest run of
each tier. Nothing in RELIABILITY.md's figures is typed by hand. Exit status: pytest's."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "tests" / ".results"
FIGURES = REPO / "tests" / "reliability" / "figures"
DOC = REPO / "RELIABILITY.md"


def run_suite(tier: str, seed: str | None, extra: list[str]) -> dict:
    for old in RESULTS.glob("reliability-*.json"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    env["STATETUI_RELIABILITY_TIER"] = tier
    if tier == "long":
        env["STATETUI_LONG"] = "1"
    if seed is not None:
        env["STATETUI_SEED"] = seed
    cmd = [sys.executable, "-m", "pytest", "tests/reliability", "tests/hostile", "-q", "-rs", "-p", "no:cacheprovider", *extra]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line.rstrip("\n"))
    proc.wait()
    elapsed = time.monotonic() - started
    summary = next((ln.strip("= ") for ln in reversed(lines) if re.search(r"\d+ (passed|failed|error)", ln)), "")
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary)}
    skips = [ln.split("] ", 1)[-1] for ln in lines if ln.startswith("SKIPPED")]
    figures = {}
    for f in sorted(RESULTS.glob("reliability-*.json")):
        figures[f.stem.removeprefix("reliability-")] = json.loads(f.read_text())
    return {
        "tier": tier,
        "command": "python scripts/reliability.py" + (" --tier long" if tier == "long" else "")
                   + (f" --seed {seed}" if seed else ""),
        "pytest": " ".join(shlex.quote(c) for c in cmd[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # A run from an exported snapshot (no .git) names its commit through the environment.
        "commit": os.environ.get("STATETUI_RELIABILITY_COMMIT") or _git("rev-parse", "--short", "HEAD"),
        "dirty": False if os.environ.get("STATETUI_RELIABILITY_COMMIT") else
        bool(_git("status", "--porcelain", "--", "statetui/core", "statetui/testing", "tests/reliability")),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "seconds": round(elapsed, 1),
        "returncode": proc.returncode,
        "summary": summary,
        "counts": counts,
        "skipped": skips,
        "figures": figures,
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# --- RELIABILITY.md ----------------------------------------------------------------------

def _n(x) -> str:
    return f"{x:,}" if isinstance(x, int) else str(x)


def headline(run: dict) -> list[tuple[str, str]]:
    f = run["figures"]
    rows: list[tuple[str, str]] = []
    if "powerloss" in f:
        p = f["powerloss"]
        rows.append(("Power loss: crash points / distinct crash states / violations",
                     f"{_n(p['crash_points'])} / {_n(p['crash_states'])} / {_n(p['violations'])} "
                     f"({p['sequences']} recorded sequences, {_n(p['recorded_operations'])} file operations)"))
    if "kill9" in f:
        k = f["kill9"]
        modes = ", ".join(f"{m} {_n(c)}" for m, c in sorted(k["by_mode"].items()))
        rows.append(("kill -9: kill points / violations", f"{_n(k['kill_points'])} / {_n(k['violations'])} ({modes})"))
        if k.get("reconcile") != "against anvil":
            rows.append(("kill -9: reconcile", k.get("reconcile", "")))
    if "concurrency" in f:
        c = f["concurrency"]
        rows.append(("Processes x transactions (+ polling readers)",
                     f"{c['writers']} x {_n(c['transactions_each'])} = {_n(c['transactions'])} (+ {c['readers']} readers, "
                     f"{_n(c['reader_polls'])} polls): lost updates {c['lost_updates']}, reader parse errors "
                     f"{c['reader_parse_errors']}, going backwards {c['reader_backwards']}, lock waits past the "
                     f"30 s timeout (typed, retried) {c.get('lock_timeouts_retried', 0)}"))
    if "bad_inputs" in f:
        b = f["bad_inputs"]
        rows.append(("Generated bad inputs / problems",
                     f"{_n(b['generated'])} / {b['problems']} ({b['recoveries_checked']} recoveries, "
                     f"{b['through_the_cli']} through the CLI)"))
    if "io_errors" in f:
        i = f["io_errors"]
        rows.append(("Injected I/O errors / problems",
                     f"{_n(i['injected_errors'])} in {_n(i['runs'])} runs over {len(i['calls'])} calls / {i['problems']}"))
    if "full_disk" in f:
        d = f["full_disk"]
        sweep = f.get("full_disk_sweep", {})
        rows.append(("Real full disk (tmpfs 64 KB)", f"{len(d['calls_refused'])} calls refused cleanly; "
                     f"{_n(sweep.get('calls', 0))} calls at 0-40 KB free ({_n(sweep.get('refused', 0))} refused, "
                     f"{_n(sweep.get('succeeded', 0))} succeeded), state intact every time"))
    if "hostile" in f:
        h = f["hostile"]
        rows.append(("Hostile files and permissions (as nobody)",
                     f"{h['cases']} cases, {h['operations']} operations, {h['refused']} refused, {h['problems']} problems"))
    hostile_input = {k.split("-", 1)[1]: v for k, v in f.items() if k.startswith("hostile_input-")}
    if hostile_input:
        total = sum(v["cases"] for v in hostile_input.values())
        real = sum(v.get("subprocess", 0) for v in hostile_input.values())
        problems = sum(v.get("problems", 0) for v in hostile_input.values())
        parts = ", ".join(f"{k.replace('_', ' ')} {_n(v['cases'])}" for k, v in sorted(hostile_input.items()))
        rows.append(("Hostile input, generated cases / problems (tests/hostile)",
                     f"{_n(total)} / {problems} ({parts}; {_n(real)} of them as real `statetui` processes)"))
    if "mutations" in f:
        m = f["mutations"]
        rows.append(("Mutants killed", f"{m['killed']} of {m['mutants']}"))
    if "console" in f:
        c = f["console"]
        rows.append(("Console under fire", f"{_n(c['saves'])} saves in bursts of {c['bursts_of']}: "
                     f"{c['parse_errors_shown']} parse errors shown, {c['key_round_trips']} key round trips, "
                     f"final generation {_n(c['final_generation'])} on screen"))
    c = run["counts"]
    rows.append(("Tests", f"{c.get('passed', 0)} passed, {c.get('failed', 0) + c.get('error', 0) + c.get('errors', 0)} "
                          f"failed, {c.get('skipped', 0)} skipped"))
    return rows


def render(runs: dict[str, dict]) -> str:
    out = [INTRO]
    for tier in ("long", "ci"):
        run = runs.get(tier)
        if run is None:
            continue
        ok = run["returncode"] == 0
        out.append(f"## Latest figures: {tier} tier ({'0 failures' if ok else 'FAILED'})\n")
        out.append(f"`{run['command']}` on {run['date']}, commit `{run['commit']}`"
                   f"{' (with uncommitted changes)' if run.get('dirty') else ''}, {run['machine']}, "
                   f"{run['seconds']:.0f} s.\n")
        out.append("| | |\n|---|---|")
        for k, v in headline(run):
            out.append(f"| {k} | {v} |")
        out.append("")
        if run["skipped"]:
            out.append("Skipped: " + "; ".join(run["skipped"]) + "\n")
        out.append("<details><summary>Every figure the tests recorded</summary>\n")
        out.append("```json\n" + json.dumps(run["figures"], indent=1, sort_keys=True) + "\n```\n</details>\n")
    out.append(FOUND)
    return "\n".join(out)


INTRO = """# Reliability

statetui exists because a trading bot's state file was lost, half-written and wrong. This
file is the evidence that its store does not do that: what is tested, how to run it, and the
latest figures. **The figures below are written by `scripts/reliability.py` from what the
tests themselves recorded; none is typed by hand.**

## What is tested (tests/reliability/)

| | How | Checked |
|---|---|---|
| Simulated power loss (`test_powerloss.py`) | Random sequences of init, save, save with backup, transaction, backup, restore, prune and recovery run for real through a recording `FileOps` (`statetui/testing/faults.py`). At every prefix of the recorded operations, a model (`statetui/testing/crashmodel.py`) enumerates what a power loss could leave: unsynced bytes kept, dropped, torn or zeroed; creates, renames, links, unlinks and mkdirs not followed by an fsync of their folder reverted (any prefix, or all but one). Each state is materialised in a temp folder. | `load(recover=True)` gives the last acknowledged state or the one in flight, never an empty default; every acknowledged journal entry and backup survives; journal generations increase; no torn backup is visible; the next save works. Also: the recording explains the folder exactly, so no write bypasses the seam. |
| Mutation check (`test_mutations.py`) | Each protection is removed from a copy of the core by a textual edit: the file fsync, the journal fsync, the directory fsync, `O_EXCL`, the checksum check in backup listing and in restore, the lock. | At least one test fails for each (power loss, hostile files, bit rot, concurrency). |
| I/O errors (`test_io_errors.py`) | For save with a backup, save clearing a stray temp, backup, restore, recovery, prune and init: operation #1, #2, ... #n fails in turn (EIO, ENOSPC, EDQUOT), one-shot and persistent. | A typed one-line error naming the file, never a raw `OSError`; the state is the old one (or the new one only after the commit point, and the error says so); backups all verify, none lost, no extra; no fsync retried on a descriptor whose fsync failed; no descriptor leaked; the store carries on. |
| A real full disk (`test_full_disk.py`) | A 64 KB tmpfs mounted by the test, filled; then 0-40 KB free in 4 KB steps. | Save, transaction, backup and restore are refused with typed errors naming the cause and leave state, journal and backups untouched; at every step the file loads as old or new. Skipped, with the reason, where mounting is not permitted. |
| Hostile files and permissions (`test_hostile.py`) | As `nobody` (privileges dropped after warm-up): symlinks, FIFOs and folders at the state, temp (planted at the exact name through the seam: a lost race), lock, journal, backups-folder, backup and pid paths; a pid file with garbage, a dead pid, a live unrelated pid; a read-only folder, an unreadable file. | Refused with a typed one-line error or reported clearly, nothing hangs, nothing is written through a link (the victims are writable by the same user). |
| kill -9 (`test_kill_points.py`) | A fork server starts a writer per kill point doing save, backup, restore or reconcile (the real repair against a real anvil node) in a loop, and SIGKILLs it at a random moment; more kill points (up to twice as many) follow until at least five journal segments have sealed, so kills land around seals on a loaded machine too. | The file loads without recovery and holds the last acknowledged state or the one in flight; the journal never goes back; every new backup verifies; only reported temp files are left. |
| Writers and readers (`test_concurrency_readers.py`) | W processes x N `transaction()` increments while 2 readers poll `status()`. | Exact final count and Decimal balance, every counter value written once, gapless journal; no reader ever sees a parse error or a counter or generation going backwards. |
| Generated bad inputs (`test_generated_inputs.py`) | Seeded mutations of real states in every writing style (truncations, bit flips, inserted and deleted bytes, encodings, hostile values in known fields, deep nesting), checked against an independent oracle (`statetui/testing/corpus.py`). | The exact typed error (one line, naming the file and the field) or a state that saves back unchanged; recovery brings back the good backup and keeps the broken bytes; through the CLI, one line and no traceback. |
| Hostile input (`tests/hostile/`, issue 11) | Generated cases through the real CLI (in-process through `statetui.cli.main`, a seeded share as real `statetui` processes) and the console (Pilot): every configuration key with values of every kind in a config file, an environment variable or a flag; broken TOML and config paths that are FIFOs, folders, sockets, links; hostile option values, verbs, ids and backup names; states with escape codes, markup, bidi overrides, lone surrogates, numbers JSON can spell and Python cannot hold, CRLF, duplicate keys; journal lines of every wrong shape and over the line cap; backups with hostile names, kinds (FIFO, socket, link, 65 MiB sparse) and contents; a loopback JSON-RPC server answering garbage, huge numbers, HTTP errors, error objects, a dripped or no answer, a 40 MiB body. Plus one test per defect issue 11 lists, every verb through every error class, secrets in every RPC-URL position grepped on every surface, and read-only runs of every verb. | The exit code from the one table (`statetui/cli/exits.py`); errors as one line on stderr naming the file or the key and its source; no traceback; no control character on the terminal; no credential anywhere; nothing on disk changed (read-only: nothing anywhere). |
| Checksums bite (`test_bitrot.py`) | A backup whose bytes changed but that is still a valid state. | Listed bad, refused by restore, skipped by recovery and `restore latest`. |
| The console under fire (`test_console_under_fire.py`) | The dashboard open (Textual `run_test`, real watcher) while another process saves 1,000 times in bursts. | No parse error shown for a complete file, never an older state after a newer one, keys answered throughout, the final generation on screen. |

## How to run

- CI tier (part of `bash .ci/run`, about two minutes on 2 cores): `python -m pytest tests/reliability tests/hostile`,
  or `python scripts/reliability.py` to also refresh the CI figures below.
- Long tier (opt-in, not in CI): `python scripts/reliability.py --tier long`
  (or `STATETUI_LONG=1 python -m pytest tests/reliability`): 100 power-loss sequences,
  10,000 kill points, 8 x 1,000 transactions with 2 readers, 10,000 generated inputs, and about
  five times the CI tier's hostile-input cases (`STATETUI_LONG=1 python -m pytest tests/hostile` alone).
- Replay a failure: every randomised test prints its seed; `STATETUI_SEED=<seed>` (or
  `--seed`) replays it.
"""

FOUND = """## Defects the suite found (fixed in the core, each in its own commit)

- The journal file's creation was never synced into its folder: a power loss right after
  an acknowledged first write could take back the whole journal (`e2bdd7c`).
- The backups folder was created outside the I/O seam, and the state folder without
  syncing its parent (`021d3af`).
- I/O errors: a failed folder fsync in prune escaped as a raw `OSError`; a failed unlink of
  the temp name after a successful link reported a completed backup or init as failed
  (`0444f60`); a stray temp that could not be removed made save raise a raw `OSError`, and
  init reported a written file as not created when the folder fsync failed (`e72e153`).
- `load(recover=True)` moved a symlink, FIFO or folder planted at the state path aside and
  put a restored file in its place; it now refuses it (`e0c38b8`).
- `_hand_back`'s chown (root giving the lock, journal and backups folder to the state's
  owner) bypassed the I/O seam (`424a6a6`).
- Forked processes shared the parent's kept-alive RPC connection and read each other's
  answers (`9eddbf3`).
- A file broken after a refused number (NaN, 1e400) was reported as an invalid value
  instead of corrupt with the offset of the damage (`c173b73`).
- Write-ahead journal (`99ee675`, another engineer's): a failed journal append left a
  complete entry with no aborted marker, so a failed init counted as landed (`fda51cc`);
  an entry whose bytes but not newline survived a crash was read as the newest entry and
  then cut off by the next append: a generation went missing and the chain broke
  (`2d66dc1`); a write after one that never landed dropped the replaced-outside flag
  (`5350d2c`).
- The raw-flock lock (`cababe3`) no longer created a missing state folder, so `init` into
  a new folder failed (`8d19715`).
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", choices=("ci", "long"), default="ci")
    ap.add_argument("--seed")
    ap.add_argument("--no-write", action="store_true", help="run, but leave RELIABILITY.md and the figures alone")
    ap.add_argument("--render-only", action="store_true", help="re-render RELIABILITY.md from the stored figures")
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    code = 0
    if not args.render_only:
        run = run_suite(args.tier, args.seed, args.pytest_args)
        code = run["returncode"]
        if args.no_write:
            return code
        (FIGURES / f"{args.tier}.json").write_text(json.dumps(run, indent=1, sort_keys=True) + "\n")
    runs = {f.stem: json.loads(f.read_text()) for f in sorted(FIGURES.glob("*.json"))}
    DOC.write_text(render(runs))
    print(f"\nwrote {DOC.relative_to(REPO)} ({', '.join(sorted(runs))} tier figures)")
    return code


if __name__ == "__main__":
    sys.exit(main())
