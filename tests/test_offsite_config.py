"""The [offsite] settings: precedence, validation, and credentials refused from statetui's config."""

from __future__ import annotations

import pytest

from statetui.core.config import load_config
from statetui.core.errors import ConfigError
from statetui.core.offsite_config import offsite_settings, parse_offsite


def settings(tmp_path, toml: str = "", env: dict | None = None, flags: dict | None = None):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    env = env or {}
    config = load_config(flags or {}, env=env, config_file=path)
    return offsite_settings(config, env=env, required=False)


def test_table_env_and_flag_precedence(tmp_path):
    toml = '[offsite]\nurl = "s3://from-file/bot"\nretention_days = 60\nkeep_min = 4\nmax_age_days = 3.5\n'
    s = settings(tmp_path, toml)
    assert (s.bucket, s.prefix, s.retention_days, s.keep_min, s.max_age_days) == ("from-file", "bot", 60, 4, 3.5)
    assert s.endpoint_url is None and s.timeout == 30.0
    s = settings(tmp_path, toml, env={"STATETUI_OFFSITE": "s3://from-env/a/b/"})
    assert (s.bucket, s.prefix, s.url, s.retention_days) == ("from-env", "a/b", "s3://from-env/a/b", 60)
    s = settings(tmp_path, toml, env={"STATETUI_OFFSITE": "s3://from-env"}, flags={"offsite_url": "s3://from-flag/x"})
    assert (s.bucket, s.prefix) == ("from-flag", "x")
    assert settings(tmp_path, "") is None


def test_endpoint_from_the_table_else_the_standard_aws_variables(tmp_path):
    toml = '[offsite]\nurl = "s3://bkt/p"\n'
    assert settings(tmp_path, toml, env={"AWS_ENDPOINT_URL": "https://r2.example.com/"}).endpoint_url == "https://r2.example.com"
    env = {"AWS_ENDPOINT_URL": "https://generic.example", "AWS_ENDPOINT_URL_S3": "https://s3only.example"}
    assert settings(tmp_path, toml, env=env).endpoint_url == "https://s3only.example"
    toml += 'endpoint_url = "http://127.0.0.1:8333"\n'
    assert settings(tmp_path, toml, env=env).endpoint_url == "http://127.0.0.1:8333"


@pytest.mark.parametrize("line, needle", [
    ('url = "https://bucket/x"', "is not an s3:// URL"),
    ('url = "s3://AKIAEXAMPLE:hunter2-secret@bucket/x"', "credentials never go in the URL"),
    ('url = "s3://bkt/x?X-Amz-Signature=abc"', "no port, query or fragment"),
    ('url = "s3://Bad_Bucket!/x"', "not a valid bucket name"),
    ('url = "s3://bucket/a/../b"', "segment"),
    ('url = "s3://bkt/p"\nendpoint_url = "https://user:hunter2-secret@host"', "credentials never go in the endpoint"),
    ('url = "s3://bkt/p"\nendpoint_url = "ftp://host"', "must be an http(s):// URL"),
    ('url = "s3://bkt/p"\nkeep_min = 0', "keep_min: must be at least 1"),
    ('url = "s3://bkt/p"\nretention_days = "thirty"', "retention_days: must be a whole number"),
    ('url = "s3://bkt/p"\nmax_age_days = -1', "max_age_days: must be a positive number"),
    ('url = "s3://bkt/p"\nregion = "US East"', "region"),
    ('url = "s3://bkt/p"\nretension_days = 3', "unknown setting 'retension_days'"),
    ('url = "s3://bkt/p"\naws_secret_access_key = "hunter2-secret"', "credentials are never read from statetui's config"),
    ('url = "s3://bkt/p"\naccess_key_id = "AKIAEXAMPLE"', "credentials are never read from statetui's config"),
])
def test_bad_settings_are_one_line_naming_the_key_and_never_echo_a_secret(tmp_path, line, needle):
    with pytest.raises(ConfigError) as err:
        settings(tmp_path, f"[offsite]\n{line}\n")
    message = str(err.value)
    assert needle in message and "\n" not in message
    assert "hunter2-secret" not in message and "AKIAEXAMPLE" not in message
    assert err.value.exit_code == 2


def test_not_configured_is_a_config_error_when_required(tmp_path):
    with pytest.raises(ConfigError, match="off-site backups are not configured"):
        parse_offsite({}, None, {})
    with pytest.raises(ConfigError, match=r"expected an \[offsite\] table"):
        (tmp_path / "c.toml").write_text('offsite = "s3://b"\n')
        load_config({}, env={}, config_file=tmp_path / "c.toml")


def test_statetui_config_shows_the_settings_redacted(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[offsite]\nurl = "s3://bkt/p"\nendpoint_url = "https://gw.example/'
                    'v1/abcdefghijklmnopqrstuvwxyz0123"\n')
    public = load_config({}, env={}, config_file=path).public_dict()
    assert public["offsite"]["url"] == "s3://bkt/p" and "abcdefghijklmnop" not in str(public)
    assert "offsite_table" not in public and "offsite_url" not in public


def test_only_the_offsite_module_names_the_s3_client():
    import ast
    from pathlib import Path

    pkg = Path(__file__).resolve().parent.parent / "statetui"
    naming = []
    for f in pkg.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n.split(".")[0] == "obstore" for n in names):
                naming.append(f.relative_to(pkg).as_posix())
    assert sorted(set(naming)) == ["core/offsite.py"]


@pytest.mark.parametrize("argv", [["show", "--json"], ["backups"], ["audit", "--local", "--format", "json"], ["config"]])
def test_verbs_that_are_not_offsite_never_import_the_s3_client(tmp_path, argv):
    import subprocess
    import sys

    from statetui.testing.scenarios import healthy

    sc = healthy(tmp_path)
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATETUI_", "AWS_"))}
    env.update(STATETUI_OFFSITE="s3://bucket-name/bot", AWS_EC2_METADATA_DISABLED="true", HOME=str(tmp_path))
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "statetui", *argv, "--state", str(sc.state),
                          "--pid-file", str(tmp_path / "p")], capture_output=True, text=True, timeout=60, env=env)
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "statetui.core.config" in imported and res.returncode in (0, 1), res.stderr[-500:]
    assert not [m for m in imported if m.split(".")[0] == "obstore"]


def test_offsite_timer_and_cron_examples_are_real_commands():
    import re
    import shlex
    from pathlib import Path

    from statetui.cli import build_parser

    examples = Path(__file__).resolve().parent.parent / "examples"
    text = (examples / "cron").read_text() + "".join(
        (examples / "systemd" / name).read_text() for name in ("statetui-offsite.service", "statetui-offsite-test.service"))
    commands = re.findall(r"statetui ((?:backup|prune|audit)\b[^|&\n]*--offsite[^|&\n]*)", text)
    verbs = set()
    for command in commands:
        args = build_parser().parse_args(shlex.split(command))  # a bad flag exits: the test fails
        assert args.offsite
        verbs.add(args.verb)
    assert verbs == {"backup", "prune", "audit"}
    for timer, calendar in (("statetui-offsite.timer", "Sun *-*-* 01:00:00"), ("statetui-offsite-test.timer", "*-*-01 02:00:00")):
        assert f"OnCalendar={calendar}" in (examples / "systemd" / timer).read_text()
