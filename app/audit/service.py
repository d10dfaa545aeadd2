"""Write and list the audit log: each append continues from the signed head, under the chain lock.

Events are chained by keyed hashes (app.audit.chain); the head row moves in the same transaction,
so a cut tail or a missing head shows in verification (app.audit.verify).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import KeyRing, event_hash, head_signature
from app.audit.models import AuditEvent, AuditHead
from app.config import Settings
from app.db import CHANGED, as_utc, utcnow
from app.errors import AppError, ErrorCode, NotFound
from app.pagination import decode_cursor, next_cursor

log = logging.getLogger("yardstick.audit")
# Any constant: PostgreSQL writers take this advisory lock so the chain has no forks or gaps.
CHAIN_LOCK = 7_221_340
KEYS = "yardstick.audit_keys"  # session.info: the KeyRing that signs this session's events
_DEFERRED = "yardstick.audit_deferred"  # session.info: events queued by `deferred`


class ChainBroken(AppError):
    """The head row is gone: appending would hide how the chain was cut, so no change is accepted."""

    status, code = 500, ErrorCode.AUDIT_HEAD_MISSING


def session_info(settings: Settings) -> dict[str, Any]:
    """What a Database gives every session so its events are signed: `Database(url, session_info=...)`."""
    return {KEYS: KeyRing.from_settings(settings)}


def key_ring(session: AsyncSession) -> KeyRing:
    try:
        return session.info[KEYS]
    except KeyError:
        raise RuntimeError("this session has no audit key ring: build the Database with session_info=audit.session_info(settings)") from None


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
) -> None:
    """Append one event in the caller's transaction (or queue it, inside `deferred`)."""
    fields = {"actor": actor, "action": action, "entity_kind": entity_kind, "entity_key": entity_key, "before": before, "after": after,
              "reason": reason or ""}
    if _DEFERRED in session.info:
        session.info[_DEFERRED].append(fields)
    else:
        await _append(session, [fields])


@asynccontextmanager
async def deferred(session: AsyncSession, *, append: bool = True) -> AsyncIterator[None]:
    """Queue the events recorded inside and append them together at the end, so the chain lock is
    held only for that append; with `append=False` (a dry run, rolled back after) they are dropped
    and the lock is never taken."""
    session.info[_DEFERRED] = []
    try:
        yield
    finally:
        pending = session.info.pop(_DEFERRED)
    if append and pending:
        await _append(session, pending)


async def _append(session: AsyncSession, pending: list[dict[str, Any]]) -> None:
    key = key_ring(session).current
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    head = await current_head(session)
    if head is None:
        log.error("audit head row missing: refusing to append (docs/audit.md)")
        raise ChainBroken("the audit head row is missing; restore it before changes can be recorded (docs/audit.md)")
    seq, prev_hash, now = head.seq, head.hash, utcnow()
    for fields in pending:
        seq += 1
        event = AuditEvent(seq=seq, at=now, prev_hash=prev_hash, key_id=key.id, **fields)
        event.hash = prev_hash = event_hash(key, event)
        session.add(event)
    head.seq, head.hash, head.key_id, head.at = seq, prev_hash, key.id, now
    head.signature = head_signature(key, seq, prev_hash)
    session.info[CHANGED] = True
    await session.flush()


async def current_head(session: AsyncSession) -> AuditHead | None:
    """The head row as committed now (not a copy this session loaded earlier)."""
    return await session.scalar(select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True))


async def head(session: AsyncSession) -> AuditHead:
    """The signed head for an outside monitor (callers check the auditor role); 404 when it is gone."""
    found = await current_head(session)
    if found is None:
        raise NotFound("the audit head is missing; the chain cannot be trusted (docs/audit.md)", code=ErrorCode.AUDIT_HEAD_MISSING)
    return found


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
