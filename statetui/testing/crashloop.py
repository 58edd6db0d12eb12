"""Real `kill -9` crash testing of the store, fast enough for hundreds of kill points.

A fork server (`python -m statetui.testing.crashloop serve STATE`) imports statetui once,
then forks a fresh writer per kill point in about a millisecond. Each writer opens its own
StateStore (as a restarted bot would), loads the state and saves in a loop, each save a
new generation in `total_trades` (and +0.01 on `current_balance`, added in Decimal). After
every save() returns it writes an ack line to the pipe. The test process sends the
SIGKILL itself, then asks the server to reap the writer and reads its acks.

`CrashChecker` holds what must be true after every kill (reused by the reliability suite):
the file loads; its generation is the last acknowledged one or the one in flight; every
stray temp file is one `stray_temp_files()` reports, and the next acknowledged save
removed it; the file's write is journaled (the journal is written ahead of the replace),
and the journal's newest entry is either the file's write or the write in flight when the
kill landed (its prev_sha256 is the file's sha: `journal.landed()` drops it).

Pipe protocol, one line each (all shorter than PIPE_BUF, so writes from the server and
its writers never interleave):
    test -> server   fork <mode> | reap <pid> | quit
    server -> test   pid <pid> | reaped <pid> <wait status>
    writer -> test   ack <pid> <generation> <sha256> <removed temp names, comma-separated or ->
                     error <pid> <message>"""

from __future__ import annotations

import hashlib
import os
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

GEN_FIELD = "total_trades"
MODES = ("save", "transaction")


# --- the writer (runs in the forked child) -------------------------------------------

def _out(line: str) -> None:
    os.write(1, (line + "\n").encode())


def writer_loop(path: str, mode: str) -> None:
    """Save forever; ack each save after it returns. Never returns normally."""
    from statetui.core.errors import StatetuiError
    from statetui.core.money import to_money
    from statetui.core.store import StateStore

    pid = os.getpid()
    try:
        store = StateStore(path, writer="crashloop")
        if mode == "transaction":
            while True:
                with store.transaction(reason="crashloop txn") as state:
                    gen = getattr(state, GEN_FIELD) + 1
                    setattr(state, GEN_FIELD, gen)
                    state.current_balance = float(to_money(state.current_balance) + Decimal("0.01"))
                # transaction() does not return the SaveResult: the journal's newest entry is ours.
                last = store.journal.last() or {}
                _out(f"ack {pid} {gen} {last.get('sha256')} -")
        state = store.load()
        while True:
            gen = getattr(state, GEN_FIELD) + 1
            setattr(state, GEN_FIELD, gen)
            state.current_balance = float(to_money(state.current_balance) + Decimal("0.01"))
            res = store.save(state, reason=f"crashloop gen {gen}")
            _out(f"ack {pid} {gen} {res.sha256} {','.join(res.removed_temp_files) or '-'}")
    except StatetuiError as exc:
        _out(f"error {pid} {type(exc).__name__}: {exc}")
        os._exit(3)
    except BaseException as exc:  # a raw exception is a finding: report it, never hide it
        _out(f"error {pid} RAW {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        os._exit(4)


def _warm_up(name: str) -> None:
    """One full load/save/backup-scan cycle on a scratch copy, so lazy imports and regex
    compilation happen once here and not in every forked writer."""
    import tempfile

    from statetui.core.store import StateStore

    with tempfile.TemporaryDirectory(prefix="crashloop-warm-") as tmp:
        store = StateStore(Path(tmp) / name)
        store.init({GEN_FIELD: 0, "current_balance": 1.0})
        state = store.load()
        setattr(state, GEN_FIELD, 1)
        store.save(state, reason="warm up")
        store.backups.list(verify=True)


def serve(path: str) -> None:
    """The fork server: import once, fork a writer per `fork` command."""
    _warm_up(Path(path).name)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    writer_loop(path, arg or "save")
                finally:
                    os._exit(5)
            _out(f"pid {pid}")
        elif cmd == "reap":
            child = int(arg)
            _, status = os.waitpid(child, 0)
            _out(f"reaped {child} {status}")
        elif cmd == "quit":
            break


# --- the test side -------------------------------------------------------------------

@dataclass
class Ack:
    pid: int
    generation: int
    sha256: str
    removed: list[str]


@dataclass
class Round:
    pid: int
    acks: list[Ack]
    status: int
    errors: list[str]


class ForkServer:
    def __init__(self, state_path: str | os.PathLike[str], timeout: float = 30.0):
        self.timeout = timeout
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "statetui.testing.crashloop", "serve", str(state_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._acks: dict[int, list[Ack]] = {}
        self._errors: dict[int, list[str]] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._lines.put(raw.decode(errors="replace").rstrip("\n"))
        self._lines.put(None)

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())

    def _until(self, prefix: str) -> list[str]:
        while True:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                raise RuntimeError(f"fork server silent for {self.timeout}s waiting for {prefix!r}") from None
            if line is None:
                raise RuntimeError(f"fork server exited (code {self.proc.poll()}) waiting for {prefix!r}")
            parts = line.split(" ")
            if parts[0] == "ack":
                removed = [] if parts[4] == "-" else parts[4].split(",")
                self._acks.setdefault(int(parts[1]), []).append(Ack(int(parts[1]), int(parts[2]), parts[3], removed))
            elif parts[0] == "error":
                self._errors.setdefault(int(parts[1]), []).append(line.split(" ", 2)[2])
            if line.startswith(prefix):
                return parts

    def fork(self, mode: str = "save") -> int:
        self._send(f"fork {mode}")
        return int(self._until("pid ")[1])

    def reap(self, pid: int) -> Round:
        """Wait for a killed (or failed) writer; every ack it wrote is in the pipe before this returns."""
        self._send(f"reap {pid}")
        while True:
            parts = self._until("reaped ")
            if int(parts[1]) == pid:
                return Round(pid, self._acks.pop(pid, []), int(parts[2]), self._errors.pop(pid, []))

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._send("quit")
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


@dataclass
class CrashTally:
    kills: int = 0
    last_acked: int = 0  # the file held the last acknowledged generation
    in_flight: int = 0  # the file held the generation being saved when the kill landed
    journal_ahead_of_file: int = 0  # the kill landed between the journal append and the replace
    strays_after_kill: int = 0  # kills that left a temp file behind (reported, then removed)
    strays_removed: int = 0
    kills_before_first_ack: int = 0
    acks: int = 0
    by_mode: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class CrashChecker:
    """The invariants after each kill. Raises AssertionError with the details of a violation."""

    def __init__(self, state_path: Path, generation: int, sha256: str, previous_sha256: str | None = None):
        """`generation`/`sha256`: what the file holds before the first writer starts."""
        from statetui.core.store import StateStore

        self.path = Path(state_path)
        self.store = StateStore(self.path)  # reads only: load, journal, stray listing
        self.disk_gen = generation  # what the file held at the last check
        self.max_acked = generation  # newest acknowledged (hence journaled) generation
        self.shas: dict[int, str] = {generation: sha256}  # every generation seen (acked or on disk)
        if previous_sha256:
            self.shas[generation - 1] = previous_sha256
        self.pending_strays: set[str] = set()
        self.tally = CrashTally()

    def _expected_names(self) -> set[str]:
        return {self.path.name, self.store.lock_path.name, self.store.journal.path.name, self.store.backups.dir.name}

    def after_kill(self, rnd: Round, mode: str = "save") -> str:
        """Check one killed writer's round; returns "last-acked" or "in-flight"."""
        from statetui.core.errors import StatetuiError

        t = self.tally
        t.kills += 1
        n = t.kills
        t.by_mode[mode] = t.by_mode.get(mode, 0) + 1
        assert not rnd.errors, f"writer {rnd.pid} failed before the kill: {rnd.errors}"
        assert os.WIFSIGNALED(rnd.status) and os.WTERMSIG(rnd.status) == 9, \
            f"writer {rnd.pid} ended with wait status {rnd.status}, not by SIGKILL"

        # The writer loaded what the file held, then acked consecutive generations.
        acked = self.disk_gen
        if rnd.acks:
            assert rnd.acks[0].generation == self.disk_gen + 1, \
                f"writer's first save was generation {rnd.acks[0].generation}; the file held {self.disk_gen}"
            for a, b in zip(rnd.acks, rnd.acks[1:]):
                assert b.generation == a.generation + 1, f"acks not consecutive: {a.generation} then {b.generation}"
            for a in rnd.acks:
                self.shas[a.generation] = a.sha256
            acked = rnd.acks[-1].generation
            self.max_acked = acked
            # Strays from before this writer: its first acknowledged save removed them all.
            on_disk = self.pending_strays & set(os.listdir(self.path.parent))
            assert not on_disk, f"stray temp files survived an acknowledged save: {sorted(on_disk)}"
            if mode == "save":  # save() says what it removed
                missed = self.pending_strays - set(rnd.acks[0].removed)
                assert not missed, f"first save after a kill did not report removing {sorted(missed)}"
            t.strays_removed += len(self.pending_strays)
            self.pending_strays = set()
        else:
            t.kills_before_first_ack += 1
        t.acks += len(rnd.acks)

        # 1. The file loads, and holds the last acknowledged generation or the one in flight.
        try:
            state = self.store.load()
        except StatetuiError as exc:
            raise AssertionError(f"after kill {n}: state file does not load: {exc}") from None
        sha = hashlib.sha256(self.path.read_bytes()).hexdigest()
        gen = getattr(state, GEN_FIELD)
        assert gen in (acked, acked + 1), f"after kill {n}: file holds generation {gen}; last acknowledged {acked}"
        if gen == acked:
            assert sha == self.shas[acked], f"after kill {n}: file has generation {gen} but not the bytes seen for it"
        else:
            self.shas[gen] = sha
        # "in-flight": a write that was never acknowledged (this writer's, or one an earlier
        # kill left that no writer has saved over since).
        outcome = "last-acked" if gen == self.max_acked else "in-flight"
        if outcome == "last-acked":
            t.last_acked += 1
        else:
            t.in_flight += 1
        self.disk_gen = gen

        # 2. Every leftover temp file is one stray_temp_files() reports.
        reported = set(self.store.stray_temp_files())
        extra = set(os.listdir(self.path.parent)) - self._expected_names()
        assert extra == reported, f"after kill {n}: files nobody reports: {sorted(extra - reported)}"
        if reported:
            t.strays_after_kill += 1
        # (One that vanished without an ack was removed by a save killed before its ack.)
        self.pending_strays = reported

        # 3. Write-ahead journal: the file's write is always journaled; the newest entry is that
        # write, or the one in flight when the kill landed (it meant to replace this file).
        from statetui.core.journal import writer_of

        tail = self.store.journal.tail(64)
        assert tail, "journal lost every entry"
        writer = writer_of(tail, sha)
        assert writer is not None, \
            f"after kill {n}: the file's write ({sha[:12]}) is not journaled, or entries after it did land"
        if tail[-1] is not writer:
            t.journal_ahead_of_file += 1
        assert self.store.status().written_by_store is True, f"after kill {n}: the store's own write looks external"
        return outcome


def journal_chain_problems(store) -> list[str]:
    """Generations 1..N with no gap (aborted markers repeat their write's generation); each
    landed entry's prev_sha256 is the landed entry before it (unless the file had been
    written outside the store, which the entry itself flags as replaced_outside_write)."""
    from statetui.core.journal import landed

    scan = store.journal.scan()
    problems = [f"{scan.bad_lines} unreadable journal line(s)"] if scan.bad_lines else []
    gens = [e["generation"] for e in scan.entries if not e.get("aborted")]
    if gens != list(range(1, len(gens) + 1)):
        bad = next(i for i, g in enumerate(gens) if g != i + 1)
        problems.append(f"generations not 1..{len(gens)}: entry {bad} has generation {gens[bad]}")
    done = landed(scan.entries, hashlib.sha256(store.path.read_bytes()).hexdigest() if store.path.exists() else None)
    for a, b in zip(done, done[1:]):
        if b.get("prev_sha256") != a["sha256"] and not b.get("replaced_outside_write"):
            problems.append(f"generation {b['generation']}: prev_sha256 is not generation {a['generation']}'s sha")
    return problems


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit("usage: python -m statetui.testing.crashloop serve STATE_PATH")
