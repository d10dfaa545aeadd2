"""Governance read resolvers (lineage and impact, duplicates, the change feed, proposals): each a
short call into the service its REST twin in app/api/rest/governance.py calls. Lineage graphs and
impact answers are JSON holding the same model_dump REST answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import strawberry
from pydantic import BaseModel, Field
from strawberry.scalars import JSON
from strawberry.types import Info

from app.api.graphql.inputs import PageArgs, validated
from app.api.graphql.types import Page, from_model
from app.catalog import duplicates
from app.governance import changes, lineage, proposals


class ChangesArgs(BaseModel):
    after: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class ProposalArgs(PageArgs):
    state: Literal["open", "accepted", "rejected"] | None = None
    domain: Annotated[str, Field(max_length=63)] | None = None


@strawberry.type(description="Metrics whose calculations are equivalent after normalisation.")
class DuplicateGroup:
    fingerprint: str
    metrics: list[str]


@strawberry.type(description="One accepted change to a dataset, metric, target or scorecard.")
class ChangeEvent:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    kind: str
    key: str
    domain: str | None
    version: int | None


@strawberry.type(description="A page of the change feed; pass nextCursor (or cursor, to poll) as `after`.")
class ChangesPage:
    items: list[ChangeEvent]
    next_cursor: str | None = strawberry.field(description="pass as `after` to continue; null when this page is the end")
    cursor: str = strawberry.field(description="where the feed stands now; poll again with `after` this")


@strawberry.type(description="A change or publication waiting for (or closed by) an approver's review.")
class Proposal:
    id: int
    kind: str
    key: str
    domain: str
    action: str = strawberry.field(description="change | publish")
    state: str = strawberry.field(description="open | accepted | rejected")
    base_version: int
    author: str
    change_note: str
    definition: JSON
    reviewer: str | None
    review_comment: str
    result_version: int | None
    created_at: dt.datetime
    reviewed_at: dt.datetime | None


async def _lineage(info: Info, kind: str, key: str) -> JSON:
    async with info.context.db.session() as session:
        return (await lineage.lineage(session, info.context.caller, kind, key)).model_dump(mode="json")


async def _impact(info: Info, kind: str, key: str) -> JSON:
    async with info.context.db.session() as session:
        return (await lineage.impact(session, info.context.caller, kind, key)).model_dump(mode="json")


@strawberry.type
class GovernanceQuery:
    @strawberry.field(description="Upstream lineage of a metric (LineageOut of GET /v1/metrics/{key}/lineage).")
    async def metric_lineage(self, info: Info, key: str) -> JSON:
        return await _lineage(info, "metric", key)

    @strawberry.field(description="Upstream lineage of a dataset (LineageOut of GET /v1/datasets/{key}/lineage).")
    async def dataset_lineage(self, info: Info, key: str) -> JSON:
        return await _lineage(info, "dataset", key)

    @strawberry.field(description="What depends on a metric (ImpactOut of GET /v1/metrics/{key}/impact).")
    async def metric_impact(self, info: Info, key: str) -> JSON:
        return await _impact(info, "metric", key)

    @strawberry.field(description="What depends on a dataset (ImpactOut of GET /v1/datasets/{key}/impact).")
    async def dataset_impact(self, info: Info, key: str) -> JSON:
        return await _impact(info, "dataset", key)

    @strawberry.field(description="Groups of equivalent metrics, as GET /v1/metrics/duplicates.")
    async def duplicates(self, info: Info) -> list[DuplicateGroup]:
        async with info.context.db.session() as session:
            return [from_model(DuplicateGroup, g) for g in await duplicates.groups(session, info.context.caller)]

    @strawberry.field(description="Accepted changes the caller can read, in commit order, after audit sequence `after` (GET /v1/changes).")
    async def changes(self, info: Info, after: int = 0, limit: int = 100) -> ChangesPage:
        a = validated(ChangesArgs, {"after": after, "limit": limit})
        async with info.context.db.session() as session:
            out = await changes.page(session, info.context.caller, a.after, a.limit)
        return ChangesPage(items=[from_model(ChangeEvent, c) for c in out.items], next_cursor=out.next_cursor, cursor=out.cursor)

    @strawberry.field(description="Proposals the caller may read; filters and paging as GET /v1/proposals.")
    async def proposals(
        self, info: Info, state: str | None = None, domain: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> Page[Proposal]:
        a = validated(ProposalArgs, {"state": state, "domain": domain, "cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await proposals.page(session, info.context.caller, state=a.state, domain=a.domain, cursor=a.cursor, limit=a.limit)
        return Page(items=[from_model(Proposal, p) for p in items], next_cursor=nxt)

    @strawberry.field(description="One proposal, as GET /v1/proposals/{id}.")
    async def proposal(self, info: Info, id: int) -> Proposal:
        async with info.context.db.session() as session:
            return from_model(Proposal, await proposals.get(session, info.context.caller, id))
