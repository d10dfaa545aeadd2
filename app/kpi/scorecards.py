"""Evaluate a scorecard for a period: actuals from the QueryService, targets from the registry."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.auth.principal import Caller
from app.catalog import service as catalog
from app.catalog.service import metric_closure
from app.compiler.request import Filter, TimeRange
from app.db import Database
from app.errors import Invalid
from app.kpi import periods
from app.kpi.definitions import ScorecardDef, scope_text, walk
from app.kpi.kinds import SCORECARD
from app.kpi.schemas import Evaluation
from app.kpi.scoring import DEFAULT_THRESHOLDS
from app.kpi.targets import is_additive, load_book
from app.kpi.tree import Fact, score_tree
from app.query.schemas import QueryRequest
from app.query.service import QueryService


def parse_period(text: str) -> periods.Period:
    try:
        return periods.parse(text)
    except ValueError as err:
        raise Invalid(str(err), pointer="period", code="INVALID_PERIOD") from None


async def _actual(queries: QueryService, caller: Caller, metric: str, scope: dict, period: periods.Period, as_of: dt.datetime | None) -> float | None:
    """One governed value: the metric over the period's range at its grain, filtered to the scope."""
    request = QueryRequest(
        metrics=[metric], time=TimeRange(grain=period.grain, start=period.start, end=period.end),
        filters=[Filter(dimension=d, op="eq", values=[v]) for d, v in sorted(scope.items())], as_of=as_of,
    )
    answer = await queries.resolve(caller, request)
    at = [c.name for c in answer.columns].index(metric)
    return answer.rows[0][at] if answer.rows else None


async def evaluate(
    db: Database, queries: QueryService, caller: Caller, name: str, period_text: str,
    *, version: int | None = None, as_of: dt.datetime | None = None,
) -> Evaluation:
    period = parse_period(period_text)
    async with db.session() as session:
        entity = await catalog.get(session, caller, SCORECARD, name, version=version, as_of=as_of)
        card: ScorecardDef = SCORECARD.parse(entity.definition)
        nodes = [(path, node.metric, scope) for path, node, scope in walk(card.root) if node.metric]
        metrics = await metric_closure(session, {m for _, m, _ in nodes}, as_of=as_of)
        book = await load_book(session, {m for _, m, _ in nodes}, {period.start.year}, as_of)
    for path, metric, _ in nodes:
        if metric not in metrics:
            raise Invalid(f"metric '{metric}' is not registered", pointer=f"{path}/metric", code="UNKNOWN_METRIC")
    wanted = sorted({(m, scope_text(s)): (m, s) for _, m, s in nodes}.items())
    values = await asyncio.gather(*(_actual(queries, caller, m, s, period, as_of) for _, (m, s) in wanted))
    actuals = dict(zip((k for k, _ in wanted), values))
    facts = {}
    for path, metric, scope in nodes:
        definition = metrics[metric].definition
        found = book.find(metric, period, scope, kind=card.target_kind, additive=is_additive(definition))
        facts[path] = Fact(actuals[(metric, scope_text(scope))], found.value, found.source,
                           definition.direction, definition.thresholds or DEFAULT_THRESHOLDS)
    nodes_out = score_tree(card, facts)
    root = nodes_out[0]
    return Evaluation(
        scorecard=name, version=entity.version, period=period.text, grain=period.grain, target_kind=card.target_kind,
        cap=card.cap, score=root.score if root.score is not None else root.value, tier=root.tier,
        excluded=[n.path for n in nodes_out if not n.included and n.path != "/root"], nodes=nodes_out,
    )
