"""Versioned entities: an identity row plus immutable revision rows, unique (entity, version).

Datasets and metrics (and later targets and scorecards) share this one mechanism; the
identity row carries the current version and the fields the catalog filters and searches on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index("ix_entities_kind_domain", "kind", "domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(127))
    domain: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16), default="published")
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tags: Mapped[str] = mapped_column(Text, default="")  # "|a|b|": exact tag match by LIKE '%|a|%'
    search_text: Mapped[str] = mapped_column(Text, default="")  # casefolded key, name, synonyms, caliber
    current_version: Mapped[int] = mapped_column(default=1)
    # Normalised calculation of a metric (app.catalog.fingerprint): duplicate detection is an indexed lookup.
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Revision(Base):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("entity_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    version: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(63))
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DomainPolicy(Base):
    """Per-domain switches; a domain without a row has the defaults (no review required)."""

    __tablename__ = "domain_policies"

    domain: Mapped[str] = mapped_column(String(63), primary_key=True)
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    refuse_duplicates: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(63))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deprecation(Base):
    """Why and until when a deprecated (or retired) definition lives, and what replaces it."""

    __tablename__ = "deprecations"

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    replacement: Mapped[str | None] = mapped_column(String(127), nullable=True)
    sunset: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    deprecated_by: Mapped[str] = mapped_column(String(63))
    deprecated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
