"""KPI fields (targets, scorecards and their evaluation, SMART checks, reviews): each a short call
into the service its REST twin in app/api/rest/kpi.py calls, answering that service's typed models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from pydantic import ConfigDict, Field
from strawberry.types import Info

from app.api.graphql import queries
from app.api.graphql.derive import derive, derived
from app.api.graphql.inputs import PageArgs, from_input, validated
from app.api.graphql.types import Diff, Versioned, VersionPage
from app.catalog import service as catalog
from app.catalog.schemas import Page
from app.db import as_utc
from app.kpi import checks, reviews, scorecards, targets
from app.kpi import schemas as kpi
from app.kpi.kinds import SCORECARD, TARGET
from app.kpi.schemas import OverdueOut, ReviewIn, ReviewOut, ScorecardOut, TargetBatch, TargetOut


class TargetArgs(PageArgs):
    """The filters of GET /v1/targets, with the same limits."""

    model_config = ConfigDict(extra="forbid")
    metric: Annotated[str, Field(max_length=127)] | None = None
    period: Annotated[str, Field(max_length=7)] | None = None
    domain: Annotated[str, Field(max_length=63)] | None = None
    owner: Annotated[str, Field(max_length=200)] | None = None


class OverdueArgs(PageArgs):
    domain: Annotated[str, Field(max_length=63)] | None = None


class EvaluateArgs(queries.AtVersion):
    period: Annotated[str, Field(max_length=16)]


@derived(TargetOut)
class Target(Versioned):
    pass


@derived(ScorecardOut)
class Scorecard(Versioned):
    pass


TargetPage = derive(Page[TargetOut])
ScorecardPage = derive(Page[ScorecardOut])
Review = derive(ReviewOut)
ReviewPage = derive(Page[ReviewOut])
OverdueReview = derive(OverdueOut, name="OverdueReview")
OverdueReviewPage = derive(Page[OverdueOut])
EvaluationNode = derive(kpi.NodeOut, name="EvaluationNode")
Evaluation = derive(kpi.Evaluation)
MetricChecks = derive(kpi.MetricChecks)
DomainChecks = derive(kpi.DomainChecks)
TargetBatchResult = derive(kpi.TargetBatchOut, name="TargetBatchResult")
TargetBatchInput = derive(TargetBatch, input=True)
ReviewInput = derive(ReviewIn, input=True)


@strawberry.type
class KpiQuery:
    @strawberry.field(description="Targets the caller may read; filters and paging as GET /v1/targets (period only with metric).")
    async def targets(
        self, info: Info, metric: str | None = None, period: str | None = None, domain: str | None = None,
        owner: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> TargetPage:
        a = validated(TargetArgs, dict(metric=metric, period=period, domain=domain, owner=owner, cursor=cursor, limit=limit))
        prefix = f"{a.metric}|{a.period + '|' if a.period else ''}" if a.metric else None
        async with info.context.db.session() as session:
            items, nxt = await catalog.search(session, info.context.caller, TARGET, cursor=a.cursor, limit=a.limit,
                                              domain=a.domain, owner=a.owner, text=prefix)
        return Page[TargetOut](items=items, next_cursor=nxt)

    @strawberry.field(description="One target: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def target(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Target:
        return await queries.get(info, TARGET, key, version, as_of)

    @strawberry.field
    async def target_versions(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> VersionPage:
        return await queries.versions(info, TARGET, key, cursor, limit)

    @strawberry.field
    async def target_diff(self, info: Info, key: str, from_version: int, to_version: int) -> Diff:
        return await queries.diff(info, TARGET, key, from_version, to_version)

    @strawberry.field(description="Scorecards the caller may read; filters and paging as GET /v1/scorecards.")
    async def scorecards(
        self, info: Info, domain: str | None = None, owner: str | None = None, tag: str | None = None,
        status: str | None = None, level: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> ScorecardPage:
        return await queries.search(info, SCORECARD, domain=domain, owner=owner, tag=tag, status=status, level=level, q=q, cursor=cursor, limit=limit)

    @strawberry.field(description="One scorecard by name: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def scorecard(self, info: Info, name: str, version: int | None = None, as_of: dt.datetime | None = None) -> Scorecard:
        return await queries.get(info, SCORECARD, name, version, as_of)

    @strawberry.field
    async def scorecard_versions(self, info: Info, name: str, cursor: str | None = None, limit: int = 100) -> VersionPage:
        return await queries.versions(info, SCORECARD, name, cursor, limit)

    @strawberry.field
    async def scorecard_diff(self, info: Info, name: str, from_version: int, to_version: int) -> Diff:
        return await queries.diff(info, SCORECARD, name, from_version, to_version)

    @strawberry.field(description="The scorecard scored for a period (2026-03, 2026-Q1 or 2026), as GET /v1/scorecards/{name}/evaluate.")
    async def evaluate_scorecard(
        self, info: Info, name: str, period: str, version: int | None = None, as_of: dt.datetime | None = None,
    ) -> Evaluation:
        a = validated(EvaluateArgs, {"period": period, "version": version})
        ctx = info.context
        return await scorecards.evaluate(ctx.db, ctx.queries, ctx.caller, name, a.period, version=a.version, as_of=as_utc(as_of))

    @strawberry.field(description="SMART checks of one metric, as GET /v1/metrics/{key}/checks.")
    async def metric_checks(self, info: Info, key: str) -> MetricChecks:
        ctx = info.context
        return await checks.metric_checks(ctx.db, ctx.queries, ctx.caller, key)

    @strawberry.field(description="SMART checks of a domain's metrics, as GET /v1/domains/{name}/checks.")
    async def domain_checks(self, info: Info, name: str) -> DomainChecks:
        ctx = info.context
        return await checks.domain_checks(ctx.db, ctx.queries, ctx.caller, name)

    @strawberry.field(description="Reviews of one metric, newest first; paging as GET /v1/metrics/{key}/reviews.")
    async def metric_reviews(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> ReviewPage:
        a = validated(PageArgs, {"cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await reviews.history(session, info.context.caller, key, cursor=a.cursor, limit=a.limit)
        return Page[ReviewOut](items=items, next_cursor=nxt)

    @strawberry.field(description="KPIs overdue for review; filters and paging as GET /v1/reviews/overdue.")
    async def overdue_reviews(
        self, info: Info, domain: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> OverdueReviewPage:
        a = validated(OverdueArgs, {"domain": domain, "cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await reviews.overdue(session, info.context.caller, domain=a.domain, cursor=a.cursor, limit=a.limit)
        return Page[OverdueOut](items=items, next_cursor=nxt)


@strawberry.type
class KpiMutation:
    @strawberry.mutation(description="Create or re-version many targets at once, all or nothing (PUT /v1/targets).")
    async def set_targets(self, info: Info, input: TargetBatchInput) -> TargetBatchResult:
        caller, body = info.context.caller, from_input(TargetBatch, input)
        async with info.context.db.session(write=True) as session:
            return await targets.set_targets(session, caller, body)

    @strawberry.mutation(description="Record a review of a metric (POST /v1/metrics/{key}/reviews).")
    async def record_metric_review(self, info: Info, key: str, input: ReviewInput) -> Review:
        caller, body = info.context.caller, from_input(ReviewIn, input)
        async with info.context.db.session(write=True) as session:
            return await reviews.record(session, caller, key, body)
