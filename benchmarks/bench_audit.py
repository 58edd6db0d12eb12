"""`statetui audit --format json` (all local checks) as a whole process.

Fixture: a typical state written through the store, a bot source of ~3,000 lines,
30 backups. Baselines in the same run: the bare interpreter, and `import pydantic`
(the floor any pydantic model pays). Target (issue 3): median <= 250 ms.

    python3 benchmarks/bench_audit.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_fixture(root: Path) -> tuple[Path, Path]:
    from statetui.testing.scenarios import healthy

    sc = healthy(root)
    for i in range(30 - len(sc.store.backups.list(verify=False))):
        sc.store.backups.snapshot(sc.state.read_bytes(), "daily", now=time.time() - i * 3600)
    src = root / "bot"
    src.mkdir()
    fixtures = sorted((ROOT / "tests" / "fixtures" / "bots").glob("*.py"))
    lines = 0
    n = 0
    while lines < 3000:
        for f in fixtures:
            text = f.read_text()
            (src / f"module_{n}.py").write_text(text)
            lines += text.count("\n")
            n += 1
    return sc.state, src


def time_cmd(cmd: list[str], runs: int, env: dict) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    try:
        state, src = build_fixture(tmp)
        loc = sum(p.read_text().count("\n") for p in src.glob("*.py"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_") and k != "PYTHONDONTWRITEBYTECODE"}
        # An installed package has its bytecode compiled (pip does it); measure that, not compilation.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "statetui")], check=True, env=env)
        env["XDG_CONFIG_HOME"] = str(tmp / "xdg")
        audit = [sys.executable, "-m", "statetui", "audit", "--format", "json", "--local",
                 "--state", str(state), "--bot-source", str(src), "--pid-file", str(tmp / "bot.pid")]
        res = subprocess.run(audit, capture_output=True, text=True, env=env)
        report = json.loads(res.stdout)
        print(f"fixture: {loc} lines of bot source, {len(list((state.parent / 'backups').iterdir()))} backups; "
              f"overall {report['overall']}")
        for c in report["checks"]:
            print(f"  {c['id']:18} {c['status']:8} {c['duration_ms']:7.1f} ms in-process")
        rows = {
            "python -c pass": time_cmd([sys.executable, "-c", "pass"], args.runs, env),
            "python -c 'import pydantic'": time_cmd([sys.executable, "-c", "import pydantic"], args.runs, env),
            "statetui audit --format json": time_cmd(audit, args.runs, env),
        }
        for name, samples in rows.items():
            print(f"{name:32} median {statistics.median(samples):7.1f} ms   min {min(samples):7.1f} ms")
        med = statistics.median(rows["statetui audit --format json"])
        print(f"audit median {med:.1f} ms vs target 250 ms: {'OK' if med <= 250 else 'OVER'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
