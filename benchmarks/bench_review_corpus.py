"""Score the `persistence-code` review against hand-read truth on real bots, and time it.

    python3 benchmarks/bench_review_corpus.py CORPUS_DIR [--truth public.json]
        [--big-tree PATH[:STATE_NAME]] [--runs 3] [--json]

CORPUS_DIR holds one checkout per bot, named `<owner>+<name>`, at the commit the truth
file lists (`/work/corpus` on the development machine). The truth defaults to
`CORPUS_DIR/../shared/corpus/public.json`, then `/work/shared/corpus/public.json`.

Scores, over every bot of the truth file (the review runs exactly as `statetui audit`
runs it: the registered check, the bot's folder as `bot_source`, its `state_rel` as the
state path, test code excluded):

- writer recall: truth writers of the state file the review reports (same file, and
  the line within 2 or the same function);
- kind agreement: of those, the share whose kind matches (in-place / atomic /
  atomic+fsync; a writer that also fsyncs the folder counts as atomic+fsync);
- noise: reported state-file writers that are no truth writer, over all reported;
- startup-loader risk detection: of the bots' own startup loaders (`primary`), the share
  the review reports with the right outcome on a corrupt file (reset -> a reset, crash ->
  a crash); "reset" lists the reset ones alone, the most dangerous pattern;
- time: the whole review of each tree (cold: no cache; warm: the console's repeated
  audit) against the floor, `ast.parse` of every file of the tree, one after the other
  on one core, measured in the same run and interleaved with the review.

Works on the check before and after the review became a package: it reads the check's
`data` in either shape. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH=... picks the statetui to measure (e.g. main's, for "before")
    sys.path.insert(0, str(ROOT))

TARGETS = {"recall": 0.95, "kind": 0.95, "noise": 0.10, "loader_risk": 0.90, "time_ratio": 2.0}
SKIP_DIRS = {".git", "node_modules", "__pycache__", "venv", ".venv", "env", "site-packages"}


def run_review(source: Path, state: Path, include_tests: bool = False):
    from statetui.audit.base import REGISTRY, AuditContext, run_check
    from statetui.audit.checks import load
    from statetui.core.config import Config

    load(["persistence-code"])
    ctx = AuditContext(config=Config(bot_source=source, state=state))
    if include_tests:
        ctx.include_tests = True  # an attribute the check reads; older checks ignore it
    return run_check(REGISTRY["persistence-code"], ctx)


def clear_cache() -> None:
    try:
        from statetui.audit.review import clear_cache as clear
    except ImportError:  # the check before the package had no cache
        return
    clear()


# --- reading the check's data in either shape -------------------------------------
def _rel(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return str(p.relative_to(root))
        except ValueError:
            return path
    return path


def reported_writers(data: dict, root: Path) -> list[dict]:
    out = []
    for w in data.get("writers", []):
        kind = w.get("kind", "")
        if kind == "atomic" and w.get("fsync_line"):  # the old shape: flags beside the kind
            kind = "atomic+fsync"
        if kind.startswith("atomic+fsync"):
            kind = "atomic+fsync"
        out.append({"file": _rel(w["file"], root), "line": w["line"], "function": w.get("function", ""),
                    "kind": kind})
    return out


def reported_loaders(data: dict, root: Path) -> list[dict]:
    out = []
    if "loaders" in data:
        for x in data["loaders"]:
            out.append({"file": _rel(x["file"], root), "line": x["line"], "function": x.get("function", ""),
                        "on_corrupt": _risk(x.get("on_corrupt", ""))})
    else:  # old shape: "guarded" loads were reported OK ("catches JSONDecodeError"), the rest as crashes
        for x in data.get("loads", []):
            out.append({"file": _rel(x["file"], root), "line": x["line"], "function": x.get("function", ""),
                        "on_corrupt": "ok" if x.get("guarded") else "crash"})
    return out


def _risk(text: str) -> str:
    t = text.lower()
    if "reset" in t:
        return "reset"
    if "crash" in t:
        return "crash"
    return t or "?"


def _truth_risk(on_corrupt: str) -> str:
    return "reset" if "reset" in on_corrupt else ("crash" if "crash" in on_corrupt else on_corrupt)


# --- matching ----------------------------------------------------------------------------
def _fn_tail(name: str) -> str:
    return name.split(" (", 1)[0].strip().rsplit(".", 1)[-1]


def match(truth: list[dict], reported: list[dict]) -> list[tuple[dict, dict]]:
    """One-to-one: same file, then the nearest line within 2, else the same function."""
    pairs, used = [], set()
    for t in truth:
        cands = [(abs(r["line"] - t["line"]), i) for i, r in enumerate(reported)
                 if i not in used and r["file"] == t["file"]
                 and (abs(r["line"] - t["line"]) <= 2 or _fn_tail(r["function"]) == _fn_tail(t["function"]))]
        if cands:
            _, i = min(cands)
            used.add(i)
            pairs.append((t, reported[i]))
    return pairs


# --- timing ------------------------------------------------------------------------------
def python_files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py")]
    return out


def parse_floor(datas: list[bytes]) -> float:
    t = time.perf_counter()
    for d in datas:
        try:
            ast.parse(d)
        except (SyntaxError, ValueError):
            pass
    return time.perf_counter() - t


def cores_available() -> float:
    """How much a second process helps right now: a pure-Python loop run twice in one
    process against once in each of two processes. ~2.0 on an idle 2-core machine; near 1
    when other jobs hold the cores (then no parallel parse can beat one core)."""
    def spin() -> None:
        x = 0
        for i in range(3_000_000):
            x += i

    t = time.perf_counter()
    spin()
    spin()
    serial = time.perf_counter() - t
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        spin()
        os._exit(0)
    spin()
    os.waitpid(pid, 0)
    return serial / (time.perf_counter() - t)


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the forked parsers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _time_worker(what: str, root: Path, state: Path) -> dict:
    """One measurement in a fresh interpreter, so that neither side pays for the garbage
    (and the cache) of the other: the floor, or the review cold then warm."""
    if what == "floor":
        datas = [p.read_bytes() for p in python_files(root)]
        c = _cpu()
        wall = parse_floor(datas)
        return {"floor": wall, "floor_cpu": _cpu() - c, "files": len(datas),
                "lines": sum(d.count(b"\n") for d in datas)}
    run_review(ROOT / "tests" / "fixtures" / "bots" / "naive.py", Path("trading_state.json"))  # imports
    clear_cache()
    out = {}
    for key, tests in (("cold", True), ("warm", True)):
        c = _cpu()
        t = time.perf_counter()
        run_review(root, state, include_tests=tests)
        out[key] = time.perf_counter() - t
        out[key + "_cpu"] = _cpu() - c
    clear_cache()
    t = time.perf_counter()
    run_review(root, state)
    out["default_cold"] = time.perf_counter() - t
    return out


def _spawn(what: str, root: Path, state: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT))
    res = subprocess.run([sys.executable, __file__, "--time-worker", what, str(root), str(state)],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def time_tree(root: Path, state: Path, runs: int) -> dict:
    floor, cold, warm, cold_default, cores, floor_cpu, cold_cpu = [], [], [], [], [], [], []
    info = {}
    for _ in range(runs):  # interleaved: noise on a shared machine hits every side alike
        cores.append(cores_available())
        info = _spawn("floor", root, state)
        floor.append(info["floor"])
        floor_cpu.append(info["floor_cpu"])
        r = _spawn("review", root, state)
        cold.append(r["cold"])
        cold_cpu.append(r["cold_cpu"])
        warm.append(r["warm"])
        cold_default.append(r["default_cold"])
    f = statistics.median(floor)
    return {"tree": str(root), "files": info["files"], "lines": info["lines"], "parse_floor_s": f,
            "review_cold_s": statistics.median(cold), "review_warm_s": statistics.median(warm),
            "review_default_cold_s": statistics.median(cold_default),
            "ratio_cold": statistics.median(cold) / f, "ratio_warm": statistics.median(warm) / f,
            "two_process_speedup": statistics.median(cores), "load_average": os.getloadavg()[0],
            "ratio_cpu": statistics.median(cold_cpu) / statistics.median(floor_cpu)}


# --- scoring -----------------------------------------------------------------------------
def score(corpus: Path, truth: list[dict], verbose: bool) -> dict:
    tw = tk = matched_w = reported_n = noise_n = 0
    primaries = primary_ok = resets = resets_ok = loaders_n = loaders_ok = 0
    per_bot = []
    for bot in truth:
        src = corpus / bot["repo"].replace("/", "+")
        if not src.is_dir():
            print(f"missing checkout: {src}", file=sys.stderr)
            continue
        t = time.perf_counter()
        result = run_review(src, Path(bot["state_rel"]))
        dt = time.perf_counter() - t
        writers = reported_writers(result.data, src)
        loaders = reported_loaders(result.data, src)
        wpairs = match(bot["writers"], writers)
        kinds = sum(1 for t_, r in wpairs if r["kind"] == t_["kind"])
        noise = [r for r in writers if not any(r is p[1] for p in wpairs)]
        lpairs = {id(t_): r for t_, r in match(bot["loaders"], loaders)}
        tw += len(bot["writers"])
        matched_w += len(wpairs)
        tk += kinds
        reported_n += len(writers)
        noise_n += len(noise)
        for t_ in bot["loaders"]:
            r = lpairs.get(id(t_))
            ok = r is not None and r["on_corrupt"] == _truth_risk(t_["on_corrupt"])
            loaders_n += 1
            loaders_ok += ok
            if t_.get("primary"):
                primaries += 1
                primary_ok += ok
                if _truth_risk(t_["on_corrupt"]) == "reset":
                    resets += 1
                    resets_ok += ok
        per_bot.append({"repo": bot["repo"], "status": result.status.value, "seconds": round(dt, 3),
                        "writers": f"{len(wpairs)}/{len(bot['writers'])}", "kinds_ok": kinds,
                        "reported": len(writers), "noise": [f"{r['file']}:{r['line']}" for r in noise],
                        "missed": [f"{w['file']}:{w['line']}" for w in bot["writers"]
                                   if not any(w is p[0] for p in wpairs)],
                        "loaders": [(f"{t_['file']}:{t_['line']}", _truth_risk(t_["on_corrupt"]),
                                     (lpairs[id(t_)]["on_corrupt"] if id(t_) in lpairs else None))
                                    for t_ in bot["loaders"]]})
    return {
        "recall": matched_w / tw if tw else 0.0, "writers_truth": tw, "writers_matched": matched_w,
        "kind": tk / matched_w if matched_w else 0.0,
        "noise": noise_n / reported_n if reported_n else 0.0, "writers_reported": reported_n,
        "loader_risk": primary_ok / primaries if primaries else 0.0, "startup_loaders": primaries,
        "startup_loaders_right": primary_ok, "resets": resets, "resets_right": resets_ok,
        "all_loaders": loaders_n, "all_loaders_right": loaders_ok, "bots": per_bot,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder of <owner>+<name> checkouts")
    ap.add_argument("--truth", type=Path)
    ap.add_argument("--big-tree", action="append", default=[], metavar="PATH[:STATE_NAME]",
                    help="another tree to time (e.g. a larger public bot); repeatable")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-time", action="store_true", help="scores only")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--time-worker", nargs=3, metavar=("WHAT", "TREE", "STATE"), help=argparse.SUPPRESS)
    args = ap.parse_args() if "--time-worker" not in sys.argv else None
    if args is None:
        i = sys.argv.index("--time-worker")
        what, tree, state = sys.argv[i + 1: i + 4]
        print(json.dumps(_time_worker(what, Path(tree), Path(state))))
        return 0
    truth_path = args.truth
    if truth_path is None:
        for cand in (args.corpus.parent / "shared" / "corpus" / "public.json", Path("/work/shared/corpus/public.json")):
            if cand.is_file():
                truth_path = cand
                break
    if truth_path is None:
        print("no truth file: pass --truth", file=sys.stderr)
        return 2
    truth = json.loads(truth_path.read_text())
    run_review(ROOT / "tests" / "fixtures" / "bots" / "naive.py", Path("trading_state.json"))  # imports, warm-up

    scores = score(args.corpus, truth, args.verbose)
    trees = [(args.corpus / b["repo"].replace("/", "+"), Path(b["state_rel"])) for b in truth]
    largest = max(trees, key=lambda t: sum(p.stat().st_size for p in python_files(t[0])))
    timed = [] if args.no_time else [time_tree(largest[0], largest[1], args.runs)]
    for spec in [] if args.no_time else args.big_tree:
        path, _, name = spec.partition(":")
        timed.append(time_tree(Path(path), Path(name or "state.json"), args.runs))
    out = {"truth": str(truth_path), **scores, "timing": timed}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"truth: {truth_path} ({len(truth)} bots)")
        if args.verbose:
            for b in scores["bots"]:
                print(f"  {b['repo']:42} {b['status']:8} {b['seconds']:6.2f}s writers {b['writers']} "
                      f"kinds ok {b['kinds_ok']} reported {b['reported']}")
                for n in b["noise"]:
                    print(f"      noise  {n}")
                for n in b["missed"]:
                    print(f"      missed {n}")
                for where, want, got in b["loaders"]:
                    print(f"      loader {where}: truth {want}, review {got}")
        print(f"writer recall          {scores['recall']:.2f} ({scores['writers_matched']}/{scores['writers_truth']})"
              f"   target >= {TARGETS['recall']}")
        print(f"kind agreement         {scores['kind']:.2f}   target >= {TARGETS['kind']}")
        print(f"noise                  {scores['noise']:.2f} ({scores['writers_reported'] - round(scores['writers_reported'] * (1 - scores['noise']))}"
              f" of {scores['writers_reported']} reported)   target <= {TARGETS['noise']}")
        print(f"startup-loader risk    {scores['loader_risk']:.2f} ({scores['startup_loaders_right']}/{scores['startup_loaders']};"
              f" resets {scores['resets_right']}/{scores['resets']})   target >= {TARGETS['loader_risk']}")
        print(f"all loaders' outcome   {scores['all_loaders_right']}/{scores['all_loaders']}")
        for t in timed:
            print(f"time {t['tree']}: {t['files']} files, {t['lines']} lines; ast.parse floor {t['parse_floor_s'] * 1000:.0f} ms;"
                  f" review cold {t['review_cold_s'] * 1000:.0f} ms ({t['ratio_cold']:.2f}x), warm"
                  f" {t['review_warm_s'] * 1000:.0f} ms ({t['ratio_warm']:.2f}x), default (no tests) cold"
                  f" {t['review_default_cold_s'] * 1000:.0f} ms   target <= {TARGETS['time_ratio']}x"
                  f"; CPU time {t['ratio_cpu']:.2f}x the floor's (2-process speedup now"
                  f" {t['two_process_speedup']:.2f}, load {t['load_average']:.1f})")
    missed = (scores["recall"] < TARGETS["recall"] or scores["kind"] < TARGETS["kind"]
              or scores["noise"] > TARGETS["noise"] or scores["loader_risk"] < TARGETS["loader_risk"]
              or any(t["ratio_cold"] > TARGETS["time_ratio"] for t in timed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
