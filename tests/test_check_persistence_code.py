"""The persistence-code check on fixture bots: statuses, findings, their file:line
(relative to the bot's source root) and wording.

Expected lines come from `# audit: TAG` markers in the fixtures (comments are invisible
to the AST, so the markers cannot help the review)."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

from statetui.audit.base import REGISTRY, Status
from statetui.audit.checks import persistence_code
from statetui.audit.review import report as R
from statetui.audit.review import review
from tests.conftest import run_cli
from tests.review_bots import found, line_of, only, run

BOTS = Path(__file__).parent / "fixtures" / "bots"
TRADING = Path("state/trading_state.json")


def test_registered_with_its_title():
    check = REGISTRY["persistence-code"]
    assert check.title == "Code Review - State Persistence"
    assert check.fn is persistence_code.check


def test_naive_bot_fails_on_the_in_place_write_and_warns_on_the_crashing_loader():
    src = BOTS / "naive.py"
    r = run(src)
    assert r.status is Status.FAIL
    (fail,) = found(r, "FAIL")
    assert fail[:2] == ("naive.py", line_of(src, "in-place"))
    assert fail[2].startswith(f"save_state (naive.py:{line_of(src, 'in-place')}) writes the state file trading_state.json in place")
    assert "truncated" in fail[2]
    warns = found(r, "WARNING")
    load = only(warns, lambda w: "corrupt state file" in w[2])
    assert load[:2] == ("naive.py", line_of(src, "unguarded-load"))
    assert "JSONDecodeError is not caught: the bot stops" in load[2]
    nolock = only(warns, lambda w: w[2].startswith("No file locking"))
    assert nolock[:2] == ("naive.py", line_of(src, "in-place"))
    assert nolock[2].startswith(f"No file locking: save_state (naive.py:{line_of(src, 'in-place')}) writes the "
                                "state file trading_state.json without a lock")
    assert R.REC_STORE in r.recommendations and R.REC_RECOVER in r.recommendations
    assert r.repairs == []
    assert r.data["loaders"][0]["on_corrupt"] == "crash"
    assert r.data["writers"][0]["kind"] == "in-place"


def test_replace_without_fsync_warns_with_the_rename_line():
    src = BOTS / "replace_no_fsync.py"
    r = run(src)
    assert r.status is Status.WARNING
    line = line_of(src, "replace-no-fsync")
    warns = found(r, "WARNING")
    fsync = only(warns, lambda w: "without an fsync" in w[2])
    assert fsync[:2] == ("replace_no_fsync.py", line) and fsync[2].startswith("StateManager.save")
    assert only(warns, lambda w: "fsync the folder" in w[2])[1] == line
    atomic = only(found(r, "OK"), lambda o: "atomically" in o[2])
    assert atomic[1] == line and atomic[2].endswith("temp + os.replace")
    # `raise SystemExit(1)` in the handler: the bot refuses to start on a corrupt file
    (loader,) = r.data["loaders"]
    assert (loader["line"], loader["on_corrupt"], loader["what"]) == (line_of(src, "guarded-load"), "crash", "exits")


def test_durable_bot_passes_and_names_every_good_thing():
    src = BOTS / "durable.py"
    r = run(src)
    assert r.status is Status.WARNING, r.findings  # a corrupt file stops it: safe, but say so
    assert found(r, "FAIL") == []
    (warn,) = found(r, "WARNING")
    assert warn[1] == line_of(src, "guarded-load") and "stops on a corrupt state file trading_state.json (exits)" in warn[2]
    oks = found(r, "OK")
    replace = line_of(src, "durable-replace")
    assert ("durable.py", replace, f"_write_state (durable.py:{replace}) writes the state file trading_state.json atomically: "
            "temp + fsync + os.replace + folder fsync") in oks
    lock = only(oks, lambda o: "file lock" in o[2])
    assert lock[1] == line_of(src, "with-lock") and "_write_state" in lock[2]
    (w,) = review(src, TRADING).writers
    assert (w.kind, w.line, w.function) == ("atomic+fsync+dirsync", replace, "_write_state")
    assert w.fsync_line == line_of(src, "file-fsync")
    assert w.dir_fsync_line == line_of(src, "dir-fsync-call")
    assert w.temp_fixed is False  # mkstemp
    assert w.lock is not None and w.lock.scope == "file"


def test_flock_does_not_make_an_in_place_rewrite_atomic():
    src = BOTS / "flock_in_place.py"
    r = run(src)
    assert r.status is Status.FAIL
    fails = found(r, "FAIL")
    assert [(f, line) for f, line, _ in fails if "in place" in _] == [
        ("flock_in_place.py", line_of(src, "create-in-place")),
        ("flock_in_place.py", line_of(src, "rplus")),
    ]
    flock = line_of(src, "flock")
    assert only(found(r, "OK"), lambda o: "file lock" in o[2])[1] == flock
    assert only(found(r, "INFO"), lambda i: "does not make the in-place" in i[2])[1] == flock
    unlocked = only(found(r, "WARNING"), lambda w: "without the lock" in w[2])
    assert unlocked[1] == line_of(src, "create-in-place")
    # the handler resets to fresh_state() and the same function writes it straight back
    reset = only(fails, lambda f: f[2].startswith("corrupt state → fresh defaults"))
    assert reset[1] == line_of(src, "guarded-load")
    assert "sets state = fresh_state()" in reset[2] and "writes the defaults straight back" in reset[2]


def test_bot_using_statetui_store_passes():
    src = BOTS / "uses_store.py"
    r = run(src)
    assert r.status is Status.PASS, r.findings
    (ok,) = found(r, "OK")
    assert ok[1] == line_of(src, "store-transaction")
    assert ok[2].startswith("writes go through statetui.store: atomic, durable, locked, journaled")
    rv = review(src, TRADING)
    assert rv.writers == []
    assert [(s.api, s.line) for s in rv.store_uses if s.writes] == [
        ("StateStore.transaction", line_of(src, "store-transaction")),
        ("StateStore.save", line_of(src, "store-save"))]


def test_raw_writer_beside_the_store_is_still_flagged(tmp_path):
    shutil.copy(BOTS / "uses_store.py", tmp_path / "bot.py")
    (tmp_path / "export.py").write_text(textwrap.dedent('''\
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
    assert [(f, line) for f, line, m in found(r, "FAIL")] == [("export.py", 8)]
    assert any(w[:2] == ("export.py", 6) and "corrupt state file" in w[2] for w in found(r, "WARNING"))


def test_pathlib_writer_and_a_lock_lost_to_the_new_inode():
    src = BOTS / "pathlib_style.py"
    r = run(src)
    warns = found(r, "WARNING")
    replace = line_of(src, "path-replace")
    assert only(warns, lambda w: "without an fsync" in w[2])[1] == replace
    assert only(warns, lambda w: "fsync the folder after Path.replace" in w[2])[1] == replace
    inode = only(warns, lambda w: "inode" in w[2])
    assert inode[1] == line_of(src, "flock-on-state")
    assert R.REC_LOCK_FILE in r.recommendations
    (w,) = review(src, TRADING).writers
    assert (w.api, w.temp_line, w.temp_fixed) == ("Path.replace", line_of(src, "temp-write"), True)
    assert w.lock is not None and w.lock.scope == "state-file"


def test_writer_split_across_package_modules_is_reported_where_the_path_is_chosen():
    pkg = BOTS / "pkg"
    rv = review(pkg, TRADING)
    (w,) = rv.writers
    # atomic_write_json(path, payload) is a generic helper: the writer is state.save_state
    assert (w.file, w.function, w.kind) == ("state.py", "save_state", "atomic+fsync")
    assert w.via == f"atomic_write_json (fsutil.py:{line_of(pkg / 'fsutil.py', 'pkg-replace')})"
    assert w.lock is not None and (w.lock.file, w.lock.line) == ("state.py", line_of(pkg / "state.py", "pkg-lock"))
    (load,) = rv.loaders
    assert (load.file, load.line) == ("state.py", line_of(pkg / "state.py", "pkg-load"))
    # bot.main() catches JSONDecodeError around the call and returns: the bot gives up
    assert load.on_corrupt == "crash" and load.handler.startswith("bot.py:")
    r = run(pkg)
    assert r.status is Status.WARNING
    assert only(found(r, "WARNING"), lambda x: "fsync the folder" in x[2])[0] == "state.py"


def test_syntax_error_is_reported_and_the_other_files_still_analyzed():
    src = BOTS / "broken"
    r = run(src)
    assert r.status is Status.WARNING
    (warn,) = [f for f in r.findings if f.severity == "WARNING"]
    assert warn.file == "half_edited.py" and warn.line == line_of(src / "half_edited.py", "syntax-error")
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
    assert f.message.startswith(f"no state writer found in {tmp_path} for trading_state.json")


def test_garbage_never_raises(tmp_path):
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "latin1.py").write_bytes(b"x = '\xff\xfe'\n")
    (tmp_path / "deep.py").write_text("x = " + "a + " * 50_000 + "a\n")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block forever
    (tmp_path / "run.sh").write_bytes(b"python3 - <<EOF\n\x00\xff def (\nEOF\n")
    (tmp_path / "ok.py").write_text("import json\nprint(json.dumps({}))\n")
    r = run(tmp_path)
    assert r.status is Status.WARNING
    assert not any("the check itself failed" in f.message for f in r.findings)
    by_file = {f.file: f.message for f in r.findings if f.file and f.severity == "WARNING"}
    assert "null bytes" in by_file["blob.py"] or "not Python" in by_file["blob.py"]
    assert "syntax error" in by_file["latin1.py"]
    assert "too deeply nested" in by_file["deep.py"]
    assert "cannot read" in by_file["dangling.py"]
    assert "not a regular file" in by_file["pipe.py"]


def test_strings_in_comments_and_docstrings_are_not_code(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text(textwrap.dedent('''\
        """Old notes: open("state/trading_state.json", "w") then os.replace(tmp, STATE_FILE)."""
        # with open(STATE_FILE, "w") as f: json.dump(state, f)
        MESSAGE = "we never call os.replace here"
        '''))
    r = run(bot)
    assert found(r, "FAIL") == []
    assert [w[2][:21] for w in found(r, "WARNING")] == ["no state writer found"]


def test_state_name_comes_from_the_configured_state_path(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text('import json\n\ndef save(s):\n    with open("data/bot_state.json", "w") as f:\n        json.dump(s, f)\n')
    assert run(bot).status is Status.WARNING  # not the default name: nothing found
    r = run(bot, state=Path("/srv/data/bot_state.json"))
    assert r.status is Status.FAIL
    assert [(f, line) for f, line, _ in found(r, "FAIL")] == [("bot.py", 4)]


def test_test_code_is_left_out_unless_asked(tmp_path):
    (tmp_path / "bot.py").write_text('STATE = "state/trading_state.json"\n')
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_bot.py").write_text(
        'import json\nfrom bot import STATE\n\ndef test_save():\n    open(STATE, "w").write("{}")\n')
    r = run(tmp_path)
    assert found(r, "FAIL") == [] and r.data["tests_skipped"] == 1
    r = run(tmp_path, include_tests=True)
    assert [(f, line) for f, line, _ in found(r, "FAIL")] == [("test_bot.py", 5)]


def test_cli_include_tests_flag(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bot.py").write_text('STATE = "state/trading_state.json"\n')
    (tmp_path / "src" / "test_bot.py").write_text('open("state/trading_state.json", "w").write("{}")\n')
    args = ["audit", "--check", "persistence-code", "--bot-source", str(tmp_path / "src"), "--json"]
    plain = run_cli(*args, cwd=tmp_path)
    with_tests = run_cli(*args, "--include-tests", cwd=tmp_path)
    assert '"test_bot.py"' not in plain.stdout and plain.returncode == 1
    assert '"file": "test_bot.py"' in with_tests.stdout and with_tests.returncode == 2


def test_a_review_that_breaks_says_so_instead_of_passing(tmp_path, monkeypatch):
    import statetui.audit.review as review_pkg

    def broken(*a, **k):
        raise KeyError("boom")

    monkeypatch.setattr(review_pkg, "review", broken)
    r = run(tmp_path)
    (f,) = r.findings
    assert r.status is Status.WARNING and "could not finish (KeyError: 'boom'" in f.message
    assert "its findings are missing, not clean" in f.message
