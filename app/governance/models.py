"""Governance tables: proposals, webhooks and their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Proposal(Base):
    """A change awaiting review: a new version of a published definition, or a draft to publish."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_domain_state", "domain", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(127))
    domain: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(16))  # "change" | "publish"
    base_version: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(63))
    change_note: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | accepted | rejected
    reviewer: Mapped[str | None] = mapped_column(String(63), nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    result_version: Mapped[int | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Webhook(Base):
    """A subscription to accepted changes; `last_seq` is the audit sequence already enqueued."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(63), nullable=True)
    metric: Mapped[str | None] = mapped_column(String(127), nullable=True)
    created_by: Mapped[str] = mapped_column(String(63))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One change sent (or to be sent) to one webhook; the body is kept so retries sign the same bytes."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_hook_seq", "webhook_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    seq: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
