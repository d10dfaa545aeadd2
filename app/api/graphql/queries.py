"""Read resolvers: each one a short call into the service its REST twin calls, in its own read session."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from app.api.graphql.inputs import AuditArgs, CatalogArgs, PageArgs, QueryInput, query_request, validated
from app.api.graphql.types import (
    AuditEvent,
    Change,
    Column,
    CompiledQuery,
    CompiledSql,
    Dataset,
    Diff,
    Domain,
    Metric,
    MetricInfo,
    Page,
    Principal,
    QueryResult,
    Source,
    Verification,
    Version,
    from_model,
)
from app.audit import service as audit
from app.audit.verify import verify as verify_chain
from app.auth import service as auth
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC, Kind
from app.db import as_utc
from app.sources import service as sources

ENTITY = {"dataset": Dataset, "metric": Metric}


async def _search(info: Info, kind: Kind, **args) -> Page:
    a = validated(CatalogArgs, args)
    ctx = info.context
    async with ctx.db.session() as session:
        items, cursor = await catalog.search(
            session, ctx.caller, kind, cursor=a.cursor, limit=a.limit,
            domain=a.domain, owner=a.owner, tag=a.tag, status=a.status, level=a.level, text=a.q,
        )
    return Page(items=[ENTITY[kind.name].from_out(i) for i in items], next_cursor=cursor)


async def _get(info: Info, kind: Kind, key: str, version: int | None, as_of: dt.datetime | None):
    ctx = info.context
    async with ctx.db.session() as session:
        out = await catalog.get(session, ctx.caller, kind, key, version=version, as_of=as_utc(as_of))
    return ENTITY[kind.name].from_out(out)


async def _versions(info: Info, kind: Kind, key: str, cursor: str | None, limit: int) -> Page[Version]:
    a = validated(PageArgs, {"cursor": cursor, "limit": limit})
    ctx = info.context
    async with ctx.db.session() as session:
        items, nxt = await catalog.versions(session, ctx.caller, kind, key, cursor=a.cursor, limit=a.limit)
    return Page(items=[from_model(Version, v) for v in items], next_cursor=nxt)


async def _diff(info: Info, kind: Kind, key: str, from_version: int, to_version: int) -> Diff:
    ctx = info.context
    async with ctx.db.session() as session:
        out = await catalog.diff(session, ctx.caller, kind, key, from_version, to_version)
    return from_model(Diff, out, changes=[from_model(Change, c) for c in out.changes])


@strawberry.type
class Query:
    @strawberry.field(description="Metrics the caller may read; filters and paging as GET /v1/metrics (q: text search).")
    async def metrics(
        self, info: Info, domain: str | None = None, owner: str | None = None, tag: str | None = None,
        status: str | None = None, level: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> Page[Metric]:
        return await _search(info, METRIC, domain=domain, owner=owner, tag=tag, status=status, level=level, q=q, cursor=cursor, limit=limit)

    @strawberry.field(description="Datasets the caller may read; filters and paging as GET /v1/datasets.")
    async def datasets(
        self, info: Info, domain: str | None = None, owner: str | None = None, tag: str | None = None,
        status: str | None = None, level: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> Page[Dataset]:
        return await _search(info, DATASET, domain=domain, owner=owner, tag=tag, status=status, level=level, q=q, cursor=cursor, limit=limit)

    @strawberry.field(description="One metric: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def metric(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Metric:
        return await _get(info, METRIC, key, version, as_of)

    @strawberry.field(description="One dataset: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def dataset(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Dataset:
        return await _get(info, DATASET, key, version, as_of)

    @strawberry.field
    async def metric_versions(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> Page[Version]:
        return await _versions(info, METRIC, key, cursor, limit)

    @strawberry.field
    async def dataset_versions(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> Page[Version]:
        return await _versions(info, DATASET, key, cursor, limit)

    @strawberry.field
    async def metric_diff(self, info: Info, key: str, from_version: int, to_version: int) -> Diff:
        return await _diff(info, METRIC, key, from_version, to_version)

    @strawberry.field
    async def dataset_diff(self, info: Info, key: str, from_version: int, to_version: int) -> Diff:
        return await _diff(info, DATASET, key, from_version, to_version)

    @strawberry.field
    async def domains(self, info: Info) -> list[Domain]:
        _ = info.context.caller  # any authenticated caller, as GET /v1/domains
        async with info.context.db.session() as session:
            return [from_model(Domain, d) for d in await auth.list_domains(session)]

    @strawberry.field(description="Admin only.")
    async def principals(self, info: Info) -> list[Principal]:
        async with info.context.db.session() as session:
            return [Principal.from_out(p) for p in await auth.list_principals(session, info.context.caller)]

    @strawberry.field(description="Admin only; URLs are redacted.")
    async def sources(self, info: Info) -> list[Source]:
        async with info.context.db.session() as session:
            return [from_model(Source, s) for s in await sources.list_sources(session, info.context.caller)]

    @strawberry.field(description="Admin only; the URL is redacted.")
    async def source(self, info: Info, name: str) -> Source:
        async with info.context.db.session() as session:
            return from_model(Source, await sources.get_source(session, info.context.caller, name))

    @strawberry.field(description="The audit log (auditors and admins); filters and paging as GET /v1/audit.")
    async def audit_events(
        self, info: Info, entity_kind: str | None = None, entity_key: str | None = None, actor: str | None = None,
        action: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
        cursor: str | None = None, limit: int = 100,
    ) -> Page[AuditEvent]:
        a = validated(AuditArgs, dict(entity_kind=entity_kind, entity_key=entity_key, actor=actor, action=action, since=since, until=until, cursor=cursor, limit=limit))
        flt = audit.AuditFilter(a.entity_kind, a.entity_key, a.actor, a.action, a.since, a.until)
        info.context.caller.require_auditor()
        async with info.context.db.session() as session:
            events, cursor = await audit.page(session, flt, cursor=a.cursor, limit=a.limit)
        return Page(items=[from_model(AuditEvent, e) for e in events], next_cursor=cursor)

    @strawberry.field(description="Recompute the audit chain (auditors and admins).")
    async def audit_verification(self, info: Info) -> Verification:
        info.context.caller.require_auditor()
        async with info.context.db.session() as session:
            return from_model(Verification, await verify_chain(session))

    @strawberry.field(description="Governed values; the same input and answer as POST /v1/query.")
    async def resolve(self, info: Info, input: QueryInput) -> QueryResult:
        answer = await info.context.queries.resolve(info.context.caller, query_request(input))
        return QueryResult(
            columns=[from_model(Column, c) for c in answer.columns], rows=answer.rows,
            metrics=[from_model(MetricInfo, m) for m in answer.metrics], cache=answer.cache,
        )

    @strawberry.field(description="The SQL `resolve` would run, per source, without running it (POST /v1/query/sql).")
    async def compile(self, info: Info, input: QueryInput) -> CompiledQuery:
        answer = await info.context.queries.compile(info.context.caller, query_request(input))
        return CompiledQuery(
            queries=[from_model(CompiledSql, q) for q in answer.queries],
            metrics=[from_model(MetricInfo, m) for m in answer.metrics],
        )
