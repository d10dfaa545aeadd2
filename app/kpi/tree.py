"""Score a scorecard tree from per-node facts (pure): leaves by achievement, parents by capped,
renormalised weighted roll-ups of their children."""

from __future__ import annotations

from dataclasses import dataclass

from app.compiler.definitions import Bands
from app.kpi.definitions import Node, ScorecardDef
from app.kpi.schemas import NodeOut
from app.kpi.scoring import achievement, label, roll_up


@dataclass(frozen=True)
class Fact:
    """What is known about one metric node: its actual, target and how to read them."""

    actual: float | None
    target: float | None
    target_source: str | None
    direction: str
    thresholds: Bands


def score_tree(card: ScorecardDef, facts: dict[str, Fact]) -> list[NodeOut]:
    """Every node in pre-order, keyed by path; `facts` holds the metric nodes' facts by path."""
    out: list[NodeOut] = []
    _score(card, card.root, "/root", {}, facts, out)
    return out


def _score(card: ScorecardDef, node: Node, path: str, scope: dict, facts: dict[str, Fact], out: list[NodeOut]) -> NodeOut:
    scope = {**scope, **node.scope}
    fact = facts.get(path)
    ach = achievement(fact.actual, fact.target, fact.direction) if fact else None
    me = NodeOut(
        path=path, label=node.label, metric=node.metric, scope=scope, weight=node.weight,
        actual=fact.actual if fact else None, target=fact.target if fact else None,
        target_source=fact.target_source if fact else None, achievement=ach,
        status=label(fact.thresholds, ach) if fact else None,
        score=None, value=None, tier=None, included=False, effective_weight=None, contribution=None,
    )
    out.append(me)
    children = [_score(card, child, f"{path}/children/{i}", scope, facts, out) for i, child in enumerate(node.children)]
    if children:
        me.score, shares = roll_up([(c.weight, c.value) for c in children], card.cap)
        for child, share in zip(children, shares):
            child.effective_weight, child.contribution = share.effective_weight, share.contribution
        me.value = me.score
    else:
        me.value = ach
    me.tier = label(card.tiers, me.value)
    me.included = me.value is not None
    me.note = _why_missing(me, fact, bool(children))
    return me


def _why_missing(me: NodeOut, fact: Fact | None, has_children: bool) -> str | None:
    if me.value is not None:
        return None
    if has_children:
        return "no child has a value; left out of its parent's roll-up"
    if fact is None or fact.target is None:
        return "no target for the period; left out of the roll-up, sibling weights renormalised"
    if fact.actual is None:
        return "no actual value for the period; left out of the roll-up, sibling weights renormalised"
    return "achievement undefined (division by zero); left out of the roll-up, sibling weights renormalised"
