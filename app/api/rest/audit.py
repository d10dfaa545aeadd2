"""The audit log, its signed head and its chain verification (auditors and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.deps import AuditorCaller, Cursor, Limit, ReadSession
from app.audit import service
from app.audit.verify import Break
from app.audit.verify import verify as verify_chain
from app.catalog.schemas import Page
from app.errors import ErrorCode, NotFound, responses

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(401, 403, 422))


class AuditEventOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity_kind: str
    entity_key: str
    before: Any
    after: Any
    reason: str
    prev_hash: str
    key_id: str = Field(description="the id of the key whose HMAC `hash` is")
    hash: str


class AuditHeadOut(BaseModel):
    """The chain's latest sequence and hash, signed apart from the chain (docs/audit.md)."""

    seq: int = Field(description="the sequence of the newest event (0: none yet); it never goes down")
    hash: str = Field(description="that event's hash")
    key_id: str | None = Field(description="the key that signed the head; null only for an empty chain")
    signature: str | None = Field(description="HMAC of seq, hash and key id under that key")
    at: dt.datetime


class VerificationOut(BaseModel):
    """The chain holds (`ok`), or the first sequence that does not, with a stable `code` (docs/audit.md)."""

    ok: bool
    events: int = Field(description="events that held, from 1")
    head_seq: int | None = Field(description="the head's sequence when verification began; null when the head is missing")
    first_broken_seq: int | None
    code: Break | None
    reason: str | None


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
    flt = service.AuditFilter(entity_kind, entity_key, actor, action, since, until)
    events, cursor = await service.page(session, flt, cursor=cursor, limit=limit)
    return Page[AuditEventOut](items=[AuditEventOut.model_validate(e, from_attributes=True) for e in events], next_cursor=cursor)


@router.get("/head", response_model=AuditHeadOut, responses=responses(404), name="get_audit_head")
async def head(caller: AuditorCaller, session: ReadSession) -> AuditHeadOut:
    """For an outside monitor: keep the last head seen; a later head with a lower `seq`, or the same `seq` with another `hash`, means the log was rolled back."""
    row = await service.current_head(session)
    if row is None:
        raise NotFound("the audit head is missing; the chain cannot be trusted (docs/audit.md)", code=ErrorCode.AUDIT_HEAD_MISSING)
    return AuditHeadOut.model_validate(row, from_attributes=True)


@router.get("/verify", response_model=VerificationOut, name="verify_audit_chain")
async def verify(caller: AuditorCaller, session: ReadSession) -> VerificationOut:
    """A broken chain is a 200 with `ok: false`, never an error: `first_broken_seq` and `code` say where and why."""
    return VerificationOut.model_validate(await verify_chain(session), from_attributes=True)
