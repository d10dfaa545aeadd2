"""The change feed: every accepted catalog change in commit order, the audit sequence as cursor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Caller
from app.catalog.models import Entity
from app.governance.schemas import ChangeOut, ChangesPage

FEED_KINDS = ("dataset", "metric", "target", "scorecard")


def change_of(event: AuditEvent, domain: str | None) -> ChangeOut:
    after: Any = event.after
    version = after.get("version") if isinstance(after, dict) else None
    return ChangeOut(seq=event.seq, at=event.at, actor=event.actor, action=event.action, kind=event.entity_kind,
                     key=event.entity_key, domain=domain, version=version if isinstance(version, int) else None)


async def after(session: AsyncSession, after_seq: int, limit: int, *, domains: set[str] | None = None) -> list[ChangeOut]:
    """Catalog changes with seq > after_seq, oldest first; `domains` None means every domain."""
    query = (
        select(AuditEvent, Entity.domain)
        .join(Entity, and_(Entity.kind == AuditEvent.entity_kind, Entity.key == AuditEvent.entity_key))
        .where(AuditEvent.seq > after_seq, AuditEvent.entity_kind.in_(FEED_KINDS))
    )
    if domains is not None:
        query = query.where(Entity.domain.in_(sorted(domains)))
    rows = await session.execute(query.order_by(AuditEvent.seq).limit(limit))
    return [change_of(row.AuditEvent, row.domain) for row in rows]


async def page(session: AsyncSession, caller: Caller, after_seq: int, limit: int) -> ChangesPage:
    items = await after(session, after_seq, limit, domains=caller.readable_domains())
    position = items[-1].seq if items else after_seq
    return ChangesPage(items=items, next_cursor=str(position) if len(items) == limit else None, cursor=str(position))
