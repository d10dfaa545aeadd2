"""Records of POSTs sent with an Idempotency-Key: taken before the work, answered after it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    principal: Mapped[str] = mapped_column(String(63), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of path, query and body
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the record was taken
    # Null until the first request has answered.
    status_code: Mapped[int | None]
    answer_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the answer as first sent
    answer: Mapped[str | None] = mapped_column(Text)  # that answer without its secrets
    headers: Mapped[str | None] = mapped_column(Text)  # JSON: the content type, Location and ETag replayed
