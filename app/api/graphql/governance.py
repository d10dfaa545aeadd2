"""Governance fields (lineage and impact, duplicates, the change feed, proposals, lifecycle and review
policy): each a short call into the service its REST twin in app/api/rest/governance.py calls,
answering that service's typed models."""

from __future__ import annotations

from typing import Annotated, Literal

import strawberry
from pydantic import BaseModel, Field
from strawberry.types import Info

from app.api.graphql.derive import derive
from app.api.graphql.inputs import PageArgs, from_input, validated
from app.api.graphql.types import Lifecycle, Policy
from app.catalog import duplicates, lifecycle
from app.catalog import schemas as catalog
from app.catalog.kinds import DATASET, KINDS, METRIC, Kind
from app.catalog.schemas import DeprecateIn, Page, PolicyIn, RetireIn
from app.governance import changes, lineage, proposals
from app.governance import schemas as governance
from app.governance.schemas import ImpactOut, LineageOut, ProposalOut, ProposalReviewIn, SubmitIn


class ChangesArgs(BaseModel):
    after: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class ProposalArgs(PageArgs):
    state: Literal["open", "accepted", "rejected"] | None = None
    domain: Annotated[str, Field(max_length=63)] | None = None


DuplicateGroup = derive(catalog.DuplicateGroup)
ChangeEvent = derive(governance.ChangeOut, name="ChangeEvent")
ChangesPage = derive(governance.ChangesPage)
Proposal = derive(ProposalOut)
ProposalPage = derive(Page[ProposalOut])
LineageNode = derive(governance.Node, name="LineageNode")
LineageEdge = derive(governance.Edge, name="LineageEdge")
Lineage = derive(LineageOut)
Impact = derive(ImpactOut)
SubmitInput = derive(SubmitIn, input=True)
DeprecateInput = derive(DeprecateIn, input=True)
RetireInput = derive(RetireIn, input=True)
ProposalReviewInput = derive(ProposalReviewIn, input=True)
PolicyInput = derive(PolicyIn, input=True)


async def _lineage(info: Info, kind: Kind, key: str) -> LineageOut:
    async with info.context.db.session() as session:
        return await lineage.lineage(session, info.context.caller, kind.name, key)


async def _impact(info: Info, kind: Kind, key: str) -> ImpactOut:
    async with info.context.db.session() as session:
        return await lineage.impact(session, info.context.caller, kind.name, key)


@strawberry.type
class GovernanceQuery:
    @strawberry.field(description="Upstream and downstream lineage of a metric, as GET /v1/metrics/{key}/lineage.")
    async def metric_lineage(self, info: Info, key: str) -> Lineage:
        return await _lineage(info, METRIC, key)

    @strawberry.field(description="Upstream and downstream lineage of a dataset, as GET /v1/datasets/{key}/lineage.")
    async def dataset_lineage(self, info: Info, key: str) -> Lineage:
        return await _lineage(info, DATASET, key)

    @strawberry.field(description="What depends on a metric, as GET /v1/metrics/{key}/impact.")
    async def metric_impact(self, info: Info, key: str) -> Impact:
        return await _impact(info, METRIC, key)

    @strawberry.field(description="What depends on a dataset, as GET /v1/datasets/{key}/impact.")
    async def dataset_impact(self, info: Info, key: str) -> Impact:
        return await _impact(info, DATASET, key)

    @strawberry.field(description="Groups of equivalent metrics, as GET /v1/metrics/duplicates.")
    async def duplicates(self, info: Info) -> list[DuplicateGroup]:
        async with info.context.db.session() as session:
            return await duplicates.groups(session, info.context.caller)

    @strawberry.field(description="Accepted changes the caller can read, in commit order, after audit sequence `after` (GET /v1/changes).")
    async def changes(self, info: Info, after: int = 0, limit: int = 100) -> ChangesPage:
        a = validated(ChangesArgs, {"after": after, "limit": limit})
        async with info.context.db.session() as session:
            return await changes.page(session, info.context.caller, a.after, a.limit)

    @strawberry.field(description="Proposals the caller may read; filters and paging as GET /v1/proposals.")
    async def proposals(
        self, info: Info, state: str | None = None, domain: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> ProposalPage:
        a = validated(ProposalArgs, {"state": state, "domain": domain, "cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await proposals.page(session, info.context.caller, state=a.state, domain=a.domain, cursor=a.cursor, limit=a.limit)
        return Page[ProposalOut](items=items, next_cursor=nxt)

    @strawberry.field(description="One proposal, as GET /v1/proposals/{id}.")
    async def proposal(self, info: Info, id: int) -> Proposal:
        async with info.context.db.session() as session:
            return await proposals.get(session, info.context.caller, id)


async def _submit(info: Info, kind: Kind, key: str, data: object) -> ProposalOut:
    caller, body = info.context.caller, from_input(SubmitIn, data)
    async with info.context.db.session(write=True) as session:
        return await proposals.submit(session, caller, kind, key, body.change_note)


async def _deprecate(info: Info, kind: Kind, key: str, data: object) -> object:
    caller, body = info.context.caller, from_input(DeprecateIn, data)
    async with info.context.db.session(write=True) as session:
        return await lifecycle.deprecate(session, caller, kind.name, key, body)


async def _retire(info: Info, kind: Kind, key: str, data: object) -> object:
    caller, body = info.context.caller, from_input(RetireIn, data)
    async with info.context.db.session(write=True) as session:
        return await lineage.retire(session, caller, kind.name, key, body.reason)


@strawberry.type
class GovernanceMutation:
    @strawberry.mutation(description="Propose a draft metric for publication (POST /v1/metrics/{key}/submit).")
    async def submit_metric(self, info: Info, key: str, input: SubmitInput | None = None) -> Proposal:
        return await _submit(info, METRIC, key, input)

    @strawberry.mutation(description="Propose a draft dataset for publication (POST /v1/datasets/{key}/submit).")
    async def submit_dataset(self, info: Info, key: str, input: SubmitInput | None = None) -> Proposal:
        return await _submit(info, DATASET, key, input)

    @strawberry.mutation(description="Deprecate a published metric (approvers; POST /v1/metrics/{key}/deprecate).")
    async def deprecate_metric(self, info: Info, key: str, input: DeprecateInput) -> Lifecycle:
        return await _deprecate(info, METRIC, key, input)

    @strawberry.mutation(description="Deprecate a published dataset (approvers; POST /v1/datasets/{key}/deprecate).")
    async def deprecate_dataset(self, info: Info, key: str, input: DeprecateInput) -> Lifecycle:
        return await _deprecate(info, DATASET, key, input)

    @strawberry.mutation(description="Retire a deprecated metric nothing live uses (approvers; POST /v1/metrics/{key}/retire).")
    async def retire_metric(self, info: Info, key: str, input: RetireInput | None = None) -> Lifecycle:
        return await _retire(info, METRIC, key, input)

    @strawberry.mutation(description="Retire a deprecated dataset nothing live uses (approvers; POST /v1/datasets/{key}/retire).")
    async def retire_dataset(self, info: Info, key: str, input: RetireInput | None = None) -> Lifecycle:
        return await _retire(info, DATASET, key, input)

    @strawberry.mutation(description="Accept a proposal: an approver who is not its author (POST /v1/proposals/{id}/accept).")
    async def accept_proposal(self, info: Info, id: int, input: ProposalReviewInput) -> Proposal:
        caller, body = info.context.caller, from_input(ProposalReviewIn, input)
        async with info.context.db.session(write=True) as session:
            return await proposals.accept(session, caller, KINDS, id, body.comment)

    @strawberry.mutation(description="Reject a proposal: an approver who is not its author (POST /v1/proposals/{id}/reject).")
    async def reject_proposal(self, info: Info, id: int, input: ProposalReviewInput) -> Proposal:
        caller, body = info.context.caller, from_input(ProposalReviewIn, input)
        async with info.context.db.session(write=True) as session:
            return await proposals.reject(session, caller, id, body.comment)

    @strawberry.mutation(description="Turn review and duplicate refusal on or off for a domain (admins; PUT /v1/domains/{name}/policy).")
    async def set_domain_policy(self, info: Info, name: str, input: PolicyInput) -> Policy:
        caller, body = info.context.caller, from_input(PolicyIn, input)
        async with info.context.db.session(write=True) as session:
            return await lifecycle.set_policy(session, caller, name, body)
