"""The compiler's own request: which metrics, by which dimensions, over which period, filtered how.

`app.query.schemas.QueryRequest` extends it with what only the resolve service needs. The
limits below bound the work one request can cause (docs/query.md); each refusal is a 422
`QUERY_LIMIT_EXCEEDED` pointing at what is too big.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from app.compiler.definitions import Grain
from app.errors import ErrorCode
from app.names import MetricKey

MAX_FILTERS = 50
MAX_VALUES_PER_FILTER = 1_000
MAX_FILTER_VALUES = 5_000  # all filters together
MAX_VALUE_LENGTH = 10_000  # characters of one string value
MAX_BOUND_PARAMETERS = 10_000  # in the compiled SQL, where aggregates and periods repeat the values (app.compiler.plan)
LIMIT_EXCEEDED = ErrorCode.QUERY_LIMIT_EXCEEDED.lower()  # pydantic error types that carry these codes (app.errors)
BAD_VALUE = ErrorCode.INVALID_FILTER_VALUE.lower()

DimensionRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", max_length=127)
]


def _plain_value(value: Any) -> Any:
    """Finite numbers only (NaN and the infinities compare differently on every engine), short strings."""
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError(BAD_VALUE, "filter values are finite numbers (no NaN or infinity)")
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        raise PydanticCustomError(LIMIT_EXCEEDED, "a filter value has at most {most} characters", {"most": MAX_VALUE_LENGTH})
    return value


def _at_most(most: int, what: str) -> AfterValidator:
    def check(items: list) -> list:
        if len(items) > most:
            raise PydanticCustomError(LIMIT_EXCEEDED, "at most {most} {what}, not {given}", {"most": most, "what": what, "given": len(items)})
        return items
    return AfterValidator(check)


def _values_in_all(filters: list[Filter]) -> list[Filter]:
    given = sum(len(f.values) for f in filters)
    if given > MAX_FILTER_VALUES:
        raise PydanticCustomError(LIMIT_EXCEEDED, "at most {most} filter values in all, not {given}", {"most": MAX_FILTER_VALUES, "given": given})
    return filters


FilterValue = Annotated[str | int | float | bool | None, AfterValidator(_plain_value)]

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
    values: Annotated[list[FilterValue], _at_most(MAX_VALUES_PER_FILTER, "values per filter")] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_VALUES_PER_FILTER})

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
    filters: Annotated[list[Filter], _at_most(MAX_FILTERS, "filters"), AfterValidator(_values_in_all)] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_FILTERS})
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
