"""Targets and scorecards as catalog kinds: versioned, audited and read like metrics."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import repository as catalog_repo
from app.catalog.kinds import Kind
from app.errors import ErrorCode, Invalid
from app.kpi.definitions import ScorecardDef, TargetDef, walk, weight_problem
from app.kpi.schemas import ScorecardOut, TargetOut


async def check_target(session: AsyncSession, target: TargetDef) -> None:
    metric = await catalog_repo.entity(session, "metric", target.metric)
    if metric is None:
        raise Invalid(f"metric '{target.metric}' is not registered", pointer="/metric", code=ErrorCode.UNKNOWN_METRIC)
    if metric.domain != target.domain:
        raise Invalid(
            f"a target of '{target.metric}' belongs to its domain '{metric.domain}'",
            pointer="/domain", code=ErrorCode.TARGET_DOMAIN_MISMATCH,
        )


async def check_scorecard(session: AsyncSession, scorecard: ScorecardDef) -> None:
    problem = weight_problem(scorecard.root)
    if problem:
        pointer, total = problem
        raise Invalid(
            f"sibling weights under {pointer.removesuffix('/children')} sum to {total:g}, not 100",
            pointer=pointer, code=ErrorCode.WEIGHTS_NOT_100, details={"sum": total},
        )
    named = [(path, node.metric) for path, node, _ in walk(scorecard.root) if node.metric]
    found = {e.key for e, _ in await catalog_repo.current_many(session, "metric", {m for _, m in named})}
    for path, metric in named:
        if metric not in found:
            raise Invalid(f"metric '{metric}' is not registered", pointer=f"{path}/metric", code=ErrorCode.UNKNOWN_METRIC)


TARGET = Kind("target", "key", TypeAdapter(TargetDef), ("metric", "period", "kind", "scope", "domain"), TargetOut, check=check_target)
SCORECARD = Kind("scorecard", "name", TypeAdapter(ScorecardDef), ("name", "domain"), ScorecardOut, check=check_scorecard)
