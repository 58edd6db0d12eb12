"""The persistence-code check on real fixture bots: statuses, findings and their file:line.

Expected lines come from `# audit: TAG` markers in the fixtures (comments are invisible
to the AST, so the markers cannot help the analyzer)."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from statetui.audit.base import REGISTRY, AuditContext, CheckResult, Status, run_check
from statetui.audit.checks import persistence_code
from statetui.audit.persistence_ast import analyze_sources, collect_sources
from statetui.core.config import Config

BOTS = Path(__file__).parent / "fixtures" / "bots"
NAMES = ["trading_state.json"]


def line_of(path: Path, tag: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(f"# audit: {tag}"):
            return n
    raise AssertionError(f"no '# audit: {tag}' marker in {path}")


def run(source: Path | None, **config) -> CheckResult:
    return run_check(REGISTRY["persistence-code"], AuditContext(config=Config(bot_source=source, **config)))


def found(result: CheckResult, severity: str) -> list[tuple[str | None, int | None, str]]:
    return [(Path(f.file).name if f.file else None, f.line, f.message)
            for f in result.findings if f.severity == severity]


def only(items: list, pred) -> tuple:
    hits = [x for x in items if pred(x)]
    assert len(hits) == 1, hits
    return hits[0]


def test_registered_with_its_title():
    check = REGISTRY["persistence-code"]
    assert check.title == "Code Review - State Persistence"
    assert check.fn is persistence_code.check


def test_naive_bot_fails_on_the_in_place_write():
    src = BOTS / "naive.py"
    r = run(src)
    assert r.status is Status.FAIL
    fails = found(r, "FAIL")
    assert [(f, line) for f, line, _ in fails] == [("naive.py", line_of(src, "in-place"))]
    assert "save_state writes state in place" in fails[0][2]
    assert "a crash mid-write leaves partial JSON" in fails[0][2]
    warns = found(r, "WARNING")
    load = only(warns, lambda w: "JSONDecodeError" in w[2])
    assert load[:2] == ("naive.py", line_of(src, "unguarded-load"))
    assert "crashes the bot on startup" in load[2]
    only(warns, lambda w: w[2] == "No file locking: multiple processes could corrupt state")
    assert len(warns) == 2
    assert persistence_code.REC_STORE in r.recommendations
    assert persistence_code.REC_LOAD in r.recommendations
    assert r.repairs == []
    assert r.summary.startswith("save_state writes state in place")


def test_replace_without_fsync_warns_with_the_rename_line():
    src = BOTS / "replace_no_fsync.py"
    r = run(src)
    assert r.status is Status.WARNING
    assert found(r, "FAIL") == []
    line = line_of(src, "replace-no-fsync")
    warns = found(r, "WARNING")
    fsync = only(warns, lambda w: "without an fsync" in w[2])
    assert fsync[:2] == ("replace_no_fsync.py", line) and fsync[2].startswith("StateManager.save")
    dirsync = only(warns, lambda w: "fsync the directory" in w[2])
    assert dirsync[:2] == ("replace_no_fsync.py", line) and "lesser" in dirsync[2]
    only(warns, lambda w: w[2].startswith("No file locking"))
    assert len(warns) == 3
    oks = found(r, "OK")
    atomic = only(oks, lambda o: o[2].startswith("atomic write in StateManager.save"))
    assert atomic[1] == line and atomic[2].endswith("temp + os.replace")
    guarded = only(oks, lambda o: "JSONDecodeError" in o[2])
    assert guarded[1] == line_of(src, "guarded-load")
    assert r.repairs == []


def test_durable_bot_passes_and_names_every_good_thing():
    src = BOTS / "durable.py"
    r = run(src)
    assert r.status is Status.PASS, r.findings
    assert found(r, "WARNING") == [] and found(r, "FAIL") == []
    oks = found(r, "OK")
    replace = line_of(src, "durable-replace")
    assert ("durable.py", replace,
            f"atomic write in _write_state (durable.py:{replace}): temp + fsync + os.replace + dir fsync") in oks
    lock = only(oks, lambda o: "file lock" in o[2])
    assert lock[1] == line_of(src, "with-lock") and "_write_state" in lock[2]
    assert only(oks, lambda o: "JSONDecodeError" in o[2])[1] == line_of(src, "guarded-load")
    assert r.recommendations == []

    a = analyze_sources([src], NAMES)
    (w,) = a.writers
    assert (w.kind, w.line, w.function) == ("atomic", replace, "_write_state")
    assert w.fsync_line == line_of(src, "file-fsync")
    assert w.dir_fsync_line == line_of(src, "dir-fsync-call")
    assert w.lock is not None and not w.lock.on_state
    assert [o.line for o in a.lock_objects] == [line_of(src, "lock-object")]


def test_flock_does_not_make_an_in_place_rewrite_atomic():
    src = BOTS / "flock_in_place.py"
    r = run(src)
    assert r.status is Status.FAIL
    fails = found(r, "FAIL")
    assert [(f, line) for f, line, _ in fails] == [
        ("flock_in_place.py", line_of(src, "create-in-place")),
        ("flock_in_place.py", line_of(src, "rplus")),
    ]
    assert 'open(..., "r+")' in fails[1][2] and "update_state" in fails[1][2]
    flock = line_of(src, "flock")
    lock_ok = only(found(r, "OK"), lambda o: "file lock" in o[2])
    assert lock_ok[1] == flock and "update_state" in lock_ok[2]
    info = only(found(r, "INFO"), lambda i: "does not make the in-place" in i[2])
    assert info[1] == flock
    # the creating function runs outside the lock
    unlocked = only(found(r, "WARNING"), lambda w: "without holding a file lock" in w[2])
    assert unlocked[1] == line_of(src, "create-in-place")
    # no replace happens, so the lock on the state file itself is not an inode problem here
    assert not any("inode" in w[2] for w in found(r, "WARNING"))
    assert only(found(r, "OK"), lambda o: "JSONDecodeError" in o[2])[1] == line_of(src, "guarded-load")


def test_bot_using_statetui_store_passes():
    src = BOTS / "uses_store.py"
    r = run(src)
    assert r.status is Status.PASS, r.findings
    (ok,) = found(r, "OK")
    assert ok[1] == line_of(src, "store-transaction")
    assert ok[2].startswith("writes go through statetui.store: atomic, durable, locked, journaled")
    a = analyze_sources([src], NAMES)
    assert a.writers == []
    writes = [(s.api, s.line) for s in a.store_uses if s.writes]
    assert writes == [("StateStore.transaction", line_of(src, "store-transaction")),
                      ("StateStore.save", line_of(src, "store-save"))]


def test_raw_writer_beside_the_store_is_still_flagged(tmp_path):
    shutil.copy(BOTS / "uses_store.py", tmp_path / "bot.py")
    export = tmp_path / "export.py"
    export.write_text(textwrap.dedent('''\
        """Nightly export that also "fixes" the state file by hand."""
        import json

        def reset_peak(state_file="state/trading_state.json"):
            with open(state_file) as f:
                state = json.load(f)
            state["peak_balance"] = state["current_balance"]
            with open(state_file, "w") as f:
                json.dump(state, f)
        '''))
    r = run(tmp_path)
    assert r.status is Status.FAIL
    assert any(o[2].startswith("writes go through statetui.store") for o in found(r, "OK"))
    assert [(f, line) for f, line, _ in found(r, "FAIL")] == [("export.py", 8)]
    assert any(w[:2] == ("export.py", 6) and "JSONDecodeError" in w[2] for w in found(r, "WARNING"))


def test_pathlib_writer_and_a_lock_lost_to_the_new_inode():
    src = BOTS / "pathlib_style.py"
    r = run(src)
    assert r.status is Status.WARNING
    replace = line_of(src, "path-replace")
    warns = found(r, "WARNING")
    assert only(warns, lambda w: "without an fsync" in w[2])[1] == replace
    assert only(warns, lambda w: "fsync the directory after Path.replace" in w[2])[1] == replace
    inode = only(warns, lambda w: "inode" in w[2])
    assert inode[1] == line_of(src, "flock-on-state")
    assert "lock on the state file itself" in inode[2]
    assert len(warns) == 3
    assert persistence_code.REC_LOCK_FILE in r.recommendations
    (w,) = analyze_sources([src], NAMES).writers
    assert (w.api, w.temp_line) == ("Path.replace", line_of(src, "temp-write"))
    assert w.lock is not None and w.lock.on_state


def test_writer_split_across_package_modules():
    pkg = BOTS / "pkg"
    r = run(pkg)
    assert r.status is Status.WARNING
    (warn,) = [f for f in r.findings if f.severity == "WARNING"]
    assert Path(warn.file) == pkg / "fsutil.py"
    assert warn.line == line_of(pkg / "fsutil.py", "pkg-replace")
    assert warn.message.startswith("atomic_write_json does not fsync the directory")
    files, _ = collect_sources(pkg)
    a = analyze_sources(files, NAMES, root=pkg)
    (w,) = a.writers
    assert w.lock is not None  # the only caller holds the lock taken in another module
    assert (Path(w.lock.file).name, w.lock.line) == ("state.py", line_of(pkg / "state.py", "pkg-lock"))
    (load,) = a.loads
    assert load.line == line_of(pkg / "state.py", "pkg-load")
    assert load.guarded and load.by_callers  # bot.main() catches JSONDecodeError around the call


def test_syntax_error_is_reported_and_the_other_files_still_analyzed():
    src = BOTS / "broken"
    r = run(src)
    assert r.status is Status.WARNING
    (warn,) = [f for f in r.findings if f.severity == "WARNING"]
    assert Path(warn.file).name == "half_edited.py"
    assert warn.line == line_of(src / "half_edited.py", "syntax-error")
    assert "syntax error" in warn.message
    assert any(o[2].startswith("writes go through statetui.store") for o in found(r, "OK"))


def test_not_configured_is_skipped():
    r = run(None)
    assert r.status is Status.SKIPPED
    assert r.summary == "bot source not configured (--bot-source / STATETUI_BOT_SOURCE)"
    assert r.findings == []


def test_missing_source_fails_with_one_line(tmp_path):
    missing = tmp_path / "no_such_bot.py"
    r = run(missing)
    assert r.status is Status.FAIL
    (f,) = r.findings
    assert f.message == f"bot source not found: {missing}" and "\n" not in f.message


def test_empty_folder_warns_that_no_writer_was_found(tmp_path):
    r = run(tmp_path)
    assert r.status is Status.WARNING
    (f,) = r.findings
    assert f.message == f"no state writer found in {tmp_path} (is bot_source right?)"


def test_garbage_never_raises(tmp_path):
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "latin1.py").write_bytes(b"x = '\xff\xfe'\n")
    (tmp_path / "deep.py").write_text("x = " + "a + " * 50_000 + "a\n")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block forever
    (tmp_path / "ok.py").write_text("import json\nprint(json.dumps({}))\n")
    r = run(tmp_path)
    assert r.status is Status.WARNING
    assert not any("the check itself failed" in f.message for f in r.findings)
    by_file = {Path(f.file).name: f.message for f in r.findings if f.file and f.severity == "WARNING"}
    assert "null bytes" in by_file["blob.py"] or "not Python" in by_file["blob.py"]
    assert "syntax error" in by_file["latin1.py"]
    assert "too deeply nested" in by_file["deep.py"]
    assert "cannot read" in by_file["dangling.py"]
    assert "not a regular file" in by_file["pipe.py"]
    assert any(f.message.startswith("no state writer found") for f in r.findings)


def test_a_single_binary_file(tmp_path):
    blob = tmp_path / "bot.py"
    blob.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(500))
    r = run(blob)
    assert r.status is Status.WARNING
    assert [f.file for f in r.findings if f.severity == "WARNING"][0] == str(blob)


def test_strings_in_comments_and_docstrings_are_not_code(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text(textwrap.dedent('''\
        """Old notes: open("state/trading_state.json", "w") then os.replace(tmp, STATE_FILE)."""
        # with open(STATE_FILE, "w") as f: json.dump(state, f)
        MESSAGE = "we never call os.replace here"
        '''))
    r = run(bot)
    assert found(r, "FAIL") == []
    assert [w[2] for w in found(r, "WARNING")] == [f"no state writer found in {bot} (is bot_source right?)"]


def test_state_name_comes_from_the_configured_state_path(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text('import json\n\ndef save(s):\n    with open("data/bot_state.json", "w") as f:\n        json.dump(s, f)\n')
    assert run(bot).status is Status.WARNING  # not the default name: nothing found
    r = run(bot, state=Path("/srv/data/bot_state.json"))
    assert r.status is Status.FAIL
    assert [(f, line) for f, line, _ in found(r, "FAIL")] == [("bot.py", 4)]


SNIPPETS = [
    # (source, expected writers as (kind, api, line, fsync?, dir fsync?))
    ('import os, json, tempfile\nSTATE_FILE = "trading_state.json"\n'
     'def save(s):\n'
     '    with tempfile.NamedTemporaryFile("w", dir=".", delete=False) as tmp:\n'
     '        json.dump(s, tmp)\n'
     '        tmp.flush()\n'
     '        os.fsync(tmp.fileno())\n'
     '    os.rename(tmp.name, STATE_FILE)\n',
     [("atomic", "os.rename", 8, True, False)]),
    ('import shutil\ndef restore(src):\n    shutil.copy(src, "state/trading_state.json")\n',
     [("in-place", "shutil.copy", 3, False, False)]),
    ('import os\nfrom pathlib import Path\nclass Bot:\n    def __init__(self):\n'
     '        self.state_path = Path("state") / "trading_state.json"\n'
     '    def save(self, data):\n'
     '        fd = os.open(self.state_path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT)\n'
     '        os.write(fd, data)\n',
     [("in-place", "os.open(..., O_WRONLY)", 7, False, False)]),
    ('from pathlib import Path\nimport os\nBASE = Path("/srv/bot")\n'
     'def save(text):\n'
     '    target = BASE / "trading_state.json"\n'
     '    tmp = target.with_name(target.name + ".new")\n'
     '    with tmp.open("w") as f:\n'
     '        f.write(text)\n'
     '        os.fsync(f.fileno())\n'
     '    os.replace(tmp, target)\n'
     '    d = os.open(str(target.parent), os.O_RDONLY)\n'
     '    os.fsync(d)\n',
     [("atomic", "os.replace", 10, True, True)]),
    ('import json\nSTATE = "trading_state.json"\n'
     'def save(s):\n    tmp = f"{STATE}.tmp"\n'
     '    open(tmp, "w").write(json.dumps(s))\n'
     '    import os\n    os.fsync(0)\n',  # a temp written but never renamed: not a state writer
     []),
]


@pytest.mark.parametrize("source,expected", SNIPPETS)
def test_write_patterns(tmp_path, source, expected):
    bot = tmp_path / "bot.py"
    bot.write_text(source)
    got = [(w.kind, w.api, w.line, w.fsync_line is not None, w.dir_fsync_line is not None)
           for w in analyze_sources([bot], NAMES).writers]
    assert got == expected


def test_locks_loads_and_guards(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text(textwrap.dedent('''\
        import contextlib, fcntl, json, os, threading
        import portalocker
        from pathlib import Path

        STATE_PATH = Path("trading_state.json")
        mutex = threading.Lock()

        def load_bare():
            try:
                return json.loads(STATE_PATH.read_text())
            except:
                return {}

        def load_suppressed():
            with contextlib.suppress(ValueError):
                return json.loads(STATE_PATH.read_bytes())

        def load_oserror_only():
            try:
                with STATE_PATH.open() as f:
                    return json.load(f)
            except OSError:
                return {}

        def save_threading(s):
            with mutex:
                os.replace(write_tmp(s), STATE_PATH)

        def save_portalocker(s):
            with portalocker.Lock("bot.lock", "a"):
                os.replace(write_tmp(s), STATE_PATH)

        def save_lockf(s):
            with open("bot.lock", "w") as lf:
                fcntl.lockf(lf, fcntl.LOCK_EX)
                os.replace(write_tmp(s), STATE_PATH)

        def write_tmp(s):
            tmp = STATE_PATH.with_suffix(".tmp")
            tmp.write_text(json.dumps(s))
            return tmp
        '''))
    a = analyze_sources([bot], NAMES)
    assert [(x.line, x.guarded) for x in a.loads] == [(10, True), (16, True), (21, False)]
    locked = {w.function: (w.lock.api if w.lock else None) for w in a.writers}
    assert locked == {
        "save_threading": None,  # a thread lock is not a file lock
        "save_portalocker": "with portalocker.Lock('bot.lock', 'a')",
        "save_lockf": "fcntl.lockf",
    }
    assert all(w.temp_line is not None for w in a.writers)  # the temp write in write_tmp counts


def _generated_bot(n: int) -> tuple[str, list[int], list[int]]:
    """A big bot: n blocks, each with a helper class, an in-place writer and a durable writer."""
    lines = ["import json, os, tempfile", "from filelock import FileLock", "",
             'STATE_FILE = "state/trading_state.json"', 'LOCK = FileLock(STATE_FILE + ".lock")', ""]
    inplace, atomic = [], []
    for i in range(n):
        lines += [
            f"class Strategy{i}:",
            f"    name = 'strategy-{i}'",
            "    def __init__(self, weight):",
            "        self.weight = weight",
            "        self.history = []",
            "    def score(self, prices):",
            "        total = 0.0",
            "        for p in prices:",
            "            total += p * self.weight",
            "        self.history.append(total)",
            "        return total / max(len(prices), 1)",
            "",
            f"def legacy_save_{i}(state):",
        ]
        lines.append("    with open(STATE_FILE, 'w') as f:")
        inplace.append(len(lines))
        lines += [
            "        json.dump(state, f)",
            "",
            f"def save_{i}(state):",
            "    with LOCK:",
            "        fd, tmp = tempfile.mkstemp(dir='state')",
            "        with os.fdopen(fd, 'w') as f:",
            "            json.dump(state, f)",
            "            f.flush()",
            "            os.fsync(f.fileno())",
            "        os.replace(tmp, STATE_FILE)",
        ]
        atomic.append(len(lines))
        lines += [
            "        d = os.open('state', os.O_RDONLY)",
            "        os.fsync(d)",
            "        os.close(d)",
            "",
            f"def load_{i}():",
            "    try:",
            "        with open(STATE_FILE) as f:",
            "            return json.load(f)",
            "    except json.JSONDecodeError:",
            "        return {}",
            "",
        ]
    return "\n".join(lines) + "\n", inplace, atomic


def test_three_thousand_line_source(tmp_path):
    n = 90
    text, inplace, atomic = _generated_bot(n)
    bot = tmp_path / "big_bot.py"
    bot.write_text(text)
    assert text.count("\n") >= 3000
    a = analyze_sources([bot], NAMES)
    assert a.lines == text.count("\n")
    assert [w.line for w in a.writers if w.kind == "in-place"] == inplace
    durable = [w for w in a.writers if w.kind == "atomic"]
    assert [w.line for w in durable] == atomic
    assert all(w.fsync_line and w.dir_fsync_line and w.lock for w in durable)
    assert len(a.loads) == n and all(x.guarded for x in a.loads)
    r = run(bot)
    assert r.status is Status.FAIL
    assert len(found(r, "FAIL")) == n
