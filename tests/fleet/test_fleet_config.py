"""[[bots]] tables: inheritance, names, one-line errors with file:line, --bot, `statetui bots`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from statetui.core.config import load_config
from statetui.core.errors import ConfigError, UsageError
from statetui.core.fleet import DEFAULT_BOT_NAME, load_fleet, select_bot
from tests.conftest import run_cli
from tests.fleet.fleetkit import fleet_config, write_state

FLEET = """halt_threshold = 0.25
[chain]
rpc_url = "https://polygon.example/v2/SECRETKEY"

[[bots]]
name = "alpha"
state = "alpha/state.json"
notify = ["tgram://123456:SECRETTOKEN/999"]
[bots.chain]
wallet = "0x1111111111111111111111111111111111111111"

[[bots]]
name = "beta"
state = "beta/state.json"
halt_threshold = "50%"
[bots.fields]
cash = "bankroll"
"""


def test_bots_inherit_the_top_level_and_override_it(tmp_path):
    (tmp_path / "c.toml").write_text(FLEET)
    alpha, beta = load_fleet({}, env={}, config_file=tmp_path / "c.toml")
    assert (alpha.name, beta.name) == ("alpha", "beta")
    assert alpha.config.state == tmp_path / "alpha" / "state.json"  # relative to the file's folder
    assert alpha.config.halt_threshold == Decimal("0.25") and beta.config.halt_threshold == Decimal("0.5")
    assert alpha.config.rpc_url == "https://polygon.example/v2/SECRETKEY" == beta.config.rpc_url
    assert alpha.config.wallet == "0x1111111111111111111111111111111111111111" and beta.config.wallet is None
    assert beta.config.fields == {"cash": "bankroll"} and alpha.config.fields == {}
    assert [u.reveal() for u in alpha.config.notify] == ["tgram://123456:SECRETTOKEN/999"]


def test_flags_and_environment_win_over_a_bots_table(tmp_path):
    (tmp_path / "c.toml").write_text(FLEET)
    bots = load_fleet({"state": str(tmp_path / "x.json")}, env={"STATETUI_HALT_THRESHOLD": "0.4"},
                      config_file=tmp_path / "c.toml")
    assert all(b.config.state == tmp_path / "x.json" and b.config.halt_threshold == Decimal("0.4") for b in bots)


def test_single_bot_keys_are_one_implicit_bot(tmp_path):
    (tmp_path / "c.toml").write_text('state = "s/state.json"\n')
    (bot,) = load_fleet({}, env={}, config_file=tmp_path / "c.toml")
    assert bot.name == DEFAULT_BOT_NAME and bot.config.state == tmp_path / "s" / "state.json"
    (tmp_path / "c.toml").write_text('name = "solo"\nstate = "s/state.json"\n')
    assert select_bot(load_fleet({}, env={}, config_file=tmp_path / "c.toml"), None).name == "solo"
    assert load_config({}, env={}, config_file=tmp_path / "c.toml").state == tmp_path / "s" / "state.json"


def test_select_bot_defaults_to_the_only_one_else_lists_names(tmp_path):
    (tmp_path / "c.toml").write_text(FLEET)
    bots = load_fleet({}, env={}, config_file=tmp_path / "c.toml")
    assert select_bot(bots, "beta").name == "beta"
    with pytest.raises(UsageError, match=r"choose one with --bot NAME \(alpha, beta\)"):
        select_bot(bots, None)
    with pytest.raises(UsageError, match=r"no bot named 'gamma' \(configured: alpha, beta\)"):
        select_bot(bots, "gamma")


@pytest.mark.parametrize("text, needle", [
    ('[[bots]]\nname = "a"\nstate = "a.json"\n\n[[bots]]\nname = "a"\nstate = "b.json"\n',
     "c.toml:6: bots[1].name = 'a': already the name of the bot at"),
    ('[[bots]]\nname = "a b"\n', "c.toml:2: bots[0].name = 'a b': expected a bot name"),
    ('[[bots]]\nstate = "a.json"\n', "c.toml:1: bots[0]: every [[bots]] table needs a name"),
    ('[[bots]]\nname = "a"\n\n[[bots]]\nname = "b"\nhalt_threshold = 7\n',
     "c.toml:6: halt_threshold = 7: expected a fraction"),
    ('[[bots]]\nname = "a"\nbogus = 1\n', "c.toml:3: unknown setting 'bogus'"),
    ('[[bots]]\nname = "a"\n[bots.chain]\nwallet = "0x12"\n', "c.toml:4: wallet = '0x12': expected an address"),
    ('name = "x"\n[[bots]]\nname = "a"\n', "c.toml:1: name: a top-level name names the single bot"),
    ('bots = 3\n', "c.toml:1: bots: expected [[bots]] tables"),
    ('state = "s.json"\n[[bots]]\nname = "a"\n\n[[bots]]\nname = "b"\n', "c.toml:1: bots[1] ('b') state = "),
])
def test_bad_fleet_config_is_one_line_naming_file_line_and_key(tmp_path, text, needle):
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_fleet({}, env={}, config_file=tmp_path / "c.toml")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_notification_urls_never_shown(tmp_path):
    (tmp_path / "c.toml").write_text(FLEET)
    r = run_cli("--config", str(tmp_path / "c.toml"), "--bot", "alpha", "config", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["notify"] == ["tgram://***"]
    assert "SECRETTOKEN" not in r.stdout and "123456" not in r.stdout and "SECRETKEY" not in r.stdout
    (tmp_path / "c.toml").write_text('notify = ["tgram://SECRETTOKEN/1", 3]\n')
    r = run_cli("--config", str(tmp_path / "c.toml"), "config")
    assert r.returncode == 2 and "SECRETTOKEN" not in r.stderr and "notify" in r.stderr


def test_every_verb_takes_bot_and_several_bots_need_it(tmp_path):
    config = fleet_config(tmp_path, {"alpha": {"cash": 80, "peak": 100}, "beta": {"cash": 50, "peak": 50}})
    r = run_cli("--config", str(config), "show")
    assert r.returncode == 2 and "choose one with --bot NAME (alpha, beta)" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("--config", str(config), "show", "--bot", "beta", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["path"] == str(tmp_path / "beta" / "state.json")
    r = run_cli("--config", str(config), "--bot", "nope", "audit")
    assert r.returncode == 2 and "no bot named 'nope'" in r.stderr


def test_bots_lists_every_bot(tmp_path):
    config = fleet_config(tmp_path, {"alpha": {"cash": 60, "peak": 100, "halted": True},
                                     "beta": {"state": False}})
    (tmp_path / "gamma").mkdir()
    r = run_cli("--config", str(config), "bots", "--json")
    assert r.returncode == 0, r.stderr
    rows = {b["name"]: b for b in json.loads(r.stdout)["bots"]}
    assert rows["alpha"]["loads"] is True and rows["alpha"]["halted"] is True
    assert rows["beta"]["loads"] is False and "not found" in rows["beta"]["error"]
    assert rows["alpha"]["state"] == str(tmp_path / "alpha" / "state.json")
    r = run_cli("--config", str(config), "bots")
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "loads", "halted", "running"]
    assert lines[1].split()[:3] == ["alpha", "yes", "yes"] and lines[2].split()[:2] == ["beta", "no"]
