"""Writes of the state from shell scripts (redirections, cp, mv, tee, sed -i, here-docs
running Python), from CI workflows that commit the state to git, and the programs scripts
and units start. Small scripts written for these tests."""

from __future__ import annotations

from tests.review_bots import found, only, review_bot, run, write_bot

SCRIPT = '''
    #!/bin/sh
    STATE=data/bot_state.json
    cp "$STATE" "$STATE.bak"
    jq '.halted=false' "$STATE" > "$STATE"
    jq '.cash=0' "$STATE" > /tmp/new.json && mv /tmp/new.json "$STATE"
    echo '{"cash": 0}' > data/bot_state.json
    cat seed.json | tee "$STATE" > /dev/null
    sed -i 's/true/false/' $STATE
    rm -f "$STATE"
    python3 - <<'PY'
    import json
    with open("data/bot_state.json", "w") as f:
        json.dump({"cash": 1}, f)
    PY
    python -c 'import json; json.dump({}, open("data/bot_state.json", "w"))'
    '''


def test_shell_writers_and_hazards(tmp_path):
    r = review_bot(tmp_path, {"ops/fix.sh": SCRIPT, "bot.py": "print('bot')\n"})
    got = sorted((w.line, w.kind, w.api, w.source) for w in r.writers)
    assert got == [
        (4, "in-place", "shell redirection (>)", "shell"),
        (5, "atomic", "mv", "shell"),
        (6, "in-place", "shell redirection (>)", "shell"),
        (7, "in-place", "tee", "shell"),
        (8, "atomic", "sed -i", "shell"),
        (12, "in-place", 'open(..., "w")', "python"),  # the here-doc, at its line in the script
        (15, "in-place", 'open(..., "w")', "python"),  # python -c
    ]
    assert {w.file for w in r.writers} == {"ops/fix.sh"}
    assert sorted((h.kind, h.line, h.severity) for h in r.hazards) == [
        ("shell-rm", 9, "WARNING"), ("truncate-before-read", 4, "FAIL")]
    here = next(w for w in r.writers if w.line == 12)
    assert here.function == "Python run by fix.sh"


def test_shell_findings_read_like_a_reviewer(tmp_path):
    write_bot(tmp_path, {"fix.sh": SCRIPT})
    r = run(tmp_path, state=tmp_path / "data" / "bot_state.json")
    fails = found(r, "FAIL")
    trunc = only(fails, lambda f: "truncates the state file" in f[2])
    assert trunc[:2] == ("fix.sh", 4) and "the state is emptied" in trunc[2]
    red = [f for f in fails if f[2].startswith("script fix.sh (fix.sh:6) writes the state file bot_state.json in place")]
    assert red and "shell redirection (>)" in red[0][2]
    mv = only(found(r, "WARNING"), lambda w: "`mv`" in w[2])
    assert mv[1] == 5 and "without fsync" in mv[2]


def test_a_variable_the_python_code_reads_the_state_path_from(tmp_path):
    r = review_bot(tmp_path, {
        "bot.py": 'import os\nSTATE = os.environ.get("BOT_STATE_FILE", "bot_state.json")\n',
        "reset.sh": 'echo "{}" > "$BOT_STATE_FILE"\ncp defaults.json ${BOT_STATE_FILE}\n',
    })
    assert [(w.file, w.line, w.api) for w in r.writers] == [("reset.sh", 1, "shell redirection (>)"),
                                                             ("reset.sh", 2, "cp")]


def test_a_ci_workflow_that_commits_the_state(tmp_path):
    files = {
        "bot.py": 'import json\ndef save(s):\n    json.dump(s, open("bot_state.json", "w"))\n',
        "bot_state.json": "{}\n",
        ".github/workflows/tick.yml": '''
            on:
              schedule:
                - cron: "*/10 * * * *"
              workflow_dispatch:
            jobs:
              tick:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: python bot.py
                  - name: save state
                    run: |
                      git add -A
                      git commit -m "tick" || true
                      git push
            ''',
    }
    r = review_bot(tmp_path, files)
    ci = [w for w in r.writers if w.source == "ci"]
    assert [(w.file, w.line, w.kind) for w in ci] == [(".github/workflows/tick.yml", 13, "ci-commit")]
    (h,) = [h for h in r.hazards if h.kind == "ci-commit"]
    assert h.severity == "WARNING" and "overlapping" in h.detail
    # with a concurrency group, runs queue up: an INFO, not a warning
    wf = tmp_path / ".github/workflows/tick.yml"
    wf.write_text("concurrency: state\n" + wf.read_text())
    (h,) = [h for h in review_bot(tmp_path).hazards if h.kind == "ci-commit"]
    assert h.severity == "INFO"


def test_two_programs_started_by_one_script(tmp_path):
    r = review_bot(tmp_path, {
        "store.py": 'import json\ndef save(s):\n    json.dump(s, open("bot_state.json", "w"))\n',
        "main.py": 'from store import save\nsave({})\n',
        "web/dashboard.py": 'from store import save\ndef reset():\n    save({})\n',
        "start.sh": "#!/bin/bash\npython main.py &\npython -m web.dashboard\n",
        "Procfile": "worker: python main.py\n",
    })
    assert r.writer_programs == ["main.py", "web/dashboard.py"]
    assert r.writer_launches == ["Procfile:1", "start.sh:2", "start.sh:3"]
