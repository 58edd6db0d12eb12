"""Score role detection against a corpus of real bots' hand-read schemas.

    python3 benchmarks/bench_roles_corpus.py [CORPUS_JSON]   (default ../shared/corpus/public.json)

Each bot's `schema_example` is a state document in its own shape and `roles` says which
field plays which role (null: the bot has none and nothing may be guessed). Detection is
scored role by role: right when it maps the same path, or leaves the role unmapped where
the truth says null. A cash or peak mapped to the wrong field (or to anything where the
truth is null) is counted apart: that is the failure that matters most. Also timed: the
detection per document (median of repeats), against json.loads of the same document."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statetui.core.roles import role_map  # noqa: E402


def score(corpus: list[dict]) -> dict:
    right = total = 0
    wrong_money: list[str] = []
    misses: list[str] = []
    for bot in corpus:
        rm = role_map(bot["schema_example"])
        for role, truth in bot["roles"].items():
            got = rm.path(role)
            total += 1
            if got == truth:
                right += 1
                continue
            misses.append(f"{bot['repo']}: {role} truth {truth!r}, detected {got!r}")
            if role in ("cash", "peak") and got is not None:
                wrong_money.append(misses[-1])
    return {"right": right, "total": total, "wrong_cash_or_peak": wrong_money, "misses": misses}


def timing(corpus: list[dict], repeats: int = 200) -> tuple[float, float]:
    detect, parse = [], []
    for bot in corpus:
        text = json.dumps(bot["schema_example"])
        doc = json.loads(text)
        t0 = time.perf_counter()
        for _ in range(repeats):
            role_map(doc)
        detect.append((time.perf_counter() - t0) / repeats)
        t0 = time.perf_counter()
        for _ in range(repeats):
            json.loads(text)
        parse.append((time.perf_counter() - t0) / repeats)
    return statistics.median(detect), statistics.median(parse)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/corpus/public.json"
    corpus = json.loads(path.read_text())
    s = score(corpus)
    print(f"corpus: {path} ({len(corpus)} bots)")
    print(f"roles right: {s['right']}/{s['total']} = {s['right'] / s['total']:.1%}")
    print(f"wrong cash/peak assignments: {len(s['wrong_cash_or_peak'])}")
    for line in s["misses"]:
        print(f"  miss: {line}")
    detect, parse = timing(corpus)
    print(f"detection per document: median {detect * 1e6:.0f} us ({detect / parse:.1f}x json.loads of the same document)")
    return 0 if s["right"] == s["total"] and not s["wrong_cash_or_peak"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
