"""Source URLs at rest: Fernet-encrypted with a key stretched from the settings secret, answered redacted."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.fernet import Fernet

SENSITIVE_PARAMS = ("pass", "secret", "token", "key", "pwd", "auth", "cred")


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"yardstick-source-url:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(url: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(url.encode()).decode()


def decrypt(token: str, secret_key: str) -> str:
    return _fernet(secret_key).decrypt(token.encode()).decode()


def redact(url: str) -> str:
    """`postgresql://app:s3cret@db/warehouse?password=x` -> `postgresql://app:***@db/warehouse?password=***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = urlencode(
        [(k, "***" if any(s in k.lower() for s in SENSITIVE_PARAMS) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
