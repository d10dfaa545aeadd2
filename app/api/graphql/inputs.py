"""GraphQL inputs and their conversion to the pydantic models REST validates with, so both
transports refuse the same input with the same codes (INVALID_FIELD, MISSING_FIELD, …).

Input types are derived from those models (derive.py); the argument models below hold the
limits of REST's query parameters."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

import strawberry
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.graphql.derive import derive
from app.compiler.request import TimeRange
from app.errors import invalid_from_pydantic
from app.query.schemas import QueryRequest

T = TypeVar("T", bound=BaseModel)

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


TimeInput = derive(TimeRange, name="TimeInput", input=True)  # FilterInput and OrderByInput are named by rule
QueryInput = derive(QueryRequest, name="QueryInput", input=True, description="The body of POST /v1/query, field for field (camelCase).")


def plain(value: Any) -> Any:
    """A strawberry input as the JSON-like data REST would have received, without what the caller left out."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {k: plain(v) for k, v in vars(value).items() if v is not None and v is not strawberry.UNSET}
    return value


def from_input(model: type[T], data: Any) -> T:
    """The pydantic model REST validates with, from a derived input: the same refusals, codes and pointers."""
    return validated(model, plain(data) if data is not None else {})


def query_request(data: Any) -> QueryRequest:
    return from_input(QueryRequest, data)
