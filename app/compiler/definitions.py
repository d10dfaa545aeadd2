"""The definition format (docs/definitions.md): datasets and metrics as typed, validated objects.

These models are the content that gets versioned; they hold no I/O and are shared
by the registry (validation, storage) and the compiler (SQL generation).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator, model_validator

from app.compiler.expressions import derived_references
from app.names import Expr, Label, MetricKey, Name, TableName, Text

ColumnType = Literal["string", "integer", "decimal", "float", "boolean", "date", "timestamp"]
Grain = Literal["day", "week", "month", "quarter", "year"]
WINDOW_PATTERN = r"^[1-9][0-9]{0,3} (day|week|month|quarter|year)s?$"


class Strict(BaseModel):
    """Unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetColumn(Strict):
    name: Name
    type: ColumnType
    dimension: StrictBool = False
    label: Label | None = None
    description: Text | None = None


class ComputedDimension(Strict):
    name: Name
    type: ColumnType = "string"
    expr: Expr
    label: Label | None = None
    description: Text | None = None


class Join(Strict):
    """A many-to-one join: each row of this dataset matches at most one row of `dataset`."""

    dataset: Name
    on: dict[Name, Name] = Field(min_length=1, max_length=8)


class DatasetDef(Strict):
    name: Name
    domain: Name
    source: Name
    table: TableName
    description: Text = ""
    owner: Label | None = None
    primary_key: Name | None = None
    time_column: Name | None = None
    columns: list[DatasetColumn] = Field(min_length=1, max_length=500)
    dimensions: list[ComputedDimension] = Field(default_factory=list, max_length=200)
    joins: list[Join] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _names_resolve(self) -> DatasetDef:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        computed = [d.name for d in self.dimensions]
        if len(set(computed)) != len(computed) or set(computed) & set(names):
            raise ValueError("computed dimension names must be unique and differ from column names")
        for field in ("primary_key", "time_column"):
            value = getattr(self, field)
            if value is not None and value not in names:
                raise ValueError(f"{field} '{value}' is not a declared column")
        for join in self.joins:
            missing = [c for c in join.on if c not in names]
            if missing:
                raise ValueError(f"join to '{join.dataset}' uses undeclared columns {missing}")
        return self

    def column(self, name: str) -> DatasetColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def dimension_names(self) -> list[str]:
        return [c.name for c in self.columns if c.dimension] + [d.name for d in self.dimensions]


class Band(Strict):
    at_least: float = Field(ge=-1000, le=1000, description="lowest achievement (a ratio: 1.0 is 100%) of this band")
    label: Label


class Bands(Strict):
    """Ordered bands that turn an achievement ratio into a label: the first band reached wins."""

    bands: list[Band] = Field(min_length=1, max_length=20)
    otherwise: Label

    @model_validator(mode="after")
    def _descending(self) -> Bands:
        floors = [b.at_least for b in self.bands]
        if any(a <= b for a, b in zip(floors, floors[1:])):
            raise ValueError("bands must be ordered from the highest at_least down, without repeats")
        return self


class MetricBase(Strict):
    key: MetricKey
    name: Label
    description: Text = ""
    caliber: Text = ""
    domain: Name
    owner: Label
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "count"
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"
    level: Literal["strategic", "tactical", "operational"] = "operational"
    review_frequency: Literal["daily", "weekly", "monthly", "quarterly", "yearly"] | None = None
    tags: list[Label] = Field(default_factory=list, max_length=50)
    synonyms: list[Label] = Field(default_factory=list, max_length=50)
    cache_ttl: int | None = Field(default=None, ge=0, le=86400, description="result cache TTL in seconds")
    thresholds: Bands | None = Field(default=None, description="achievement -> status; default >=1.0 green, >=0.9 amber, else red")

    def references(self) -> list[str]:
        """Keys of the other metrics this one is computed from."""
        return []


class SimpleMetric(MetricBase):
    type: Literal["simple"]
    dataset: Name
    measure: Expr
    filter: Expr | None = None
    time_column: Name | None = None


class RatioMetric(MetricBase):
    type: Literal["ratio"]
    numerator: MetricKey
    denominator: MetricKey

    def references(self) -> list[str]:
        return [self.numerator, self.denominator]


class DerivedMetric(MetricBase):
    type: Literal["derived"]
    expr: Expr

    @field_validator("expr")
    @classmethod
    def _references_written_right(cls, expr: str) -> str:
        derived_references(expr)  # {domain.metric} references only: a quote, stray brace or capital is refused here
        return expr

    def references(self) -> list[str]:
        return derived_references(self.expr)


class CumulativeMetric(MetricBase):
    type: Literal["cumulative"]
    base: MetricKey
    window: Annotated[str, StringConstraints(pattern=WINDOW_PATTERN)] | None = None
    grain_to_date: Literal["month", "quarter", "year"] | None = None

    @model_validator(mode="after")
    def _one_window(self) -> CumulativeMetric:
        if self.window and self.grain_to_date:
            raise ValueError("give either window or grain_to_date, not both")
        return self

    def references(self) -> list[str]:
        return [self.base]


MetricDef = Annotated[
    Union[SimpleMetric, RatioMetric, DerivedMetric, CumulativeMetric], Field(discriminator="type")
]
