"""Request and answer shapes of the catalog: versioned entities, versions, diffs, lifecycle and policy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.names import MetricKey

Note = Annotated[str, StringConstraints(max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntityOut(BaseModel):
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


class VersionOut(BaseModel):
    version: int
    author: str
    change_note: str
    created_at: dt.datetime
    content_hash: str


class Change(BaseModel):
    path: str = Field(description="JSON pointer of the changed field")
    op: str = Field(description="add | remove | replace")
    before: Any = None
    after: Any = None
    summary: str


class DiffOut(BaseModel):
    key: str
    from_version: int
    to_version: int
    changes: list[Change]


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


class PolicyIn(Strict):
    review_required: bool | None = Field(default=None, description="changes to published definitions become proposals")
    refuse_duplicates: bool | None = Field(default=None, description="refuse metrics equivalent to an existing one (409 DUPLICATE_METRIC)")


class PolicyOut(BaseModel):
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
    kind: str
    key: str
    status: str
    version: int
    replacement: str | None = None
    sunset: dt.date | None = None
    reason: str = ""


class ResolutionWarning(BaseModel):
    code: str
    metric: str
    message: str
    replacement: str | None = None
    sunset: dt.date | None = None


class DuplicateGroup(BaseModel):
    fingerprint: str
    metrics: list[str]
