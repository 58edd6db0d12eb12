"""A power-loss crash-state enumerator over a recording of real file operations
(statetui.testing.faults.RecordingOps), and the helpers that compare folders.

`CrashModel` replays a recording over the folder it started from and enumerates what a
power loss at that point could leave on disk, with the usual model (ALICE, CrashMonkey,
LevelDB's fault-injection env):

- bytes written but not fsync'd may be kept, dropped, torn (a prefix kept) or zeroed;
- a create, rename, link, unlink or mkdir not followed by an fsync of its directory may
  be reverted (any prefix of a directory's unsynced operations persists, or all but one).

Nothing here is a mock: the recorded operations ran on a real file system; the model
only decides which of their effects a power loss may take back."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from statetui.testing.faults import Op


class _Node:
    __slots__ = ("is_dir", "data", "synced", "entries", "durable", "pending")

    def __init__(self, is_dir: bool, data: bytes = b""):
        self.is_dir = is_dir
        self.data = bytearray(data)  # files: what a read sees now
        self.synced = bytes(data)  # files: what is on the platter
        self.entries: dict[str, int] = {}  # directories: now
        self.durable: dict[str, int] = {}  # directories: on the platter
        self.pending: list[list[tuple]] = []  # directories: unsynced operations, each a list of edits


class ModelError(AssertionError):
    """The recording does not explain the folder: an operation bypassed the seam."""


class CrashModel:
    """The folder as the recorded operations left it, with what is durable and what is not.
    Everything in the folder when the model is built counts as durable."""

    def __init__(self, root: Path, start: Path | None = None):
        self.root = Path(root)
        self.nodes: dict[int, _Node] = {0: _Node(True)}
        self.handles: dict[int, int] = {}
        self._load(Path(start) if start is not None else self.root, 0)

    def _new(self, node: _Node) -> int:
        ino = len(self.nodes)
        self.nodes[ino] = node
        return ino

    def _load(self, path: Path, ino: int) -> None:
        d = self.nodes[ino]
        for name in sorted(os.listdir(path)):
            p = path / name
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                child = self._new(_Node(True))
                self._load(p, child)
            elif stat.S_ISREG(st.st_mode):
                child = self._new(_Node(False, p.read_bytes()))
            else:
                raise ModelError(f"{p}: not a regular file or directory; the model handles only those")
            d.entries[name] = d.durable[name] = child

    # --- paths -------------------------------------------------------------------------

    def _split(self, path: str) -> tuple[int, str]:
        rel = os.path.relpath(path, self.root)
        if rel.startswith(".."):
            raise ModelError(f"{path}: an operation outside the folder under test ({self.root})")
        parts = rel.split(os.sep)
        ino = 0
        for part in parts[:-1]:
            nxt = self.nodes[ino].entries.get(part)
            if nxt is None:
                raise ModelError(f"{path}: its folder {part!r} is not in the model (created outside the seam?)")
            ino = nxt
        return ino, parts[-1]

    def _lookup(self, path: str) -> int | None:
        if os.path.abspath(path) == str(self.root):
            return 0
        d, name = self._split(path)
        return self.nodes[d].entries.get(name)

    def _edit(self, d: int, edits: list[tuple]) -> None:
        node = self.nodes[d]
        node.pending.append(edits)
        _apply(node.entries, edits)

    # --- replay ------------------------------------------------------------------------

    def apply(self, op: Op) -> None:
        if op.error or op.kind == "mark":
            return  # a failed operation changed nothing (an injected one never ran)
        k = op.kind
        if k == "open":
            ino = self._lookup(op.path)
            if ino is None:
                if not op.created:
                    raise ModelError(f"{op.describe()}: the file is not in the model (created outside the seam?)")
                ino = self._new(_Node(False))
                d, name = self._split(op.path)
                self._edit(d, [("set", name, ino)])
            if op.flags & os.O_TRUNC:
                self.nodes[ino].data = bytearray()
            self.handles[op.handle] = ino
        elif k == "write":
            node = self.nodes[self.handles[op.handle]]
            if len(node.data) < op.offset:
                node.data.extend(b"\0" * (op.offset - len(node.data)))
            node.data[op.offset:op.offset + len(op.data)] = op.data
        elif k == "ftruncate":
            node = self.nodes[self.handles[op.handle]]
            del node.data[op.offset:]
            if len(node.data) < op.offset:
                node.data.extend(b"\0" * (op.offset - len(node.data)))
        elif k == "fsync":
            node = self.nodes[self.handles[op.handle]]
            if node.is_dir:
                node.durable, node.pending = dict(node.entries), []
            else:
                node.synced = bytes(node.data)
        elif k == "close":
            self.handles.pop(op.handle, None)
        elif k in ("replace", "rename"):
            sd, sname = self._split(op.path)
            dd, dname = self._split(op.path2)
            ino = self.nodes[sd].entries[sname]
            if sd == dd:
                self._edit(sd, [("del", sname), ("set", dname, ino)])
            else:
                self._edit(sd, [("del", sname)])
                self._edit(dd, [("set", dname, ino)])
        elif k == "link":
            ino = self._lookup(op.path)
            dd, dname = self._split(op.path2)
            self._edit(dd, [("set", dname, ino)])
        elif k == "unlink":
            d, name = self._split(op.path)
            self._edit(d, [("del", name)])
        elif k == "mkdir":
            d, name = self._split(op.path)
            self._edit(d, [("set", name, self._new(_Node(True)))])
        elif k == "fsync_dir":
            node = self.nodes[self._lookup(op.path)]
            node.durable, node.pending = dict(node.entries), []
        elif k == "external":
            node = self.nodes[self._lookup(op.path)]
            node.data, node.synced = bytearray(op.data), bytes(op.data)
        elif k in ("fchmod", "fchown", "lchown"):
            pass  # metadata: not modelled
        else:
            raise ModelError(f"unknown operation {k}")

    # --- trees -------------------------------------------------------------------------

    def current(self) -> dict[str, bytes | None]:
        """relative path -> bytes (None for a directory), as a read sees it now."""
        return self._tree({}, {})

    def _entries(self, ino: int, dir_choice: dict[int, list[list[tuple]]]) -> dict[str, int]:
        node = self.nodes[ino]
        if ino not in dir_choice:
            return node.entries
        entries = dict(node.durable)
        for edits in dir_choice[ino]:
            _apply(entries, edits)
        return entries

    def _tree(self, dir_choice: dict[int, list[list[tuple]]], file_choice: dict[int, bytes]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        stack: list[tuple[int, str]] = [(0, "")]
        while stack:
            ino, prefix = stack.pop()
            for name, child in self._entries(ino, dir_choice).items():
                rel = prefix + name
                cnode = self.nodes[child]
                if cnode.is_dir:
                    out[rel] = None
                    stack.append((child, rel + "/"))
                else:
                    out[rel] = file_choice.get(child, bytes(cnode.data))
        return out

    def _reachable_files(self, choice: dict[int, list[list[tuple]]]) -> list[int]:
        found = []
        stack = [0]
        while stack:
            for child in self._entries(stack.pop(), choice).values():
                if self.nodes[child].is_dir:
                    stack.append(child)
                else:
                    found.append(child)
        return found

    def crash_states(self, rng: random.Random, cap: int = 48) -> list[dict[str, bytes | None]]:
        """Trees a power loss now could leave. Always includes "every unsynced operation and
        byte lost" and "everything kept"; beyond `cap` combinations, a seeded sample of the rest."""
        dirty_dirs = [ino for ino, n in self.nodes.items() if n.is_dir and n.pending]
        per_dir = [[(ino, v) for v in _dir_variants(self.nodes[ino].pending)] for ino in dirty_dirs]
        combos = []
        for dcombo in itertools.product(*per_dir):
            choice = dict(dcombo)
            dirty = [i for i in self._reachable_files(choice) if self.nodes[i].data != self.nodes[i].synced]
            per_file = [[(i, v) for v in _file_variants(self.nodes[i])] for i in dict.fromkeys(dirty)]
            for fcombo in itertools.product(*per_file):
                combos.append((choice, dict(fcombo)))
        if len(combos) > cap:
            first, last = combos[0], combos[-1]  # all reverted and dropped; all kept
            rest = combos[1:-1]
            rng.shuffle(rest)
            combos = [first, last] + rest[: cap - 2]
        return [self._tree(choice, files) for choice, files in combos]


def _apply(entries: dict[str, int], edits: list[tuple]) -> None:
    for e in edits:
        if e[0] == "set":
            entries[e[1]] = e[2]
        else:
            entries.pop(e[1], None)


def _dir_variants(pending: list[list[tuple]]) -> list[list[list[tuple]]]:
    """Which of a directory's unsynced operations persist: every prefix, and all but one."""
    m = len(pending)
    return [pending[:j] for j in range(m + 1)] + [pending[:i] + pending[i + 1:] for i in range(m - 1)]


def _file_variants(node: _Node) -> list[bytes]:
    """Unsynced bytes dropped, kept, zeroed, or torn (half, all but the last byte, one byte)."""
    data, synced = bytes(node.data), node.synced
    if data.startswith(synced):
        tail = data[len(synced):]
        out = [synced, data, synced + b"\0" * len(tail)]
        if len(tail) > 1:
            out += [synced + tail[: len(tail) // 2], synced + tail[:-1]]
        if len(tail) > 8:
            out.append(synced + tail[:1])
    else:
        out = [synced, data, b"\0" * len(data)]
    return list(dict.fromkeys(out))


# --- trees on disk -----------------------------------------------------------------------

def snapshot_tree(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        prefix = "" if rel == "." else rel + "/"
        for d in dirnames:
            out[prefix + d] = None
        for f in filenames:
            out[prefix + f] = Path(dirpath, f).read_bytes()
    return out


def tree_key(tree: dict[str, bytes | None]) -> str:
    h = hashlib.sha256()
    for name in sorted(tree):
        data = tree[name]
        h.update(name.encode() + b"\0" + (b"D" if data is None else hashlib.sha256(data).digest()))
    return h.hexdigest()


def materialise(tree: dict[str, bytes | None], root: Path) -> None:
    """Write `tree` under `root` (emptied first)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in sorted((n for n, d in tree.items() if d is None), key=lambda n: n.count("/")):
        (root / name).mkdir()
    for name, data in tree.items():
        if data is not None:
            (root / name).write_bytes(data)


@dataclass
class CrashTally:
    sequences: int = 0
    operations: int = 0  # recorded file operations
    crash_points: int = 0  # prefixes of the recordings where a power loss was simulated
    crash_states: int = 0  # distinct trees
    checks: int = 0  # (tree, expectation) pairs checked
    violations: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
