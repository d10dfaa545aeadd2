"""The audit chain's keyed hashes, so that rewriting an event or the head needs the key.

An event's hash is HMAC-SHA256 over the canonical JSON of its fields, its key id and the
previous event's hash; the head (latest sequence and hash) is signed under the same key for
another purpose, so it cannot be copied from the chain. The ring's current key signs; previous
keys only verify the events they signed (rotation: docs/audit.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from app.canonical import canonical_json
from app.config import Settings

GENESIS = "0" * 64
_DERIVE = b"yardstick audit chain v1"


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_text(cls, text: str) -> AuditKey:
        """Any configured string, stretched into an HMAC key; its id is a fingerprint that reveals nothing of it."""
        secret = hmac.new(text.encode(), _DERIVE, hashlib.sha256).digest()
        return cls(hmac.new(secret, b"key id", hashlib.sha256).hexdigest()[:16], secret)

    def sign(self, purpose: str, value: Any) -> str:
        message = purpose.encode() + b"\n" + canonical_json(value).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class KeyRing:
    current: AuditKey
    previous: tuple[AuditKey, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        return cls(AuditKey.from_text(settings.audit_key or settings.secret_key), tuple(AuditKey.from_text(k) for k in settings.audit_previous_keys))

    def get(self, key_id: str | None) -> AuditKey | None:
        return next((k for k in (self.current, *self.previous) if k.id == key_id), None)


def event_fields(event: Any) -> dict[str, Any]:
    """What an event's hash covers (an AuditEvent or a row with the same columns)."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "entity_kind": event.entity_kind,
        "entity_key": event.entity_key,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
        "key_id": event.key_id,
    }


def event_hash(key: AuditKey, event: Any) -> str:
    return key.sign("event", event_fields(event))


def head_signature(key: AuditKey, seq: int, chain_hash: str) -> str:
    return key.sign("head", {"seq": seq, "hash": chain_hash, "key_id": key.id})
