"""Request and answer shapes of the KPI routes: targets, scorecards and their evaluations, checks, reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.catalog.schemas import EntityOut, NoteOption, patch_model
from app.compiler.definitions import Strict
from app.declared import declared_as
from app.kpi.definitions import ScopeValue, ScorecardDef, TargetDef, TargetIn

Note = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
Outcome = Literal["on_track", "at_risk", "off_track"]


class TargetOut(EntityOut):
    """A target value of a metric for one period (and scope), versioned."""

    definition: Annotated[dict[str, Any], declared_as(TargetDef)]


class ScorecardOut(EntityOut):
    """A weighted tree of metrics, versioned; evaluated for a period."""

    definition: Annotated[dict[str, Any], declared_as(ScorecardDef)]


class ScorecardIn(NoteOption, ScorecardDef):
    """POST /v1/scorecards: a scorecard definition."""


ScorecardPatch = patch_model("ScorecardPatch", (ScorecardDef,), ("name", "domain"))


class TargetBatch(Strict):
    """Targets set together: all are accepted or none (the first bad one is named by pointer)."""

    targets: list[TargetIn] = Field(min_length=1, max_length=5000)
    change_note: Note = ""


class TargetSet(BaseModel):
    """One target of a batch: its key, its version and whether this batch changed it."""

    key: str
    version: int
    changed: bool = Field(description="false when the target already had this content (no version appended)")


class TargetBatchOut(BaseModel):
    """What a batch of targets did."""

    items: list[TargetSet]
    created: int
    updated: int
    unchanged: int


class NodeOut(BaseModel):
    """One node of a scorecard, scored for the period."""

    path: str = Field(description="JSON pointer of the node in the scorecard definition")
    label: str | None
    metric: str | None
    scope: dict[str, ScopeValue]
    weight: float
    actual: float | None
    target: float | None
    target_source: str | None = Field(description="month | quarter | year | sum_of_months; null without a target")
    achievement: float | None = Field(description="actual ÷ target (target ÷ actual when lower is better); 1.0 is 100%")
    status: str | None = Field(description="the metric's threshold band for the achievement")
    score: float | None = Field(description="Σ effective weight × capped value of the children (nodes with children)")
    value: float | None = Field(description="what the node brings to its parent: its score, or a leaf's achievement")
    tier: str | None
    included: bool = Field(description="false when left out of its parent's roll-up (no value)")
    effective_weight: float | None = Field(description="the weight after renormalising over the included siblings")
    contribution: float | None = Field(description="effective_weight / 100 × min(value, cap): this node's part of its parent's score")
    note: str | None = None


class Evaluation(BaseModel):
    """A scorecard scored for a period: the root's score and tier, and every node."""

    scorecard: str
    version: int
    period: str
    grain: str
    target_kind: str
    cap: float
    score: float | None
    tier: str | None
    excluded: list[str] = Field(description="paths of nodes left out of a roll-up; their siblings' weights were renormalised")
    nodes: list[NodeOut]


class CheckOut(BaseModel):
    """One SMART check of a metric."""

    name: Literal["specific", "measurable", "achievable", "relevant", "time_bound"]
    passed: bool
    reason: str


class MetricChecks(BaseModel):
    """The SMART checks of one metric."""

    metric: str
    domain: str
    passed: int
    total: int
    checks: list[CheckOut]


class DomainChecks(BaseModel):
    """The SMART checks of a domain's metrics."""

    domain: str
    metrics: int
    passed: dict[str, int] = Field(description="per check, how many of the domain's metrics pass it")
    items: list[MetricChecks]


class ReviewIn(Strict):
    outcome: Outcome
    note: Note = ""
    reviewed_at: dt.datetime | None = Field(default=None, description="when the review was held (default now; not in the future)")


class ReviewOut(BaseModel):
    """One recorded review of a metric."""

    id: int
    metric: str
    reviewer: str
    reviewed_at: dt.datetime
    outcome: str
    note: str


class OverdueOut(BaseModel):
    """A KPI whose review_frequency has passed since its last review (or registration)."""

    metric: str
    domain: str
    owner: str
    review_frequency: str
    last_reviewed_at: dt.datetime | None
    due_at: dt.datetime
    days_overdue: int
