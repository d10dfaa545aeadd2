"""The versioned KPI content: targets and scorecards as typed, validated objects (no I/O)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.compiler.definitions import Band, Bands, Strict
from app.compiler.request import DimensionRef
from app.kpi import periods
from app.kpi.periods import PERIOD_PATTERN
from app.names import Label, MetricKey, Name, Text

TargetKind = Literal["plan", "stretch", "floor"]
ScopeText = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^|,=\x00]*$")]
ScopeValue = bool | int | ScopeText
Scope = Annotated[dict[DimensionRef, ScopeValue], Field(max_length=8)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
MAX_KEY = 127
DEFAULT_TIERS = Bands(bands=[Band(at_least=1.2, label="excellent"), Band(at_least=1.0, label="met")], otherwise="not_met")


def scope_value_text(value: ScopeValue) -> str:
    """One spelling for a dimension value in keys and in matching (True -> "true", 3 -> "3")."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def scope_text(scope: dict[str, ScopeValue]) -> str:
    return ",".join(f"{d}={scope_value_text(v)}" for d, v in sorted(scope.items()))


class TargetIn(Strict):
    """A target as sent: the domain may be left out (it is always the metric's domain)."""

    metric: MetricKey
    period: Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
    kind: TargetKind = "plan"
    scope: Scope = Field(default_factory=dict)
    value: Finite
    owner: Label
    description: Text = ""
    domain: Name | None = None

    @field_validator("period")
    @classmethod
    def _period_in_range(cls, period: str) -> str:
        periods.parse(period)  # a period ending after 9999-12-31 (9999-Q4) is refused
        return period

    @property
    def key(self) -> str:
        """The canonical key, e.g. `sales.gmv|2026-Q1|plan|orders.region=East`."""
        parts = [self.metric, self.period, self.kind] + ([scope_text(self.scope)] if self.scope else [])
        return "|".join(parts)

    @model_validator(mode="after")
    def _key_fits(self) -> TargetIn:
        if len(self.key) > MAX_KEY:
            raise ValueError(f"the target key '{self.key}' is longer than {MAX_KEY} characters; shorten the scope")
        return self


class TargetDef(TargetIn):
    """A target as stored (content of a `target` revision)."""

    domain: Name


class ScorecardNode(Strict):
    """A scorecard node: a metric (optionally scoped) or a labelled group, weighted among its siblings."""

    metric: MetricKey | None = None
    label: Label | None = None
    weight: float = Field(default=100, gt=0, le=100, description="share among siblings; siblings sum to 100")
    scope: Scope = Field(default_factory=dict, description="dimension values; added to the parent's scope")
    children: list[ScorecardNode] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _metric_or_group(self) -> ScorecardNode:
        if self.metric is None and not (self.label and self.children):
            raise ValueError("a node names a metric, or is a labelled group with children")
        return self


class ScorecardDef(Strict):
    name: Name
    title: Label
    description: Text = ""
    domain: Name
    owner: Label
    target_kind: TargetKind = "plan"
    cap: float = Field(default=1.2, ge=0.1, le=10, description="each child's achievement is capped at this ratio in roll-ups")
    tiers: Bands = DEFAULT_TIERS
    tags: list[Label] = Field(default_factory=list, max_length=50)
    root: ScorecardNode

    @model_validator(mode="after")
    def _size(self) -> ScorecardDef:
        if sum(1 for _ in walk(self.root)) > 500:
            raise ValueError("a scorecard has at most 500 nodes")
        return self


def walk(node: ScorecardNode, path: str = "/root", scope: dict | None = None):
    """Every node with its JSON pointer and effective scope (its ancestors' scope plus its own)."""
    scope = {**(scope or {}), **node.scope}
    yield path, node, scope
    for i, child in enumerate(node.children):
        yield from walk(child, f"{path}/children/{i}", scope)


def weight_problem(root: ScorecardNode) -> tuple[str, float] | None:
    """The first group of siblings whose weights do not sum to 100: (pointer, sum)."""
    for path, node, _ in walk(root):
        total = sum(c.weight for c in node.children)
        if node.children and abs(total - 100) > 1e-6:
            return f"{path}/children", total
    return None
