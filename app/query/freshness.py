"""The registry generation: a number that changes whenever any definition may have changed.

Resolved definitions are cached per request shape and reused while the generation is
unchanged. With several replicas the generation is the registry's newest audit sequence
(every accepted change writes one event), read per query with one indexed lookup; a single
process on an embedded registry counts its own commits and asks nothing.
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
