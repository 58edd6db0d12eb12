"""Off-site backup settings: the `[offsite]` table, `STATETUI_OFFSITE` / `--offsite-url`, and
the standard `AWS_ENDPOINT_URL(_S3)`.

Kept apart from core/config.py: Config only carries the raw table and the URL given by the
environment or a flag; `offsite_settings(config)` validates them into OffsiteSettings when an
off-site verb (or the backups check) needs them. Credentials are never read from statetui's
config: the S3 client takes them from the standard AWS chain (environment, shared credentials
file, instance role), and a credential-looking key in `[offsite]` is refused without echoing it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from statetui.core.errors import ConfigError
from statetui.core.redact import redact_url

DEFAULTS: dict[str, Any] = {"retention_days": 90, "keep_min": 10, "max_age_days": 8.0, "timeout": 30.0}
KEYS = ("url", "endpoint_url", "region", *DEFAULTS)
NOT_CONFIGURED = ('off-site backups are not configured: set [offsite] url = "s3://BUCKET/PREFIX" in the config file, '
                  "STATETUI_OFFSITE or --offsite-url")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
_SEGMENT = re.compile(r"^[A-Za-z0-9!_.*'()=+,;:@$ -]+$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_CREDENTIAL_WORDS = ("access", "secret", "token", "password", "passwd", "credential", "session", "apikey", "api_key")


@dataclass(frozen=True)
class OffsiteSettings:
    url: str  # s3://BUCKET or s3://BUCKET/PREFIX, normalised (no trailing slash)
    bucket: str
    prefix: str  # "" or "a/b"
    endpoint_url: str | None = None  # None: AWS S3 itself
    region: str | None = None  # None: AWS_REGION / AWS_DEFAULT_REGION / the profile's, else us-east-1
    retention_days: int = DEFAULTS["retention_days"]
    keep_min: int = DEFAULTS["keep_min"]
    max_age_days: float = DEFAULTS["max_age_days"]
    timeout: float = DEFAULTS["timeout"]

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def object_url(self, name: str) -> str:
        """The object's URL as shown and journaled. Shown whole: a validated s3:// URL holds no
        credential (parse_offsite refuses user, password, query and fragment in it)."""
        return f"{self.url}/{name}"

    def where(self) -> str:
        """The bucket URL and, for a non-AWS service, its endpoint: for messages."""
        shown = self.url  # validated: no credential in it (see object_url)
        return f"{shown} at {redact_url(self.endpoint_url)}" if self.endpoint_url else shown

    def public_dict(self) -> dict[str, Any]:
        return {"url": self.url, "endpoint_url": redact_url(self.endpoint_url) or None,
                "region": self.region, "retention_days": self.retention_days, "keep_min": self.keep_min,
                "max_age_days": self.max_age_days, "timeout": self.timeout}


def offsite_settings(config: Any, env: Mapping[str, str] | None = None, *, required: bool = True) -> OffsiteSettings | None:
    """The validated settings of `config` (its raw `offsite_table` and `offsite_url`).
    Not configured: ConfigError when `required`, else None. Misconfigured: always ConfigError."""
    table = getattr(config, "offsite_table", None) or {}
    source = f"{config.config_file}: [offsite]" if getattr(config, "config_file", None) else "[offsite]"
    return parse_offsite(table, getattr(config, "offsite_url", None), os.environ if env is None else env,
                         source=source, required=required)


def parse_offsite(table: Mapping[str, Any], url: str | None, env: Mapping[str, str], *, source: str = "[offsite]",
                  required: bool = True) -> OffsiteSettings | None:
    """`url` (from STATETUI_OFFSITE or --offsite-url) wins over the table's url."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source} must be a table")
    for key in table:
        if key not in KEYS:
            if any(word in str(key).lower() for word in _CREDENTIAL_WORDS):
                raise ConfigError(f"{source} {key}: credentials are never read from statetui's config; use the standard "
                                  "AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, an instance role)")
            raise ConfigError(f"{source}: unknown setting {str(key)[:40]!r} (known: {', '.join(KEYS)})")
    where = "--offsite-url / STATETUI_OFFSITE" if url else f"{source} url"
    raw_url = url or table.get("url")
    if raw_url in (None, ""):
        if required:
            raise ConfigError(NOT_CONFIGURED)
        return None
    bucket, prefix = _parse_url(raw_url, where)
    endpoint = table.get("endpoint_url") or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
    if endpoint is not None:
        endpoint_source = f"{source} endpoint_url" if table.get("endpoint_url") else "environment AWS_ENDPOINT_URL"
        endpoint = _parse_endpoint(endpoint, endpoint_source)
    region = table.get("region")
    if region is not None and (not isinstance(region, str) or not _REGION.match(region)):
        raise ConfigError(f"{source} region: must be a region name such as us-east-1 or auto")
    numbers = {key: _number(table[key], key, source) for key in DEFAULTS if key in table}
    return OffsiteSettings(url=f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}", bucket=bucket, prefix=prefix,
                           endpoint_url=endpoint, region=region, **numbers)


def _parse_url(value: Any, where: str) -> tuple[str, str]:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: must be a string like s3://BUCKET/PREFIX")
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        raise ConfigError(f"{where}: not a URL; expected s3://BUCKET/PREFIX") from None
    if parts.scheme != "s3":
        raise ConfigError(f"{where}: {redact_url(value)!r} is not an s3:// URL; expected s3://BUCKET/PREFIX "
                          "(a non-AWS service goes in endpoint_url)")
    if "@" in parts.netloc:
        raise ConfigError(f"{where}: credentials never go in the URL ({redact_url(value)}); use the standard AWS chain")
    if parts.query or parts.fragment or ":" in parts.netloc:
        raise ConfigError(f"{where}: {redact_url(value)!r} must be s3://BUCKET/PREFIX with no port, query or fragment")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(f"{where}: {bucket!r} is not a valid bucket name (3-63 letters, digits, dots, hyphens)")
    segments = [s for s in parts.path.strip("/").split("/")] if parts.path.strip("/") else []
    for seg in segments:
        if seg in ("", ".", "..") or not _SEGMENT.match(seg):
            raise ConfigError(f"{where}: prefix {parts.path!r} has an empty, '.', '..' or unusual segment")
    return bucket, "/".join(segments)


def _parse_endpoint(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: must be a string like https://s3.example.com")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ConfigError(f"{where}: {redact_url(value)!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {redact_url(value)!r} must be an http(s):// URL")
    if "@" in parts.netloc or parts.query:
        raise ConfigError(f"{where}: credentials never go in the endpoint URL ({redact_url(value)}); "
                          "use the standard AWS chain")
    if parts.fragment:
        raise ConfigError(f"{where}: {redact_url(value)!r} must not have a fragment")
    return value.strip().rstrip("/")


def _number(value: Any, key: str, source: str) -> int | float:
    whole = key in ("retention_days", "keep_min")
    if isinstance(value, bool) or not isinstance(value, (int, float) if not whole else int):
        raise ConfigError(f"{source} {key}: must be a {'whole number' if whole else 'number'}, not {value!r}")
    if key == "keep_min" and value < 1:
        raise ConfigError(f"{source} keep_min: must be at least 1 (the newest off-site backup is never pruned)")
    if key == "retention_days" and value < 0:
        raise ConfigError(f"{source} retention_days: must be 0 or more")
    if key in ("max_age_days", "timeout") and not (0 < value < float("inf")):
        raise ConfigError(f"{source} {key}: must be a positive number")
    return int(value) if whole else float(value)


def public_offsite(config: Any) -> dict[str, Any] | str | None:
    """For `statetui config`: the settings (redacted), None when not configured, or the error."""
    try:
        settings = offsite_settings(config, required=False)
    except ConfigError as exc:
        return f"invalid: {exc}"
    return settings.public_dict() if settings else None
