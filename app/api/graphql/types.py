"""GraphQL object types of the catalog, principals, sources, the audit log and queries, derived
from the services' answer models (derive.py); resolvers answer those models themselves.

Nested fields (domain, owner, dataset, latest) go through the request's DataLoaders, so a
listing costs a constant number of registry queries however many items it holds.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.api.graphql.derive import derive, derived
from app.audit.schemas import AuditEventOut, AuditHeadOut, VerificationOut
from app.auth.schemas import DomainOut, KeyOut, PrincipalOut, PrincipalRef
from app.catalog.schemas import DatasetOut, DiffOut, EntityOut, LifecycleOut, MetricOut, Page, PolicyOut, VersionOut
from app.query.schemas import MetricInfo as MetricInfoModel
from app.query.schemas import QueryAnswer, SqlAnswer
from app.sources.schemas import SourceOut

Domain = derive(DomainOut)
Owner = derive(PrincipalRef, name="Owner")
Version = derive(VersionOut)
VersionPage = derive(Page[VersionOut])
Diff = derive(DiffOut)
Lifecycle = derive(LifecycleOut)
Policy = derive(PolicyOut)
ApiKey = derive(KeyOut, name="ApiKey")
Principal = derive(PrincipalOut)
Source = derive(SourceOut)
AuditEvent = derive(AuditEventOut)
AuditEventPage = derive(Page[AuditEventOut])
AuditHead = derive(AuditHeadOut)
Verification = derive(VerificationOut)
MetricInfo = derive(MetricInfoModel, description="A metric as a query used it: its key and the version resolved.")
QueryResult = derive(QueryAnswer, name="QueryResult", description="Governed values: rows are arrays in column order.")
CompiledQuery = derive(SqlAnswer, name="CompiledQuery", description="The SQL a query would run, per source, without running it.")


@derived(EntityOut, name="Versioned", interface=True, hide=("kind",))
class Versioned:
    @strawberry.field(description="the owning domain")
    async def domain(self, info: Info) -> Domain:
        return await info.context.loaders.domains.load(self.domain)

    @strawberry.field(description="the current version of this entity")
    async def latest(self, info: Info) -> Version:
        return await info.context.loaders.latest.load((self.kind, self.key))


@derived(DatasetOut)
class Dataset(Versioned):
    @strawberry.field
    def source(self) -> str:
        return self.definition["source"]

    @strawberry.field
    def table(self) -> str:
        return self.definition["table"]


@derived(MetricOut)
class Metric(Versioned):
    @strawberry.field
    def name(self) -> str:
        return self.definition.get("name", "")

    @strawberry.field
    def type(self) -> str:
        return self.definition["type"]

    @strawberry.field
    def unit(self) -> str | None:
        return self.definition.get("unit")

    @strawberry.field(description="the responsible person, as the definition names them")
    def owner(self) -> str | None:
        return self.definition.get("owner")

    @strawberry.field(description="the registered principal the owner names, if any")
    async def owner_principal(self, info: Info) -> Owner | None:
        owner = self.definition.get("owner")
        return await info.context.loaders.owners.load(owner) if owner else None

    @strawberry.field(description="the dataset of a simple metric, at its current version")
    async def dataset(self, info: Info) -> Dataset | None:
        name = self.definition.get("dataset")
        return await info.context.loaders.datasets.load(name) if name else None


DatasetPage = derive(Page[DatasetOut])
MetricPage = derive(Page[MetricOut])
