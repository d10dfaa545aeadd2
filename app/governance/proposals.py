"""Four-eyes review: proposals to change published definitions and submitted drafts.

An approver of the domain who is not the proposal's author accepts or rejects it with a
comment; accepting appends the version (authored by the proposer) or publishes the draft.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Caller
from app.canonical import sha256_of
from app.catalog import duplicates, lifecycle
from app.catalog import repository as repo
from app.catalog import service as catalog
from app.catalog.kinds import Kind
from app.catalog.models import Entity
from app.catalog.schemas import EntityOut
from app.db import utcnow
from app.errors import Conflict, ErrorCode, Forbidden, NotFound
from app.governance.models import Proposal
from app.governance.schemas import ProposalOut
from app.pagination import decode_cursor, next_cursor


def out(p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.id, kind=p.kind, key=p.key, domain=p.domain, action=p.action, state=p.state, base_version=p.base_version,
        author=p.author, change_note=p.change_note, definition=p.content, reviewer=p.reviewer, review_comment=p.review_comment,
        result_version=p.result_version, created_at=p.created_at, reviewed_at=p.reviewed_at,
    )


async def _open(session: AsyncSession, caller: Caller, entity: Entity, action: str, content: dict[str, Any], note: str, options: dict[str, Any]) -> Proposal:
    proposal = Proposal(
        entity_id=entity.id, kind=entity.kind, key=entity.key, domain=entity.domain, action=action, base_version=entity.current_version,
        content=content, content_hash=sha256_of(content), author=caller.name, change_note=note, options=options,
        state="open", review_comment="", created_at=utcnow(),
    )
    session.add(proposal)
    await session.flush()
    await audit.record(session, actor=caller.name, action=f"{entity.kind}.propose", entity_kind=entity.kind, entity_key=entity.key,
                       after={"proposal": proposal.id, "action": action, "base_version": entity.current_version, "definition": content}, reason=note)
    return proposal


async def patch(
    session: AsyncSession, caller: Caller, kind: Kind, key: str, body: Any, *, if_match: str | None, change_note: str, allow_duplicate: str | None
) -> EntityOut | ProposalOut:
    """PATCH: append the version directly, or, where the domain requires review, open a proposal."""
    entity, current, definition = await catalog.prepare_update(session, caller, kind, key, body, if_match=if_match)
    content = kind.dump(definition)
    if not await lifecycle.needs_review(session, entity) or sha256_of(content) == current.content_hash:
        answer, _changed = await catalog.append(session, caller, kind, entity, current, definition, change_note, allow_duplicate=allow_duplicate)
        return answer
    await catalog.check_references(session, caller, kind, definition)
    if kind.name == "metric":
        await duplicates.refuse(session, caller, definition, allow_duplicate)
    return out(await _open(session, caller, entity, "change", content, change_note, {"allow_duplicate": allow_duplicate}))


async def submit(session: AsyncSession, caller: Caller, kind: Kind, key: str, note: str) -> ProposalOut:
    """draft → in_review: the current draft version is proposed for publication."""
    entity = await repo.entity(session, kind.name, key, lock=True)
    if entity is None:
        raise NotFound(f"{kind.name} '{key}' not found", code=ErrorCode.not_found(kind.name))
    caller.require_edit(entity.domain)
    if entity.status != lifecycle.DRAFT:
        raise Conflict(f"{kind.name} '{key}' is {entity.status}; only drafts are submitted", code=ErrorCode.INVALID_TRANSITION,
                       details={"status": entity.status, "to": lifecycle.IN_REVIEW})
    current = await repo.revision(session, entity.id, entity.current_version)
    entity.status = lifecycle.IN_REVIEW
    return out(await _open(session, caller, entity, "publish", current.content, note, {}))


async def _reviewable(session: AsyncSession, caller: Caller, proposal_id: int) -> tuple[Proposal, Entity]:
    proposal = await session.get(Proposal, proposal_id, with_for_update=True)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found", code=ErrorCode.PROPOSAL_NOT_FOUND)
    caller.require_read(proposal.domain)
    lifecycle.require_approver(caller, proposal.domain)
    if proposal.author == caller.name:
        raise Forbidden("the author of a proposal cannot review it (four eyes)", code=ErrorCode.SELF_REVIEW)
    if proposal.state != "open":
        raise Conflict(f"proposal {proposal_id} is {proposal.state}", code=ErrorCode.PROPOSAL_CLOSED, details={"state": proposal.state})
    entity = await repo.entity(session, proposal.kind, proposal.key, lock=True)
    return proposal, entity


def _close(proposal: Proposal, caller: Caller, state: str, comment: str) -> None:
    proposal.state, proposal.reviewer, proposal.review_comment, proposal.reviewed_at = state, caller.name, comment, utcnow()


async def accept(session: AsyncSession, caller: Caller, kinds: dict[str, Kind], proposal_id: int, comment: str) -> ProposalOut:
    proposal, entity = await _reviewable(session, caller, proposal_id)
    if entity.current_version != proposal.base_version:
        raise Conflict(f"{entity.kind} '{entity.key}' changed since the proposal (now version {entity.current_version}); reject it and propose again",
                       code=ErrorCode.STALE_PROPOSAL, details={"current_version": entity.current_version, "base_version": proposal.base_version})
    _close(proposal, caller, "accepted", comment)
    review = {"proposal": proposal.id, "author": proposal.author, "approved_by": caller.name, "comment": comment}
    if proposal.action == "publish":
        entity.status, entity.updated_at = lifecycle.PUBLISHED, utcnow()
        proposal.result_version = entity.current_version
        await session.flush()
        await audit.record(session, actor=caller.name, action=f"{entity.kind}.publish", entity_kind=entity.kind, entity_key=entity.key,
                           before={"status": lifecycle.IN_REVIEW}, after={"status": lifecycle.PUBLISHED, "version": entity.current_version, **review},
                           reason=proposal.change_note)
        return out(proposal)
    kind = kinds[proposal.kind]
    lifecycle.require_editable(entity)
    current = await repo.revision(session, entity.id, entity.current_version)
    answer, _changed = await catalog.append(
        session, caller, kind, entity, current, kind.parse(proposal.content), proposal.change_note,
        allow_duplicate=(proposal.options or {}).get("allow_duplicate"), author=proposal.author, audit_extra=review,
    )
    proposal.result_version = answer.version
    await session.flush()
    return out(proposal)


async def reject(session: AsyncSession, caller: Caller, proposal_id: int, comment: str) -> ProposalOut:
    proposal, entity = await _reviewable(session, caller, proposal_id)
    _close(proposal, caller, "rejected", comment)
    if proposal.action == "publish" and entity.status == lifecycle.IN_REVIEW:
        entity.status = lifecycle.DRAFT
    await session.flush()
    await audit.record(session, actor=caller.name, action=f"{entity.kind}.reject", entity_kind=entity.kind, entity_key=entity.key,
                       after={"proposal": proposal.id, "author": proposal.author, "rejected_by": caller.name}, reason=comment)
    return out(proposal)


async def get(session: AsyncSession, caller: Caller, proposal_id: int) -> ProposalOut:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found", code=ErrorCode.PROPOSAL_NOT_FOUND)
    caller.require_read(proposal.domain)
    return out(proposal)


async def page(session: AsyncSession, caller: Caller, *, state: str | None, domain: str | None, cursor: str | None, limit: int) -> tuple[list[ProposalOut], str | None]:
    query = select(Proposal).where(Proposal.id > (decode_cursor(cursor, int) or 0))
    readable = caller.readable_domains()
    if readable is not None:
        query = query.where(Proposal.domain.in_(sorted(readable)))
    if state:
        query = query.where(Proposal.state == state)
    if domain:
        query = query.where(Proposal.domain == domain)
    items = [out(p) for p in (await session.scalars(query.order_by(Proposal.id).limit(limit))).all()]
    return items, next_cursor(items, limit, items[-1].id if items else None)
