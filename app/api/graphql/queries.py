"""Read resolvers: each one a short call into the service its REST twin calls, in its own read session.

The catalog helpers (search, get, versions, diff) serve every versioned kind: datasets and
metrics here, targets and scorecards in kpi.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from pydantic import BaseModel, Field
from strawberry.types import Info

from app.api.graphql.inputs import AuditArgs, CatalogArgs, PageArgs, QueryInput, query_request, validated
from app.api.graphql.types import (
    AuditEventPage,
    AuditHead,
    CompiledQuery,
    Dataset,
    DatasetPage,
    Diff,
    Domain,
    Lifecycle,
    Metric,
    MetricPage,
    Policy,
    Principal,
    QueryResult,
    Source,
    Verification,
    VersionPage,
)
from app.audit import service as audit
from app.audit.schemas import AuditEventOut, AuditHeadOut, VerificationOut
from app.audit.verify import verify as verify_chain
from app.auth import service as auth
from app.catalog import lifecycle
from app.catalog import service as catalog
from app.catalog.kinds import DATASET, METRIC, Kind
from app.catalog.schemas import EntityOut, Page, VersionOut
from app.db import as_utc
from app.sources import service as sources

Version = Annotated[int, Field(ge=1)]


class AtVersion(BaseModel):
    version: Version | None = None


class DiffArgs(BaseModel):
    from_: Annotated[Version, Field(alias="from")]
    to: Version


async def search(info: Info, kind: Kind, **args: Any) -> Page:
    a = validated(CatalogArgs, args)
    async with info.context.db.session() as session:
        items, cursor = await catalog.search(
            session, info.context.caller, kind, cursor=a.cursor, limit=a.limit,
            domain=a.domain, owner=a.owner, tag=a.tag, status=a.status, level=a.level, text=a.q,
        )
    return Page[kind.out](items=items, next_cursor=cursor)


async def get(info: Info, kind: Kind, key: str, version: int | None, as_of: dt.datetime | None) -> EntityOut:
    a = validated(AtVersion, {"version": version})
    async with info.context.db.session() as session:
        return await catalog.get(session, info.context.caller, kind, key, version=a.version, as_of=as_utc(as_of))


async def versions(info: Info, kind: Kind, key: str, cursor: str | None, limit: int) -> Page[VersionOut]:
    a = validated(PageArgs, {"cursor": cursor, "limit": limit})
    async with info.context.db.session() as session:
        items, nxt = await catalog.versions(session, info.context.caller, kind, key, cursor=a.cursor, limit=a.limit)
    return Page[VersionOut](items=items, next_cursor=nxt)


async def diff(info: Info, kind: Kind, key: str, from_version: int, to_version: int) -> Any:
    a = validated(DiffArgs, {"from": from_version, "to": to_version})
    async with info.context.db.session() as session:
        return await catalog.diff(session, info.context.caller, kind, key, a.from_, a.to)


async def lifecycle_of(info: Info, kind: Kind, key: str) -> Any:
    async with info.context.db.session() as session:
        return await lifecycle.status_of(session, info.context.caller, kind.name, key)


@strawberry.type
class Query:
    @strawberry.field(description="Metrics the caller may read; filters and paging as GET /v1/metrics (q: text search).")
    async def metrics(
        self, info: Info, domain: str | None = None, owner: str | None = None, tag: str | None = None,
        status: str | None = None, level: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> MetricPage:
        return await search(info, METRIC, domain=domain, owner=owner, tag=tag, status=status, level=level, q=q, cursor=cursor, limit=limit)

    @strawberry.field(description="Datasets the caller may read; filters and paging as GET /v1/datasets.")
    async def datasets(
        self, info: Info, domain: str | None = None, owner: str | None = None, tag: str | None = None,
        status: str | None = None, level: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100,
    ) -> DatasetPage:
        return await search(info, DATASET, domain=domain, owner=owner, tag=tag, status=status, level=level, q=q, cursor=cursor, limit=limit)

    @strawberry.field(description="One metric: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def metric(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Metric:
        return await get(info, METRIC, key, version, as_of)

    @strawberry.field(description="One dataset: the current version, `version: N`, or as it stood `asOf` a moment.")
    async def dataset(self, info: Info, key: str, version: int | None = None, as_of: dt.datetime | None = None) -> Dataset:
        return await get(info, DATASET, key, version, as_of)

    @strawberry.field
    async def metric_versions(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> VersionPage:
        return await versions(info, METRIC, key, cursor, limit)

    @strawberry.field
    async def dataset_versions(self, info: Info, key: str, cursor: str | None = None, limit: int = 100) -> VersionPage:
        return await versions(info, DATASET, key, cursor, limit)

    @strawberry.field
    async def metric_diff(self, info: Info, key: str, from_version: int, to_version: int) -> Diff:
        return await diff(info, METRIC, key, from_version, to_version)

    @strawberry.field
    async def dataset_diff(self, info: Info, key: str, from_version: int, to_version: int) -> Diff:
        return await diff(info, DATASET, key, from_version, to_version)

    @strawberry.field(description="Where a metric stands in its lifecycle, as GET /v1/metrics/{key}/lifecycle.")
    async def metric_lifecycle(self, info: Info, key: str) -> Lifecycle:
        return await lifecycle_of(info, METRIC, key)

    @strawberry.field(description="Where a dataset stands in its lifecycle, as GET /v1/datasets/{key}/lifecycle.")
    async def dataset_lifecycle(self, info: Info, key: str) -> Lifecycle:
        return await lifecycle_of(info, DATASET, key)

    @strawberry.field
    async def domains(self, info: Info) -> list[Domain]:
        _ = info.context.caller  # any authenticated caller, as GET /v1/domains
        async with info.context.db.session() as session:
            return await auth.list_domains(session)

    @strawberry.field(description="A domain's review policy, as GET /v1/domains/{name}/policy.")
    async def domain_policy(self, info: Info, name: str) -> Policy:
        async with info.context.db.session() as session:
            return await lifecycle.get_policy(session, info.context.caller, name)

    @strawberry.field(description="Admin only.")
    async def principals(self, info: Info) -> list[Principal]:
        async with info.context.db.session() as session:
            return await auth.list_principals(session, info.context.caller)

    @strawberry.field(description="Admin only; URLs are redacted.")
    async def sources(self, info: Info) -> list[Source]:
        async with info.context.db.session() as session:
            return await sources.list_sources(session, info.context.caller)

    @strawberry.field(description="Admin only; the URL is redacted.")
    async def source(self, info: Info, name: str) -> Source:
        async with info.context.db.session() as session:
            return await sources.get_source(session, info.context.caller, name)

    @strawberry.field(description="The audit log (auditors and admins); filters and paging as GET /v1/audit.")
    async def audit_events(
        self, info: Info, entity_kind: str | None = None, entity_key: str | None = None, actor: str | None = None,
        action: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
        cursor: str | None = None, limit: int = 100,
    ) -> AuditEventPage:
        a = validated(AuditArgs, dict(entity_kind=entity_kind, entity_key=entity_key, actor=actor, action=action, since=since, until=until, cursor=cursor, limit=limit))
        flt = audit.AuditFilter(a.entity_kind, a.entity_key, a.actor, a.action, a.since, a.until)
        info.context.caller.require_auditor()
        async with info.context.db.session() as session:
            events, cursor = await audit.page(session, flt, cursor=a.cursor, limit=a.limit)
        return Page[AuditEventOut](items=[AuditEventOut.model_validate(e) for e in events], next_cursor=cursor)

    @strawberry.field(description="The audit chain's signed head, for an outside monitor (auditors and admins), as GET /v1/audit/head.")
    async def audit_head(self, info: Info) -> AuditHead:
        info.context.caller.require_auditor()
        async with info.context.db.session() as session:
            return AuditHeadOut.model_validate(await audit.head(session))

    @strawberry.field(description="Recompute the audit chain (auditors and admins).")
    async def audit_verification(self, info: Info) -> Verification:
        info.context.caller.require_auditor()
        async with info.context.db.session() as session:
            return VerificationOut.model_validate(await verify_chain(session))

    @strawberry.field(description="Governed values: the input and answer of POST /v1/query (`include`, `warnings` too).")
    async def resolve(self, info: Info, input: QueryInput) -> QueryResult:
        return await info.context.queries.resolve(info.context.caller, query_request(input))

    @strawberry.field(description="The SQL `resolve` would run, per source, without running it (POST /v1/query/sql).")
    async def compile(self, info: Info, input: QueryInput) -> CompiledQuery:
        return await info.context.queries.compile(info.context.caller, query_request(input))
