"""Register and look up sources. Admins only; the stored URL is encrypted and never answered,
and a URL is accepted only where sources may reach (app/reach.py)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Caller
from app.db import utcnow
from app.engines.registry import kind_of, target_of
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app import sealed
from app.reach import Reach
from app.sources import redaction
from app.sources.models import Source
from app.sources.schemas import SourceIn, SourceOut


def _out(source: Source) -> SourceOut:
    return SourceOut(
        name=source.name, kind=source.kind, url=source.url_redacted, description=source.description,
        created_by=source.created_by, created_at=source.created_at,
    )


async def create_source(session: AsyncSession, caller: Caller, data: SourceIn, secret_key: str, reach: Reach) -> SourceOut:
    caller.require_admin()
    try:
        kind, target = kind_of(data.url), target_of(data.url)
    except Invalid as exc:
        raise Invalid(exc.message, pointer="/url", code=exc.code) from None
    if await session.scalar(select(Source.id).where(Source.name == data.name)):
        raise Conflict(f"source '{data.name}' exists", code=ErrorCode.SOURCE_EXISTS)
    await asyncio.to_thread(reach.check, target, pointer="/url")
    now = utcnow()
    source = Source(
        name=data.name, kind=kind, url_encrypted=sealed.seal(data.url, secret_key, sealed.SOURCE_URL),
        url_redacted=redaction.redact(data.url), description=data.description,
        created_by=caller.name, created_at=now, updated_at=now,
    )
    session.add(source)
    await session.flush()
    await audit.record(
        session, actor=caller.name, action="source.create", entity_kind="source", entity_key=data.name,
        after={"kind": kind, "url": source.url_redacted, "description": data.description},
    )
    return _out(source)


async def list_sources(session: AsyncSession, caller: Caller) -> list[SourceOut]:
    caller.require_admin()
    return [_out(s) for s in await session.scalars(select(Source).order_by(Source.name))]


async def get_source(session: AsyncSession, caller: Caller, name: str) -> SourceOut:
    caller.require_admin()
    return _out(await _source(session, name))


async def _source(session: AsyncSession, name: str) -> Source:
    source = await session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise NotFound(f"source '{name}' not found", code=ErrorCode.SOURCE_NOT_FOUND)
    return source


async def source_exists(session: AsyncSession, name: str) -> bool:
    return bool(await session.scalar(select(Source.id).where(Source.name == name)))


async def connection_info(session: AsyncSession, names: set[str], secret_key: str) -> dict[str, tuple[str, str]]:
    """Internal: source name -> (kind, decrypted URL), for the engines only."""
    rows = await session.scalars(select(Source).where(Source.name.in_(names)))
    return {s.name: (s.kind, sealed.unseal(s.url_encrypted, secret_key, sealed.SOURCE_URL)) for s in rows}
