"""Queries on versioned entities; takes the session, holds no rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Entity, Revision


async def entity(session: AsyncSession, kind: str, key: str, *, lock: bool = False) -> Entity | None:
    query = select(Entity).where(Entity.kind == kind, Entity.key == key)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def revision(session: AsyncSession, entity_id: int, version: int) -> Revision | None:
    return await session.scalar(select(Revision).where(Revision.entity_id == entity_id, Revision.version == version))


async def revision_as_of(session: AsyncSession, entity_id: int, as_of: dt.datetime) -> Revision | None:
    return await session.scalar(
        select(Revision)
        .where(Revision.entity_id == entity_id, Revision.created_at <= as_of)
        .order_by(Revision.version.desc())
        .limit(1)
    )


async def revisions(session: AsyncSession, entity_id: int, *, after_version: int, limit: int) -> list[Revision]:
    query = (
        select(Revision)
        .where(Revision.entity_id == entity_id, Revision.version > after_version)
        .order_by(Revision.version)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def _current_join(query: Select) -> Select:
    return query.join(Revision, and_(Revision.entity_id == Entity.id, Revision.version == Entity.current_version))


async def current_many(session: AsyncSession, kind: str, keys: Iterable[str]) -> list[tuple[Entity, Revision]]:
    keys = list(keys)
    if not keys:
        return []
    query = _current_join(select(Entity, Revision)).where(Entity.kind == kind, Entity.key.in_(keys))
    return [(row.Entity, row.Revision) for row in await session.execute(query)]


async def as_of_many(session: AsyncSession, kind: str, keys: Iterable[str], as_of: dt.datetime) -> list[tuple[Entity, Revision]]:
    keys = list(keys)
    if not keys:
        return []
    latest = (
        select(Revision.entity_id, func.max(Revision.version).label("version"))
        .join(Entity, Entity.id == Revision.entity_id)
        .where(Entity.kind == kind, Entity.key.in_(keys), Revision.created_at <= as_of)
        .group_by(Revision.entity_id)
        .subquery()
    )
    query = (
        select(Entity, Revision)
        .join(latest, latest.c.entity_id == Entity.id)
        .join(Revision, and_(Revision.entity_id == Entity.id, Revision.version == latest.c.version))
    )
    return [(row.Entity, row.Revision) for row in await session.execute(query)]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    session: AsyncSession,
    kind: str,
    *,
    domains: set[str] | None,
    domain: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    level: str | None = None,
    text: str | None = None,
    after_key: str | None = None,
    limit: int,
) -> list[tuple[Entity, Revision]]:
    query = _current_join(select(Entity, Revision)).where(Entity.kind == kind)
    if domains is not None:
        query = query.where(Entity.domain.in_(sorted(domains)))
    for column, value in ((Entity.domain, domain), (Entity.owner, owner), (Entity.status, status), (Entity.level, level)):
        if value is not None:
            query = query.where(column == value)
    if tag is not None:
        query = query.where(Entity.tags.like(f"%|{escape_like(tag)}|%", escape="\\"))
    if text:
        words = [w for w in text.casefold().split() if w]
        query = query.where(*(Entity.search_text.like(f"%{escape_like(w)}%", escape="\\") for w in words))
    if after_key is not None:
        query = query.where(Entity.key > after_key)
    return [(row.Entity, row.Revision) for row in await session.execute(query.order_by(Entity.key).limit(limit))]


async def current_of_kinds(session: AsyncSession, kinds: Iterable[str]) -> list[tuple[Entity, Revision]]:
    """The current revision of every entity of these kinds (lineage works on the whole graph)."""
    query = _current_join(select(Entity, Revision)).where(Entity.kind.in_(list(kinds))).order_by(Entity.kind, Entity.key)
    return [(row.Entity, row.Revision) for row in await session.execute(query)]
