"""Shell scripts, CI workflows, service units, Dockerfiles and Procfiles: what they run
and what they do to the state file.

- Python run from a script (`python - <<EOF ... EOF`, `python -c "..."`) is handed back as
  source, its lines kept at their place in the script, and reviewed like any module.
- Writes of the state: `>`/`>>` redirections, `tee`, `cp`/`mv`/`sed -i`/`sponge` onto it;
  `jq ... state.json > state.json` empties it before jq reads it; `rm` deletes it.
- CI workflows that `git add`/`commit` the state file (a bot whose state lives in git).
- Launches (`python x.py`, `python -m pkg.mod`, `uvicorn mod:app`, console scripts, a
  systemd unit's ExecStart): the programs that run, for the single-instance question.

Line-based: no shell or YAML parser; a reviewer's reading, not an interpreter's."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from statetui.audit.review.model import Hazard, Writer

_HEREDOC = re.compile(r"\bpython[\d.]*\b[^<\n]*<<-?\s*(['\"]?)(\w+)\1")
_DASH_C = re.compile(r"\bpython[\d.]*\s+(?:-\w+\s+)*-c\s+(['\"])(.*)\1")
_PY_LAUNCH = re.compile(r"(?:^|[\s;&|(\"'\[,])(?:\S*/)?python[\d.]*(?:\s+-[uOBEIsS]+)*\s+(?:-m\s+([\w.]+)|([\w./-]+\.py))")
_ASGI = re.compile(r"\b(?:uvicorn|gunicorn|hypercorn|daphne)\b.*?\s([\w.]+):[\w]+")
_STREAMLIT = re.compile(r"\bstreamlit\s+run\s+([\w./-]+\.py)")
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(['\"]?)([^'\"\s;]*)\2")
_REDIRECT = re.compile(r"(?:^|[^<0-9&>])(?:\d|&)?>>?\s*(['\"]?)([^\s;&|'\"<>()]+)\1")
_SEGMENT = re.compile(r"\s*(&&|\|\||;|\|)\s*")
_VAR = re.compile(r"\$\{?(\w+)\}?")

SHELL_NAMES = ("Procfile", "Dockerfile", "Makefile")


@dataclass
class TextFile:
    rel: str
    kind: str  # "sh" | "ci" | "systemd" | "docker" | "procfile" | "pyproject" | "setup"
    text: str


@dataclass
class Launch:
    file: str
    line: int
    module: str | None = None  # python -m NAME / uvicorn NAME:app
    path: str | None = None  # python PATH.py
    command: str | None = None  # a console script's name (systemd ExecStart=/…/bin/NAME)
    background: bool = False
    unit: str | None = None  # the systemd unit that runs it


@dataclass
class ShellFacts:
    launches: list[Launch] = field(default_factory=list)
    console_scripts: dict[str, str] = field(default_factory=dict)  # name -> "pkg.mod:func"
    units: list[tuple[str, int, bool]] = field(default_factory=list)  # (unit, ExecStart line, template)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out, buf, start = [], "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append((start, buf + line))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def _strip_yaml(line: str) -> str:
    s = line.strip()
    if s.startswith("- "):
        s = s[2:]
    if s.startswith("run:"):
        s = s[4:].strip()
    return "" if s in ("|", ">", "|-", ">-") else s


def snippets(files: list[TextFile]) -> list[tuple[str, str]]:
    """Python source run by scripts and workflows: [(script, source)], the source padded
    with blank lines so that its line numbers are the script's."""
    out = []
    for tf in files:
        if tf.kind not in ("sh", "ci"):
            continue
        lines = tf.text.splitlines()
        vars_: dict[str, str] = {}
        i = 0
        while i < len(lines):
            line = lines[i]
            a = _ASSIGN.match(line)
            if a:
                vars_[a.group(1)] = a.group(3)
            m = _HEREDOC.search(line)
            if m:
                quoted, delim = m.group(1), m.group(2)
                body, j = [], i + 1
                while j < len(lines) and lines[j].strip() != delim:
                    body.append(lines[j])
                    j += 1
                code = textwrap.dedent("\n".join(body))
                if not quoted:  # the shell expands $VAR in an unquoted here-doc
                    code = _VAR.sub(lambda v: vars_.get(v.group(1), v.group(0)), code)
                out.append((tf.rel, "\n" * (i + 1) + code + "\n"))
                i = j + 1
                continue
            c = _DASH_C.search(line)
            if c:
                out.append((tf.rel, "\n" * i + c.group(2).replace("\\n", "\n") + "\n"))
            i += 1
    return out


def launches(files: list[TextFile]) -> ShellFacts:
    sf = ShellFacts()
    for tf in files:
        if tf.kind == "pyproject":
            _console_scripts_toml(tf.text, sf.console_scripts)
        elif tf.kind == "setup":
            for m in re.finditer(r"['\"]\s*([\w.-]+)\s*=\s*([\w.]+:\w+)\s*['\"]", tf.text):
                sf.console_scripts[m.group(1)] = m.group(2)
    for tf in files:
        if tf.kind in ("pyproject", "setup"):
            continue
        template = tf.kind == "systemd" and "@" in tf.rel.rsplit("/", 1)[-1]
        for n, line in _logical_lines(tf.text):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            unit = None
            if tf.kind == "systemd":
                if not s.startswith("ExecStart="):
                    continue
                unit = tf.rel
                sf.units.append((tf.rel, n, template))
            bg = bool(re.search(r"(?<!&)&\s*(?:$|#)", s))
            found = False
            for m in _PY_LAUNCH.finditer(s):
                sf.launches.append(Launch(tf.rel, n, module=m.group(1), path=m.group(2), background=bg, unit=unit))
                found = True
            for rx in (_ASGI, _STREAMLIT):
                for m in rx.finditer(s):
                    mod = m.group(1)
                    if rx is _ASGI:
                        sf.launches.append(Launch(tf.rel, n, module=mod, background=bg, unit=unit))
                    else:
                        sf.launches.append(Launch(tf.rel, n, path=mod, background=bg, unit=unit))
                    found = True
            if not found:
                for word in re.split(r"[\s\"'\[\],=]+", s):
                    name = word.rsplit("/", 1)[-1]
                    if name in sf.console_scripts:
                        sf.launches.append(Launch(tf.rel, n, command=name, background=bg, unit=unit))
                        break
    return sf


def _console_scripts_toml(text: str, out: dict[str, str]) -> None:
    try:
        import tomllib

        data = tomllib.loads(text)
    except Exception:  # a broken pyproject is not this review's business
        return
    for table in (data.get("project", {}).get("scripts", {}),
                  data.get("tool", {}).get("poetry", {}).get("scripts", {})):
        if isinstance(table, dict):
            for k, val in table.items():
                if isinstance(val, str):
                    out[k] = val


def state_writes(files: list[TextFile], state_name: str, env_vars: set[str],
                 tracked: bool) -> tuple[list[Writer], list[Hazard]]:
    """Writes of the state by scripts and workflows, and what goes wrong with them."""
    writers: list[Writer] = []
    hazards: list[Hazard] = []
    for tf in files:
        if tf.kind not in ("sh", "ci", "docker", "procfile"):
            continue
        vars_ = set(env_vars)
        script = tf.rel.rsplit("/", 1)[-1]

        def is_state(word: str) -> bool:
            w = word.strip("'\"")
            if w.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] == state_name:
                return True
            return any(v in vars_ for v in _VAR.findall(w)) and not w.endswith((".tmp", ".bak", ".lock"))

        in_heredoc = None
        commits, concurrency = [], "concurrency:" in tf.text
        for n, raw in _logical_lines(tf.text):
            line = _strip_yaml(raw) if tf.kind == "ci" else raw.strip()
            if in_heredoc:
                if line.strip() == in_heredoc:
                    in_heredoc = None
                continue
            h = _HEREDOC.search(line)
            if h:
                in_heredoc = h.group(2)
            if not line or line.startswith("#"):
                continue
            a = _ASSIGN.match(line)
            if a and is_state(a.group(3)):
                vars_.add(a.group(1))
            if tf.kind == "ci" and re.search(r"\bgit\s+(add|commit)\b", line):
                args = line.split()
                if any(is_state(x) for x in args) or (tracked and re.search(
                        r"\bgit\s+add\s+(-A|--all|\.|\*)|\bgit\s+commit\s+(-\w*a)", line)):
                    commits.append(n)
            _segments(tf, n, line, is_state, script, writers, hazards)
        if tf.kind == "ci" and (commits or ("git-auto-commit" in tf.text and tracked)):
            n = commits[0] if commits else 1
            writers.append(Writer(tf.rel, n, f"CI workflow {script}", "ci-commit", "git commit", source="ci"))
            hazards.append(Hazard(
                "ci-commit", tf.rel, n, f"CI workflow {script}",
                "commits the state file to git: each run starts from the state the last run pushed"
                + ("" if concurrency else ", and nothing stops two runs (a schedule and a manual one) "
                   "from overlapping: the later push fails or overwrites the other's updates"),
                "INFO" if concurrency else "WARNING"))
    return writers, hazards


def _segments(tf: TextFile, n: int, line: str, is_state, script: str, writers: list[Writer],
              hazards: list[Hazard]) -> None:
    src = "ci" if tf.kind == "ci" else "shell"
    where = f"{'CI workflow' if src == 'ci' else 'script'} {script}"
    reads_state = False  # by an earlier command of the same pipeline
    parts = _SEGMENT.split(line)
    for i in range(0, len(parts), 2):
        seg = parts[i]
        if i and parts[i - 1] != "|":
            reads_state = False
        words = _REDIRECT.sub(" ", seg).split()
        if not words:
            continue
        cmd = words[0].rsplit("/", 1)[-1]
        if cmd in ("sudo", "exec", "nohup", "command"):
            words = words[1:]
            cmd = words[0].rsplit("/", 1)[-1] if words else ""
        plain = [w for w in words[1:] if not w.startswith("-")]
        red = [m.group(2) for m in _REDIRECT.finditer(seg)]
        if any(is_state(t) for t in red):
            if reads_state or (cmd not in ("echo", "printf") and any(is_state(w) for w in plain)):
                hazards.append(Hazard("truncate-before-read", tf.rel, n, where,
                                      f"`{seg.strip()[:60]}` truncates the state file before the command reads it: "
                                      "the state is emptied", "FAIL"))
            writers.append(Writer(tf.rel, n, where, "in-place", "shell redirection (>)", source=src))
        elif cmd in ("cp", "install") and plain and is_state(plain[-1]) and len(plain) >= 2:
            writers.append(Writer(tf.rel, n, where, "in-place", cmd, source=src))
        elif cmd == "mv" and plain and is_state(plain[-1]) and len(plain) >= 2:
            writers.append(Writer(tf.rel, n, where, "atomic", "mv", source=src))
        elif cmd in ("tee", "sponge") and any(is_state(w) for w in plain):
            writers.append(Writer(tf.rel, n, where, "in-place", cmd, source=src))
        elif cmd == "sed" and any(w.startswith("-i") for w in words) and any(is_state(w) for w in plain):
            writers.append(Writer(tf.rel, n, where, "atomic", "sed -i", source=src))
        elif cmd == "rm" and any(is_state(w) for w in plain):
            hazards.append(Hazard("shell-rm", tf.rel, n, where, "deletes the state file", "WARNING"))
        if cmd not in ("echo", "printf") and any(is_state(w) for w in plain):
            reads_state = True
