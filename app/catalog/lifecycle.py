"""The lifecycle draft → in_review → published → deprecated → retired, and what it means for readers.

`resolution_notes` is the pure check the query path applies: deprecated metrics resolve with
a warning, retired ones answer 410 naming their replacement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth
from app.auth.principal import Caller
from app.catalog import repository as repo
from app.catalog.models import Deprecation, DomainPolicy, Entity
from app.catalog.schemas import DeprecateIn, LifecycleOut, PolicyIn, PolicyOut, ResolutionWarning
from app.db import utcnow
from app.errors import Conflict, ErrorCode, Forbidden, Gone, Invalid, NotFound

DRAFT, IN_REVIEW, PUBLISHED, DEPRECATED, RETIRED = "draft", "in_review", "published", "deprecated", "retired"
REVIEWED = (PUBLISHED, DEPRECATED)  # statuses whose changes go through review when the domain asks for it
GOVERNED_KINDS = ("dataset", "metric")


@dataclass(frozen=True)
class EntityStatusInfo:
    key: str
    status: str
    replacement: str | None = None
    sunset: dt.date | None = None
    reason: str = ""


def resolution_notes(statuses: dict[str, EntityStatusInfo]) -> list[ResolutionWarning]:
    """Warnings for resolving these metrics; raises Gone (410) for the first retired one."""
    notes = []
    for key in sorted(statuses):
        info = statuses[key]
        if info.status == RETIRED:
            instead = f"; use '{info.replacement}'" if info.replacement else ""
            raise Gone(f"metric '{key}' is retired{instead}", code=ErrorCode.METRIC_RETIRED, details={"metric": key, "replacement": info.replacement})
        if info.status == DEPRECATED:
            until = f" until {info.sunset.isoformat()}" if info.sunset else ""
            instead = f"; use '{info.replacement}'" if info.replacement else ""
            notes.append(ResolutionWarning(code="METRIC_DEPRECATED", metric=key, message=f"metric '{key}' is deprecated{until}{instead}", replacement=info.replacement, sunset=info.sunset))
        elif info.status in (DRAFT, IN_REVIEW):
            notes.append(ResolutionWarning(code="METRIC_NOT_PUBLISHED", metric=key, message=f"metric '{key}' is a {info.status.replace('_', ' ')} definition, not published"))
    return notes


async def load_statuses(session: AsyncSession, keys: set[str], kind: str = "metric") -> dict[str, EntityStatusInfo]:
    """Status (and deprecation notes) of the named definitions, in one query."""
    if not keys:
        return {}
    query = (
        select(Entity.key, Entity.status, Deprecation.replacement, Deprecation.sunset, Deprecation.reason)
        .outerjoin(Deprecation, Deprecation.entity_id == Entity.id)
        .where(Entity.kind == kind, Entity.key.in_(sorted(keys)))
    )
    return {r.key: EntityStatusInfo(r.key, r.status, r.replacement, r.sunset, r.reason or "") for r in await session.execute(query)}


def can_approve(caller: Caller, domain: str) -> bool:
    return caller.is_admin or caller.has("approver", domain)


def require_approver(caller: Caller, domain: str) -> None:
    if not can_approve(caller, domain):
        raise Forbidden(f"this needs the approver role in domain '{domain}'", details={"domain": domain})


def require_editable(entity: Entity) -> None:
    """Definitions under review or retired are not edited in place."""
    if entity.status == IN_REVIEW:
        raise Conflict(f"{entity.kind} '{entity.key}' is in review; accept or reject its proposal first", code=ErrorCode.IN_REVIEW)
    if entity.status == RETIRED:
        raise Conflict(f"{entity.kind} '{entity.key}' is retired", code=ErrorCode.DEFINITION_RETIRED)


# --- review policy ---------------------------------------------------------------------------


async def review_required(session: AsyncSession, domain: str) -> bool:
    return bool(await session.scalar(select(DomainPolicy.review_required).where(DomainPolicy.domain == domain)))


async def refuses_duplicates(session: AsyncSession, domain: str) -> bool:
    """One indicator, one caliber: equivalents are refused unless a domain's admin turned that off."""
    refuse = await session.scalar(select(DomainPolicy.refuse_duplicates).where(DomainPolicy.domain == domain))
    return True if refuse is None else refuse


async def needs_review(session: AsyncSession, entity: Entity) -> bool:
    """A change to this definition must be proposed and accepted by an approver."""
    return entity.kind in GOVERNED_KINDS and entity.status in REVIEWED and await review_required(session, entity.domain)


def _policy_out(domain: str, row: DomainPolicy | None) -> PolicyOut:
    return PolicyOut(domain=domain, review_required=bool(row and row.review_required), refuse_duplicates=True if row is None else row.refuse_duplicates)


async def get_policy(session: AsyncSession, caller: Caller, domain: str) -> PolicyOut:
    caller.require_read(domain)
    await auth.find_domain(session, domain)
    return _policy_out(domain, await session.get(DomainPolicy, domain))


async def set_policy(session: AsyncSession, caller: Caller, domain: str, body: PolicyIn) -> PolicyOut:
    """Admins set a domain's switches; fields left out keep their value. Audited when something changes."""
    caller.require_admin()
    await auth.find_domain(session, domain)
    row = await session.get(DomainPolicy, domain)
    before = _policy_out(domain, row)
    if row is None:
        row = DomainPolicy(domain=domain, review_required=False, refuse_duplicates=True)
        session.add(row)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(row, field, value)
    row.updated_by, row.updated_at = caller.name, utcnow()
    await session.flush()
    after = _policy_out(domain, row)
    if after != before:
        await audit.record(session, actor=caller.name, action="domain.policy", entity_kind="domain", entity_key=domain,
                           before=before.model_dump(exclude={"domain"}), after=after.model_dump(exclude={"domain"}))
    return after


# --- deprecate and retire --------------------------------------------------------------------


async def _governed(session: AsyncSession, kind: str, key: str) -> Entity:
    entity = await repo.entity(session, kind, key, lock=True)
    if entity is None:
        raise NotFound(f"{kind} '{key}' not found", code=ErrorCode.not_found(kind))
    return entity


def _transition(entity: Entity, allowed_from: tuple[str, ...], to: str) -> None:
    if entity.status not in allowed_from:
        raise Conflict(
            f"{entity.kind} '{entity.key}' is {entity.status}; only {' or '.join(allowed_from)} definitions can become {to}",
            code=ErrorCode.INVALID_TRANSITION, details={"status": entity.status, "to": to},
        )


def _out(entity: Entity, dep: Deprecation | None) -> LifecycleOut:
    return LifecycleOut(kind=entity.kind, key=entity.key, status=entity.status, version=entity.current_version,
                        replacement=dep.replacement if dep else None, sunset=dep.sunset if dep else None, reason=dep.reason if dep else "")


async def deprecate(session: AsyncSession, caller: Caller, kind: str, key: str, body: DeprecateIn) -> LifecycleOut:
    entity = await _governed(session, kind, key)
    require_approver(caller, entity.domain)
    _transition(entity, (PUBLISHED,), DEPRECATED)
    if body.replacement is not None:
        other = await repo.entity(session, kind, body.replacement)
        if other is None or other.key == key or other.status in (RETIRED, DEPRECATED):
            raise Invalid(f"the replacement must be another {kind} that is neither deprecated nor retired", pointer="/replacement", code=ErrorCode.INVALID_REPLACEMENT)
    dep = await session.get(Deprecation, entity.id) or Deprecation(entity_id=entity.id)
    dep.replacement, dep.sunset, dep.reason = body.replacement, body.sunset, body.reason
    dep.deprecated_by, dep.deprecated_at = caller.name, utcnow()
    session.add(dep)
    entity.status, entity.updated_at = DEPRECATED, utcnow()
    await session.flush()
    after = {"status": DEPRECATED, "replacement": body.replacement, "sunset": body.sunset.isoformat() if body.sunset else None}
    await audit.record(session, actor=caller.name, action=f"{kind}.deprecate", entity_kind=kind, entity_key=key,
                       before={"status": PUBLISHED}, after=after, reason=body.reason)
    return _out(entity, dep)


async def retire(session: AsyncSession, caller: Caller, kind: str, key: str, reason: str, dependents: list[str]) -> LifecycleOut:
    """Retire a deprecated definition; refused while live definitions still depend on it."""
    entity = await _governed(session, kind, key)
    require_approver(caller, entity.domain)
    _transition(entity, (DEPRECATED,), RETIRED)
    if dependents:
        raise Conflict(f"{kind} '{key}' is still used by {len(dependents)} definitions; change them first",
                       code=ErrorCode.HAS_DEPENDENTS, details={"dependents": dependents})
    entity.status, entity.updated_at = RETIRED, utcnow()
    await session.flush()
    await audit.record(session, actor=caller.name, action=f"{kind}.retire", entity_kind=kind, entity_key=key,
                       before={"status": DEPRECATED}, after={"status": RETIRED}, reason=reason)
    return _out(entity, await session.get(Deprecation, entity.id))


async def status_of(session: AsyncSession, caller: Caller, kind: str, key: str) -> LifecycleOut:
    entity = await repo.entity(session, kind, key)
    if entity is None:
        raise NotFound(f"{kind} '{key}' not found", code=ErrorCode.not_found(kind))
    caller.require_read(entity.domain)
    return _out(entity, await session.get(Deprecation, entity.id))
