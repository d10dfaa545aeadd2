"""API keys: `ys_<id>_<secret>`; the id finds the row, the secret is compared by its SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "ys_"


def new_key() -> tuple[str, str, str]:
    """Return (key id, full key to show once, hash to store)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX):].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
