"""KPI reviews (复盘): record one (audited), and find the KPIs past their review cadence."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Caller
from app.catalog import repository as catalog_repo
from app.catalog.kinds import METRIC, PARSED
from app.db import as_utc, utcnow
from app.errors import ErrorCode, Forbidden, Invalid, NotFound
from app.kpi import repository as repo
from app.kpi.models import Review
from app.kpi.schemas import OverdueOut, ReviewIn, ReviewOut
from app.pagination import decode_cursor, next_cursor

# A review is due one cadence after the last one (or after the metric was registered, if never reviewed).
CADENCE = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7), "monthly": dt.timedelta(days=31),
           "quarterly": dt.timedelta(days=92), "yearly": dt.timedelta(days=366)}


def _out(review: Review) -> ReviewOut:
    return ReviewOut(id=review.id, metric=review.metric_key, reviewer=review.reviewer, reviewed_at=review.reviewed_at,
                     outcome=review.outcome, note=review.note)


async def record(session: AsyncSession, caller: Caller, key: str, body: ReviewIn) -> ReviewOut:
    """Editors and approvers of the metric's domain record reviews; each lands with its audit event."""
    entity = await catalog_repo.entity(session, "metric", key)
    if entity is None:
        raise NotFound(f"metric '{key}' not found", code=ErrorCode.METRIC_NOT_FOUND)
    if not (caller.can_edit(entity.domain) or caller.has("approver", entity.domain)):
        raise Forbidden(f"recording a review needs the editor or approver role in domain '{entity.domain}'", details={"domain": entity.domain})
    now = utcnow()
    reviewed_at = as_utc(body.reviewed_at) or now
    if reviewed_at > now:
        raise Invalid("a review cannot be recorded before it is held", pointer="/reviewed_at", code=ErrorCode.REVIEW_IN_FUTURE)
    review = Review(metric_key=key, domain=entity.domain, reviewer=caller.name, reviewed_at=reviewed_at,
                    outcome=body.outcome, note=body.note, recorded_at=now)
    session.add(review)
    await session.flush()
    await audit.record(
        session, actor=caller.name, action="metric.review", entity_kind="metric", entity_key=key,
        after={"review": review.id, "reviewed_at": reviewed_at.isoformat(), "outcome": body.outcome, "note": body.note},
        reason=body.note,
    )
    return _out(review)


async def history(session: AsyncSession, caller: Caller, key: str, *, cursor: str | None, limit: int) -> tuple[list[ReviewOut], str | None]:
    entity = await catalog_repo.entity(session, "metric", key)
    if entity is None:
        raise NotFound(f"metric '{key}' not found", code=ErrorCode.METRIC_NOT_FOUND)
    caller.require_read(entity.domain)
    items = [_out(r) for r in await repo.reviews(session, key, after_id=decode_cursor(cursor, int) or 0, limit=limit)]
    return items, next_cursor(items, limit, items[-1].id if items else None)


def due_at(frequency: str, registered: dt.datetime, last: dt.datetime | None) -> dt.datetime:
    return (last or registered) + CADENCE[frequency]


async def overdue(session: AsyncSession, caller: Caller, *, domain: str | None, cursor: str | None, limit: int) -> tuple[list[OverdueOut], str | None]:
    """Metrics with a review_frequency whose next review is past due, by key."""
    rows = await catalog_repo.search(session, "metric", domains=caller.readable_domains(), domain=domain,
                                     after_key=decode_cursor(cursor, str), limit=100_000)
    cadenced = [(e, PARSED.get(METRIC, r.content_hash, r.content)) for e, r in rows]
    cadenced = [(e, d) for e, d in cadenced if d.review_frequency]
    last = await repo.last_reviews(session, [e.key for e, _ in cadenced])
    now, items = utcnow(), []
    for entity, definition in cadenced:
        due = due_at(definition.review_frequency, entity.created_at, last.get(entity.key))
        if due < now:
            items.append(OverdueOut(metric=entity.key, domain=entity.domain, owner=definition.owner,
                                    review_frequency=definition.review_frequency, last_reviewed_at=last.get(entity.key),
                                    due_at=due, days_overdue=(now - due).days))
        if len(items) == limit:
            break
    return items, next_cursor(items, limit, items[-1].metric if items else None)
