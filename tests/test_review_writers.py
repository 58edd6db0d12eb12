"""Writers of the state classified: in place, atomic (+ fsync, + folder fsync), a fixed
temp name shared by processes, unlink-then-write, one update split over two saves, a
write done in a helper reported where the state path is chosen. Small bots written for
these tests."""

from __future__ import annotations

from statetui.audit.base import Status
from tests.review_bots import found, only, review_bot, run, write_bot


def kinds(r):
    return [(w.function, w.kind, w.api) for w in r.writers]


def test_in_place_writes_of_every_kind(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json, os, shutil
        from pathlib import Path
        P = Path("bot_state.json")
        def a(s): json.dump(s, open(P, "w"))
        def b(s): P.write_text(s)
        def c(s): os.write(os.open(P, os.O_WRONLY | os.O_TRUNC), s)
        def d(): shutil.copy("backups/last.json", P)
        def e(s):
            with P.open("r+") as f:
                f.write(s)
        '''})
    assert kinds(r) == [("a", "in-place", 'open(..., "w")'), ("b", "in-place", "Path.write_text"),
                        ("c", "in-place", "os.open(..., O_WRONLY)"), ("d", "in-place", "shutil.copy"),
                        ("e", "in-place", 'Path.open(..., "r+")')]


def test_atomic_levels_and_the_temp_name(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json, os, tempfile, uuid
        STATE = "data/bot_state.json"
        def plain(s):
            tmp = STATE + ".tmp"
            with open(tmp, "w") as f:
                json.dump(s, f)
            os.replace(tmp, STATE)
        def synced(s):
            tmp = f"{STATE}.{uuid.uuid4().hex}"
            with open(tmp, "w") as f:
                json.dump(s, f)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, STATE)
        def durable(s):
            fd, tmp = tempfile.mkstemp(dir="data")
            with os.fdopen(fd, "w") as f:
                json.dump(s, f)
                os.fsync(f.fileno())
            os.replace(tmp, STATE)
            d = os.open("data", os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(d)
        '''})
    got = {w.function: (w.kind, w.temp, w.temp_fixed) for w in r.writers}
    assert got == {"plain": ("atomic", "STATE + '.tmp'", True),
                   "synced": ("atomic+fsync", 'f"{STATE}.{uuid.uuid4().hex}"', False),
                   "durable": ("atomic+fsync+dirsync", "tmp", False)}


def test_a_helper_that_renames_is_reported_at_the_caller_with_the_callers_temp(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import os, uuid
        from pathlib import Path
        def _swap(tmp, final):
            for _ in range(3):
                try:
                    os.replace(tmp, final)
                    return
                except PermissionError:
                    pass
        class Book:
            path = Path("bot_state.json")
            def save(self, text):
                tmp = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.tmp")
                tmp.write_text(text)
                _swap(tmp, self.path)
        '''})
    (w,) = r.writers
    assert (w.function, w.line, w.kind, w.via) == ("Book.save", 15, "atomic", "_swap (bot.py:6)")
    assert w.temp_fixed is False and w.temp_line == 14


def test_a_fixed_temp_name_written_by_two_programs_fails(tmp_path):
    write_bot(tmp_path, {
        "store.py": '''
            import json, os
            PATH = "bot_state.json"
            def save(s):
                with open(PATH + ".tmp", "w") as f:
                    json.dump(s, f)
                os.replace(PATH + ".tmp", PATH)
            ''',
        "bot.py": 'from store import save\nif __name__ == "__main__":\n    save({})\n',
        "admin.py": 'from store import save\nif __name__ == "__main__":\n    save({"halted": False})\n',
    })
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    fail = only(found(r, "FAIL"), lambda f: "same temp name" in f[2])
    assert fail[:2] == ("store.py", 6) and "PATH + '.tmp'" in fail[2]
    assert r.data["writer_programs"] == ["admin.py", "bot.py"]


def test_a_fixed_temp_name_with_one_program_is_a_warning(tmp_path):
    write_bot(tmp_path, {"bot.py": '''
        import os
        def save(text):
            open("bot_state.json.tmp", "w").write(text)
            os.replace("bot_state.json.tmp", "bot_state.json")
        if __name__ == "__main__":
            save("{}")
        '''})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    warn = only(found(r, "WARNING"), lambda f: "same temp name" in f[2])
    assert warn[1] == 4 and "if a second copy of the bot ever runs" in warn[2]


def test_unlink_then_write(tmp_path):
    write_bot(tmp_path, {"bot.py": '''
        import json, os
        STATE = "bot_state.json"
        def save(s):
            json.dump(s, open(STATE, "w"))
        def reset():
            if os.path.exists(STATE):
                os.remove(STATE)
            save({"cash": 100})
        '''})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    fail = only(found(r, "FAIL"), lambda f: "deletes the state file" in f[2])
    assert fail[:2] == ("bot.py", 7)
    assert fail[2].startswith("reset (bot.py:7) deletes the state file (line 7) before writing it again (line 8)")
    assert "leaves no state file at all" in fail[2]


def test_one_update_split_over_two_saves(tmp_path):
    r = review_bot(tmp_path, {"bot.py": '''
        import json
        class State:
            def __init__(self):
                self.data = {}
            def save(self):
                json.dump(self.data, open("bot_state.json", "w"))
            def set(self, k, v):
                self.data[k] = v
                self.save()
        class Stakes:
            def __init__(self, state: State):
                self.state = state
            def record(self, won):
                self.state.set("streak", 1 if won else 0)
                self.state.set("stake", 2 if won else 1)
            def record_once(self, won):
                if won:
                    self.state.set("streak", 1)
                else:
                    self.state.set("streak", 0)
            def loop(self, results):
                for won in results:
                    self.state.set("last", won)
        '''})
    (h,) = [h for h in r.hazards if h.kind == "split-save"]
    assert (h.function, h.line, h.detail) == ("Stakes.record", 14, "saves the state twice in one update (lines 14 and 15)")


def test_writers_of_other_json_files_are_a_separate_lower_list(tmp_path):
    write_bot(tmp_path, {"bot.py": '''
        import json
        def save(s):
            json.dump(s, open("bot_state.json", "w"))
        def save_trades(t):
            json.dump(t, open("trades.json", "w"))
        def save_cfg(c):
            json.dump(c, open("config.json", "w"))
        '''})
    r = run(tmp_path, state=tmp_path / "bot_state.json")
    assert [w["function"] for w in r.data["writers"]] == ["save"]
    assert [(o["function"], o["target"]) for o in r.data["other_writers"]] == [
        ("save_trades", "trades.json"), ("save_cfg", "config.json")]
    info = only(found(r, "INFO"), lambda i: "other JSON files" in i[2])
    assert info[2].startswith("2 writer(s) of other JSON files, not the state: bot.py:5 (trades.json")
    assert r.status is Status.FAIL  # the in-place state writer, not the others, makes it fail
