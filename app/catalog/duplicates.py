"""Duplicate metrics: equal calculation fingerprints, found by an indexed lookup on the entity row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Caller
from app.catalog import lifecycle
from app.catalog.fingerprint import fingerprint
from app.catalog.models import Entity
from app.catalog.schemas import DuplicateGroup
from app.errors import Conflict, ErrorCode, Invalid

LIVE = ("draft", "in_review", "published", "deprecated")


async def equivalents(session: AsyncSession, definition: Any) -> list[tuple[str, str]]:
    """(key, domain) of live metrics (other than this one) that compute the same thing."""
    value = fingerprint(definition)
    if value is None:
        return []
    query = select(Entity.key, Entity.domain).where(
        Entity.kind == "metric", Entity.fingerprint == value, Entity.key != definition.key, Entity.status.in_(LIVE)
    ).order_by(Entity.key)
    return [(row.key, row.domain) for row in await session.execute(query)]


async def refuse(session: AsyncSession, caller: Caller, definition: Any, allow_reason: str | None) -> dict[str, Any]:
    """Check a metric being created or changed against the library; answers what the audit event notes.

    Where the domain refuses duplicates, an equivalent the caller may read is a 409 DUPLICATE_METRIC
    naming it unless the request allows it with a reason. Equivalents in domains the caller cannot read
    are never named to the caller and do not refuse (that would tell they exist); the audit event,
    which only auditors read, records them all.
    """
    found = await equivalents(session, definition)
    if not found:
        return {}
    existing = [key for key, _ in found]
    readable = [key for key, domain in found if caller.can_read(domain)]
    if allow_reason is not None:
        return {"allowed_duplicate": {"existing": existing, "reason": allow_reason}}
    if readable and await lifecycle.refuses_duplicates(session, definition.domain):
        raise Conflict(
            f"metric '{definition.key}' computes the same as '{readable[0]}'; reuse it, or send allow_duplicate with a duplicate_reason",
            code=ErrorCode.DUPLICATE_METRIC, details={"existing": readable},
        )
    return {"equivalent_to": existing}


def allow_reason(allow: Any, reason: Any) -> str | None:
    """Read the request-level `allow_duplicate` / `duplicate_reason` fields; a reason is required."""
    if allow is None or allow is False:  # not `in (None, False)`: 0 == False
        return None
    if allow is not True:
        raise Invalid("allow_duplicate is true or false", pointer="/allow_duplicate", code=ErrorCode.INVALID_FIELD)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise Invalid("allow_duplicate needs a duplicate_reason (at most 2000 characters)", pointer="/duplicate_reason", code=ErrorCode.DUPLICATE_REASON_REQUIRED)
    return reason.strip()


async def groups(session: AsyncSession, caller: Caller) -> list[DuplicateGroup]:
    """Every set of two or more live metrics sharing a fingerprint, limited to readable domains."""
    dup = (
        select(Entity.fingerprint)
        .where(Entity.kind == "metric", Entity.fingerprint.is_not(None), Entity.status.in_(LIVE))
        .group_by(Entity.fingerprint).having(func.count() > 1)
    )
    query = select(Entity.fingerprint, Entity.key, Entity.domain).where(
        Entity.kind == "metric", Entity.fingerprint.in_(dup), Entity.status.in_(LIVE)
    ).order_by(Entity.fingerprint, Entity.key)
    found: dict[str, list[str]] = {}
    for row in await session.execute(query):
        if caller.can_read(row.domain):
            found.setdefault(row.fingerprint, []).append(row.key)
    return [DuplicateGroup(fingerprint=f, metrics=keys) for f, keys in found.items() if len(keys) > 1]
