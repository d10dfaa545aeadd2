"""KPI routes: targets (bulk, versioned), scorecards (versioned, evaluated), SMART checks, reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.api.deps import CurrentCaller, Cursor, FromVersion, Limit, ReadSession, ToVersion, Version, WriteSession
from app.api.rest.catalog import catalog_router
from app.catalog import service as catalog
from app.catalog.schemas import DiffOut, Page, VersionOut
from app.db import as_utc
from app.errors import responses
from app.kpi import checks, reviews, scorecards, targets
from app.kpi.kinds import SCORECARD, TARGET
from app.kpi.schemas import (
    DomainChecks, Evaluation, MetricChecks, OverdueOut, ReviewIn, ReviewOut, ScorecardIn, ScorecardPatch, TargetBatch, TargetBatchOut, TargetOut,
)

AsOf = Annotated[dt.datetime | None, Query(description="as it stood at this moment (UTC when no offset)")]

target_routes = APIRouter(prefix="/v1/targets", tags=["targets"], responses=responses(401, 403, 422))


@target_routes.put("", response_model=TargetBatchOut, name="set_targets")
async def set_targets(body: TargetBatch, caller: CurrentCaller, session: WriteSession) -> TargetBatchOut:
    """Create or re-version many targets at once; all or nothing. Unchanged targets append no version."""
    return await targets.set_targets(session, caller, body)


@target_routes.get("", response_model=Page[TargetOut], name="list_targets")
async def list_targets(
    caller: CurrentCaller,
    session: ReadSession,
    metric: Annotated[str | None, Query(max_length=127)] = None,
    period: Annotated[str | None, Query(max_length=7, description="with metric: 2026-03, 2026-Q1 or 2026")] = None,
    domain: Annotated[str | None, Query(max_length=63)] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[TargetOut]:
    # Target keys start "metric|period|", and the key is part of the searchable text.
    prefix = f"{metric}|{period + '|' if period else ''}" if metric else None
    items, next_cursor = await catalog.search(session, caller, TARGET, cursor=cursor, limit=limit, domain=domain, owner=owner, text=prefix)
    return Page[TargetOut](items=items, next_cursor=next_cursor)


@target_routes.get("/{key}", response_model=TargetOut, responses=responses(404), name="get_target")
async def get_target(key: str, caller: CurrentCaller, session: ReadSession, response: Response, version: Version = None, as_of: AsOf = None) -> TargetOut:
    answer = await catalog.get(session, caller, TARGET, key, version=version, as_of=as_utc(as_of, pointer="/query/as_of"))
    if answer.version == answer.latest_version:
        response.headers["ETag"] = catalog.etag(answer.version)
    return answer


@target_routes.get("/{key}/versions", response_model=Page[VersionOut], responses=responses(404), name="list_target_versions")
async def target_versions(key: str, caller: CurrentCaller, session: ReadSession, cursor: Cursor = None, limit: Limit = 100) -> Page[VersionOut]:
    items, next_cursor = await catalog.versions(session, caller, TARGET, key, cursor=cursor, limit=limit)
    return Page[VersionOut](items=items, next_cursor=next_cursor)


@target_routes.get("/{key}/diff", response_model=DiffOut, responses=responses(404), name="diff_target")
async def target_diff(
    key: str, caller: CurrentCaller, session: ReadSession,
    from_: FromVersion, to: ToVersion,
) -> DiffOut:
    return await catalog.diff(session, caller, TARGET, key, from_, to)


scorecard_routes = catalog_router(SCORECARD, "scorecards", {
    "name": "company", "title": "Company scorecard", "domain": "sales", "owner": "alice", "cap": 1.2,
    "root": {"label": "strategy", "children": [{"metric": "sales.gmv", "weight": 60},
                                               {"metric": "sales.orders", "weight": 40, "scope": {"orders.region": "East"}}]},
    "change_note": "first version",
}, ScorecardIn, ScorecardPatch)


@scorecard_routes.get("/{key}/evaluate", response_model=Evaluation, responses=responses(404, 502, 503, 504), name="evaluate_scorecard")
async def evaluate_scorecard(
    key: str, request: Request, caller: CurrentCaller,
    period: Annotated[str, Query(max_length=16, description="2026-03, 2026-Q1 or 2026")],
    version: Version = None, as_of: AsOf = None,
) -> Evaluation:
    state = request.app.state
    return await scorecards.evaluate(state.db, state.queries, caller, key, period, version=version, as_of=as_utc(as_of, pointer="/query/as_of"))


governance = APIRouter(prefix="/v1", tags=["kpi governance"], responses=responses(401, 403, 404, 422))


@governance.get("/metrics/{key}/checks", response_model=MetricChecks, name="get_metric_checks")
async def metric_checks(key: str, request: Request, caller: CurrentCaller) -> MetricChecks:
    """Specific, measurable (resolves now), achievable (a current target), relevant, time-bound."""
    return await checks.metric_checks(request.app.state.db, request.app.state.queries, caller, key)


@governance.get("/domains/{name}/checks", response_model=DomainChecks, name="get_domain_checks")
async def domain_checks(name: str, request: Request, caller: CurrentCaller) -> DomainChecks:
    return await checks.domain_checks(request.app.state.db, request.app.state.queries, caller, name)


@governance.post("/metrics/{key}/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut, name="record_metric_review")
async def record_review(key: str, body: ReviewIn, caller: CurrentCaller, session: WriteSession) -> ReviewOut:
    return await reviews.record(session, caller, key, body)


@governance.get("/metrics/{key}/reviews", response_model=Page[ReviewOut], name="list_metric_reviews")
async def list_reviews(key: str, caller: CurrentCaller, session: ReadSession, cursor: Cursor = None, limit: Limit = 100) -> Page[ReviewOut]:
    items, next_cursor = await reviews.history(session, caller, key, cursor=cursor, limit=limit)
    return Page[ReviewOut](items=items, next_cursor=next_cursor)


@governance.get("/reviews/overdue", response_model=Page[OverdueOut], name="list_overdue_reviews")
async def overdue_reviews(
    caller: CurrentCaller, session: ReadSession,
    domain: Annotated[str | None, Query(max_length=63)] = None, cursor: Cursor = None, limit: Limit = 100,
) -> Page[OverdueOut]:
    """KPIs whose review_frequency has passed since their last review (or registration)."""
    items, next_cursor = await reviews.overdue(session, caller, domain=domain, cursor=cursor, limit=limit)
    return Page[OverdueOut](items=items, next_cursor=next_cursor)


router = APIRouter()
for _routes in (target_routes, scorecard_routes, governance):
    router.include_router(_routes)
