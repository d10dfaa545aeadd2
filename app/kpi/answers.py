"""`include: ["targets"]` on POST /v1/query: each row gets, per metric, its target, achievement and status.

Matching rules: a row's period is its metric_time at a month, quarter or year grain (or, without a
grain, a time range that spans exactly one such period); its scope is its dimension values plus any
single-value `eq`/`in` filters. A target matches when its scope equals the row's scope exactly, so an
unscoped target matches the rows of a query with no dimensions. No match gives nulls, never an error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.service import Loaded
from app.db import as_utc
from app.kpi import periods
from app.kpi.scoring import DEFAULT_THRESHOLDS, achievement, label
from app.kpi.targets import is_additive, load_book
from app.query.schemas import Column, QueryAnswer, QueryRequest

SUFFIXES = (("target", "number"), ("achievement", "number"), ("status", "string"), ("target_source", "string"))


def filter_scope(request: QueryRequest) -> dict[str, Any]:
    return {f.dimension: f.values[0] for f in request.filters
            if f.dimension != "metric_time" and (f.op == "eq" or (f.op == "in" and len(f.values) == 1))}


def _row_periods(request: QueryRequest, answer: QueryAnswer) -> list[periods.Period | None]:
    time = request.time
    grain = time.grain if time else None
    names = [c.name for c in answer.columns]
    if grain in ("month", "quarter", "year") and "metric_time" in names:
        at = names.index("metric_time")
        return [None if row[at] is None else periods.containing(dt.date.fromisoformat(str(row[at])[:10]), grain) for row in answer.rows]
    fixed = periods.exactly(time.start, time.end) if time and grain is None else None
    return [fixed] * len(answer.rows)


async def attach_targets(session: AsyncSession, request: QueryRequest, answer: QueryAnswer, metrics: dict[str, Loaded]) -> QueryAnswer:
    names = [c.name for c in answer.columns]
    row_periods = _row_periods(request, answer)
    book = await load_book(session, set(request.metrics), {p.start.year for p in row_periods if p}, as_utc(request.as_of))
    base = filter_scope(request)
    dims = [(d, names.index(d)) for d in request.dimensions]
    scopes = [{**base, **{d: row[i] for d, i in dims}} for row in answer.rows]
    columns, extra = list(answer.columns), [[] for _ in answer.rows]
    for key in request.metrics:
        definition = metrics[key].definition
        at, additive, bands = names.index(key), is_additive(definition), definition.thresholds or DEFAULT_THRESHOLDS
        columns += [Column(name=f"{key}__{s}", type=t, unit=definition.unit if s == "target" else "ratio" if s == "achievement" else None)
                    for s, t in SUFFIXES]
        for row, period, scope, out in zip(answer.rows, row_periods, scopes, extra):
            unscopable = period is None or any(v is None for v in scope.values())
            found = None if unscopable else book.find(key, period, scope, additive=additive)
            target = found.value if found else None
            ach = achievement(row[at], target, definition.direction)
            out += [target, ach, label(bands, ach), found.source if found else None]
    return answer.model_copy(update={"columns": columns, "rows": [row + more for row, more in zip(answer.rows, extra)]})


ANSWER_EXTRAS = {"targets": attach_targets}
"""The `include` items the KPI layer adds to query answers; wired into the query service by the app."""
