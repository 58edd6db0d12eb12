"""The chain history cache (issue 14's) is a file statetui reads and writes too: a FIFO, a
symlink or a giant at its path is read past (the history comes from the chain) and never
written through, and nothing blocks."""

from __future__ import annotations

import os

import pytest

from statetui.core.chainhist.cache import StreamCache
from tests.hostile.harness import _alarm

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TOKEN = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"


@pytest.mark.parametrize("kind", ["fifo", "symlink", "giant"])
def test_a_hostile_cache_file_is_read_past_and_never_written_through(tmp_path, kind):
    cache = StreamCache(tmp_path / "cache", 137, WALLET, "cash", TOKEN)
    cache.path.parent.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    if kind == "fifo":
        os.mkfifo(cache.path)
    elif kind == "symlink":
        os.symlink(victim, cache.path)
    else:
        with open(cache.path, "wb") as f:
            f.truncate(600 * 1024 * 1024)  # sparse, over the cache's cap
    with _alarm(20):
        state = cache.load()
        cache.append(1, 5, [["x"]])
    assert state.problem and not state.records
    assert victim.read_text() == "keep"
    if kind == "giant":
        assert os.path.getsize(cache.path) == 600 * 1024 * 1024  # not appended to either
