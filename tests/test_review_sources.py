"""Reading the bot fast: the cache by path, size and mtime (the console audits again and
again), parsing in parallel (forked children in a single-threaded process, a forkserver
pool beside threads) with the same answer as in one process, and which files are read."""

from __future__ import annotations

import os
import threading
from dataclasses import asdict

import pytest

from statetui.audit.review import clear_cache, review, sources
from tests.review_bots import STATE, write_bot

BOT = {
    "bot/__init__.py": "",
    "bot/config.py": 'import os\nSTATE = os.getenv("BOT_STATE", "data/bot_state.json")\n',
    "bot/store.py": '''
        import json, os
        from .config import STATE
        def save(s):
            tmp = STATE + ".tmp"
            json.dump(s, open(tmp, "w"))
            os.replace(tmp, STATE)
        def load():
            try:
                return json.load(open(STATE))
            except ValueError:
                return {}
        ''',
    "bot/main.py": "from .store import load, save\nif __name__ == '__main__':\n    save(load())\n",
    "tests/test_store.py": "from bot.store import save\ndef test_save():\n    save({})\n",
    "run.sh": "python -m bot.main\n",
}


def plain(r):
    return asdict(r)


@pytest.fixture
def bot(tmp_path):
    clear_cache()
    write_bot(tmp_path, BOT)
    for i in range(12):  # enough files to split between workers
        (tmp_path / "bot" / f"strategy_{i}.py").write_text(f"def score_{i}(x):\n    return x * {i}\n" * 30)
    yield tmp_path
    clear_cache()


def test_parallel_parsing_gives_the_same_review(bot, monkeypatch):
    state = bot / STATE
    serial = plain(review(bot, state))
    clear_cache()
    monkeypatch.setattr(sources, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sources, "_cpus", lambda: 2)
    monkeypatch.setattr(sources, "_fork_safe", lambda: True)  # another test may have left an idle thread
    monkeypatch.setattr(sources, "_idle_core", lambda: True)  # the CI machine may be busy
    calls = []
    real = sources._fork_map
    monkeypatch.setattr(sources, "_fork_map", lambda chunks: calls.append(len(chunks)) or real(chunks))
    forked = plain(review(bot, state))
    assert calls and calls[0] >= 2
    assert forked == serial


def test_a_threaded_caller_uses_a_pool_and_gets_the_same_review(bot, monkeypatch):
    state = bot / STATE
    serial = plain(review(bot, state))
    clear_cache()
    monkeypatch.setattr(sources, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(sources, "_cpus", lambda: 2)
    monkeypatch.setattr(sources, "_idle_core", lambda: True)
    used = []
    real = sources._pool_map
    monkeypatch.setattr(sources, "_pool_map", lambda chunks: used.append(len(chunks)) or real(chunks))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)  # a console has threads: forking it is unsafe
    t.start()
    try:
        pooled = plain(review(bot, state))
    finally:
        stop.set()
        t.join()
    assert used and pooled == serial


def test_unchanged_files_come_from_the_cache(bot):
    state = bot / STATE
    first = review(bot, state)
    assert review(bot, state) is first  # nothing changed: the same review
    store = str(bot / "bot" / "store.py")
    config = str(bot / "bot" / "config.py")
    before = {p: sources._cache[p][2] for p in (store, config)}
    text = (bot / "bot" / "store.py").read_text().replace("except ValueError:", "except OSError:")
    (bot / "bot" / "store.py").write_text(text)
    st = os.stat(store)
    os.utime(store, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = review(bot, state)
    assert second is not first
    assert sources._cache[config][2] is before[config]  # not parsed again
    assert sources._cache[store][2] is not before[store]
    assert [x.on_corrupt for x in first.loaders] == ["reset"]
    assert [x.on_corrupt for x in second.loaders] == ["crash"]  # the edit is seen


def test_test_code_scripts_and_hidden_folders(bot):
    (bot / ".venv" / "lib").mkdir(parents=True)
    (bot / ".venv" / "lib" / "x.py").write_text('open("data/bot_state.json", "w")\n')
    (bot / "node_modules").mkdir()
    (bot / "node_modules" / "y.py").write_text('open("data/bot_state.json", "w")\n')
    col = sources.collect(str(bot), include_tests=False)
    rels = sorted(os.path.relpath(p, bot) for p in col.py)
    assert "tests/test_store.py" not in rels and not any(r.startswith((".venv", "node_modules")) for r in rels)
    assert col.tests_skipped == 1
    assert [(os.path.relpath(p, bot), k) for p, k in col.text] == [("run.sh", "sh")]
    with_tests = sources.collect(str(bot), include_tests=True)
    assert "tests/test_store.py" in [os.path.relpath(p, bot) for p in with_tests.py]
    r = review(bot, bot / STATE, include_tests=True)
    assert {w.function for w in r.writers} == {"save"}  # the test calls save(); it does not write itself
    assert r.writer_programs == ["bot/main.py"] and r.writer_launches == ["run.sh:1"]


def test_is_test():
    assert sources.is_test("tests/unit/helpers.py") and sources.is_test("pkg/test_x.py")
    assert sources.is_test("pkg/x_test.py") and sources.is_test("conftest.py")
    assert not sources.is_test("pkg/testing_tools.py") and not sources.is_test("latest.py")
