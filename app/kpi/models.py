"""KPI reviews (复盘): one row per review held, appended, never changed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Review(Base):
    __tablename__ = "kpi_reviews"
    __table_args__ = (Index("ix_kpi_reviews_metric_at", "metric_key", "reviewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_key: Mapped[str] = mapped_column(String(127))
    domain: Mapped[str] = mapped_column(String(63))
    reviewer: Mapped[str] = mapped_column(String(63))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
