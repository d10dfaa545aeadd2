"""Request and answer shapes of the catalog: versioned entities, versions, diffs, lifecycle and policy.

Definitions travel as the plain dicts `Kind.parse` validates and `Kind.dump` stores; the
per-kind classes below declare them in the contract as the typed models they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, create_model

from app.compiler.definitions import CumulativeMetric, DatasetDef, DerivedMetric, MetricDef, RatioMetric, SimpleMetric
from app.declared import declared_as
from app.names import MetricKey

T = TypeVar("T")
Note = Annotated[str, StringConstraints(max_length=2000)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntityOut(BaseModel):
    """A versioned definition (dataset, metric, target or scorecard), answered at one version."""

    kind: str
    key: str
    domain: str
    status: str
    version: int = Field(description="the version answered")
    latest_version: int
    author: str
    change_note: str
    created_at: dt.datetime = Field(description="when this version was accepted")
    content_hash: str
    definition: dict[str, Any]


class DatasetOut(EntityOut):
    """A dataset: one table on a source, described semantically."""

    definition: Annotated[dict[str, Any], declared_as(DatasetDef)]


class MetricOut(EntityOut):
    """A governed metric definition."""

    definition: Annotated[dict[str, Any], declared_as(MetricDef)]


class VersionOut(BaseModel):
    """One immutable version of a definition."""

    version: int
    author: str
    change_note: str
    created_at: dt.datetime
    content_hash: str


class Change(BaseModel):
    """One changed field between two versions."""

    path: str = Field(description="JSON pointer of the changed field")
    op: str = Field(description="add | remove | replace")
    before: Any = None
    after: Any = None
    summary: str


class DiffOut(BaseModel):
    """The field-level changes between two versions of a definition."""

    key: str
    from_version: int
    to_version: int
    changes: list[Change]


class Page(BaseModel, Generic[T]):
    """One page of a list, in a stable order."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")



class PolicyIn(Strict):
    review_required: StrictBool | None = Field(default=None, description="changes to published definitions become proposals")
    refuse_duplicates: StrictBool | None = Field(default=None, description="refuse metrics equivalent to an existing one (409 DUPLICATE_METRIC)")


class PolicyOut(BaseModel):
    """A domain's review policy."""

    domain: str
    review_required: bool
    refuse_duplicates: bool


class DeprecateIn(Strict):
    replacement: MetricKey | None = Field(default=None, description="key of the definition that replaces this one")
    sunset: dt.date | None = Field(default=None, description="the date after which it may be retired")
    reason: Note = ""


class RetireIn(Strict):
    reason: Note = ""


class LifecycleOut(BaseModel):
    """Where a definition stands in its lifecycle (draft, in_review, published, deprecated, retired)."""

    kind: str
    key: str
    status: str
    version: int
    replacement: str | None = None
    sunset: dt.date | None = None
    reason: str = ""


class ResolutionWarning(BaseModel):
    """A definition a query used that is not simply published (deprecated, draft, in review)."""

    code: str
    metric: str
    message: str
    replacement: str | None = None
    sunset: dt.date | None = None


class DuplicateGroup(BaseModel):
    """Metrics whose calculations are equivalent after normalisation."""

    fingerprint: str
    metrics: list[str]


# --- request bodies: a definition plus request-level fields (not content) ----------------------


class NoteOption(BaseModel):
    change_note: Note | None = Field(default=None, description="why; kept with the version and in the audit log")


class StatusOption(BaseModel):
    status: Literal["draft", "published"] | None = Field(default=None, description="published (default), or a draft edited freely until submitted")


class DuplicateOptions(BaseModel):
    allow_duplicate: StrictBool | None = Field(default=None, description="accept a metric equivalent to an existing one")
    duplicate_reason: Reason | None = Field(default=None, description="why the duplicate is wanted; required with allow_duplicate")


class DatasetIn(NoteOption, StatusOption, DatasetDef):
    """POST /v1/datasets: a dataset definition."""


class SimpleMetricIn(NoteOption, DuplicateOptions, StatusOption, SimpleMetric):
    """POST /v1/metrics: a simple metric (an aggregate over one dataset)."""


class RatioMetricIn(NoteOption, DuplicateOptions, StatusOption, RatioMetric):
    """POST /v1/metrics: one metric divided by another."""


class DerivedMetricIn(NoteOption, DuplicateOptions, StatusOption, DerivedMetric):
    """POST /v1/metrics: an expression over other metrics."""


class CumulativeMetricIn(NoteOption, DuplicateOptions, StatusOption, CumulativeMetric):
    """POST /v1/metrics: a running total of another metric."""


MetricIn = Annotated[
    Union[SimpleMetricIn, RatioMetricIn, DerivedMetricIn, CumulativeMetricIn], Field(discriminator="type")
]


def patch_model(name: str, definitions: tuple[type[BaseModel], ...], immutable: tuple[str, ...], *options: type[BaseModel]) -> type[BaseModel]:
    """The JSON merge patch of a definition (every field but the immutable ones, optional; null
    removes a field), plus the request-level `options` fields."""
    fields: dict[str, Any] = {}
    for model in definitions:
        for field, info in model.model_fields.items():
            if field not in immutable and field not in fields:
                annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
                fields[field] = (annotation | None, Field(default=None, description=info.description))
    tags = [tag for model in definitions if "type" in model.model_fields for tag in get_args(model.model_fields["type"].annotation)]
    if tags:
        fields["type"] = (Literal[tuple(tags)] | None, Field(default=None, description="the calculation type"))
    for model in (*options, NoteOption):
        fields.update({field: (info.annotation, info) for field, info in model.model_fields.items()})
    doc = "The fields to change (a JSON merge patch: null removes a field), plus an optional change_note."
    return create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, __module__=__name__, **fields)


DatasetPatch = patch_model("DatasetPatch", (DatasetDef,), ("name", "domain"))
MetricPatch = patch_model("MetricPatch", (SimpleMetric, RatioMetric, DerivedMetric, CumulativeMetric), ("key", "domain"), DuplicateOptions)
