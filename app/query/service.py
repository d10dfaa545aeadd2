"""Resolve governed values: load definitions (as of a moment), compile, execute, cache.

The registry session is closed before the source runs, so a slow source holds no
registry connection.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.auth.principal import Caller
from app.catalog.service import Loaded, dataset_closure, metric_closure
from app.compiler.plan import CompiledQuery, Definitions, VersionedDataset, VersionedMetric, compile_query
from app.config import Settings
from app.db import Database, as_utc
from app.engines import EnginePool
from app.errors import Invalid
from app.kpi.answers import attach_targets
from app.query.cache import ResultCache, cache_key
from app.query.schemas import Column, MetricInfo, QueryAnswer, QueryRequest
from app.sources.models import Source
from app.sources.service import connection_info


@dataclass(frozen=True)
class Prepared:
    compiled: CompiledQuery
    metrics: dict[str, Loaded]
    url: str


def json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class QueryService:
    def __init__(self, db: Database, engines: EnginePool, cache: ResultCache, settings: Settings) -> None:
        self.db, self.engines, self.cache, self.settings = db, engines, cache, settings

    async def prepare(self, caller: Caller, request: QueryRequest) -> Prepared:
        """Load what the request names (as it stood at `as_of`), check rights, compile."""
        as_of = as_utc(request.as_of)
        async with self.db.session() as session:
            metrics = await metric_closure(session, set(request.metrics), as_of=as_of)
            for i, key in enumerate(request.metrics):
                if key not in metrics:
                    when = f" at {as_of.isoformat()}" if as_of else ""
                    raise Invalid(f"metric '{key}' is not registered{when}", pointer=f"/metrics/{i}", code="UNKNOWN_METRIC")
                caller.require_read(metrics[key].domain)
            dataset_names = {m.definition.dataset for m in metrics.values() if m.definition.type == "simple"}
            dataset_names |= {d.split(".", 1)[0] for d in request.dimensions}
            datasets = await dataset_closure(session, dataset_names, as_of=as_of)
            source_names = {d.definition.source for d in datasets.values()}
            kinds = dict((await session.execute(select(Source.name, Source.kind).where(Source.name.in_(source_names)))).all())
            definitions = Definitions(
                metrics={k: VersionedMetric(v.definition, v.version) for k, v in metrics.items()},
                datasets={k: VersionedDataset(v.definition, v.version) for k, v in datasets.items()},
                sources=kinds,
            )
            compiled = compile_query(request, definitions)
            url = (await connection_info(session, {compiled.source}, self.settings.secret_key))[compiled.source][1]
        return Prepared(compiled, metrics, url)

    async def resolve(self, caller: Caller, request: QueryRequest) -> QueryAnswer:
        prepared = await self.prepare(caller, request)
        compiled = prepared.compiled
        key = cache_key(compiled.source, compiled.sql, compiled.params, compiled.metric_versions, compiled.dataset_versions)
        rows = self.cache.get(key)
        status = "hit"
        if rows is None:
            status = "miss"
            engine = await self.engines.get(compiled.source, prepared.url)
            result = await engine.execute(
                compiled.sql, compiled.params,
                timeout=self.settings.query_timeout_seconds, max_rows=self.settings.query_max_rows,
            )
            rows = [[json_value(v) for v in row] for row in result.rows]
            self.cache.put(key, rows, self._ttl(request, prepared.metrics))
        answer = QueryAnswer(
            columns=[Column(name=c.name, type=c.type, unit=c.unit) for c in compiled.columns],
            rows=rows,
            metrics=[self.info(k, prepared.metrics[k]) for k in request.metrics],
            cache=status,
        )
        if "targets" in request.include:  # targets change apart from values, so they are never cached
            async with self.db.session() as session:
                answer = await attach_targets(session, request, answer, prepared.metrics)
        return answer

    def _ttl(self, request: QueryRequest, metrics: dict[str, Loaded]) -> float:
        ttls = [metrics[k].definition.cache_ttl for k in request.metrics]
        return min(self.settings.cache_ttl_seconds if t is None else t for t in ttls)

    @staticmethod
    def info(key: str, loaded: Loaded) -> MetricInfo:
        d = loaded.definition
        return MetricInfo(key=key, version=loaded.version, unit=d.unit, direction=d.direction)
