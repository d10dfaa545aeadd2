"""Answer shapes of the audit log: its events and the verification of its chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventOut(BaseModel):
    """One accepted change in the hash-chained audit log."""

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
    hash: str


class VerificationOut(BaseModel):
    """The audit chain recomputed: whether every event still matches its hash and its predecessor."""

    model_config = ConfigDict(from_attributes=True)
    ok: bool
    events: int
    first_broken_seq: int | None
    reason: str | None
