"""Request and answer shapes of `POST /v1/query` (docs/query.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.catalog.schemas import ResolutionWarning
from app.compiler.request import MetricQuery


class QueryRequest(MetricQuery):
    """What the compiler needs, plus the moment to resolve definitions at and extra columns."""

    as_of: dt.datetime | None = None
    include: list[Literal["targets"]] = Field(
        default_factory=list, max_length=1,
        description="targets: add <metric>__target, __achievement, __status and __target_source columns (plan targets)",
    )


class Column(BaseModel):
    name: str
    type: str
    unit: str | None = None


class MetricInfo(BaseModel):
    key: str
    version: int
    unit: str
    direction: str


class QueryAnswer(BaseModel):
    columns: list[Column]
    rows: list[list[Any]]
    metrics: list[MetricInfo]
    cache: Literal["hit", "miss"]
    warnings: list[ResolutionWarning] = Field(default_factory=list, description="deprecated or unpublished definitions used")


class CompiledSql(BaseModel):
    source: str
    dialect: str
    sql: str
    params: list[Any]


class SqlAnswer(BaseModel):
    """What POST /v1/query/sql answers: the SQL per source, without running it."""

    queries: list[CompiledSql]
    metrics: list[MetricInfo]
