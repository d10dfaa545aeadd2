"""Write, list and verify the hash-chained audit log.

Each event's hash is SHA-256 over the canonical JSON of its fields plus the previous
event's hash, so changing any stored byte breaks the chain from that event on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.canonical import sha256_of
from app.db import CHANGED, as_utc, utcnow
from app.pagination import decode_cursor, next_cursor

GENESIS = "0" * 64
# Any constant: PostgreSQL writers take this advisory lock so the chain has no forks or gaps.
CHAIN_LOCK = 7_221_340


def event_hash(event) -> str:
    """SHA-256 of an event's canonical JSON (an AuditEvent or a row with the same columns)."""
    fields = {
        "seq": event.seq,
        "at": event.at.astimezone(dt.timezone.utc).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "entity_kind": event.entity_kind,
        "entity_key": event.entity_key,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }
    return sha256_of(fields)


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity_kind: str,
    entity_key: str,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    last = (await session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor=actor,
        action=action,
        entity_kind=entity_kind,
        entity_key=entity_key,
        before=before,
        after=after,
        reason=reason or "",
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.info[CHANGED] = True
    await session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    entity_kind: str | None = None
    entity_key: str | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", as_utc(self.since))
        object.__setattr__(self, "until", as_utc(self.until))


async def list_events(session: AsyncSession, flt: AuditFilter, *, after_seq: int, limit: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.seq > after_seq)
    for column, value in (
        (AuditEvent.entity_kind, flt.entity_kind),
        (AuditEvent.entity_key, flt.entity_key),
        (AuditEvent.actor, flt.actor),
        (AuditEvent.action, flt.action),
    ):
        if value is not None:
            query = query.where(column == value)
    if flt.since is not None:
        query = query.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEvent.at < flt.until)
    return list((await session.scalars(query.order_by(AuditEvent.seq).limit(limit))).all())


async def page(session: AsyncSession, flt: AuditFilter, *, cursor: str | None, limit: int) -> tuple[list[AuditEvent], str | None]:
    """One page of the log, in sequence order, and the cursor of the next (callers check the auditor role)."""
    events = await list_events(session, flt, after_seq=decode_cursor(cursor, int) or 0, limit=limit)
    return events, next_cursor(events, limit, events[-1].seq if events else None)


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession, *, batch: int = 2000) -> Verification:
    """Recompute the whole chain in sequence order; name the first event that does not hold."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    while True:
        # Plain rows, not ORM objects: verification reads the whole log and only needs the values.
        table = AuditEvent.__table__
        events = (
            await session.execute(select(table).where(table.c.seq >= expected_seq).order_by(table.c.seq).limit(batch))
        ).all()
        if not events:
            return Verification(ok=True, events=count)
        for event in events:
            if event.seq != expected_seq:
                return Verification(False, count, expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev_hash:
                return Verification(False, count, event.seq, "prev_hash does not match the previous event")
            if event_hash(event) != event.hash:
                return Verification(False, count, event.seq, "stored content does not match its hash")
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
