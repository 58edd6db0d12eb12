"""Real `kill -9` at random points of save, backup, restore and reconcile.

A fork server (`python -m tests.reliability.killloop serve STATE [RPC_URL WALLET]`) imports
statetui once (web3 and the reconcile repair too when a chain is given), then forks one
writer per kill point. A writer loops on its operation and, around each call, writes to
the shared pipe (lines shorter than PIPE_BUF, so they never interleave):

    intent <pid> <fingerprint the file will have when the call returns>
    ack <pid> <fingerprint> <seconds the call took>  (after it returned)
    error <pid> <message>                         (a typed error: a finding)

The fingerprint is `total_trades|current_balance in cents`. The test sends SIGKILL, has
the server reap the writer, and checks (KillChecker): the file loads without recovery and
holds the last acknowledged fingerprint or the one in flight; the journal never goes
backwards and its generations increase; every backup that appeared verifies; the only
other files are temp files stray_temp_files() reports (hidden ones in backups/)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODES = ("save", "backup", "restore", "reconcile")
# The writers' journal rotates every few entries, so kills land inside seals too (issue 18):
# between the fsync, the rename into a sealed segment, the index write and the new journal.
ROTATE_BYTES = 2500
CENT = Decimal("0.01")


def fingerprint(state) -> str:
    from statetui.core.money import to_money

    return f"{state.total_trades}|{to_money(state.current_balance).quantize(CENT)}"


def _out(line: str) -> None:
    os.write(1, (line + "\n").encode())


_t0 = 0.0


def _intent(pid: int, fp: str) -> None:
    global _t0
    _out(f"intent {pid} {fp}")
    _t0 = time.monotonic()


def _ack(pid: int, fp: str) -> None:
    _out(f"ack {pid} {fp} {time.monotonic() - _t0:.4f}")  # how long the call took: the test aims its kills


# --- the writer (in the forked child) -------------------------------------------------------

def writer(path: str, mode: str, args: list[str], chain: tuple[str, str] | None) -> None:
    from statetui.core.errors import StatetuiError
    from statetui.core.money import to_money
    from statetui.core.store import StateStore

    pid = os.getpid()
    try:
        store = StateStore(path, writer=f"killloop-{mode}")
        store.journal.rotate_bytes = ROTATE_BYTES
        if mode == "save":
            state = store.load()
            while True:
                state.total_trades += 1
                state.current_balance = float(to_money(state.current_balance) + CENT)
                fp = fingerprint(state)
                _intent(pid, fp)
                store.save(state, reason="killloop save")
                _ack(pid, fp)
        elif mode == "backup":
            while True:
                fp = fingerprint(store.load())
                _intent(pid, fp)
                store.backup(reason="killloop")
                _ack(pid, fp)
        elif mode == "restore":
            a, b = args
            fps = {}
            for name in (a, b):
                fps[name] = fingerprint(store.parse(store.backups.read(store.backups.resolve(name))))
            while True:
                target = a if fingerprint(store.load()) != fps[a] else b
                _intent(pid, fps[target])
                store.restore(target, reason="killloop restore")
                _ack(pid, fps[target])
        elif mode == "reconcile":
            from statetui.core.config import PUSD, USDC_E, Config
            from statetui.repair.runner import apply_plan, plan_repair
            from statetui.testing.anvil import set_erc20_balance

            url, wallet = chain
            cfg = Config(state=Path(path), pid_file=Path(path).with_name("bot.pid"), rpc_url=url, wallet=wallet,
                         rpc_timeout=5.0)
            while True:
                state = store.load()
                cash = to_money(state.current_balance).quantize(CENT)
                new = cash + 2 if cash < 5000 else Decimal("100.00")
                set_erc20_balance(url, PUSD, wallet, int(new * 1_000_000))
                set_erc20_balance(url, USDC_E, wallet, 0)
                fp = f"{state.total_trades}|{new}"
                _intent(pid, fp)
                plan = plan_repair("reconcile", cfg)
                if not plan.can_apply:
                    raise StatetuiError(f"reconcile plan cannot apply: {plan.blocked or plan.evidence.get('mismatch')}")
                apply_plan(plan, cfg, verify=False)
                _ack(pid, fp)
        else:
            raise ValueError(mode)
    except StatetuiError as exc:
        _out(f"error {pid} {type(exc).__name__}: {str(exc)[:300]}")
        os._exit(3)
    except BaseException as exc:  # a raw exception is a finding
        _out(f"error {pid} RAW {type(exc).__name__}: {str(exc)[:300]}")
        os._exit(4)


def _warm_up(name: str, chain: tuple[str, str] | None) -> None:
    """Every import and lazy initialisation once here, not in every forked writer."""
    import tempfile

    from statetui.core.store import StateStore

    with tempfile.TemporaryDirectory(prefix="killloop-warm-") as tmp:
        store = StateStore(Path(tmp) / name)
        store.journal.rotate_bytes = 1  # every save seals: the rotation's imports happen here
        store.init({"total_trades": 0, "current_balance": 1.0, "peak_balance": 1.0})
        state = store.load()
        for n in (1, 2):
            state.total_trades = n
            store.save(state, reason="warm up")
        b = store.backup()
        store.restore(b.name)
        store.backups.list(verify=True)
        if chain:
            from statetui.core.config import Config
            from statetui.repair.runner import plan_repair

            cfg = Config(state=store.path, pid_file=Path(tmp) / "bot.pid", rpc_url=chain[0], wallet=chain[1],
                         rpc_timeout=5.0)
            plan_repair("reconcile", cfg)
            import statetui.testing.anvil  # noqa: F401


def serve(path: str, chain: tuple[str, str] | None) -> None:
    _warm_up(Path(path).name, chain)
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    writer(path, args[0], args[1:], chain)
                finally:
                    os._exit(5)
            _out(f"pid {pid}")
        elif cmd == "reap":
            _, status = os.waitpid(int(args[0]), 0)
            _out(f"reaped {args[0]} {status}")
        elif cmd == "quit":
            break


# --- the test side ---------------------------------------------------------------------------

@dataclass
class Round:
    pid: int
    mode: str
    status: int = 0
    intents: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)


class Server:
    def __init__(self, state: Path, chain: tuple[str, str] | None, timeout: float = 60.0):
        self.timeout = timeout
        cmd = [sys.executable, "-m", "tests.reliability.killloop", "serve", str(state), *(chain or ())]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                     env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.rounds: dict[int, Round] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)

    def _send(self, line: str) -> None:
        self.proc.stdin.write((line + "\n").encode())

    def _until(self, prefix: str) -> list[str]:
        while True:
            try:
                line = self.lines.get(timeout=self.timeout)
            except queue.Empty:
                raise RuntimeError(f"fork server silent for {self.timeout}s waiting for {prefix!r}") from None
            if line is None:
                raise RuntimeError(f"fork server exited ({self.proc.poll()}) waiting for {prefix!r}")
            parts = line.split(" ", 2)
            if parts[0] in ("intent", "ack", "error"):
                r = self.rounds.setdefault(int(parts[1]), Round(int(parts[1]), "?"))
                rest = parts[2] if len(parts) > 2 else ""
                if parts[0] == "ack":
                    rest, _, took = rest.partition(" ")
                    r.durations.append(float(took or 0))
                getattr(r, parts[0] + "s").append(rest)
            if line.startswith(prefix):
                return line.split()

    def fork(self, mode: str, *args: str) -> int:
        self._send(" ".join(("fork", mode, *args)))
        pid = int(self._until("pid ")[1])
        self.rounds.setdefault(pid, Round(pid, mode)).mode = mode
        return pid

    def reap(self, pid: int) -> Round:
        self._send(f"reap {pid}")
        while True:
            parts = self._until("reaped ")
            if int(parts[1]) == pid:
                r = self.rounds.pop(pid, Round(pid, "?"))
                r.status = int(parts[2])
                return r

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._send("quit")
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


@dataclass
class KillTally:
    kills: int = 0
    by_mode: dict[str, int] = field(default_factory=dict)
    acks: int = 0
    last_acked: int = 0
    in_flight: int = 0
    strays: int = 0  # kills that left a temp file (reported, removed by the next save)
    hidden_backup_temps: int = 0  # kills mid-snapshot: a dot-named temp in backups/, never listed
    backups_verified: int = 0
    segments_sealed: int = 0  # sealed journal segments at the end
    kills_after_seal_before_append: int = 0  # a sealed segment and no active journal yet
    kills_before_index: int = 0  # a segment the journal index does not describe yet


class KillChecker:
    def __init__(self, path: Path, keep: set[str] = frozenset()):
        from statetui.core.store import StateStore

        self.path = Path(path)
        self.store = StateStore(self.path)
        self.disk_fp = fingerprint(self.store.load())
        self.max_gen = (self.store.journal.last() or {}).get("generation", 0)
        self.seen_backups = set(os.listdir(self.store.backups.dir)) if self.store.backups.dir.exists() else set()
        self.keep = set(keep)
        self.tally = KillTally()

    def after_kill(self, r: Round) -> list[str]:
        from statetui.core.errors import StatetuiError

        t = self.tally
        t.kills += 1
        t.by_mode[r.mode] = t.by_mode.get(r.mode, 0) + 1
        t.acks += len(r.acks)
        problems = []
        if r.errors:
            problems.append(f"the writer failed before the kill: {r.errors}")
        if not (os.WIFSIGNALED(r.status) and os.WTERMSIG(r.status) == 9):
            problems.append(f"the writer ended with wait status {r.status}, not by SIGKILL")
        allowed = {r.acks[-1] if r.acks else self.disk_fp}
        if len(r.intents) > len(r.acks):
            allowed.add(r.intents[-1])
        try:
            fp = fingerprint(self.store.load())
        except StatetuiError as exc:
            return problems + [f"the state file does not load: {exc}"]
        if fp not in allowed:
            problems.append(f"the file holds {fp}; allowed: last acknowledged / in flight {sorted(allowed)}")
        if fp == (r.acks[-1] if r.acks else self.disk_fp):
            t.last_acked += 1
        else:
            t.in_flight += 1
        self.disk_fp = fp

        from statetui.core.journal_index import load_index
        from statetui.core.segments import list_segments

        segments = list_segments(self.store.journal.path)
        t.segments_sealed = len(segments)
        if segments and not self.store.journal.path.exists():
            t.kills_after_seal_before_append += 1
        if len(load_index(self.store.journal.path)["segments"]) < len(segments):
            t.kills_before_index += 1
        last = self.store.journal.last()
        gen = last["generation"] if last else 0
        if gen < self.max_gen:
            problems.append(f"the journal went back from generation {self.max_gen} to {gen}")
        self.max_gen = max(self.max_gen, gen)

        expected = {self.path.name, self.store.lock_path.name, self.store.journal.path.name,
                    self.store.backups.dir.name, "bot.pid"}
        reported = set(self.store.stray_temp_files())
        from statetui.core.journal_index import index_path_for
        from statetui.core.segments import is_segment_name

        expected.add(index_path_for(self.store.journal.path).name)  # sealed segments and their index (issue 18)
        extra = {n for n in os.listdir(self.path.parent) if not is_segment_name(n, self.store.journal.path)}
        extra = extra - expected - reported
        if extra:
            problems.append(f"files nobody reports: {sorted(extra)}")
        t.strays += bool(reported)

        names = set(os.listdir(self.store.backups.dir)) if self.store.backups.dir.exists() else set()
        new = names - self.seen_backups
        self.seen_backups = names
        listed = {b.name: b for b in self.store.backups.list(verify=False)}
        for name in new:
            if name.startswith("."):
                t.hidden_backup_temps += 1
                if name in listed:
                    problems.append(f"a temp file is listed as a backup: {name}")
                continue
            info = listed.get(name)
            if info is None:
                problems.append(f"a new file in backups/ is not a backup: {name}")
                continue
            self.store.backups.verify(info)
            t.backups_verified += 1
            if info.checksum != "ok" or not info.valid:
                problems.append(f"backup {name} does not verify ({info.checksum}, valid={info.valid})")
        return problems

    def tidy_backups(self) -> None:
        """Between kills (no writer runs): drop backups and hidden temps the loop piled up,
        except the ones a mode needs."""
        d = self.store.backups.dir
        for name in os.listdir(d) if d.exists() else []:
            if name not in self.keep:
                os.unlink(d / name)
        self.seen_backups = set(os.listdir(d)) if d.exists() else set()


if __name__ == "__main__":
    if len(sys.argv) in (3, 5) and sys.argv[1] == "serve":
        serve(sys.argv[2], (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else None)
    else:
        sys.exit("usage: python -m tests.reliability.killloop serve STATE [RPC_URL WALLET]")
