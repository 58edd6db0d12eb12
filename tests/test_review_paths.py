"""Path values: the review follows the value of the state path through the code, in each
pattern real bots use, and reports the writers of that file only.

Each case is a small bot written for this test. A line ending in `# audit: w` must be
reported as a writer of the state (bot_state.json), with the function named in the case;
no other line may be."""

from __future__ import annotations

import pytest

from tests.review_bots import review_bot

CASES = {
    "constant imported absolutely, relatively and as a module attribute": ({
        "app/__init__.py": "",
        "app/paths.py": 'import os\nDATA = "data"\nSTATE_FILE = os.path.join(DATA, "bot_state.json")\n',
        "app/a.py": '''
            from app.paths import STATE_FILE
            def save_a(s):
                open(STATE_FILE, "w").write(s)  # audit: w
            ''',
        "app/b.py": '''
            from .paths import STATE_FILE as SF
            def save_b(s):
                with open(SF, "w") as f:  # audit: w
                    f.write(s)
            ''',
        "app/c.py": '''
            import app.paths as paths
            def save_c(s):
                open(paths.STATE_FILE, "w").write(s)  # audit: w
            ''',
    }, {"save_a", "save_b", "save_c"}),
    "pathlib joins from __file__ and joinpath": ({
        "bot.py": '''
            from pathlib import Path
            ROOT = Path(__file__).resolve().parent
            STATE = ROOT / "data" / "bot_state.json"
            OTHER = ROOT.joinpath("data", "bot_state.json")
            def save(text):
                STATE.write_text(text)  # audit: w
            def save2(text):
                OTHER.write_text(text)  # audit: w
            ''',
    }, {"save", "save2"}),
    "f-string, % and .format": ({
        "bot.py": '''
            DATA = "/var/lib/bot"
            A = f"{DATA}/bot_state.json"
            B = "%s/bot_state.json" % DATA
            C = "{}/bot_state.json".format(DATA)
            def save(s):
                open(A, "w").write(s)  # audit: w
                open(B, "w").write(s)  # audit: w
                open(C, "w").write(s)  # audit: w
            ''',
    }, {"save"}),
    "os.getenv and os.environ.get with a default": ({
        "bot.py": '''
            import os
            STATE = os.getenv("BOT_STATE", "bot_state.json")
            ALT = os.environ.get("BOT_STATE_ALT", os.path.join("data", "bot_state.json"))
            def save(s):
                open(STATE, "w").write(s)  # audit: w
            def save_alt(s):
                open(ALT, "w").write(s)  # audit: w
            ''',
    }, {"save", "save_alt"}),
    "settings dataclass built from the environment, passed as an annotated parameter": ({
        "cfg.py": '''
            import os
            from dataclasses import dataclass
            @dataclass
            class Settings:
                name: str = "bot"
                state_path: str = "bot_state.json"
                @classmethod
                def from_env(cls):
                    return cls(state_path=os.getenv("STATE_PATH", Settings.state_path))
            ''',
        "broker.py": '''
            from pathlib import Path
            from cfg import Settings
            class Broker:
                def __init__(self, settings: Settings):
                    self.path = Path(settings.state_path)
                def save(self, text):
                    self.path.write_text(text)  # audit: w
            ''',
    }, {"Broker.save"}),
    "pydantic-style settings object at module level": ({
        "bot.py": '''
            from pydantic_settings import BaseSettings
            class Config(BaseSettings):
                state_file: str = "data/bot_state.json"
                poll_seconds: int = 10
            config = Config()
            def save(s):
                with open(config.state_file, "w") as f:  # audit: w
                    f.write(s)
            ''',
    }, {"save"}),
    "nested config dict": ({
        "bot.py": '''
            CONFIG = {"paths": {"state": "run/bot_state.json", "log": "run/bot.log"}, "stake": 5}
            def save(s):
                open(CONFIG["paths"]["state"], "w").write(s)  # audit: w
            def log(line):
                open(CONFIG["paths"]["log"], "a").write(line)
            ''',
    }, {"save"}),
    "class attribute, __init__ default, a path passed by the caller": ({
        "bot.py": '''
            import json, os
            class Store:
                FILE = "bot_state.json"
                def save(self, s):
                    json.dump(s, open(self.FILE, "w"))  # audit: w
            class Tracker:
                def __init__(self, path="other.json"):
                    self.path = path
                def save(self, s):
                    with open(self.path, "w") as f:  # audit: w
                        json.dump(s, f)
            tracker = Tracker(os.path.join("data", "bot_state.json"))
            ''',
    }, {"Store.save", "Tracker.save"}),
    "a function that returns the path": ({
        "bot.py": '''
            from pathlib import Path
            def state_path() -> Path:
                return Path.home() / ".bot" / "bot_state.json"
            def save(text):
                state_path().write_text(text)  # audit: w
            ''',
    }, {"save"}),
    "a generic helper used for the state and for other files": ({
        "io_utils.py": '''
            import json, os
            def write_json(path, data):
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(data, f)
                os.replace(tmp, path)
            ''',
        "bot.py": '''
            from io_utils import write_json
            STATE = "bot_state.json"
            def save(s):
                write_json(STATE, s)  # audit: w
            def save_stats(st):
                write_json("stats.json", st)
            ''',
    }, {"save"}),
    "other files next to the state are not the state": ({
        "bot.py": '''
            import json, os, shutil
            from pathlib import Path
            STATE = Path("data") / "bot_state.json"
            CACHE_STATE_FILE = STATE.with_name("cache_state.json")
            JOURNAL = STATE.with_name(STATE.name + ".journal")
            def backup():
                shutil.copy(STATE, STATE.with_suffix(".bak"))
            def cache(s):
                CACHE_STATE_FILE.write_text(json.dumps(s))
            def journal(s):
                JOURNAL.write_text(s)
            def save(s):
                STATE.write_text(json.dumps(s))  # audit: w
            ''',
    }, {"save"}),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_state_path_is_followed(tmp_path, case):
    files, functions = CASES[case]
    r = review_bot(tmp_path, files)
    expected = {(rel, n) for rel, text in files.items()
                for n, line in enumerate((tmp_path / rel).read_text().splitlines(), 1) if line.endswith("# audit: w")}
    assert {(w.file, w.line) for w in r.writers} == expected, [(w.file, w.line, w.function) for w in r.writers]
    assert {w.function for w in r.writers} == functions
    assert all(w.resolved for w in r.writers)


def test_a_path_named_like_the_state_but_unresolved_is_reported_as_such(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json, yaml
        cfg = yaml.safe_load(open("config.yaml"))
        class Bot:
            def __init__(self):
                self.state_file = cfg["state_file"]
                self.cache_state_file = "cache.json"
            def save(self, s):
                json.dump(s, open(self.state_file, "w"))
            def save_cache(self, s):
                json.dump(s, open(self.cache_state_file, "w"))
        '''})
    (w,) = r.writers
    assert (w.function, w.line, w.resolved) == ("Bot.save", 8, False)
    assert [o.line for o in r.other_writers] == [10]


def test_the_state_env_variable_is_known(tmp_path):
    r = review_bot(tmp_path, {"bot.py": 'import os\nP = os.environ.get("TRADER_STATE", "bot_state.json")\n'})
    assert r.state_env_vars == ["TRADER_STATE"]


def test_a_name_built_per_instance_matches_the_configured_state(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json, os
        class Bot:
            def __init__(self, symbol):
                self.path = os.path.join("data", f"{symbol.lower()}_state.json")
                self.alt = "data/" + symbol + "_state.json"
                self.fmt = "data/{}_state.json".format(symbol)
                self.log = f"{symbol}.json"
            def save(self, s):
                json.dump(s, open(self.path, "w"))
                json.dump(s, open(self.alt, "w"))
                json.dump(s, open(self.fmt, "w"))
                json.dump(s, open(self.log, "w"))
        '''}, state="btc_state.json")
    assert [w.line for w in r.writers] == [9, 10, 11]  # "{symbol}.json" says nothing more than .json


def test_library_writers(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json
        from atomicwrites import atomic_write
        STATE = "bot_state.json"
        def save(s):
            with atomic_write(STATE, overwrite=True) as f:
                json.dump(s, f)
        def export(df):
            df.to_json(STATE)
        '''})
    assert [(w.function, w.kind, w.api) for w in r.writers] == [
        ("save", "atomic+fsync+dirsync", "atomicwrites.atomic_write"), ("export", "in-place", "DataFrame.to_json")]
