"""Loaders classified by what they do with a corrupt state file: crash, fall back to a
backup, reset to defaults (silently or after a log line; worse when written straight
back), keep the previous in-memory value. Catching the exception is never enough to pass:
the handler's action decides. Small bots written for these tests."""

from __future__ import annotations

import textwrap

import pytest

from statetui.audit.base import Status
from tests.review_bots import found, only, review_bot, run, write_bot

PRELUDE = '''
import json, logging, sys
from contextlib import suppress
log = logging.getLogger("bot")
STATE = "bot_state.json"
DEFAULTS = {"cash": 100.0, "halted": False}
class StateError(Exception):
    pass
def save(s):
    json.dump(s, open(STATE, "w"))
'''



def bot(code: str) -> str:
    return PRELUDE + textwrap.dedent(code)


CASES = [
    # (case, code, on_corrupt, logged, words in `what`)
    ("not caught", '''
        def load():
            with open(STATE) as f:
                return json.load(f)
        ''', "crash", False, "JSONDecodeError is not caught"),
    ("caught only as OSError", '''
        def load():
            try:
                return json.load(open(STATE))
            except OSError:
                return dict(DEFAULTS)
        ''', "crash", False, "JSONDecodeError is not caught"),
    ("re-raised as a custom error nobody catches", '''
        def load():
            try:
                return json.load(open(STATE))
            except json.JSONDecodeError as exc:
                raise StateError("corrupt") from exc
        ''', "crash", False, "raises StateError, which nothing catches"),
    ("exits", '''
        def load():
            try:
                return json.load(open(STATE))
            except ValueError:
                log.critical("state is corrupt, refusing to start")
                sys.exit(2)
        ''', "crash", True, "exits"),
    ("returns {} silently", '''
        def load():
            try:
                return json.load(open(STATE))
            except Exception:
                return {}
        ''', "reset", False, "returns {}"),
    ("logs, then sets the defaults", '''
        class Bot:
            def load(self):
                try:
                    self.state = json.load(open(STATE))
                except json.JSONDecodeError as exc:
                    log.warning("bad state: %s", exc)
                    self.state = dict(DEFAULTS)
        ''', "reset", True, "sets self.state = dict(DEFAULTS)"),
    ("prints and keeps the defaults set in __init__", '''
        class Bot:
            def __init__(self):
                self.state = dict(DEFAULTS)
                self._load()
            def _load(self):
                try:
                    self.state = json.load(open(STATE))
                except Exception as e:
                    print(f"could not load: {e}")
        ''', "reset", True, "continues with the defaults set before the load"),
    ("contextlib.suppress at startup", '''
        class Bot:
            def __init__(self):
                self.state = dict(DEFAULTS)
                with suppress(ValueError, OSError):
                    self.state = json.load(open(STATE))
        ''', "reset", False, "continues with the defaults set before the load"),
    ("caller catches the custom error and starts fresh", '''
        def _read():
            try:
                return json.load(open(STATE))
            except ValueError as exc:
                raise StateError(str(exc))
        def startup():
            try:
                state = _read()
            except StateError:
                log.error("state unreadable, starting fresh")
                state = dict(DEFAULTS)
            return state
        ''', "reset", True, "sets state = dict(DEFAULTS)"),
    ("falls back to a backup", '''
        def load_backup():
            return json.load(open("backups/latest.json"))
        def load():
            try:
                return json.load(open(STATE))
            except json.JSONDecodeError:
                log.error("state corrupt, using the last backup")
                return load_backup()
        ''', "backup", True, "falls back to load_backup()"),
    ("a periodic reload keeps what it has", '''
        import time
        class Watcher:
            def refresh(self):
                try:
                    self.state = json.load(open(STATE))
                except ValueError:
                    log.warning("unreadable, keeping the previous values")
            def run(self):
                while True:
                    self.refresh()
                    time.sleep(5)
        ''', "keep previous", True, "keeps the values already in memory"),
    ("a web handler that returns an error page", '''
        from flask import Flask
        app = Flask(__name__)
        def load():
            return json.load(open(STATE))
        @app.route("/state")
        def show():
            try:
                return load()
            except Exception as exc:
                return {"error": str(exc)}, 500
        ''', "crash", False, "gives up (show returns at line"),
    ("a bare except, then the defaults after the try", '''
        def load():
            try:
                with open(STATE) as f:
                    return json.load(f)
            except:
                pass
            return {"cash": 0}
        ''', "reset", False, "falls through to `return {'cash': 0}`"),
    ("a status returned while the object keeps its defaults", '''
        class Trader:
            def load_state(self):
                try:
                    data = json.load(open(STATE))
                    self.cash = data["cash"]
                    return True
                except Exception as exc:
                    log.warning("cannot load: %s", exc)
                    return False
        ''', "reset", True, "returns False and keeps the defaults set before the load"),
    ("a reader that reports failure", '''
        import requests
        def upload(url):
            try:
                data = json.load(open(STATE))
            except ValueError:
                return False
            requests.post(url, json=data)
            return True
        ''', "skip", False, "gives up (returns False)"),
    ("a scheduler that records the error and retries", '''
        import time
        STATUS = {}
        def load():
            return json.load(open(STATE))
        def tick():
            s = load()
            save(s)
        def loop():
            while True:
                try:
                    tick()
                except Exception as exc:
                    STATUS["error"] = str(exc)
                    time.sleep(5)
        ''', "crash", False, "loop catches it and gives up on this run"),
]


@pytest.mark.parametrize("case,code,outcome,logged,words", CASES, ids=[c[0] for c in CASES])
def test_what_a_loader_does_with_a_corrupt_file(tmp_path, case, code, outcome, logged, words):
    r = review_bot(tmp_path, {"bot.py": bot(code)})
    (x,) = r.loaders
    assert (x.on_corrupt, x.logged) == (outcome, logged), (x.what, x.handler)
    assert words in x.what


def test_a_wrapper_that_returns_defaults_instead_is_a_reset(tmp_path):
    # load() returns what _read() returned, and its own defaults when _read() fails
    r = review_bot(tmp_path, {"bot.py": bot('''
        def _read():
            return json.load(open(STATE))
        def load():
            try:
                return _read()
            except ValueError:
                return dict(DEFAULTS)
        ''')})
    (x,) = r.loaders
    assert (x.function, x.on_corrupt, x.what) == ("_read", "reset", "returns dict(DEFAULTS) instead")
    assert x.handler.endswith("(load)")


def test_a_caller_that_gives_up_is_a_crash(tmp_path):
    r = review_bot(tmp_path, {"bot.py": bot('''
        def load():
            return json.load(open(STATE))
        def main():
            try:
                state = load()
            except ValueError:
                log.error("cannot start")
                return 1
            save(state)
            return 0
        ''')})
    (x,) = r.loaders
    assert (x.on_corrupt, x.what) == ("crash", "gives up (main returns at line 18)")


def test_a_reset_written_straight_back_is_worse_and_says_where(tmp_path):
    write_bot(tmp_path, {"bot.py": bot('''
        class Broker:
            def __init__(self):
                loaded = self.load()
                if loaded is None:
                    self.state = dict(DEFAULTS)
                    save(self.state)
                else:
                    self.state = loaded
            def load(self):
                try:
                    with open(STATE) as f:
                        return json.load(f)
                except Exception as e:
                    print("error loading", e)
                    return None
        ''')})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    fail = only(found(r, "FAIL"), lambda f: f[2].startswith("corrupt state → fresh defaults"))
    assert fail[:2] == ("bot.py", 22)
    assert "when bot_state.json is not valid JSON, logs it and returns None" in fail[2]
    assert "kill switch" in fail[2]
    assert "Worse: bot.py:16 writes the defaults straight back over the corrupt file" in fail[2]
    (x,) = r.data["loaders"]
    assert (x["startup"], x["read_only"], x["written_back"]) == (True, False, "bot.py:16")


def test_a_reader_that_never_writes_shows_defaults_as_a_warning(tmp_path):
    write_bot(tmp_path, {
        "bot.py": PRELUDE,
        "dashboard.py": '''
            import json
            from bot import STATE
            def read_state(path=STATE):
                try:
                    return json.load(open(path))
                except Exception:
                    return {}
            ''',
    })
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    warn = only(found(r, "WARNING"), lambda w: "shows defaults" in w[2])
    assert warn[:2] == ("dashboard.py", 5)
    assert "silently returns {}" in warn[2] and "hides the incident" in warn[2]
    assert not any(f[2].startswith("corrupt state") for f in found(r, "FAIL"))


def test_a_crash_is_a_warning_with_the_recovery_recommendation(tmp_path):
    write_bot(tmp_path, {"bot.py": bot(CASES[0][1])})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    warn = only(found(r, "WARNING"), lambda w: "corrupt state file" in w[2])
    assert "stops on a corrupt state file bot_state.json (JSONDecodeError is not caught: the bot stops)" in warn[2]
    assert any("statetui recover" in rec for rec in r.recommendations)
    assert r.status is Status.FAIL  # the in-place save() in the prelude


def test_missing_file_outcome(tmp_path):
    r = review_bot(tmp_path, {"bot.py": bot('''
        import os
        def load_a():
            if not os.path.exists(STATE):
                return dict(DEFAULTS)
            return json.load(open(STATE))
        def load_b():
            try:
                return json.load(open(STATE))
            except FileNotFoundError:
                return dict(DEFAULTS)
        def load_c():
            return json.load(open(STATE))
        ''')})
    assert [(x.function, x.on_missing, x.on_corrupt) for x in r.loaders] == [
        ("load_a", "defaults", "crash"), ("load_b", "defaults", "crash"), ("load_c", "crash", "crash")]
