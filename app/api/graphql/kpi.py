"""KPI read resolvers (targets, scorecards, SMART checks, reviews): each a short call into the
service its REST twin in app/api/rest/kpi.py calls. Nested answers (evaluation, checks) are JSON
holding the same model_dump REST answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from pydantic import BaseModel, ConfigDict, Field
from strawberry.scalars import JSON
from strawberry.types import Info

from app.api.graphql.inputs import PageArgs, validated
from app.api.graphql.types import Page, Versioned, from_model
from app.catalog import service as catalog
from app.db import as_utc
from app.kpi import checks, reviews, scorecards
from app.kpi.kinds import SCORECARD, TARGET


class TargetArgs(PageArgs):
    """The filters of GET /v1/targets, with the same limits."""

    model_config = ConfigDict(extra="forbid")
    metric: Annotated[str, Field(max_length=127)] | None = None
    period: Annotated[str, Field(max_length=7)] | None = None
    domain: Annotated[str, Field(max_length=63)] | None = None
    owner: Annotated[str, Field(max_length=200)] | None = None


class OverdueArgs(PageArgs):
    domain: Annotated[str, Field(max_length=63)] | None = None


class AtVersion(BaseModel):
    version: Annotated[int, Field(ge=1)] | None = None


class EvaluateArgs(AtVersion):
    period: Annotated[str, Field(max_length=16)]


@strawberry.type(description="A target value of a metric for one period (and scope), versioned.")
class Target(Versioned):
    pass


@strawberry.type(description="A weighted tree of metrics, versioned; `evaluateScorecard` scores it for a period.")
class Scorecard(Versioned):
    pass


@strawberry.type(description="One recorded review of a metric.")
class Review:
    id: int
    metric: str
    reviewer: str
    reviewed_at: dt.datetime
    outcome: str
    note: str


@strawberry.type(description="A KPI whose review_frequency has passed since its last review (or registration).")
class OverdueReview:
    metric: str
    domain: str
    owner: str
    review_frequency: str
    last_reviewed_at: dt.datetime | None
    due_at: dt.datetime
    days_overdue: int


async def _get(info: Info, cls: type[Versioned], kind, key: str, version: int | None, as_of: dt.datetime | None):
    a = validated(AtVersion, {"version": version})
    async with info.context.db.session() as session:
        out = await catalog.get(session, info.context.caller, kind, key, version=a.version, as_of=as_utc(as_of))
    return cls.from_out(out)


@strawberry.type
class KpiQuery:
    @strawberry.field(description="Targets the caller may read; filters and paging as GET /v1/targets (period only with metric).")
    async def targets(
        self, info: Info, metric: str | None = None, period: str | None = None, domain: str | None = None,
        owner: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> Page[Target]:
        a = validated(TargetArgs, dict(metric=metric, period=period, domain=domain, owner=owner, cursor=cursor, limit=limit))
        prefix = f"{a.metric}|{a.period + '|' if a.period else ''}" if a.metric else None
        async with info.context.db.session() as session:
            items, nxt = await catalog.search(session, info.context.caller, TARGET, cursor=a.cursor, limit=a.limit,
                                              domain=a.domain, owner=a.owner, text=prefix)
        return Page(items=[Target.from_out(i) for i in items], next_cursor=nxt)

    @strawberry.field(description="One target: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def target(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Target:
        return await _get(info, Target, TARGET, key, version, as_of)

    @strawberry.field(description="One scorecard by name: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def scorecard(self, info: Info, name: str, version: int | None = None, as_of: dt.datetime | None = None) -> Scorecard:
        return await _get(info, Scorecard, SCORECARD, name, version, as_of)

    @strawberry.field(description="The scorecard scored for a period (2026-03, 2026-Q1 or 2026); the Evaluation of GET /v1/scorecards/{name}/evaluate.")
    async def evaluate_scorecard(
        self, info: Info, name: str, period: str, version: int | None = None, as_of: dt.datetime | None = None,
    ) -> JSON:
        a = validated(EvaluateArgs, {"period": period, "version": version})
        ctx = info.context
        answer = await scorecards.evaluate(ctx.db, ctx.queries, ctx.caller, name, a.period, version=a.version, as_of=as_utc(as_of))
        return answer.model_dump(mode="json")

    @strawberry.field(description="SMART checks of one metric; the MetricChecks of GET /v1/metrics/{key}/checks.")
    async def metric_checks(self, info: Info, key: str) -> JSON:
        ctx = info.context
        return (await checks.metric_checks(ctx.db, ctx.queries, ctx.caller, key)).model_dump(mode="json")

    @strawberry.field(description="SMART checks of a domain's metrics; the DomainChecks of GET /v1/domains/{name}/checks.")
    async def domain_checks(self, info: Info, name: str) -> JSON:
        ctx = info.context
        return (await checks.domain_checks(ctx.db, ctx.queries, ctx.caller, name)).model_dump(mode="json")

    @strawberry.field(description="Reviews of one metric, newest first; paging as GET /v1/metrics/{key}/reviews.")
    async def metric_reviews(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> Page[Review]:
        a = validated(PageArgs, {"cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await reviews.history(session, info.context.caller, key, cursor=a.cursor, limit=a.limit)
        return Page(items=[from_model(Review, r) for r in items], next_cursor=nxt)

    @strawberry.field(description="KPIs overdue for review; filters and paging as GET /v1/reviews/overdue.")
    async def overdue_reviews(
        self, info: Info, domain: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> Page[OverdueReview]:
        a = validated(OverdueArgs, {"domain": domain, "cursor": cursor, "limit": limit})
        async with info.context.db.session() as session:
            items, nxt = await reviews.overdue(session, info.context.caller, domain=a.domain, cursor=a.cursor, limit=a.limit)
        return Page(items=[from_model(OverdueReview, r) for r in items], next_cursor=nxt)
