"""URLs as answered: credentials redacted (at rest, source URLs are sealed, see app/sealed.py).

Redacted: the password of the user information (or all of it, for webhooks, where a bare user is
often a token), query parameters and `;key=value` path parameters (Spark Connect's `;token=`)
whose name looks secret.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SENSITIVE_PARAMS = ("pass", "secret", "token", "key", "pwd", "auth", "cred", "sig", "code")
MASK = "***"


def sensitive(name: str) -> bool:
    return any(s in name.lower() for s in SENSITIVE_PARAMS)


def redact(url: str, *, keep_user: bool = True) -> str:
    """`postgresql://app:s3cret@db/w?password=x` -> `postgresql://app:***@db/w?password=***`;
    `sc://spark:15002/;token=t;user_id=ys` -> `sc://spark:15002/;token=***;user_id=ys`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        if not keep_user:
            netloc = f"{MASK}@{host}"
        else:
            netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    path = ";".join(segment if i == 0 else _path_param(segment) for i, segment in enumerate(parts.path.split(";")))
    query = urlencode([(k, MASK if sensitive(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _path_param(segment: str) -> str:
    name, eq, _ = segment.partition("=")
    return f"{name}={MASK}" if eq and sensitive(name) else segment
