"""Source URLs as answered: credentials redacted (at rest they are sealed, see app/sealed.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SENSITIVE_PARAMS = ("pass", "secret", "token", "key", "pwd", "auth", "cred")


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
