"""GraphQL object types: thin views over the services' answer models (EntityOut, VersionOut, …).

Nested fields (domain, owner, dataset, latest) go through the request's DataLoaders, so a
listing costs a constant number of registry queries however many items it holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from app.catalog.schemas import EntityOut

T = TypeVar("T")


def from_model(cls: type[T], obj: Any, **given: Any) -> T:
    """Build a GraphQL type from an object with the same (snake_case) attribute names."""
    names = [f.python_name for f in get_object_definition(cls, strict=True).fields if f.base_resolver is None]
    return cls(**{**{n: getattr(obj, n) for n in names if n not in given}, **given})


@strawberry.type(description="A department or business area that owns definitions.")
class Domain:
    name: str
    description: str
    created_at: dt.datetime


@strawberry.type(description="A registered principal named as a metric's owner.")
class Owner:
    name: str
    display_name: str
    kind: str


@strawberry.type(description="One immutable version of a definition.")
class Version:
    version: int
    author: str
    change_note: str
    created_at: dt.datetime
    content_hash: str


@strawberry.type(description="One changed field between two versions.")
class Change:
    path: str = strawberry.field(description="JSON pointer of the changed field")
    op: str = strawberry.field(description="add | remove | replace")
    before: JSON | None
    after: JSON | None
    summary: str


@strawberry.type
class Diff:
    key: str
    from_version: int
    to_version: int
    changes: list[Change]


@strawberry.type(description="A page of a list; pass nextCursor as `cursor` for the next one (null: no more).")
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@strawberry.interface(description="A versioned definition (dataset or metric), answered at one version.")
class Versioned:
    key: str
    status: str
    version: int = strawberry.field(description="the version answered")
    latest_version: int
    author: str
    change_note: str
    created_at: dt.datetime = strawberry.field(description="when this version was accepted")
    content_hash: str
    definition: JSON
    kind: strawberry.Private[str]
    domain_name: strawberry.Private[str]

    @classmethod
    def from_out(cls, out: EntityOut):
        return from_model(cls, out, kind=out.kind, domain_name=out.domain)

    @strawberry.field(description="the owning domain")
    async def domain(self, info: Info) -> Domain:
        return from_model(Domain, await info.context.loaders.domains.load(self.domain_name))

    @strawberry.field(description="the current version of this entity")
    async def latest(self, info: Info) -> Version:
        return from_model(Version, await info.context.loaders.latest.load((self.kind, self.key)))


@strawberry.type(description="A dataset: one table on a source, described semantically.")
class Dataset(Versioned):
    @strawberry.field
    def source(self) -> str:
        return self.definition["source"]

    @strawberry.field
    def table(self) -> str:
        return self.definition["table"]


@strawberry.type(description="A governed metric definition.")
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
        found = await info.context.loaders.owners.load(owner) if owner else None
        return from_model(Owner, found) if found else None

    @strawberry.field(description="the dataset of a simple metric, at its current version")
    async def dataset(self, info: Info) -> Dataset | None:
        name = self.definition.get("dataset")
        found = await info.context.loaders.datasets.load(name) if name else None
        return Dataset.from_out(found) if found else None


@strawberry.type
class RoleGrant:
    role: str
    domain: str | None


@strawberry.type
class ApiKey:
    id: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@strawberry.type(description="A person or system with API keys and roles (admin only).")
class Principal:
    name: str
    display_name: str
    kind: str
    roles: list[RoleGrant]
    keys: list[ApiKey]

    @classmethod
    def from_out(cls, out: Any) -> Principal:
        roles = [from_model(RoleGrant, r) for r in out.roles]
        return from_model(cls, out, roles=roles, keys=[from_model(ApiKey, k) for k in out.keys])


@strawberry.type(description="Where the numbers live; the URL is shown redacted.")
class Source:
    name: str
    kind: str
    url: str
    description: str
    created_by: str
    created_at: dt.datetime


@strawberry.type(description="One accepted change in the audit log, chained by keyed hashes.")
class AuditEvent:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity_kind: str
    entity_key: str
    before: JSON | None
    after: JSON | None
    reason: str
    prev_hash: str
    key_id: str
    hash: str


@strawberry.type(description="As GET /v1/audit/verify: `code` names why the chain does not hold (docs/audit.md).")
class Verification:
    ok: bool
    events: int
    head_seq: int | None
    first_broken_seq: int | None
    code: str | None
    reason: str | None


@strawberry.type
class Column:
    name: str
    type: str
    unit: str | None


@strawberry.type(description="A metric as a query used it: its key and the version resolved.")
class MetricInfo:
    key: str
    version: int
    unit: str
    direction: str


@strawberry.type(description="Governed values: rows are arrays in column order.")
class QueryResult:
    columns: list[Column]
    rows: JSON
    metrics: list[MetricInfo]
    cache: str = strawberry.field(description="hit | miss")


@strawberry.type
class CompiledSql:
    source: str
    dialect: str
    sql: str
    params: JSON


@strawberry.type(description="The SQL a query would run, per source, without running it.")
class CompiledQuery:
    queries: list[CompiledSql]
    metrics: list[MetricInfo]
