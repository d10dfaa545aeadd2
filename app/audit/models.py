"""Audit events (one per accepted change, chained by keyed hashes, append-only) and the signed head."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_kind", "entity_key"),
        # GET /v1/audit?entity_key=… pages in sequence order: one index range scan.
        Index("ix_audit_events_entity_key_seq", "entity_key", "seq"),
        Index("ix_audit_events_actor", "actor"),
        Index("ix_audit_events_at", "at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(32))
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_key: Mapped[str] = mapped_column(String(127))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's latest sequence and hash, signed; one row, moved in the transaction of each append.

    Kept apart from the chain so a cut tail shows: the head names an event that is gone. Seq 0
    with the genesis hash and no signature is the head of an empty chain.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
