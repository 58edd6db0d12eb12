"""One line for every way talking to an S3 bucket can fail.

The S3 client's own errors are long (the request URL, the server's XML, a debug dump); an
operator needs the cause and what to do. The cause is read from the S3 error code in the
server's answer, else from the transport error; the secret key from the environment is
masked in anything that is passed through."""

from __future__ import annotations

import os
import re
from typing import Mapping

from statetui.core.errors import StatetuiError


class OffsiteError(StatetuiError):
    """Off-site storage could not be used (network, bucket, credentials, clock, a bad object).
    Nothing local was changed."""

    exit_code = 4


class OffsiteObjectRefused(OffsiteError):
    """A downloaded object failed verification (tampered, truncated, not a state)."""


_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{1,300})</Message>")
_STATUS = re.compile(r"status code: (\d{3})")

_BY_CODE = {
    "NoSuchBucket": "bucket {bucket} does not exist (create it, or fix [offsite] url)",
    "InvalidAccessKeyId": "wrong credentials: the access key is not known to the server (check AWS_ACCESS_KEY_ID "
                          "or the profile in ~/.aws/credentials)",
    "SignatureDoesNotMatch": "wrong credentials: the secret key does not match the access key (check "
                             "AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)",
    "AccessDenied": "access denied: these credentials may not {op} in {bucket}",
    "AllAccessDisabled": "access denied: all access to bucket {bucket} is disabled",
    "RequestTimeTooSkewed": "clock skew: this machine's clock is too far from the server's; set the time "
                            "(timedatectl set-ntp true, or chrony) and retry",
    "RequestExpired": "clock skew: the request had expired on arrival; check this machine's clock",
    "ExpiredToken": "expired credentials: the session token has expired; refresh the credentials",
    "InvalidToken": "wrong credentials: the session token is not valid",
    "TokenRefreshRequired": "expired credentials: the session token must be refreshed",
    "PermanentRedirect": "wrong region: the bucket is in another region; set [offsite] region or AWS_REGION",
    "AuthorizationHeaderMalformed": "wrong region or endpoint: set [offsite] region or AWS_REGION to the bucket's",
    "SlowDown": "the server asks to slow down (rate limited); retry later",
    "ServiceUnavailable": "the server is unavailable (HTTP 503); retry later",
    "InternalError": "the server failed (HTTP 500); retry later",
}
_NETWORK = ("error sending request", "connection refused", "tcp connect", "dns error", "failed to lookup",
            "timed out", "timeout", "connection reset", "broken pipe", "network is unreachable",
            "no route to host", "connection closed", "tls", "certificate", "hyper", "io error")
_NO_CREDENTIALS = ("credential", "instance metadata", "imds", "web identity", "token file")


def describe(exc: BaseException, *, where: str, bucket: str, op: str, env: Mapping[str, str] | None = None) -> OffsiteError:
    """The OffsiteError for a failed `op` ("list", "upload", "download", "delete") on `where`."""
    env = os.environ if env is None else env
    text = str(exc)
    code = _first(_CODE, text)
    status = _first(_STATUS, text)
    if code in _BY_CODE:
        cause = _BY_CODE[code].format(bucket=bucket, op=op)
    elif code:
        message = _first(_MESSAGE, text) or "no message"
        cause = f"S3 error {code} (HTTP {status or '?'}): {message}"
    elif status in ("401", "403"):
        cause = "access denied (HTTP %s): check the credentials and the bucket's policy" % status
    elif status == "404":
        cause = "not found (HTTP 404): check the bucket name and the endpoint"
    elif status:
        cause = f"the server answered HTTP {status}"
    elif any(word in text.lower() for word in _NO_CREDENTIALS) and "status code" not in text:
        cause = ("no usable AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile in "
                 "~/.aws/credentials, or run with an instance role")
    elif any(word in text.lower() for word in _NETWORK):
        cause = f"network error: {_network_detail(text)}"
    else:
        cause = _first_line(text)
    return OffsiteError(mask_secrets(f"{where}: cannot {op}: {cause}; nothing local was changed", env))


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(1) if m else None


def _network_detail(text: str) -> str:
    low = text.lower().replace("retry_timeout", "")  # the client's retry settings, not the cause
    for needle, say in (("connection refused", "connection refused"), ("timed out", "timed out"),
                        ("timeout", "timed out"), ("dns", "the host name does not resolve"),
                        ("failed to lookup", "the host name does not resolve"), ("certificate", "TLS certificate"),
                        ("connection reset", "connection reset"), ("unreachable", "network unreachable")):
        if needle in low:
            return f"{say} (is the endpoint right and reachable?)"
    return "the server could not be reached (is the endpoint right and reachable?)"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:200]


def mask_secrets(text: str, env: Mapping[str, str]) -> str:
    """Belt and braces: no secret from the AWS environment ever reaches a message."""
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        secret = env.get(name)
        if secret and len(secret) >= 8:  # a real secret; never mask ordinary words
            text = text.replace(secret, "***")
    return text
