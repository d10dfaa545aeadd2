"""Resolve governed values: load definitions (as of a moment), check rights, compile, execute, cache.

The definitions a request names are loaded once per set of names and registry generation and
reused for any filter values, dates and limit. Rights are checked on those names before anything
is compiled, and a new query shape compiles in a worker thread, so the event loop keeps answering.
The registry session is closed before the source runs, so a slow source holds no registry connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Caller
from app.canonical import canonical_json
from app.catalog.lifecycle import load_statuses, resolution_notes
from app.catalog.schemas import ResolutionWarning
from app.catalog.service import Loaded, dataset_closure, metric_closure
from app.compiler.plan import CompiledQuery, Compiler, Definitions, VersionedDataset, VersionedMetric
from app.config import Settings
from app.db import Database, as_utc
from app.engines import EnginePool
from app.engines.gate import SourceGates
from app.errors import ErrorCode, Forbidden, Gone, Invalid
from app.memo import Memo
from app.query.cache import Result, cache_from_settings, cache_key
from app.query.freshness import Freshness
from app.query.schemas import Column, CompiledSql, MetricInfo, QueryAnswer, QueryRequest, SqlAnswer
from app.singleflight import SingleFlight
from app.sources.service import connection_info

DEFINITIONS_CACHE_SIZE = 2_000
PREPARED_CACHE_SIZE = 2_000
INLINE_VALUES = 200  # a kept plan binds this many filter values on the event loop; more bind in a worker thread

AnswerExtra = Callable[[AsyncSession, QueryRequest, QueryAnswer, "dict[str, Loaded]"], Awaitable[QueryAnswer]]
"""Adds the columns one `include` item names (e.g. targets) to an answer; provided by a layer above."""


@dataclass(frozen=True)
class Resolved:
    """The names of a request as the registry held them at one generation (or at `as_of`)."""

    metrics: dict[str, Loaded]  # the named metrics and those they reference
    datasets: dict[str, Loaded]  # their datasets, those the request names, and those their joins reach
    definitions: Definitions
    urls: dict[str, str]  # source name -> decrypted URL
    warnings: list[ResolutionWarning]
    retired: Gone | None  # a retired metric's 410, raised once the caller's rights on the names are checked
    tag: str  # a hash of what an answer carries besides its rows (versions, units, warnings)
    reads: frozenset[str]  # the domains of every metric the named ones use, and of their datasets


@dataclass(frozen=True)
class Prepared:
    """A request compiled against resolved definitions: what the engine runs and the answer carries."""

    request: QueryRequest  # the object it was prepared for, kept with it (QueryService.prepare)
    generation: int
    resolved: Resolved
    compiled: CompiledQuery
    url: str
    cache_key: str
    domains: frozenset[str]  # every domain the answer reads: the metrics and datasets the compiled SQL uses

    @property
    def metrics(self) -> dict[str, Loaded]:
        return self.resolved.metrics


def json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _dataset_refs(request: QueryRequest) -> list[tuple[str, str]]:
    """(pointer, dataset name) of every dimension the request names, in dimensions and filters."""
    refs = [(f"/dimensions/{k}", ref.partition(".")[0]) for k, ref in enumerate(request.dimensions)]
    refs += [(f"/filters/{i}/dimension", f.dimension.partition(".")[0]) for i, f in enumerate(request.filters) if f.dimension != "metric_time"]
    return refs


def admit(caller: Caller, request: QueryRequest, resolved: Resolved, compiled: frozenset[str] = frozenset()) -> None:
    """403 for any name the caller may not read, whether or not it exists, so a caller who reads only
    some domains learns nothing of the others; a caller who reads them all is told what is missing.
    Then 403 when what the names use (the resolved references, the `compiled` SQL's datasets) lies
    in a domain the caller may not read, and 410 for a retired metric."""
    reads_all = caller.readable_domains() is None
    for i, key in enumerate(request.metrics):
        loaded = resolved.metrics.get(key)
        if loaded is not None and (reads_all or caller.can_read(loaded.domain)):
            continue
        if reads_all:
            when = f" at {as_utc(request.as_of).isoformat()}" if request.as_of else ""
            raise Invalid(f"metric '{key}' is not registered{when}", pointer=f"/metrics/{i}", code=ErrorCode.UNKNOWN_METRIC)
        raise Forbidden(f"metric '{key}' is not registered in a domain you may read", details={"pointer": f"/metrics/{i}"})
    if not reads_all:
        for pointer, name in _dataset_refs(request):
            loaded = resolved.datasets.get(name)
            if loaded is None or not caller.can_read(loaded.domain):
                raise Forbidden(f"dataset '{name}' is not registered in a domain you may read", details={"pointer": pointer})
        if not all(caller.can_read(d) for d in resolved.reads | compiled):
            raise Forbidden("the answer is computed from definitions in a domain you cannot read", code=ErrorCode.REFERENCE_FORBIDDEN)
    if (gone := resolved.retired) is not None:  # a fresh error each time: a raised one keeps its traceback
        raise Gone(gone.message, code=gone.code, details=gone.details)


class QueryService:
    def __init__(self, db: Database, engines: EnginePool, settings: Settings, extras: Mapping[str, AnswerExtra] | None = None) -> None:
        self.db, self.engines, self.settings = db, engines, settings
        self.extras = dict(extras or {})
        self.cache = cache_from_settings(settings)
        self.freshness = Freshness(db, settings)
        self.gates = SourceGates(settings.source_max_concurrency, settings.source_max_queue, settings.source_queue_timeout_seconds)
        self.definitions: Memo[tuple, Resolved] = Memo(DEFINITIONS_CACHE_SIZE)
        self.prepared: Memo[int, Prepared] = Memo(PREPARED_CACHE_SIZE)
        self.compiler = Compiler()
        self._loading = SingleFlight()

    async def prepare(self, caller: Caller, request: QueryRequest) -> Prepared:
        """The request's definitions (loaded once per names and generation), rights checked, compiled.

        A body sent again is the same QueryRequest object (the transport parses each distinct body
        once), so a prepared request is also kept by the object's identity: the entry holds the
        object, so no other object can take its id while it is kept; rights are checked every time."""
        generation = await self.freshness.generation()
        kept = self.prepared.get(id(request))
        if kept is not None and kept.request is request and kept.generation == generation:
            admit(caller, request, kept.resolved, kept.domains)
            return kept
        resolved = await self.resolved(request, generation)
        admit(caller, request, resolved)
        defs = resolved.definitions
        small = sum(len(f.values) for f in request.filters) <= INLINE_VALUES
        compiled = self.compiler.bound(request, defs) if small else None
        if compiled is None:  # a new shape (sqlglot builds and renders it: up to a second at the limits) or many values
            compiled = await asyncio.to_thread(self.compiler.compile, request, defs)
        domains = frozenset([*(resolved.metrics[k].domain for k in compiled.metric_versions),
                             *(resolved.datasets[k].domain for k in compiled.dataset_versions)])
        admit(caller, request, resolved, domains)  # again, with the datasets on the join paths the compile chose
        key = cache_key(compiled.digest, compiled.params)
        return self.prepared.put(id(request), Prepared(request, generation, resolved, compiled, resolved.urls[compiled.source], key, domains))

    async def resolved(self, request: QueryRequest, generation: int) -> Resolved:
        """What the request's names resolve to: from the memo while the registry generation is unchanged."""
        datasets = frozenset(name for _, name in _dataset_refs(request))
        as_of = as_utc(request.as_of)
        key = (generation, frozenset(request.metrics), datasets, as_of)
        found = self.definitions.get(key)
        if found is None:
            found = self.definitions.put(key, await self._loading.run(key, lambda: self._load(set(request.metrics), set(datasets), as_of)))
        return found

    async def _load(self, keys: set[str], named_datasets: set[str], as_of: dt.datetime | None) -> Resolved:
        """The metrics (with those they reference), their datasets and those named, as they stood at `as_of`."""
        async with self.db.session() as session:
            metrics = await metric_closure(session, keys, as_of=as_of)
            statuses = await load_statuses(session, set(metrics))
            names = {m.definition.dataset for m in metrics.values() if m.definition.type == "simple"} | named_datasets
            datasets = await dataset_closure(session, names, as_of=as_of)
            sources = await connection_info(session, {d.definition.source for d in datasets.values()}, self.settings.secret_key)
        try:
            warnings, retired = resolution_notes(statuses), None
        except Gone as gone:
            warnings, retired = [], gone
        definitions = Definitions(
            metrics={k: VersionedMetric(v.definition, v.version) for k, v in metrics.items()},
            datasets={k: VersionedDataset(v.definition, v.version) for k, v in datasets.items()},
            sources={name: kind for name, (kind, _) in sources.items()},
        )
        answered = [[w.model_dump(mode="json") for w in warnings],
                    sorted((k, v.version, v.definition.unit, v.definition.direction) for k, v in metrics.items())]
        tag = hashlib.sha256(canonical_json(answered).encode()).hexdigest()
        urls = {name: url for name, (_, url) in sources.items()}
        reads = frozenset([*(m.domain for m in metrics.values()),
                           *(datasets[m.definition.dataset].domain for m in metrics.values()
                             if m.definition.type == "simple" and m.definition.dataset in datasets)])
        return Resolved(metrics, datasets, definitions, urls, warnings, retired, tag, reads)

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
            warnings=prepared.resolved.warnings,
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
        """The answer as JSON bytes; a cache hit without targets serves bytes rendered once per answer tag
        (so a newly deprecated metric's warning reaches answers already cached)."""
        if request.include:
            return (await self.resolve(caller, request)).model_dump_json().encode()
        prepared = await self.prepare(caller, request)
        result, status = await self._result(request, prepared)
        if status == "miss":
            return self._answer(request, prepared, result.rows, status).model_dump_json().encode()
        rendered = result.rendered
        if rendered is None or rendered[0] != prepared.resolved.tag:
            rendered = result.rendered = (prepared.resolved.tag, self._answer(request, prepared, result.rows, status).model_dump_json().encode())
        return rendered[1]

    def _ttl(self, request: QueryRequest, metrics: dict[str, Loaded]) -> float:
        ttls = [metrics[k].definition.cache_ttl for k in request.metrics]
        return min(self.settings.cache_ttl_seconds if t is None else t for t in ttls)

    @staticmethod
    def info(key: str, loaded: Loaded) -> MetricInfo:
        d = loaded.definition
        return MetricInfo(key=key, version=loaded.version, unit=d.unit, direction=d.direction)
