"""Generated hostile settings through the real CLI: config files (values of every kind for
every key, broken TOML, files that are not files), environment variables and flags. Each case
is judged by the suite's own rules (tests/hostile/settings_gen.py): a valid value is
accepted (exit 0); anything else is exit 2 with one line on stderr naming the key and its
source (`file:line`, the variable, the flag) and never echoing an RPC credential."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

from tests.hostile.harness import Case, Tally, judge, run_cases
from tests.hostile.settings_gen import (ENV, FLAGS, KINDS, WALLET, setting_cases, toml_value, toml_with, valid)
from tests.hostile.sizes import SIZES, seed
from tests.reliability.figures import publish

BASE = {"state": "state/trading_state.json", "pid_file": "bot.pid", "halt_threshold": 0.3,
        "rpc_url": "http://127.0.0.1:9/v2/SECRETKEY", "wallet": WALLET, "rpc_timeout": 5.0}
SECRETS = ["SECRETKEY"]


def _expect(key: str, value, source: str):
    ok = valid(key, value)
    if key == "tokens" and ok:  # a chain is configured in the baseline: at least one token
        items = value.split(",") if isinstance(value, str) else value
        ok = bool(items)

    def check(res):
        if ok:
            return judge(res, 0, error_line=False, secrets=SECRETS)
        return judge(res, 2, names=[f"{source}: {key}", f"{source}: unknown"], secrets=SECRETS)

    return check


def test_generated_config_files(tmp_path):
    s = seed()
    rng = random.Random(s)
    tally = Tally()
    cases: list[Case] = []
    n = SIZES["config_files"]
    for i, sc in enumerate(setting_cases(rng, n - 40)):
        cfg = tmp_path / f"c{i}.toml"
        text, line = toml_with(sc.key, sc.value, BASE)
        cfg.write_text(text, encoding="utf-8")
        cases.append(Case(f"{sc.name} (seed {s})", ["config", "--config", str(cfg)], {},
                          _expect(sc.key, sc.value, f"{cfg}:{line}"), tmp_path))
    # Broken TOML: random damage to a valid file, kept when tomllib itself refuses it.
    import tomllib

    good, _ = toml_with("keep_min", 3, BASE)
    made = 0
    while made < 20:
        chars = list(good)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(chars))
            chars[pos:pos + rng.randint(0, 2)] = rng.choice(['"', "[", "]", "=", "\n", "{", ",", "'", "\\", "#", ""])
        text = "".join(chars)
        try:
            tomllib.loads(text)
            continue
        except tomllib.TOMLDecodeError:
            pass
        cfg = tmp_path / f"broken{made}.toml"
        cfg.write_text(text)
        cases.append(Case(f"broken TOML {made}", ["config", "--config", str(cfg)], {},
                          lambda r, c=cfg: judge(r, 2, names=[f"{c}: invalid TOML"]), tmp_path))
        made += 1
    # Files that are not what a config file should be.
    odd = tmp_path / "odd"
    odd.mkdir()
    plants = {
        "fifo": lambda p: os.mkfifo(p), "directory": lambda p: p.mkdir(), "symlink": lambda p: p.symlink_to("/etc/hostname"),
        "dangling symlink": lambda p: p.symlink_to(odd / "nowhere"), "missing": lambda p: None,
        "not UTF-8": lambda p: p.write_bytes(b'state = "\xff\xfe"\n'), "BOM": lambda p: p.write_bytes(b"\xef\xbb\xbfkeep_min = 3\n"),
        "2 MB": lambda p: p.write_bytes(b"# " + b"x" * (2 << 20) + b"\n"), "NUL bytes": lambda p: p.write_bytes(b"keep_min = 3\x00\n"),
        "unknown key": lambda p: p.write_text("keep_mni = 3\n"), "unknown table": lambda p: p.write_text("[chian]\nwallet = 1\n"),
        "chain not a table": lambda p: p.write_text('chain = "x"\n'), "top key in [chain]": lambda p: p.write_text('[chain]\nstate = "x"\n'),
        "socket": lambda p: _socket(p),
    }
    for name, plant in plants.items():
        p = odd / name.replace(" ", "-")
        plant(p)
        cases.append(Case(f"config file: {name}", ["config", "--config", str(p)], {},
                          lambda r, p=p: judge(r, 2, names=[str(p)]), tmp_path))
    empty = odd / "empty.toml"
    empty.write_text("")
    cases.append(Case("config file: empty", ["config", "--config", str(empty)], {}, lambda r: judge(r, 0, error_line=False), tmp_path))
    run_cases("config files", cases, tally, s, subprocess_every=SIZES["subprocess_every"])
    publish("hostile_input-config_files", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                           "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def _socket(p: Path) -> None:
    from tests.hostile.inputs_gen import _socket as make

    make(p)


def test_generated_environment(tmp_path):
    s = seed()
    rng = random.Random(s + 1)
    tally = Tally()
    cases = []
    by_key = {v: k for k, v in ENV.items()}
    base_env = {by_key[k]: (v if isinstance(v, str) else repr(v)) for k, v in BASE.items() if k in by_key}
    base_env["STATETUI_STATE"] = str(tmp_path / "state" / "trading_state.json")
    for sc in setting_cases(rng, SIZES["environment"] * 3, strings_only=True):
        if sc.key not in by_key:
            continue
        name = by_key[sc.key]
        env = {**base_env, name: sc.value}
        if "\0" in sc.value:
            continue  # an environment variable cannot hold NUL
        check = (lambda r: judge(r, 0, error_line=False, secrets=SECRETS)) if sc.value == "" else \
            _expect(sc.key, sc.value, f"environment {name}")
        cases.append(Case(f"{name}={sc.value!r} (seed {s})", ["config"], env, check, tmp_path))
        if len(cases) >= SIZES["environment"]:
            break
    run_cases("environment", cases, tally, s, subprocess_every=SIZES["subprocess_every"])
    publish("hostile_input-environment", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                          "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def test_generated_flags(tmp_path):
    s = seed()
    rng = random.Random(s + 2)
    tally = Tally()
    cases = []
    env = {"STATETUI_RPC_URL": "http://127.0.0.1:9/v2/SECRETKEY", "STATETUI_WALLET": WALLET}
    flags = list(FLAGS)
    for sc in setting_cases(rng, SIZES["flags"] * 4, strings_only=True):
        matching = [f for f in flags if FLAGS[f] == sc.key]
        if not matching or "\0" in sc.value:
            continue  # argv cannot hold NUL
        flag = matching[0]
        argv = ["config", f"{flag}={sc.value}"] if rng.random() < 0.5 else [flag, sc.value, "config"]
        cases.append(Case(f"{flag} {sc.value!r} (seed {s})", argv, env, _expect(sc.key, sc.value, flag), tmp_path))
        if len(cases) >= SIZES["flags"]:
            break
    run_cases("flags", cases, tally, s, subprocess_every=SIZES["subprocess_every"])
    publish("hostile_input-flags", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                    "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def test_every_setting_has_an_environment_variable_or_a_file_key():
    from statetui.core.config import SETTINGS

    assert set(KINDS) <= set(SETTINGS)
    assert toml_value(float("inf")) == "inf"
