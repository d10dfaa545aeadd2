"""Queries for KPIs: targets by key prefix (current or as of a moment), reviews; no rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Entity, Revision
from app.catalog.repository import escape_like
from app.kpi.models import Review


def _prefixed(prefixes: Iterable[str]):
    return or_(*(Entity.key.like(escape_like(p) + "%", escape="\\") for p in sorted(set(prefixes))))


async def targets(session: AsyncSession, prefixes: Iterable[str], as_of: dt.datetime | None = None) -> list[Revision]:
    """Current (or as-of) revisions of the targets whose keys start with any prefix."""
    prefixes = list(prefixes)
    if not prefixes:
        return []
    if as_of is None:
        query = select(Revision).join(Entity, and_(Revision.entity_id == Entity.id, Revision.version == Entity.current_version))
        return list((await session.scalars(query.where(Entity.kind == "target", _prefixed(prefixes)))).all())
    latest = (
        select(Revision.entity_id, func.max(Revision.version).label("version"))
        .join(Entity, Entity.id == Revision.entity_id)
        .where(Entity.kind == "target", _prefixed(prefixes), Revision.created_at <= as_of)
        .group_by(Revision.entity_id)
        .subquery()
    )
    query = select(Revision).join(latest, and_(Revision.entity_id == latest.c.entity_id, Revision.version == latest.c.version))
    return list((await session.scalars(query)).all())


async def last_reviews(session: AsyncSession, metric_keys: Iterable[str]) -> dict[str, dt.datetime]:
    keys = sorted(set(metric_keys))
    if not keys:
        return {}
    query = select(Review.metric_key, func.max(Review.reviewed_at)).where(Review.metric_key.in_(keys)).group_by(Review.metric_key)
    return dict((await session.execute(query)).all())  # max() keeps the UTCDateTime type


async def reviews(session: AsyncSession, metric_key: str, *, after_id: int, limit: int) -> list[Review]:
    query = select(Review).where(Review.metric_key == metric_key, Review.id > after_id).order_by(Review.id).limit(limit)
    return list((await session.scalars(query)).all())
