"""Request and answer shapes of governance: proposals, lineage, batches, changes, webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import AnyHttpUrl, BaseModel, Field, StrictBool, StringConstraints

from app.catalog.schemas import Change, Note, Strict
from app.compiler.definitions import DatasetDef, MetricDef
from app.declared import declared_as
from app.names import MetricKey, Name

Comment = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class SubmitIn(Strict):
    change_note: Note = ""


class ProposalReviewIn(Strict):
    comment: Comment


class ProposalOut(BaseModel):
    """A change or publication waiting for (or closed by) an approver's review."""

    id: int
    kind: str
    key: str
    domain: str
    action: str = Field(description="change (a new version of a published definition) | publish (a submitted draft)")
    state: str = Field(description="open | accepted | rejected")
    base_version: int
    author: str
    change_note: str
    definition: Annotated[dict[str, Any], declared_as(Union[DatasetDef, MetricDef])]
    reviewer: str | None
    review_comment: str
    result_version: int | None
    created_at: dt.datetime
    reviewed_at: dt.datetime | None


class Node(BaseModel):
    """One node of a lineage graph: a metric, dataset, column, source, target or scorecard."""

    id: str = Field(description="kind:key, e.g. metric:sales.gmv, column:orders.amount")
    kind: str
    key: str
    domain: str | None = None
    owner: str | None = None
    status: str | None = None
    version: int | None = None


class Edge(BaseModel):
    """A dependency between two lineage nodes: `source` feeds `target`."""

    source: str = Field(description="id of the upstream node")
    target: str = Field(description="id of the downstream node")
    relation: str


class LineageOut(BaseModel):
    """The upstream and downstream graph of one definition."""

    root: str
    nodes: list[Node]
    edges: list[Edge]
    hidden: int = Field(default=0, description="definitions in the graph in domains the caller cannot read (not named)")


class ImpactItem(BaseModel):
    """A definition downstream of the changed one."""

    kind: str
    key: str
    domain: str | None
    owner: str | None
    status: str | None
    distance: int = Field(description="hops from the changed definition")


class ImpactOut(BaseModel):
    """What a change to one definition reaches, and the owners to tell."""

    root: str
    items: list[ImpactItem]
    owners: list[str]
    hidden: int = Field(default=0, description="dependent definitions in domains the caller cannot read (not named)")


class BatchItem(Strict):
    kind: Literal["dataset", "metric"]
    definition: Annotated[dict[str, Any], declared_as(Union[DatasetDef, MetricDef])]
    origin: Annotated[str, StringConstraints(max_length=500)] | None = Field(default=None, description="where it came from (a file name); echoed in errors")
    allow_duplicate: StrictBool = False
    duplicate_reason: Note = ""


class BatchIn(Strict):
    items: list[BatchItem] = Field(max_length=5000)
    dry_run: StrictBool = False
    change_note: Note = ""


class BatchResult(BaseModel):
    kind: str
    key: str
    action: str = Field(description="create | update | unchanged")
    version: int
    changes: list[Change] = Field(default_factory=list, description="field-level diff of an update")


class BatchOut(BaseModel):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    items: list[BatchResult]


class ChangeOut(BaseModel):
    """One accepted change to a dataset, metric, target or scorecard."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    kind: str
    key: str
    domain: str | None
    version: int | None


class ChangesPage(BaseModel):
    """A page of the change feed, in commit order; continue or poll with `after`."""

    items: list[ChangeOut]
    next_cursor: str | None = Field(description="pass as `after` to continue; null when this page is the end")
    cursor: str = Field(description="where the feed stands now; poll again with `after` set to this")


class WebhookIn(Strict):
    url: AnyHttpUrl
    secret: Annotated[str, StringConstraints(min_length=16, max_length=500)] = Field(description="HMAC key; write-only")
    domain: Name | None = None
    metric: MetricKey | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    domain: str | None
    metric: str | None
    active: bool
    last_seq: int
    created_by: str
    created_at: dt.datetime


class DeliveryOut(BaseModel):
    id: int
    seq: int
    state: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
