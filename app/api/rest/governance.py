"""Governance routes: review policy, lifecycle, proposals, lineage and impact, duplicates, batches,
the change feed and webhooks. Thin: each route calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from app.api.deps import AppSettings, CurrentCaller, Cursor, Limit, ReadSession, RowId, WriteSession
from app.catalog import duplicates, lifecycle
from app.catalog.kinds import KINDS
from app.catalog.schemas import DeprecateIn, DuplicateGroup, LifecycleOut, Page, PolicyIn, PolicyOut, RetireIn
from app.db import MAX_INTEGER
from app.errors import responses
from app.governance import batches, changes, lineage, proposals, webhooks
from app.governance.schemas import (
    BatchIn,
    BatchOut,
    ChangesPage,
    DeliveryOut,
    ImpactOut,
    LineageOut,
    ProposalOut,
    ProposalReviewIn,
    SubmitIn,
    WebhookIn,
    WebhookOut,
)
from app.reach import Reach

router = APIRouter(tags=["governance"], responses=responses(401, 403, 422))
ProposalState = Annotated[str | None, Query(pattern="^(open|accepted|rejected)$")]


class DuplicatesOut(BaseModel):
    items: list[DuplicateGroup]


@router.get("/v1/domains/{name}/policy", response_model=PolicyOut, responses=responses(404), name="get_domain_policy")
async def get_policy(name: str, caller: CurrentCaller, session: ReadSession) -> PolicyOut:
    return await lifecycle.get_policy(session, caller, name)


@router.put("/v1/domains/{name}/policy", response_model=PolicyOut, responses=responses(404), name="set_domain_policy")
async def put_policy(name: str, body: PolicyIn, caller: CurrentCaller, session: WriteSession) -> PolicyOut:
    """Admins: turn review of changes to published definitions, and refusal of duplicates, on or off."""
    return await lifecycle.set_policy(session, caller, name, body)


@router.get("/v1/metrics/duplicates", response_model=DuplicatesOut, name="list_duplicate_metrics")
async def list_duplicates(caller: CurrentCaller, session: ReadSession) -> DuplicatesOut:
    """Groups of metrics whose calculations are equivalent after normalisation."""
    return DuplicatesOut(items=await duplicates.groups(session, caller))


def _lifecycle_routes(kind_name: str, plural: str) -> None:
    kind = KINDS[kind_name]

    @router.post(f"/v1/{plural}/{{key}}/submit", status_code=status.HTTP_201_CREATED, response_model=ProposalOut,
                 responses=responses(404, 409), name=f"submit_{kind_name}")
    async def submit(key: str, caller: CurrentCaller, session: WriteSession, response: Response, body: SubmitIn | None = None) -> ProposalOut:
        answer = await proposals.submit(session, caller, kind, key, body.change_note if body else "")
        response.headers["Location"] = f"/v1/proposals/{answer.id}"
        return answer

    @router.post(f"/v1/{plural}/{{key}}/deprecate", response_model=LifecycleOut, responses=responses(404, 409), name=f"deprecate_{kind_name}")
    async def deprecate(key: str, body: DeprecateIn, caller: CurrentCaller, session: WriteSession) -> LifecycleOut:
        return await lifecycle.deprecate(session, caller, kind_name, key, body)

    @router.post(f"/v1/{plural}/{{key}}/retire", response_model=LifecycleOut, responses=responses(404, 409), name=f"retire_{kind_name}")
    async def retire(key: str, caller: CurrentCaller, session: WriteSession, body: RetireIn | None = None) -> LifecycleOut:
        return await lineage.retire(session, caller, kind_name, key, body.reason if body else "")

    @router.get(f"/v1/{plural}/{{key}}/lifecycle", response_model=LifecycleOut, responses=responses(404), name=f"get_{kind_name}_lifecycle")
    async def status_of(key: str, caller: CurrentCaller, session: ReadSession) -> LifecycleOut:
        return await lifecycle.status_of(session, caller, kind_name, key)

    @router.get(f"/v1/{plural}/{{key}}/lineage", response_model=LineageOut, responses=responses(404), name=f"get_{kind_name}_lineage")
    async def lineage_of(key: str, caller: CurrentCaller, session: ReadSession) -> LineageOut:
        return await lineage.lineage(session, caller, kind_name, key)

    @router.get(f"/v1/{plural}/{{key}}/impact", response_model=ImpactOut, responses=responses(404), name=f"get_{kind_name}_impact")
    async def impact_of(key: str, caller: CurrentCaller, session: ReadSession) -> ImpactOut:
        return await lineage.impact(session, caller, kind_name, key)


_lifecycle_routes("dataset", "datasets")
_lifecycle_routes("metric", "metrics")


@router.get("/v1/proposals", response_model=Page[ProposalOut], name="list_proposals")
async def list_proposals(caller: CurrentCaller, session: ReadSession, state: ProposalState = None,
                         domain: Annotated[str | None, Query(max_length=63)] = None, cursor: Cursor = None, limit: Limit = 100) -> Page[ProposalOut]:
    items, next_cursor = await proposals.page(session, caller, state=state, domain=domain, cursor=cursor, limit=limit)
    return Page[ProposalOut](items=items, next_cursor=next_cursor)


@router.get("/v1/proposals/{proposal_id}", response_model=ProposalOut, responses=responses(404), name="get_proposal")
async def get_proposal(proposal_id: RowId, caller: CurrentCaller, session: ReadSession) -> ProposalOut:
    return await proposals.get(session, caller, proposal_id)


@router.post("/v1/proposals/{proposal_id}/accept", response_model=ProposalOut, responses=responses(404, 409), name="accept_proposal")
async def accept_proposal(proposal_id: RowId, body: ProposalReviewIn, caller: CurrentCaller, session: WriteSession) -> ProposalOut:
    """An approver of the domain who is not the author publishes the proposal."""
    return await proposals.accept(session, caller, KINDS, proposal_id, body.comment)


@router.post("/v1/proposals/{proposal_id}/reject", response_model=ProposalOut, responses=responses(404, 409), name="reject_proposal")
async def reject_proposal(proposal_id: RowId, body: ProposalReviewIn, caller: CurrentCaller, session: WriteSession) -> ProposalOut:
    return await proposals.reject(session, caller, proposal_id, body.comment)


@router.post("/v1/batches", response_model=BatchOut, responses=responses(400, 409, 412), name="apply_batch")
async def apply_batch(body: BatchIn, caller: CurrentCaller, session: WriteSession) -> BatchOut:
    """Apply datasets and metrics in one transaction, all or nothing; `dry_run` rolls it back and answers the plan."""
    answer = await batches.apply(session, caller, body)
    if body.dry_run:
        await session.rollback()
    return answer


@router.get("/v1/changes", response_model=ChangesPage, name="list_changes")
async def list_changes(caller: CurrentCaller, session: ReadSession,
                       after: Annotated[int, Query(ge=0, le=MAX_INTEGER, description="the audit sequence already seen (the cursor)")] = 0,
                       limit: Limit = 100) -> ChangesPage:
    """Every accepted change to datasets, metrics, targets and scorecards the caller can read, in commit order."""
    return await changes.page(session, caller, after, limit)


@router.post("/v1/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookOut, name="create_webhook")
async def create_webhook(body: WebhookIn, caller: CurrentCaller, session: WriteSession, settings: AppSettings) -> WebhookOut:
    return await webhooks.create(session, caller, body, settings.secret_key, Reach.for_webhooks(settings))


@router.get("/v1/webhooks", response_model=Page[WebhookOut], name="list_webhooks")
async def list_webhooks(caller: CurrentCaller, session: ReadSession) -> Page[WebhookOut]:
    return Page[WebhookOut](items=await webhooks.listing(session, caller), next_cursor=None)


@router.delete("/v1/webhooks/{hook_id}", response_model=WebhookOut, responses=responses(404), name="delete_webhook")
async def delete_webhook(hook_id: RowId, caller: CurrentCaller, session: WriteSession) -> WebhookOut:
    return await webhooks.deactivate(session, caller, hook_id)


@router.get("/v1/webhooks/{hook_id}/deliveries", response_model=Page[DeliveryOut], responses=responses(404), name="list_webhook_deliveries")
async def list_deliveries(hook_id: RowId, caller: CurrentCaller, session: ReadSession, cursor: Cursor = None, limit: Limit = 100) -> Page[DeliveryOut]:
    items, next_cursor = await webhooks.deliveries(session, caller, hook_id, cursor=cursor, limit=limit)
    return Page[DeliveryOut](items=items, next_cursor=next_cursor)
