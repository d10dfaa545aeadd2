"""Lineage and impact over the current library: a graph of metrics, datasets, columns, sources,
targets and scorecards, loaded in one query and walked in memory."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Caller
from app.catalog import lifecycle
from app.catalog import repository as repo
from app.catalog.kinds import DATASET, METRIC, PARSED
from app.catalog.models import Entity
from app.catalog.schemas import LifecycleOut
from app.compiler.expressions import column_refs, parse_filter, parse_measure
from app.errors import ErrorCode, NotFound
from app.governance.schemas import Edge, ImpactItem, ImpactOut, LineageOut, Node
from app.kpi.definitions import walk
from app.kpi.kinds import SCORECARD, TARGET

KINDS = {"metric": METRIC, "dataset": DATASET, "target": TARGET, "scorecard": SCORECARD}


@dataclass
class Library:
    entities: dict[str, Entity] = field(default_factory=dict)  # node id -> identity row
    defs: dict[str, Any] = field(default_factory=dict)  # node id -> parsed definition
    users: dict[str, set[str]] = field(default_factory=dict)  # node id -> ids of definitions built on it

    def use(self, upstream: str, downstream: str) -> None:
        self.users.setdefault(upstream, set()).add(downstream)


def columns_of(metric: Any) -> set[tuple[str, str]]:
    """(dataset, column) pairs a simple metric reads; a qualifier names a joined dataset."""
    refs = column_refs(parse_measure(metric.measure))
    if metric.filter:
        refs |= column_refs(parse_filter(metric.filter))
    return {(q or metric.dataset, c) for q, c in refs}


async def load(session: AsyncSession) -> Library:
    lib = Library()
    for entity, revision in await repo.current_of_kinds(session, KINDS):
        node = f"{entity.kind}:{entity.key}"
        lib.entities[node] = entity
        lib.defs[node] = PARSED.get(KINDS[entity.kind], revision.content_hash, revision.content)
    for node, d in lib.defs.items():
        kind = node.split(":", 1)[0]
        if kind == "metric":
            for ref in d.references():
                lib.use(f"metric:{ref}", node)
            if d.type == "simple":
                for ds in {d.dataset} | {ds for ds, _ in columns_of(d)}:
                    lib.use(f"dataset:{ds}", node)
        elif kind == "dataset":
            for join in d.joins:
                lib.use(f"dataset:{join.dataset}", node)
        elif kind == "target":
            lib.use(f"metric:{d.metric}", node)
        else:
            for _, n, _ in walk(d.root):
                if n.metric:
                    lib.use(f"metric:{n.metric}", node)
    return lib


def _node(lib: Library, node_id: str) -> Node:
    kind, key = node_id.split(":", 1)
    entity = lib.entities.get(node_id)
    if entity is None:
        return Node(id=node_id, kind=kind, key=key)
    return Node(id=node_id, kind=kind, key=key, domain=entity.domain, owner=entity.owner, status=entity.status, version=entity.current_version)


def _visible(lib: Library, caller: Caller, node_id: str) -> bool:
    """Definitions in a readable domain, and a column with its dataset (a source shows only through
    an edge to a readable dataset)."""
    kind, key = node_id.split(":", 1)
    if kind == "column":
        node_id = "dataset:" + key.split(".", 1)[0]
    entity = lib.entities.get(node_id)
    return kind == "source" or entity is None or caller.can_read(entity.domain)


def _root(lib: Library, caller: Caller, kind: str, key: str) -> str:
    root = f"{kind}:{key}"
    if root not in lib.entities:
        raise NotFound(f"{kind} '{key}' not found", code=ErrorCode.not_found(kind))
    caller.require_read(lib.entities[root].domain)
    return root


def _upstream(lib: Library, root: str, edges: set[tuple[str, str, str]]) -> None:
    queue, seen = deque([root]), {root}
    while queue:
        node = queue.popleft()
        d = lib.defs.get(node)
        if d is None or not node.startswith("metric:"):
            continue
        parents = [(f"metric:{r}", "input") for r in d.references()]
        if d.type == "simple":
            parents.append((f"dataset:{d.dataset}", "measures"))
            for ds, col in sorted(columns_of(d)):
                edges.add((f"column:{ds}.{col}", node, "uses"))
                edges.add((f"dataset:{ds}", f"column:{ds}.{col}", "has"))
        for parent, relation in parents:
            edges.add((parent, node, relation))
            if parent.startswith("dataset:") and parent in lib.defs:
                edges.add((f"source:{lib.defs[parent].source}", parent, "reads"))
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    for source, target, _ in list(edges):
        if source.startswith("dataset:") and source in lib.defs:
            edges.add((f"source:{lib.defs[source].source}", source, "reads"))


RELATION = {"metric": "input", "target": "target_of", "scorecard": "scored_by", "dataset": "joined_by"}


def downstream(lib: Library, root: str) -> dict[str, tuple[int, str]]:
    """Every definition built on `root`, transitively: id -> (distance, the node it was reached from)."""
    found: dict[str, tuple[int, str]] = {}
    queue = deque([(root, 0)])
    while queue:
        node, depth = queue.popleft()
        for user in sorted(lib.users.get(node, ())):
            if user not in found and user != root:
                found[user] = (depth + 1, node)
                queue.append((user, depth + 1))
    return found


async def lineage(session: AsyncSession, caller: Caller, kind: str, key: str) -> LineageOut:
    lib = await load(session)
    root = _root(lib, caller, kind, key)
    edges: set[tuple[str, str, str]] = set()
    if kind == "metric":
        _upstream(lib, root, edges)
    for node, (_, via) in downstream(lib, root).items():
        edges.add((via, node, RELATION[node.split(":", 1)[0]]))
    shown = {(s, t, r) for s, t, r in edges if _visible(lib, caller, s) and _visible(lib, caller, t)}
    ids = {root} | {s for s, _, _ in shown} | {t for _, t, _ in shown}
    every = {root} | {s for s, _, _ in edges} | {t for _, t, _ in edges}
    return LineageOut(
        root=root,
        nodes=[_node(lib, i) for i in sorted(ids)],
        edges=[Edge(source=s, target=t, relation=r) for s, t, r in sorted(shown)],
        hidden=sum(1 for i in every - ids if i in lib.entities),
    )


async def impact(session: AsyncSession, caller: Caller, kind: str, key: str) -> ImpactOut:
    lib = await load(session)
    root = _root(lib, caller, kind, key)
    items, hidden = [], 0
    for node, (distance, _) in sorted(downstream(lib, root).items(), key=lambda kv: (kv[1][0], kv[0])):
        if not _visible(lib, caller, node):
            hidden += 1
            continue
        n = _node(lib, node)
        items.append(ImpactItem(kind=n.kind, key=n.key, domain=n.domain, owner=n.owner, status=n.status, distance=distance))
    return ImpactOut(root=root, items=items, owners=sorted({i.owner for i in items if i.owner}), hidden=hidden)


async def live_dependents(session: AsyncSession, kind: str, key: str) -> list[str]:
    """Metrics, datasets and scorecards (not retired) that directly use this definition."""
    lib = await load(session)
    users = lib.users.get(f"{kind}:{key}", set())
    return sorted(u for u in users if not u.startswith("target:") and lib.entities[u].status != "retired")


async def retire(session: AsyncSession, caller: Caller, kind: str, key: str, reason: str) -> LifecycleOut:
    """Retire a deprecated definition unless live definitions still depend on it (409 HAS_DEPENDENTS)."""
    return await lifecycle.retire(session, caller, kind, key, reason, await live_dependents(session, kind, key))
