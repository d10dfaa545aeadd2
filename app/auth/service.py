"""Authentication and the administration of domains, principals, roles and keys."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import keys
from app.auth.models import GLOBAL, ApiKey, Domain, Principal, RoleGrant
from app.auth.principal import Caller
from app.auth.schemas import (
    DomainIn,
    DomainOut,
    KeyCreated,
    KeyOut,
    PrincipalCreated,
    PrincipalIn,
    PrincipalOut,
    RoleGrantIn,
    RoleGrantOut,
)
from app.db import utcnow
from app.errors import Conflict, ErrorCode, Invalid, NotFound, Unauthenticated


async def authenticate(session: AsyncSession, token: str | None) -> Caller:
    parts = keys.split_key(token or "")
    if parts is None:
        raise Unauthenticated()
    key_id, secret = parts
    row = (
        await session.execute(
            select(ApiKey, Principal.name).join(Principal, Principal.id == ApiKey.principal_id).where(ApiKey.id == key_id)
        )
    ).first()
    if row is None or row.ApiKey.revoked_at is not None or not keys.secret_matches(secret, row.ApiKey.secret_hash):
        raise Unauthenticated("the API key is unknown or revoked")
    return Caller(name=row.name, key_id=key_id, grants=await _grants(session, row.ApiKey.principal_id))


async def standing(session: AsyncSession, name: str) -> Caller | None:
    """What a principal may do now, as a Caller on one of its live keys; None once it has no live key
    (or no longer exists). For work done on its behalf later, such as webhook deliveries."""
    row = (await session.execute(
        select(ApiKey.id, ApiKey.principal_id).join(Principal, Principal.id == ApiKey.principal_id)
        .where(Principal.name == name, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id).limit(1)
    )).first()
    if row is None:
        return None
    return Caller(name=name, key_id=row.id, grants=await _grants(session, row.principal_id))


async def _grants(session: AsyncSession, principal_id: int) -> frozenset[tuple[str, str]]:
    rows = (await session.execute(select(RoleGrant.role, RoleGrant.domain).where(RoleGrant.principal_id == principal_id))).all()
    return frozenset((g.role, g.domain) for g in rows)


# --- domains -------------------------------------------------------------------------------


async def create_domain(session: AsyncSession, caller: Caller, data: DomainIn) -> DomainOut:
    caller.require_admin()
    if await session.scalar(select(Domain.id).where(Domain.name == data.name)):
        raise Conflict(f"domain '{data.name}' exists", code=ErrorCode.DOMAIN_EXISTS)
    domain = Domain(name=data.name, description=data.description, created_at=utcnow())
    session.add(domain)
    await session.flush()
    await audit.record(session, actor=caller.name, action="domain.create", entity_kind="domain", entity_key=data.name, after=data.model_dump())
    return DomainOut.model_validate(domain, from_attributes=True)


async def list_domains(session: AsyncSession) -> list[DomainOut]:
    rows = await session.scalars(select(Domain).order_by(Domain.name))
    return [DomainOut.model_validate(d, from_attributes=True) for d in rows]


async def domain_exists(session: AsyncSession, name: str) -> bool:
    return bool(await session.scalar(select(Domain.id).where(Domain.name == name)))


async def require_domain(session: AsyncSession, name: str, pointer: str) -> None:
    """A domain a body names (a reference): 422 UNKNOWN_DOMAIN when it is not registered."""
    if not await domain_exists(session, name):
        raise Invalid(f"domain '{name}' is not registered", pointer=pointer, code=ErrorCode.UNKNOWN_DOMAIN)


async def find_domain(session: AsyncSession, name: str) -> None:
    """A domain a path names (the resource): 404 DOMAIN_NOT_FOUND when it is not registered."""
    if not await domain_exists(session, name):
        raise NotFound(f"domain '{name}' not found", code=ErrorCode.DOMAIN_NOT_FOUND)


# --- principals ----------------------------------------------------------------------------


async def _principal(session: AsyncSession, name: str) -> Principal:
    principal = await session.scalar(select(Principal).where(Principal.name == name))
    if principal is None:
        raise NotFound(f"principal '{name}' not found", code=ErrorCode.PRINCIPAL_NOT_FOUND)
    return principal


async def _describe(session: AsyncSession, principal: Principal) -> PrincipalOut:
    grants = await session.scalars(select(RoleGrant).where(RoleGrant.principal_id == principal.id).order_by(RoleGrant.role, RoleGrant.domain))
    key_rows = await session.scalars(select(ApiKey).where(ApiKey.principal_id == principal.id).order_by(ApiKey.created_at))
    return PrincipalOut(
        name=principal.name,
        display_name=principal.display_name,
        kind=principal.kind,
        roles=[RoleGrantOut(role=g.role, domain=None if g.domain == GLOBAL else g.domain) for g in grants],
        keys=[KeyOut.model_validate(k, from_attributes=True) for k in key_rows],
    )


async def _replace_roles(session: AsyncSession, principal: Principal, roles: list[RoleGrantIn]) -> None:
    for i, grant in enumerate(roles):
        if grant.domain is not None:
            await require_domain(session, grant.domain, f"/roles/{i}/domain")
    await session.execute(delete(RoleGrant).where(RoleGrant.principal_id == principal.id))
    unique = {(g.role, g.domain or GLOBAL) for g in roles}
    session.add_all(RoleGrant(principal_id=principal.id, role=role, domain=domain) for role, domain in sorted(unique))
    await session.flush()


def _roles_json(roles: list[RoleGrantIn]) -> list[dict]:
    return sorted((g.model_dump() for g in roles), key=lambda g: (g["role"], g["domain"] or ""))


async def create_principal(session: AsyncSession, caller: Caller, data: PrincipalIn) -> PrincipalCreated:
    caller.require_admin()
    if await session.scalar(select(Principal.id).where(Principal.name == data.name)):
        raise Conflict(f"principal '{data.name}' exists", code=ErrorCode.PRINCIPAL_EXISTS)
    principal = Principal(name=data.name, display_name=data.display_name or data.name, kind=data.kind, created_at=utcnow())
    session.add(principal)
    await session.flush()
    await _replace_roles(session, principal, data.roles)
    key_id, api_key = await _add_key(session, principal, label="initial")
    await audit.record(
        session, actor=caller.name, action="principal.create", entity_kind="principal", entity_key=data.name,
        after={"kind": data.kind, "roles": _roles_json(data.roles), "key_id": key_id},
    )
    described = await _describe(session, principal)
    return PrincipalCreated(**described.model_dump(), api_key=api_key)


async def list_principals(session: AsyncSession, caller: Caller) -> list[PrincipalOut]:
    caller.require_admin()
    principals = await session.scalars(select(Principal).order_by(Principal.name))
    return [await _describe(session, p) for p in principals]


async def set_roles(session: AsyncSession, caller: Caller, name: str, roles: list[RoleGrantIn]) -> PrincipalOut:
    caller.require_admin()
    principal = await _principal(session, name)
    before = (await _describe(session, principal)).model_dump(mode="json")["roles"]
    await _replace_roles(session, principal, roles)
    await audit.record(
        session, actor=caller.name, action="principal.roles", entity_kind="principal", entity_key=name,
        before=before, after=_roles_json(roles),
    )
    return await _describe(session, principal)


async def _add_key(session: AsyncSession, principal: Principal, label: str) -> tuple[str, str]:
    key_id, api_key, secret_hash = keys.new_key()
    session.add(ApiKey(id=key_id, principal_id=principal.id, secret_hash=secret_hash, label=label, created_at=utcnow()))
    try:
        await session.flush()
    except IntegrityError as exc:  # a 64-bit id collision: astronomically rare, never silent
        raise Conflict("key id collision, try again", code=ErrorCode.KEY_COLLISION) from exc
    return key_id, api_key


async def create_key(session: AsyncSession, caller: Caller, name: str, label: str | None) -> KeyCreated:
    caller.require_admin()
    principal = await _principal(session, name)
    key_id, api_key = await _add_key(session, principal, label or "")
    await audit.record(session, actor=caller.name, action="key.create", entity_kind="principal", entity_key=name, after={"key_id": key_id, "label": label or ""})
    return KeyCreated(id=key_id, api_key=api_key)


async def revoke_key(session: AsyncSession, caller: Caller, key_id: str) -> KeyOut:
    caller.require_admin()
    row = (await session.execute(select(ApiKey, Principal.name).join(Principal).where(ApiKey.id == key_id))).first()
    if row is None:
        raise NotFound(f"key '{key_id}' not found", code=ErrorCode.KEY_NOT_FOUND)
    key = row.ApiKey
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        await audit.record(session, actor=caller.name, action="key.revoke", entity_kind="principal", entity_key=row.name, after={"key_id": key_id})
    return KeyOut.model_validate(key, from_attributes=True)


async def bootstrap_admin(session: AsyncSession, name: str = "admin") -> str | None:
    """Create the first admin and answer its key; None when any principal exists already."""
    if await session.scalar(select(Principal.id).limit(1)):
        return None
    principal = Principal(name=name, display_name="Local administrator", kind="person", created_at=utcnow())
    session.add(principal)
    await session.flush()
    session.add(RoleGrant(principal_id=principal.id, role="admin", domain=GLOBAL))
    key_id, api_key = await _add_key(session, principal, label="bootstrap")
    await audit.record(session, actor="system", action="principal.create", entity_kind="principal", entity_key=name, after={"kind": "person", "roles": [{"role": "admin", "domain": None}], "key_id": key_id})
    return api_key
