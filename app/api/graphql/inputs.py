"""GraphQL inputs and their conversion to the pydantic models REST validates with, so both
transports refuse the same input with the same codes (INVALID_FIELD, MISSING_FIELD, …)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import strawberry
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from strawberry.scalars import JSON

from app.errors import invalid_from_pydantic
from app.query.schemas import QueryRequest

Short = Annotated[str, Field(max_length=200)]


class CatalogArgs(BaseModel):
    """The list filters of GET /v1/metrics and /v1/datasets, with the same limits."""

    model_config = ConfigDict(extra="forbid")
    domain: Annotated[str, Field(max_length=63)] | None = None
    owner: Short | None = None
    tag: Short | None = None
    status: Annotated[str, Field(max_length=16)] | None = None
    level: Literal["strategic", "tactical", "operational"] | None = None
    q: Short | None = None
    cursor: Annotated[str, Field(max_length=500)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AuditArgs(BaseModel):
    """The filters of GET /v1/audit, with the same limits."""

    model_config = ConfigDict(extra="forbid")
    entity_kind: Annotated[str, Field(max_length=16)] | None = None
    entity_key: Annotated[str, Field(max_length=127)] | None = None
    actor: Annotated[str, Field(max_length=63)] | None = None
    action: Annotated[str, Field(max_length=32)] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    cursor: Annotated[str, Field(max_length=500)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class PageArgs(BaseModel):
    cursor: Annotated[str, Field(max_length=500)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


def validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """`model` from `data` (None values dropped), or the 422 REST would give for the same input."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc.errors()) from None


@strawberry.input(description="time.grain: day | week | month | quarter | year; start inclusive, end exclusive (YYYY-MM-DD)")
class TimeInput:
    grain: str | None = None
    start: str | None = None
    end: str | None = None


@strawberry.input(description="op: eq ne in not_in gt gte lt lte between contains starts_with is_null is_not_null")
class FilterInput:
    dimension: str
    op: str
    values: list[JSON] | None = None


@strawberry.input
class OrderByInput:
    field: str
    direction: str | None = None


@strawberry.input(description="The body of POST /v1/query, field for field (camelCase).")
class QueryInput:
    metrics: list[str]
    dimensions: list[str] | None = None
    time: TimeInput | None = None
    filters: list[FilterInput] | None = None
    order_by: list[OrderByInput] | None = None
    limit: int | None = None
    compare: list[str] | None = None
    as_of: str | None = None


def _plain(value: Any) -> Any:
    """Strawberry inputs to plain JSON-like data, omitting what the caller left out."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {k: _plain(v) for k, v in vars(value).items() if v is not None}
    return value


def query_request(data: QueryInput) -> QueryRequest:
    return validated(QueryRequest, _plain(data))
