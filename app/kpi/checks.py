"""SMART governance checks of a metric: specific, measurable, achievable, relevant, time-bound."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth
from app.auth.principal import Caller
from app.catalog import repository as catalog_repo
from app.catalog.kinds import METRIC, PARSED
from app.catalog.models import Entity
from app.compiler.request import TimeRange
from app.db import Database, utcnow
from app.errors import AppError, ErrorCode, NotFound
from app.kpi import periods
from app.kpi import repository as repo
from app.kpi.definitions import walk
from app.kpi.kinds import SCORECARD, TARGET
from app.kpi.reviews import due_at
from app.kpi.schemas import CheckOut, DomainChecks, MetricChecks
from app.query.schemas import QueryRequest
from app.query.service import QueryService

MEASURE_CONCURRENCY = 4


@dataclass(frozen=True)
class Context:
    """What the checks of many metrics share, loaded in one session."""

    in_scorecards: set[str]
    with_current_target: set[str]
    last_reviews: dict


async def _context(session: AsyncSession, keys: list[str]) -> Context:
    cards = await catalog_repo.search(session, "scorecard", domains=None, limit=100_000)
    in_cards = {n.metric for _, r in cards for _, n, _ in walk(PARSED.get(SCORECARD, r.content_hash, r.content).root) if n.metric}
    today = utcnow().date()
    current = [periods.containing(today, g).text for g in ("month", "quarter", "year")]
    targets = await repo.targets(session, [f"{k}|{p}|" for k in keys for p in current])
    with_target = {PARSED.get(TARGET, r.content_hash, r.content).metric for r in targets}
    return Context(in_cards, with_target, await repo.last_reviews(session, keys))


async def _measurable(queries: QueryService, caller: Caller, key: str, definition, gate: asyncio.Semaphore) -> CheckOut:
    """Resolve the metric once, now, on its source (cumulative ones need a range: this year by month)."""
    time = None
    if definition.type == "cumulative":
        this_year = periods.containing(utcnow().date(), "year")
        time = TimeRange(grain="month", start=this_year.start, end=this_year.end)
    async with gate:
        try:
            await queries.resolve(caller, QueryRequest(metrics=[key], time=time, limit=1))
        except AppError as err:
            return CheckOut(name="measurable", passed=False, reason=f"{err.code}: {err.message}")
    return CheckOut(name="measurable", passed=True, reason="compiles and resolves on its source")


def _static(entity: Entity, definition, ctx: Context) -> list[CheckOut]:
    written = [f for f in ("description", "caliber") if not getattr(definition, f).strip()]
    frequency = definition.review_frequency
    due = due_at(frequency, entity.created_at, ctx.last_reviews.get(entity.key)) if frequency else None
    return [
        CheckOut(name="specific", passed=not written,
                 reason=f"missing: {', '.join(written)}" if written else "description and caliber are written"),
        CheckOut(name="achievable", passed=entity.key in ctx.with_current_target,
                 reason="a target exists for the current month, quarter or year" if entity.key in ctx.with_current_target
                 else "no target for the current month, quarter or year"),
        CheckOut(name="relevant", passed=definition.level == "strategic" or entity.key in ctx.in_scorecards,
                 reason=f"level {definition.level}" + ("; a node of a scorecard" if entity.key in ctx.in_scorecards else "; in no scorecard")),
        CheckOut(name="time_bound", passed=due is not None and due >= utcnow(),
                 reason="no review_frequency" if due is None else f"next review due {due.date().isoformat()}"),
    ]


async def _run(db: Database, queries: QueryService, caller: Caller, entities: list) -> list[MetricChecks]:
    async with db.session() as session:
        ctx = await _context(session, [e.key for e, _ in entities])
    gate = asyncio.Semaphore(MEASURE_CONCURRENCY)
    definitions = [PARSED.get(METRIC, r.content_hash, r.content) for _, r in entities]
    measured = await asyncio.gather(*(_measurable(queries, caller, e.key, d, gate) for (e, _), d in zip(entities, definitions)))
    out = []
    for (entity, _), definition, measurable in zip(entities, definitions, measured):
        checks = _static(entity, definition, ctx)
        checks.insert(1, measurable)
        out.append(MetricChecks(metric=entity.key, domain=entity.domain, passed=sum(c.passed for c in checks), total=len(checks), checks=checks))
    return out


async def metric_checks(db: Database, queries: QueryService, caller: Caller, key: str) -> MetricChecks:
    async with db.session() as session:
        rows = await catalog_repo.current_many(session, "metric", [key])
    if not rows:
        raise NotFound(f"metric '{key}' not found", code=ErrorCode.METRIC_NOT_FOUND)
    caller.require_read(rows[0][0].domain)
    return (await _run(db, queries, caller, rows))[0]


async def domain_checks(db: Database, queries: QueryService, caller: Caller, domain: str) -> DomainChecks:
    async with db.session() as session:
        await auth.find_domain(session, domain)
        caller.require_read(domain)
        rows = await catalog_repo.search(session, "metric", domains=None, domain=domain, limit=100_000)
    items = await _run(db, queries, caller, rows)
    names = ["specific", "measurable", "achievable", "relevant", "time_bound"]
    passed = {n: sum(1 for i in items for c in i.checks if c.name == n and c.passed) for n in names}
    return DomainChecks(domain=domain, metrics=len(items), passed=passed, items=items)
