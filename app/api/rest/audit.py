"""The audit log, its signed head and its chain verification (auditors and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AuditorCaller, Cursor, Limit, ReadSession
from app.audit import service
from app.audit.schemas import AuditEventOut, AuditHeadOut, VerificationOut
from app.audit.verify import verify as verify_chain
from app.catalog.schemas import Page
from app.db import as_utc
from app.errors import responses

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(401, 403, 422))


@router.get("", response_model=Page[AuditEventOut], name="list_audit_events")
async def list_events(
    caller: AuditorCaller,
    session: ReadSession,
    entity_kind: Annotated[str | None, Query(max_length=16)] = None,
    entity_key: Annotated[str | None, Query(max_length=127)] = None,
    actor: Annotated[str | None, Query(max_length=63)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[AuditEventOut]:
    since, until = as_utc(since, pointer="/query/since"), as_utc(until, pointer="/query/until")
    flt = service.AuditFilter(entity_kind, entity_key, actor, action, since, until)
    events, cursor = await service.page(session, flt, cursor=cursor, limit=limit)
    return Page[AuditEventOut](items=[AuditEventOut.model_validate(e) for e in events], next_cursor=cursor)


@router.get("/head", response_model=AuditHeadOut, responses=responses(404), name="get_audit_head")
async def head(caller: AuditorCaller, session: ReadSession) -> AuditHeadOut:
    """For an outside monitor: keep the last head seen; a later head with a lower `seq`, or the same `seq` with another `hash`, means the log was rolled back."""
    return AuditHeadOut.model_validate(await service.head(session))


@router.get("/verify", response_model=VerificationOut, name="verify_audit_chain")
async def verify(caller: AuditorCaller, session: ReadSession) -> VerificationOut:
    """A broken chain is a 200 with `ok: false`, never an error: `first_broken_seq` and `code` say where and why."""
    return VerificationOut.model_validate(await verify_chain(session))
