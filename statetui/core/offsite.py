"""Off-site copies of the checksummed backups, in an S3-compatible bucket.

An object is `<prefix>/<backup name>`: the name carries the backup's time and the first 16
hex digits of its sha256, so an object is identified by its content and a re-push skips what
is there. The full sha256 and the size ride along as object metadata. Every download is
verified before anything uses it: size and sha256 against the metadata and the name, then
that it loads as a state; a tampered or truncated object is refused with one line.

The S3 client is obstore (Rust's object_store): ~30 ms to import against ~280 ms for boto3
or minio (README "Off-site backups"). It is imported here only, when an off-site operation
first talks to the bucket. Credentials come from the standard AWS chain, never from
statetui's config: the environment, then the shared credentials file (read here, as the
client does not), then the client's own container, web-identity and instance-role lookups."""

from __future__ import annotations

import configparser
import hashlib
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from statetui.core.backups import _OURS as BACKUP_NAME, TS_FORMAT, BackupInfo
from statetui.core.errors import StateLoadError
from statetui.core.offsite_config import OffsiteSettings
from statetui.core.offsite_errors import OffsiteError, OffsiteObjectRefused, describe

# A state file is kilobytes; anything this big is not one of ours, and is not downloaded.
MAX_OBJECT_BYTES = 64 * 1024 * 1024
_TRUE = ("1", "true", "yes", "on")


@dataclass
class RemoteBackup:
    name: str
    size: int
    created: float  # the backup's time, from its name
    uploaded: float | None  # the object's last-modified time
    expected: str  # the sha256 prefix in the name
    reason: str

    def age_s(self, now: float | None = None) -> float:
        return (now or time.time()) - self.created

    def to_dict(self, settings: OffsiteSettings, now: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": settings.object_url(self.name),
            "created": datetime.fromtimestamp(self.created, timezone.utc).isoformat(),
            "age_s": round(self.age_s(now), 1),
            "uploaded": datetime.fromtimestamp(self.uploaded, timezone.utc).isoformat() if self.uploaded else None,
            "reason": self.reason,
            "size": self.size,
            "sha256_prefix": self.expected,
        }


@dataclass
class PushReport:
    pushed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # was there with the wrong size: re-uploaded
    present: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    def to_dict(self) -> dict[str, Any]:
        return {"pushed": self.pushed, "replaced": self.replaced, "already_there": self.present,
                "skipped": [{"name": n, "why": w} for n, w in self.skipped]}


class OffsiteStore:
    """The backups of one state file (by its stem) under one bucket prefix."""

    def __init__(self, settings: OffsiteSettings, state_stem: str, env: Mapping[str, str] | None = None):
        self.settings = settings
        self.stem = state_stem
        self.env = dict(os.environ if env is None else env)
        self.others = 0  # objects under the prefix that are not this state's backups
        self._store: Any = None

    # --- reading -----------------------------------------------------------------

    def list(self) -> list[RemoteBackup]:
        """This state's backups in the bucket, newest first."""
        obstore = self._obstore()
        found: list[RemoteBackup] = []
        self.others = 0
        try:
            for batch in obstore.list(self._client(), chunk_size=1000):
                for meta in batch:
                    remote = self._parse(meta["path"], meta["size"], meta.get("last_modified"))
                    if remote is None:
                        self.others += 1
                    else:
                        found.append(remote)
        except Exception as exc:  # the client's errors: one line each, below
            raise self._error(exc, "list") from None
        return sorted(found, key=lambda r: (r.created, r.name), reverse=True)

    def _parse(self, path: str, size: int, modified: datetime | None) -> RemoteBackup | None:
        m = BACKUP_NAME.match(path)
        if "/" in path or m is None or m["stem"] != self.stem:
            return None
        created = datetime.strptime(m["ts"], TS_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        return RemoteBackup(path, int(size), created, modified.timestamp() if modified else None, m["sha"], m["reason"])

    def resolve(self, ref: str, backups: list[RemoteBackup] | None = None) -> RemoteBackup:
        """A backup by name, unique name prefix, or `latest` (the newest)."""
        backups = self.list() if backups is None else backups
        where = self.settings.where()
        if not backups:
            raise OffsiteError(f"{where}: no off-site backup of {self.stem} (push one with: statetui backup --offsite)")
        if ref == "latest":
            return backups[0]
        matches = [b for b in backups if b.name == ref] or [b for b in backups if b.name.startswith(ref)]
        if not matches:
            raise OffsiteError(f"{where}: no off-site backup named {ref!r} (see: statetui backups --offsite)")
        if len(matches) > 1:
            raise OffsiteError(f"{where}: {ref!r} matches {len(matches)} off-site backups; give more of the name")
        return matches[0]

    @contextmanager
    def fetched(self, remote: RemoteBackup) -> Iterator[BackupInfo]:
        """Download to a private temp folder, verify, and yield it as a local BackupInfo (named
        like the object, so the store checks its checksum again); removed on exit."""
        with tempfile.TemporaryDirectory(prefix="statetui-offsite-") as tmp:
            data = self.download(remote)
            path = Path(tmp) / remote.name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            yield BackupInfo(path, "statetui", remote.created, remote.reason, len(data), remote.expected,
                             checksum="ok", valid=True, sha256=hashlib.sha256(data).hexdigest())

    def download(self, remote: RemoteBackup) -> bytes:
        """The object's bytes, verified (size, sha256 by metadata and name, loads as a state)."""
        obstore = self._obstore()
        url = self.settings.object_url(remote.name)
        if remote.size > MAX_OBJECT_BYTES:
            raise OffsiteObjectRefused(f"{url}: {remote.size} bytes is too large to be a state file; refusing it")
        try:
            result = obstore.get(self._client(), remote.name)
            attributes = dict(result.attributes)
            data = bytes(result.bytes())
        except FileNotFoundError:
            raise OffsiteError(f"{url}: the object is gone (deleted since it was listed?)") from None
        except Exception as exc:
            raise self._error(exc, "download") from None
        verify_object(url, remote, data, attributes)
        return data

    # --- writing -----------------------------------------------------------------

    def push(self, local: list[BackupInfo], read: Any) -> PushReport:
        """Upload every verified statetui backup of `local` not already there (oldest first).
        `read(info)` gives a local backup's bytes; they are checked against the name again."""
        obstore = self._obstore()
        there = {r.name: r for r in self.list()}
        report = PushReport()
        for info in sorted(local, key=lambda b: (b.created, b.name)):
            if info.kind != "statetui":
                report.skipped.append((info.name, "hand-made: no checksum in its name (take one with statetui backup)"))
                continue
            if not info.name.startswith(self.stem + "."):
                continue
            if not info.ok:
                report.skipped.append((info.name, f"does not verify: {info.error or info.checksum}"))
                continue
            remote = there.get(info.name)
            if remote is not None and remote.size == info.size:
                report.present.append(info.name)
                continue
            data = read(info)
            digest = hashlib.sha256(data).hexdigest()
            if not digest.startswith(info.expected or "-"):
                report.skipped.append((info.name, "changed on disk since it was verified"))
                continue
            try:
                obstore.put(self._client(), info.name, data, use_multipart=False,
                            attributes={"Content-Type": "application/json", "sha256": digest, "size": str(len(data))})
            except Exception as exc:
                raise self._error(exc, f"upload {info.name}") from None
            (report.replaced if remote is not None else report.pushed).append(info.name)
        return report

    def prune(self, keep_days: float, keep_min: int, *, now: float | None = None, dry_run: bool = False) -> list[RemoteBackup]:
        """Delete this state's off-site backups older than `keep_days`, keeping the newest `keep_min`."""
        now = time.time() if now is None else now
        doomed = [r for r in self.list()[max(keep_min, 1):] if r.age_s(now) > keep_days * 86400]
        if doomed and not dry_run:
            try:
                self._obstore().delete(self._client(), [r.name for r in doomed])
            except Exception as exc:
                raise self._error(exc, "delete") from None
        return doomed

    # --- the client --------------------------------------------------------------

    def _obstore(self) -> Any:
        try:
            import obstore
        except ImportError:
            raise OffsiteError("off-site backups need the obstore package: pip install obstore") from None
        return obstore

    def _client(self) -> Any:
        if self._store is not None:
            return self._store
        self._obstore()
        from obstore.store import S3Store

        s = self.settings
        kwargs: dict[str, Any] = {}
        if s.endpoint_url:
            kwargs["endpoint"] = s.endpoint_url
        profile = _shared_profile(self.env)
        kwargs["region"] = (s.region or self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION")
                            or profile.get("region") or "us-east-1")
        provider = None
        if not self.env.get("AWS_ACCESS_KEY_ID"):
            if profile.get("aws_access_key_id") and profile.get("aws_secret_access_key"):
                provider = _static(profile)
            elif not _other_sources(self.env):
                raise OffsiteError(f"{s.where()}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                                   "a profile in ~/.aws/credentials, or run with an instance role")
        timeout = timedelta(seconds=s.timeout)
        options = {"timeout": timeout, "connect_timeout": min(timeout, timedelta(seconds=10)),
                   "allow_http": bool(s.endpoint_url and s.endpoint_url.startswith("http:"))}
        retry = {"max_retries": 2, "retry_timeout": timeout,
                 "backoff": {"init_backoff": timedelta(milliseconds=200), "max_backoff": timedelta(seconds=2), "base": 2}}
        try:
            self._store = S3Store(s.bucket, prefix=s.prefix or None, client_options=options, retry_config=retry,
                                  credential_provider=provider, **kwargs)
        except Exception as exc:
            raise self._error(exc, "connect") from None
        return self._store

    def _error(self, exc: BaseException, op: str) -> OffsiteError:
        return describe(exc, where=self.settings.where(), bucket=self.settings.bucket, op=op, env=self.env)


def verify_object(url: str, remote: RemoteBackup, data: bytes, attributes: Mapping[str, Any]) -> str:
    """The sha256 of a downloaded object, or OffsiteError saying why it is refused."""
    from statetui.core.jsondoc import parse_document
    from statetui.core.model import TradingState

    digest = hashlib.sha256(data).hexdigest()
    meta_sha, meta_size = str(attributes.get("sha256", "")), str(attributes.get("size", ""))
    if meta_size.isdigit() and len(data) != int(meta_size):
        kind = "truncated" if len(data) < int(meta_size) else "grown"
        raise OffsiteObjectRefused(f"{url}: {kind} object ({len(data)} bytes, uploaded as {meta_size}); refusing it")
    if not digest.startswith(remote.expected) or (meta_sha and meta_sha != digest):
        raise OffsiteObjectRefused(f"{url}: checksum mismatch (name says {remote.expected}, content is {digest[:16]}): "
                           "the object was altered or damaged; refusing it")
    try:
        TradingState.from_document(parse_document(data, url), url)
    except StateLoadError as exc:
        raise OffsiteObjectRefused(f"{url}: does not load as a state ({exc}); refusing it") from None
    return digest


def _shared_profile(env: Mapping[str, str]) -> dict[str, str]:
    """The active profile's keys and region from ~/.aws/credentials and ~/.aws/config
    (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE honoured). Unreadable: empty."""
    name = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    home = env.get("HOME") or os.path.expanduser("~")
    found: dict[str, str] = {}
    sources = ((env.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"), "default" if name == "default" else f"profile {name}"),
               (env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"), name))
    for path, section in sources:  # the credentials file wins over the config file
        parser = configparser.RawConfigParser()
        try:
            parser.read(os.path.expanduser(path), encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_section(section):
            found.update({k: v.strip() for k, v in parser.items(section)})
    return found


def _static(profile: Mapping[str, str]) -> Any:
    creds = {"access_key_id": profile["aws_access_key_id"], "secret_access_key": profile["aws_secret_access_key"],
             "token": profile.get("aws_session_token") or None, "expires_at": None}
    return lambda: creds


def _other_sources(env: Mapping[str, str]) -> bool:
    """Whether the client's own lookups (container, web identity, instance role) may find credentials."""
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return True
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return True
    return env.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() not in _TRUE
