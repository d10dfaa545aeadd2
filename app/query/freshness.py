"""The registry generation: a number that changes whenever any definition may have changed.

Resolved definitions (and lifecycle warnings) are cached per set of names (metrics, datasets,
as_of) and reused while the generation is unchanged. Every accepted change writes an audit event:
a new version, and also a deprecation or retirement, which adds no version. With several replicas
the generation is the registry's newest audit sequence, read per query with one indexed lookup; a
single process on an embedded registry counts its own commits and asks nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database


class Freshness:
    def __init__(self, db: Database, settings: Settings) -> None:
        mode = settings.registry_consistency
        self.db = db
        self.shared = mode == "shared" or (mode == "auto" and not db.is_sqlite)

    async def generation(self) -> int:
        if not self.shared:
            return self.db.generation
        async with self.db.session() as session:
            return await session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))
