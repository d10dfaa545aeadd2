"""The compiler's own request: which metrics, by which dimensions, over which period, filtered how.

`app.query.schemas.QueryRequest` extends it with what only the resolve service needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.compiler.definitions import Grain
from app.names import MetricKey

DimensionRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", max_length=127)
]
FilterValue = str | int | float | bool | None

FilterOp = Literal[
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte",
    "between", "contains", "starts_with", "is_null", "is_not_null",
]
SINGLE_VALUE_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "contains", "starts_with"}
NO_VALUE_OPS = {"is_null", "is_not_null"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRange(Strict):
    grain: Grain | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start and self.end and self.start >= self.end:
            raise ValueError("time.start must be before time.end (end is exclusive)")
        return self


class Filter(Strict):
    dimension: DimensionRef | Literal["metric_time"]
    op: FilterOp
    values: list[FilterValue] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _arity(self) -> Filter:
        n = len(self.values)
        if self.op in SINGLE_VALUE_OPS and n != 1:
            raise ValueError(f"op '{self.op}' takes exactly one value")
        if self.op == "between" and n != 2:
            raise ValueError("op 'between' takes exactly two values")
        if self.op in NO_VALUE_OPS and n:
            raise ValueError(f"op '{self.op}' takes no values")
        if self.op in ("in", "not_in") and not n:
            raise ValueError(f"op '{self.op}' takes at least one value")
        if self.op not in NO_VALUE_OPS and any(v is None for v in self.values):
            raise ValueError("null values are only tested with is_null / is_not_null")
        return self


class OrderBy(Strict):
    field: Annotated[str, StringConstraints(max_length=127)]
    direction: Literal["asc", "desc"] = "asc"


Comparison = Literal["previous_period", "same_period_last_year"]


class MetricQuery(Strict):
    metrics: list[MetricKey] = Field(min_length=1, max_length=50)
    dimensions: list[DimensionRef] = Field(default_factory=list, max_length=20)
    time: TimeRange | None = None
    filters: list[Filter] = Field(default_factory=list, max_length=50)
    order_by: list[OrderBy] = Field(default_factory=list, max_length=20)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)
    compare: list[Comparison] = Field(default_factory=list, max_length=2)

    @model_validator(mode="after")
    def _unique(self) -> MetricQuery:
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError("metrics must not repeat")
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError("dimensions must not repeat")
        if self.compare and not (self.time and self.time.grain):
            raise ValueError("compare needs time.grain")
        return self
