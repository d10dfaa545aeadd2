"""Write-only secrets at rest (source URLs, webhook secrets): Fernet with a key stretched from
the settings secret, one derived key per purpose so a value sealed for one cannot open as another."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet

SOURCE_URL = b"yardstick-source-url"
WEBHOOK_SECRET = b"yardstick-webhook-secret"


def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    digest = hashlib.sha256(purpose + b":" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: str, secret_key: str, purpose: bytes) -> str:
    return _fernet(secret_key, purpose).encrypt(value.encode()).decode()


def unseal(token: str, secret_key: str, purpose: bytes) -> str:
    return _fernet(secret_key, purpose).decrypt(token.encode()).decode()
