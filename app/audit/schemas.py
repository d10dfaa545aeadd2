"""Answer shapes of the audit log: its events, its signed head and the verification of its chain."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.audit.verify import Break

BreakCode = Literal[tuple(code.value for code in Break)]  # the codes as a literal: OpenAPI and GraphQL list the values


class AuditEventOut(BaseModel):
    """One accepted change in the audit log, chained by keyed hashes (docs/audit.md)."""

    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity_kind: str
    entity_key: str
    before: Any
    after: Any
    reason: str
    prev_hash: str
    key_id: str = Field(description="the id of the key whose HMAC `hash` is")
    hash: str


class AuditHeadOut(BaseModel):
    """The chain's newest sequence and hash, signed apart from the chain (docs/audit.md)."""

    model_config = ConfigDict(from_attributes=True)
    seq: int = Field(description="the sequence of the newest event (0: none yet); it never goes down")
    hash: str = Field(description="that event's hash")
    key_id: str | None = Field(description="the key that signed the head; null only for an empty chain")
    signature: str | None = Field(description="HMAC of seq, hash and key id under that key")
    at: dt.datetime


class VerificationOut(BaseModel):
    """The audit chain recomputed and held against its head: `ok`, or the first sequence that does not hold with a stable `code` (docs/audit.md)."""

    model_config = ConfigDict(from_attributes=True)
    ok: bool
    events: int = Field(description="events that held, from 1")
    head_seq: int | None = Field(description="the head's sequence when verification began; null when the head is missing")
    first_broken_seq: int | None
    code: BreakCode | None = Field(description="why the chain does not hold; null when it does")
    reason: str | None
