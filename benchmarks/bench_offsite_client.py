"""Which S3 client for off-site backups: the cost of importing it, and of import + one real
LIST request, in fresh processes, against a real S3 server (SeaweedFS on loopback).

Candidates: boto3, minio, obstore (whichever the interpreter has). Baseline in the same run:
the bare interpreter (`pass`). Runs are interleaved, so a noisy neighbour hits every
candidate alike; medians of wall time and of CPU time (user + sys) are printed, with the
ratio to the baseline.

    python3 -m venv /tmp/s3cand && /tmp/s3cand/bin/pip install boto3 minio obstore
    python3 benchmarks/bench_offsite_client.py --python /tmp/s3cand/bin/python [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CANDIDATES = {
    "boto3": ("import boto3",
              "import boto3\nc = boto3.session.Session().client('s3', endpoint_url=EP)\n"
              "c.list_objects_v2(Bucket=BUCKET, Prefix='bench/')"),
    "minio": ("import minio",
              "import minio\nfrom minio.credentials import ChainedProvider, EnvAWSProvider, AWSConfigProvider, IamAwsProvider\n"
              "c = minio.Minio(EP.split('//')[1], secure=False, region='us-east-1', credentials=ChainedProvider("
              "[EnvAWSProvider(), AWSConfigProvider(), IamAwsProvider()]))\nlist(c.list_objects(BUCKET, prefix='bench/'))"),
    "obstore": ("import obstore",
                "import obstore\nfrom obstore.store import S3Store\n"
                "s = S3Store(BUCKET, prefix='bench', endpoint=EP, client_options={'allow_http': True})\n"
                "list(obstore.list(s))"),
}


def run_once(python: str, code: str, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"failed: {code!r}: {res.stderr.strip().splitlines()[-1:]}")
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable, help="interpreter that has the candidates installed")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    from statetui.testing.seaweed import SeaweedS3

    tmp = Path(tempfile.mkdtemp(prefix="bench-offsite-"))
    try:
        with SeaweedS3(tmp / "s3") as s3:
            env = {**os.environ, **s3.env, "HOME": str(tmp)}
            prelude = f"EP = {s3.endpoint!r}\nBUCKET = {s3.bucket!r}\n"
            have = [n for n in CANDIDATES
                    if subprocess.run([args.python, "-c", f"import {n}"], capture_output=True).returncode == 0]
            cases = {"baseline": ("pass", "pass")} | {n: CANDIDATES[n] for n in have}
            for _, code in cases.values():  # warm the page cache and .pyc files once
                run_once(args.python, prelude + code, env)
            times: dict[str, list[list[tuple[float, float]]]] = {n: [[], []] for n in cases}
            for _ in range(args.runs):
                for name, codes in cases.items():
                    for i, code in enumerate(codes):
                        times[name][i].append(run_once(args.python, prelude + code, env))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    versions = subprocess.run([args.python, "-c", "import importlib.metadata as m\nfor n in "
                               f"{have!r}: print(n, m.version(n))"], capture_output=True, text=True).stdout.split("\n")
    print(f"{args.runs} interleaved runs each, fresh processes ({', '.join(v for v in versions if v)})")
    print(f"{'':10} {'import wall':>12} {'cpu':>6} {'x base':>7}   {'+ client + LIST wall':>21} {'cpu':>6} {'x base':>7}")
    base = [statistics.median(c for _, c in times["baseline"][i]) for i in (0, 1)]
    for name, cols in times.items():
        cells = []
        for i, col in enumerate(cols):
            wall = statistics.median(w for w, _ in col)
            cpu = statistics.median(c for _, c in col)
            cells.append(f"{wall:9.0f} ms {cpu:6.0f} {cpu / base[i]:6.1f}x")
        print(f"{name:10} {cells[0]}   {'':9}{cells[1]}")


if __name__ == "__main__":
    main()
