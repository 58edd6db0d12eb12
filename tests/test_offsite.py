"""Off-site backups against a real S3 server (SeaweedFS on loopback, one per module), driven
through the real `statetui` command as an operator would."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from statetui.core.backups import Backups
from statetui.core.store import StateStore
from statetui.testing.seaweed import SeaweedS3, SeaweedUnavailable, find_weed
from statetui.testing.states import left_by_a_stopped_bot
from tests.conftest import run_cli

try:
    find_weed()
except SeaweedUnavailable as exc:  # pragma: no cover - the test extra installs it
    pytest.skip(str(exc), allow_module_level=True)


pytestmark = pytest.mark.xdist_group("offsite")  # one S3 server for the module, on one worker


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


class Bot:
    """One bot's folder, its config pointing at its own prefix, and the CLI with AWS creds
    in the environment only (HOME is the sandbox: no ~/.aws of the machine is read)."""

    def __init__(self, tmp_path: Path, s3: SeaweedS3, prefix: str, **offsite):
        self.root = tmp_path
        self.s3 = s3
        self.state = tmp_path / "state" / "trading_state.json"
        self.backups = self.state.parent / "backups"
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir(parents=True)
        self.prefix = prefix
        table = {"url": f"s3://{s3.bucket}/{prefix}", "endpoint_url": s3.endpoint, **offsite}
        lines = ["[offsite]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
        self.config = tmp_path / "config.toml"
        self.config.write_text(f'state = "{self.state}"\npid_file = "{tmp_path / "bot.pid"}"\n' + "\n".join(lines) + "\n")
        self.env = {**s3.env, "HOME": str(tmp_path), "TMPDIR": str(self.tmpdir), "STATETUI_CONFIG": str(self.config)}
        self.outputs: list[str] = []

    def run(self, *args: str, **env: str):
        res = run_cli(*args, env={**self.env, **env})
        self.outputs += [res.stdout, res.stderr]
        return res

    def init(self, balance: float = 200.0) -> StateStore:
        store = StateStore(self.state)
        store.init({"current_balance": balance, "peak_balance": balance, "positions": []})
        return store

    def client(self):
        import obstore.store

        return obstore.store.S3Store(self.s3.bucket, prefix=self.prefix, endpoint=self.s3.endpoint,
                                     access_key_id=self.s3.access_key, secret_access_key=self.s3.secret_key,
                                     region="us-east-1", client_options={"allow_http": True})

    def objects(self) -> dict[str, int]:
        import obstore

        return {m["path"]: m["size"] for batch in obstore.list(self.client()) for m in batch}


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and mtime: to show nothing local changed."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(res, *needles: str) -> str:
    assert res.returncode == 4, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("statetui: error: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_push_list_and_idempotent_repush(tmp_path, s3):
    bot = Bot(tmp_path, s3, "push")
    bot.init()
    first = bot.run("backup", "--offsite", "--reason", "weekly")
    assert first.returncode == 0, first.stderr
    assert "pushed 1, already there 0" in first.stdout
    again = bot.run("backup", "--offsite", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert len(report["pushed"]) == 1 and len(report["already_there"]) == 1
    local = {p.name: p.stat().st_size for p in bot.backups.iterdir() if not p.name.startswith(".")}  # (.statetui-index.json: the backups index)
    assert bot.objects() == local  # same names (time, reason, sha256 prefix) and sizes

    listed = bot.run("backups", "--offsite", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["backups"]
    assert [r["name"] for r in rows] == sorted(local, reverse=True)  # newest first
    assert all(0 <= r["age_s"] < 120 and r["size"] == local[r["name"]] for r in rows)
    assert rows[-1]["reason"] == "weekly" and rows[0]["url"].startswith(f"s3://{s3.bucket}/push/")
    # The full sha256 rides along as metadata and matches the content.
    import obstore

    got = obstore.get(bot.client(), rows[0]["name"])
    data = bytes(got.bytes())
    assert got.attributes["sha256"] == hashlib.sha256(data).hexdigest() and got.attributes["size"] == str(len(data))
    assert data == (bot.backups / rows[0]["name"]).read_bytes()


def test_disaster_restore_after_losing_backups_and_corrupting_the_state(tmp_path, s3):
    bot = Bot(tmp_path, s3, "disaster")
    store = bot.init(200.0)
    with store.transaction("trade win") as state:
        state.current_balance = 212.5
        state.peak_balance = 212.5
    assert bot.run("backup", "--offsite").returncode == 0
    good = bot.state.read_bytes()
    shutil.rmtree(bot.backups)  # the disk lost the backups...
    bot.state.write_bytes(b'{"current_balance": 21')  # ...and the state is half written
    left_by_a_stopped_bot(bot.state)  # by a bot that has since stopped (a fresh outside write refuses)

    plan = bot.run("restore", "--offsite", "latest", "--plan")
    assert plan.returncode == 0, plan.stderr
    assert "downloaded and verified" in plan.stdout and "current_balance: null → 212.5" in plan.stdout
    assert bot.state.read_bytes() == b'{"current_balance": 21'  # a plan writes nothing
    # The plan pins `latest` to the object and its sha256; the command it prints applies exactly that.
    hint = plan.stdout.split("to apply: ", 1)[1].strip()
    assert hint.startswith("statetui repair restore-offsite --backup trading_state.") and " --sha256 " in hint
    res = bot.run(*hint.split()[1:], "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert bot.state.read_bytes() == good
    assert "verify state-file: PASS" in res.stdout and "undo: statetui restore " in res.stdout
    # The corrupt file was kept first (as quarantine: it is no backup); the journal names the object's URL.
    kept = [p for p in bot.state.parent.iterdir() if p.name.startswith("trading_state.json.corrupt-")]
    assert [p.read_bytes() for p in kept] == [b'{"current_balance": 21']
    last = json.loads((bot.state.parent / "trading_state.journal.jsonl").read_text().splitlines()[-1])
    assert last["reason"].startswith(f"restore off-site s3://{s3.bucket}/disaster/trading_state.")
    assert list(bot.tmpdir.iterdir()) == []  # the download's temp folder is gone

    # A new machine: no state folder at all. The same command brings the state back.
    fresh = Bot(tmp_path / "new-vps", s3, "disaster")
    name = hint.split("--backup ", 1)[1].split()[0]
    stale = fresh.run("repair", "restore-offsite", "--backup", name, "--sha256", "0" * 64, "--apply", "--yes")
    assert stale.returncode == 4 and "the object changed since the plan was made" in stale.stderr, stale.stderr
    assert not fresh.state.parent.exists()  # refused: nothing written
    res = fresh.run("restore", "--offsite", "latest", "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert fresh.state.read_bytes() == good


def _pushed(bot: Bot) -> tuple[str, bytes]:
    bot.init(150.0)
    assert bot.run("backup", "--offsite").returncode == 0
    name = next(iter(bot.objects()))
    return name, (bot.backups / name).read_bytes()


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_damaged_object_is_refused_with_one_line(tmp_path, s3, damage):
    import obstore

    bot = Bot(tmp_path, s3, f"damaged-{damage}")
    name, data = _pushed(bot)
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "size": str(len(data))}
    if damage == "tampered":  # same size, one value changed, metadata left as it was
        bad = data.replace(b"150.0", b"950.0")
        assert len(bad) == len(data) and bad != data
    else:  # the first half, as an interrupted copy would leave it
        bad = data[: len(data) // 2]
    obstore.put(bot.client(), name, bad, attributes=meta)
    bot.state.write_bytes(b"{}")
    before = tree(bot.root / "state")

    res = bot.run("restore", "--offsite", name, "--yes")
    line = one_line_error(res, name, "refusing it")
    assert ("checksum mismatch" if damage == "tampered" else "truncated object") in line
    assert tree(bot.root / "state") == before and list(bot.tmpdir.iterdir()) == []

    # The audit's off-site restore test fails on it too, and writes nothing.
    audit = bot.run("audit", "--check", "backups", "--offsite", "--json")
    findings = [f for c in json.loads(audit.stdout)["checks"] for f in c["findings"]]
    assert any(f["severity"] == "FAIL" and "off-site restore test failed" in f["message"] for f in findings)
    assert tree(bot.root / "state") == before


def test_wrong_credentials_missing_bucket_and_unreachable_endpoint(tmp_path, s3):
    bot = Bot(tmp_path, s3, "errors")
    bot.init()
    before = tree(bot.root / "state")
    dead = s3.endpoint.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1 of loopback
    cases = [
        (("backup", "--offsite"), {"AWS_SECRET_ACCESS_KEY": "not-the-secret-" + "x" * 20}, "wrong credentials"),
        (("backups", "--offsite"), {"AWS_ACCESS_KEY_ID": "AKIANOSUCHKEY0000000"}, "wrong credentials"),
        (("backup", "--offsite", "--offsite-url", "s3://no-such-bucket/x"), {}, "does not exist"),
        (("restore", "--offsite", "latest", "--yes"), {"AWS_ENDPOINT_URL": dead}, "network error"),
        (("prune", "--offsite"), {"AWS_ENDPOINT_URL": dead}, "network error"),
    ]
    bot.config.write_text(bot.config.read_text().replace(f'endpoint_url = "{s3.endpoint}"\n', ""))
    for args, env, needle in cases:
        env = {"AWS_ENDPOINT_URL": s3.endpoint, **env}
        started = time.monotonic()
        res = bot.run(*args, **env)
        one_line_error(res, needle, "nothing local was changed")
        assert time.monotonic() - started < 30
        assert tree(bot.root / "state") == before, args
    assert not bot.backups.exists()


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (Debian package faketime) to skew the clock")
def test_clock_skew_is_one_line(tmp_path, s3):
    bot = Bot(tmp_path, s3, "skew")
    bot.init()
    before = tree(bot.root / "state")
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("STATETUI_")}
    res = subprocess.run(["faketime", "-f", "-2h", sys.executable, "-m", "statetui", "backup", "--offsite"],
                         env={**env, **bot.env}, capture_output=True, text=True, timeout=60)
    one_line_error(res, "clock skew")
    assert tree(bot.root / "state") == before


def test_retention_prunes_old_objects_only_and_never_local_files(tmp_path, s3):
    bot = Bot(tmp_path, s3, "retention", retention_days=30, keep_min=2)
    bot.init()
    raw = bot.state.read_bytes()
    backups = Backups(bot.state)
    now = time.time()
    for days in (100, 60, 40, 20, 10):
        backups.snapshot(raw, "weekly", now=now - days * 86400)
    assert bot.run("backup", "--offsite").returncode == 0
    assert len(bot.objects()) == 6
    local_before = tree(bot.backups)
    dry = json.loads(bot.run("prune", "--offsite", "--dry-run", "--json").stdout)
    assert len(dry["would_remove"]) == 3 and len(bot.objects()) == 6  # the 100, 60 and 40 day old ones
    res = bot.run("prune", "--offsite")
    assert res.returncode == 0 and "removed 3 off-site backup(s)" in res.stdout
    kept = sorted(bot.objects())
    assert len(kept) == 3 and set(kept) <= set(local_before)
    assert tree(bot.backups) == local_before  # off-site retention never touches local backups
    # keep_min wins over age: with a 0-day retention the newest two stay.
    assert len(json.loads(bot.run("prune", "--offsite", "--keep-days", "0", "--json").stdout)["removed"]) == 1
    assert len(bot.objects()) == 2


def test_age_in_the_audit_and_a_sandboxed_restore_test(tmp_path, s3):
    bot = Bot(tmp_path, s3, "audit", max_age_days=8)
    bot.init()
    Backups(bot.state).snapshot(bot.state.read_bytes(), "weekly", now=time.time() - 9 * 86400)
    assert bot.run("backup", "--offsite").returncode == 0
    os.remove(next(p for p in bot.backups.iterdir() if ".manual." in p.name))
    for obj in [n for n in bot.objects() if ".manual." in n]:
        import obstore

        obstore.delete(bot.client(), obj)  # only the 9-day-old one is off-site now

    def offsite_findings(*flags):
        res = bot.run("audit", "--check", "backups", "--json", *flags)
        check = json.loads(res.stdout)["checks"][0]
        return check, [f for f in check["findings"] if "off-site" in f["message"]]

    check, found = offsite_findings()
    assert [f["severity"] for f in found] == ["WARNING"] and "9.0 days old (limit 8 days)" in found[0]["message"]
    assert check["data"]["offsite"]["count"] == 1
    assert bot.run("backup", "--offsite").returncode == 0
    before = tree(bot.root / "state")
    check, found = offsite_findings("--offsite")
    assert [f["severity"] for f in found] == ["OK", "OK"], found
    assert "restore test" in found[1]["message"] and check["data"]["offsite"]["restore_test"] == "ok"
    assert tree(bot.root / "state") == before  # the restore test wrote nothing here


def test_credentials_from_the_shared_file_and_the_secret_never_shown_or_stored(tmp_path, s3, lock_holder):
    bot = Bot(tmp_path, s3, "secret")
    creds = tmp_path / "aws-credentials"
    creds.write_text(f"[ops]\naws_access_key_id = {s3.access_key}\naws_secret_access_key = {s3.secret_key}\n")
    bot.env = {k: v for k, v in bot.env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    bot.env.update(AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PROFILE="ops")
    store = bot.init()
    assert bot.run("backup", "--offsite").returncode == 0, bot.outputs[-1]
    with store.transaction("trade loss") as state:
        state.current_balance = 150.0
    listed = bot.run("backups", "--offsite")
    assert listed.returncode == 0 and "AGE" in listed.stdout and ".manual." in listed.stdout
    assert bot.run("audit", "--offsite").returncode in (0, 1)
    assert bot.run("config", "--json").returncode == 0
    holder = lock_holder(tmp_path / "bot.pid")
    assert bot.run("restore", "--offsite", "latest", "--yes").returncode == 5  # the bot holds its lock
    holder.stop()
    assert bot.run("restore", "--offsite", "latest", "--yes").returncode == 0
    # The secret from the environment, wrong or right, is never echoed either.
    bot.env.update(AWS_ACCESS_KEY_ID=s3.access_key, AWS_SECRET_ACCESS_KEY=s3.secret_key[::-1])
    assert bot.run("backups", "--offsite").returncode == 4
    bot.config.write_text(bot.config.read_text() + f'secret_access_key = "{s3.secret_key}"\n')
    refused = bot.run("backups", "--offsite")
    assert refused.returncode == 2 and "credentials are never read from statetui's config" in refused.stderr
    creds.unlink()
    bot.config.unlink()
    for secret in (s3.secret_key, s3.secret_key[::-1]):
        assert not any(secret in out for out in bot.outputs)
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("size", [(120, 32), (80, 24)])
async def test_console_lists_off_site_beside_local_and_restores_through_the_wizard(tmp_path, s3, monkeypatch, size):
    from statetui.core.config import Config
    from statetui.core.offsite import OffsiteStore
    from statetui.core.offsite_config import offsite_settings
    from statetui.testing import scenarios
    from statetui.tui.app import StateTuiApp
    from statetui.tui.screens.backups import BackupsScreen
    from tests.tui.conftest import ready, screen_text, wait_for
    from statetui.tui import fmt
    from statetui.tui.dialogs import ConfirmScreen
    from statetui.tui.screens.repair import RepairScreen

    for key in [k for k in os.environ if k.startswith(("STATETUI_", "AWS_"))]:
        monkeypatch.delenv(key)
    for key, value in {**s3.env, "HOME": str(tmp_path), "TERM": "xterm-256color"}.items():
        monkeypatch.setenv(key, value)
    sc = scenarios.healthy(tmp_path)
    prefix = f"console-{size[0]}"
    config = Config(state=sc.state, backup_dir=sc.backups, pid_file=tmp_path / "bot.pid",
                    offsite_table={"url": f"s3://{s3.bucket}/{prefix}", "endpoint_url": s3.endpoint})
    store = StateStore(sc.state, backup_dir=sc.backups)
    remote = OffsiteStore(offsite_settings(config), sc.state.stem)
    remote.push(store.backups.list(verify=True), store.backups.read)
    pushed = remote.list()
    with store.transaction("trade loss") as state:
        state.current_balance = 1.0  # now differs from every backup
    shutil.rmtree(sc.backups)

    app = StateTuiApp(config, audit_on_start=False)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, audit=False)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BackupsScreen), "the backups screen")
        table = app.screen.query_one("#offsite-table")
        await wait_for(pilot, lambda: table.row_count == len(pushed), "the off-site list")
        text = screen_text(app)
        assert "Off-site · s3://" in text and "no backups in" in text, text  # both sides on one screen
        assert f"{len(pushed)} off-site, newest" in text and fmt.utc_time(pushed[0].created)[:16] in text
        table.focus()
        await pilot.press("enter")  # the same wizard as a local restore: plan, confirm, apply, verify
        await wait_for(pilot, lambda: isinstance(app.screen, RepairScreen) and not app.screen.busy, "the plan")
        wizard = app.screen
        assert wizard.plan.can_apply and "downloaded and verified" in screen_text(app), screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: wizard.step == "result" and not wizard.busy, "the result")
        assert wizard.repair_id == "restore-offsite" and wizard.outcome.ok, screen_text(app)
    assert sc.state.read_bytes() == remote.download(pushed[0])
    assert store.journal.last()["reason"].startswith(f"restore off-site s3://{s3.bucket}/{prefix}/")
