"""Resolve governed values: load definitions (as of a moment), compile, execute, cache.

The registry session is closed before the source runs, so a slow source holds no
registry connection.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Caller
from app.catalog.lifecycle import load_statuses, resolution_notes
from app.catalog.schemas import ResolutionWarning
from app.catalog.service import Loaded, dataset_closure, metric_closure
from app.compiler.plan import CompiledQuery, Definitions, VersionedDataset, VersionedMetric, compile_query
from app.config import Settings
from app.db import Database, as_utc
from app.engines import EnginePool
from app.engines.gate import SourceGates
from app.errors import ErrorCode, Forbidden, Invalid
from app.query.cache import Result, cache_from_settings, cache_key
from app.query.freshness import Freshness
from app.query.schemas import Column, CompiledSql, MetricInfo, QueryAnswer, QueryRequest, SqlAnswer
from app.singleflight import SingleFlight
from app.sources.models import Source
from app.sources.service import connection_info

PREPARED_CACHE_SIZE = 2_000

AnswerExtra = Callable[[AsyncSession, QueryRequest, QueryAnswer, "dict[str, Loaded]"], Awaitable[QueryAnswer]]
"""Adds the columns one `include` item names (e.g. targets) to an answer; provided by a layer above."""


@dataclass(frozen=True)
class Prepared:
    """A request resolved against the registry at one generation: reusable until it changes."""

    compiled: CompiledQuery
    metrics: dict[str, Loaded]
    url: str
    cache_key: str
    generation: int
    warnings: list[ResolutionWarning]
    domains: frozenset[str]  # every domain the answer reads: the metrics and datasets the compiled SQL uses


def json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class QueryService:
    def __init__(self, db: Database, engines: EnginePool, settings: Settings, extras: Mapping[str, AnswerExtra] | None = None) -> None:
        self.db, self.engines, self.settings = db, engines, settings
        self.extras = dict(extras or {})
        self.cache = cache_from_settings(settings)
        self.freshness = Freshness(db, settings)
        self.gates = SourceGates(settings.source_max_concurrency, settings.source_max_queue, settings.source_queue_timeout_seconds)
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()
        self._loading = SingleFlight()

    async def prepare(self, caller: Caller, request: QueryRequest) -> Prepared:
        """The request resolved and compiled (from the cache while the registry is unchanged); rights checked."""
        generation = await self.freshness.generation()
        shape = request.shape
        prepared = self._prepared.get(shape)
        if prepared is None or prepared.generation != generation:
            prepared = await self._loading.run((shape, generation), lambda: self._load(request, generation))
            self._prepared[shape] = prepared
            while len(self._prepared) > PREPARED_CACHE_SIZE:
                self._prepared.popitem(last=False)
        else:
            self._prepared.move_to_end(shape)
        for key in request.metrics:
            caller.require_read(prepared.metrics[key].domain)
        if not all(caller.can_read(d) for d in prepared.domains):
            raise Forbidden("the answer is computed from definitions in a domain you cannot read", code=ErrorCode.REFERENCE_FORBIDDEN)
        return prepared

    async def _load(self, request: QueryRequest, generation: int) -> Prepared:
        """Load what the request names (as it stood at `as_of`) and compile it."""
        as_of = as_utc(request.as_of)
        async with self.db.session() as session:
            metrics = await metric_closure(session, set(request.metrics), as_of=as_of)
            for i, key in enumerate(request.metrics):
                if key not in metrics:
                    when = f" at {as_of.isoformat()}" if as_of else ""
                    raise Invalid(f"metric '{key}' is not registered{when}", pointer=f"/metrics/{i}", code=ErrorCode.UNKNOWN_METRIC)
            warnings = resolution_notes(await load_statuses(session, set(metrics)))  # 410 for a retired metric
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
        key = cache_key(compiled.source, compiled.sql, compiled.params, compiled.metric_versions, compiled.dataset_versions)
        domains = frozenset([*(metrics[k].domain for k in compiled.metric_versions), *(datasets[k].domain for k in compiled.dataset_versions)])
        return Prepared(compiled, metrics, url, key, generation, warnings, domains)

    async def _result(self, request: QueryRequest, prepared: Prepared) -> tuple[Result, str]:
        result = await self.cache.get(prepared.cache_key)
        if result is not None:
            return result, "hit"
        compiled = prepared.compiled
        engine = await self.engines.get(compiled.source, prepared.url)
        async with self.gates.slot(compiled.source):
            fetched = await engine.execute(
                compiled.sql, compiled.params,
                timeout=self.settings.query_timeout_seconds, max_rows=self.settings.query_max_rows,
            )
        result = Result([[json_value(v) for v in row] for row in fetched.rows])
        await self.cache.put(prepared.cache_key, result, self._ttl(request, prepared.metrics))
        return result, "miss"

    def _answer(self, request: QueryRequest, prepared: Prepared, rows: list[list[Any]], status: str) -> QueryAnswer:
        return QueryAnswer(
            columns=[Column(name=c.name, type=c.type, unit=c.unit) for c in prepared.compiled.columns],
            rows=rows,
            metrics=[self.info(k, prepared.metrics[k]) for k in request.metrics],
            cache=status,
            warnings=prepared.warnings,
        )

    async def compile(self, caller: Caller, request: QueryRequest) -> SqlAnswer:
        """The SQL that would answer the request, with its parameters, without running it."""
        prepared = await self.prepare(caller, request)
        c = prepared.compiled
        return SqlAnswer(
            queries=[CompiledSql(source=c.source, dialect=c.dialect, sql=c.sql, params=[json_value(p) for p in c.params])],
            metrics=[self.info(k, prepared.metrics[k]) for k in request.metrics],
        )

    async def resolve(self, caller: Caller, request: QueryRequest) -> QueryAnswer:
        prepared = await self.prepare(caller, request)
        result, status = await self._result(request, prepared)
        answer = self._answer(request, prepared, result.rows, status)
        if request.include:  # targets change apart from values, so they are never cached
            async with self.db.session() as session:
                for extra in request.include:
                    answer = await self.extras[extra](session, request, answer, prepared.metrics)
        return answer

    async def resolve_json(self, caller: Caller, request: QueryRequest) -> bytes:
        """The answer as JSON bytes; a cache hit without targets serves bytes rendered once."""
        if request.include:
            return (await self.resolve(caller, request)).model_dump_json().encode()
        prepared = await self.prepare(caller, request)
        result, status = await self._result(request, prepared)
        if status == "miss":
            return self._answer(request, prepared, result.rows, status).model_dump_json().encode()
        if result.hit_body is None:
            result.hit_body = self._answer(request, prepared, result.rows, status).model_dump_json().encode()
        return result.hit_body

    def _ttl(self, request: QueryRequest, metrics: dict[str, Loaded]) -> float:
        ttls = [metrics[k].definition.cache_ttl for k in request.metrics]
        return min(self.settings.cache_ttl_seconds if t is None else t for t in ttls)

    @staticmethod
    def info(key: str, loaded: Loaded) -> MetricInfo:
        d = loaded.definition
        return MetricInfo(key=key, version=loaded.version, unit=d.unit, direction=d.direction)
