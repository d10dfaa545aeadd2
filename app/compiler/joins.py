"""Join paths: which dataset a `dataset.dimension` lives on and how a metric's rows reach it.

A path is a tuple of join indices starting at the base dataset: `()` is the base itself,
`(0,)` its first join, `(0, 1)` the second join of that dataset. Only many-to-one joins are
declared, so LEFT JOINs along a path never multiply the base rows. At most two hops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from app.compiler import nodes
from app.compiler.definitions import Column, ComputedDimension, DatasetDef
from app.compiler.expressions import parse_dimension_expr
from app.errors import Invalid

MAX_HOPS = 2
Path = tuple[int, ...]


def reachable(base: DatasetDef, datasets: Mapping[str, DatasetDef]) -> dict[str, list[Path]]:
    """Every dataset reachable from `base` within two hops, with all paths to it."""
    found: dict[str, list[Path]] = {base.name: [()]}
    frontier: list[tuple[Path, DatasetDef, tuple[str, ...]]] = [((), base, (base.name,))]
    for _ in range(MAX_HOPS):
        nxt = []
        for path, ds, seen in frontier:
            for i, join in enumerate(ds.joins):
                target = datasets.get(join.dataset)
                if target is None or join.dataset in seen:
                    continue
                found.setdefault(join.dataset, []).append(path + (i,))
                nxt.append((path + (i,), target, seen + (join.dataset,)))
        frontier = nxt
    return found


def dataset_path(base: DatasetDef, target: str, datasets: Mapping[str, DatasetDef]) -> Path | None:
    """The unique shortest path to `target`; None when unreachable; ValueError when ambiguous."""
    paths = reachable(base, datasets).get(target)
    if not paths:
        return None
    shortest = min(len(p) for p in paths)
    best = [p for p in paths if len(p) == shortest]
    if len(best) > 1:
        raise ValueError(f"'{target}' is reachable from '{base.name}' along {len(best)} join paths")
    return best[0]


def dataset_at(base: DatasetDef, path: Path, datasets: Mapping[str, DatasetDef]) -> DatasetDef:
    ds = base
    for i in path:
        ds = datasets[ds.joins[i].dataset]
    return ds


def dimension_field(ds: DatasetDef, name: str) -> Column | ComputedDimension | None:
    """A column marked `dimension: true` or a computed dimension of `ds`."""
    col = ds.column(name)
    if col is not None:
        return col if col.dimension else None
    return next((d for d in ds.dimensions if d.name == name), None)


def field_type(f: Column | ComputedDimension) -> str:
    return f.type


@dataclass
class Scope:
    """The FROM clause of one aggregate: a base dataset plus the joined paths it needs."""

    base: DatasetDef
    datasets: Mapping[str, DatasetDef]
    aliases: dict[Path, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.aliases[()] = "t0"

    def alias(self, path: Path) -> str:
        for n in range(1, len(path) + 1):
            self.aliases.setdefault(path[:n], f"t{len(self.aliases)}")
        return self.aliases[path]

    def resolve(self, ref: str, pointer: str, *, what: str = "dimension") -> tuple[exp.Expression, str]:
        """`dataset.dimension` -> (qualified SQL expression, column type); Invalid when unknown or ambiguous."""
        ds_name, _, name = ref.partition(".")
        try:
            path = dataset_path(self.base, ds_name, self.datasets)
        except ValueError as err:
            raise Invalid(f"{what} '{ref}' is ambiguous: {err}", pointer=pointer,
                          code="AMBIGUOUS_DIMENSION") from err
        target = dataset_at(self.base, path, self.datasets) if path is not None else None
        f = dimension_field(target, name) if target is not None else None
        if f is None:
            raise Invalid(f"{what} '{ref}' is not a dimension reachable from dataset '{self.base.name}'",
                          pointer=pointer, code="UNKNOWN_DIMENSION")
        return self.field_sql(path, f), f.type

    def field_sql(self, path: Path, f: Column | ComputedDimension) -> exp.Expression:
        alias = self.alias(path)
        if isinstance(f, Column):
            return nodes.col(f.name, alias, quoted=True)
        return exp.Paren(this=qualify(parse_dimension_expr(f.expr), alias))

    def from_(self) -> tuple[exp.Table, list[exp.Join]]:
        """`base AS t0` and a LEFT JOIN for every registered path, parents first."""
        joins = []
        for path in sorted(self.aliases, key=lambda p: (len(p), p)):
            if not path:
                continue
            parent = dataset_at(self.base, path[:-1], self.datasets)
            join = parent.joins[path[-1]]
            target = self.datasets[join.dataset]
            left, right = self.aliases[path[:-1]], self.aliases[path]
            on = nodes.and_([
                exp.EQ(this=nodes.col(lc, left, quoted=True), expression=nodes.col(rc, right, quoted=True))
                for lc, rc in join.on.items()
            ])
            joins.append(nodes.left_join(nodes.table(table_sql(target.table), right), on))
        return nodes.table(table_sql(self.base.table), "t0"), joins

    def datasets_used(self) -> set[str]:
        return {dataset_at(self.base, p, self.datasets).name for p in self.aliases}


def qualify(tree: exp.Expression, alias: str) -> exp.Expression:
    """A copy of a one-dataset expression with every column qualified by `alias`."""

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return nodes.col(node.name, alias, quoted=True)
        return node

    return tree.transform(fix)


def qualify_row_expr(tree: exp.Expression, scope: Scope, pointer: str) -> exp.Expression:
    """A metric filter: own columns (bare or `own.col`), own computed dimensions, or
    `joined.dimension` reached through declared joins."""
    base = scope.base

    def fix(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column):
            return node
        qualifier, name = node.table or None, node.name
        if qualifier in (None, base.name):
            if base.column(name) is not None:
                return nodes.col(name, "t0", quoted=True)
            computed = next((d for d in base.dimensions if d.name == name), None)
            if computed is not None:
                return scope.field_sql((), computed)
            raise Invalid(f"column '{name}' is not declared on dataset '{base.name}'",
                          pointer=pointer, code="UNKNOWN_COLUMN")
        try:
            sql, _ = scope.resolve(f"{qualifier}.{name}", pointer, what="column")
        except Invalid as err:
            code = "UNKNOWN_COLUMN" if err.code == "UNKNOWN_DIMENSION" else err.code
            raise Invalid(err.message, pointer=pointer, code=code) from err
        return sql

    return tree.transform(fix)


def qualify_measure(tree: exp.Expression, base: DatasetDef, pointer: str, alias: str = "t0") -> exp.Expression:
    """A measure: only the base dataset's declared columns, qualified by `alias`."""

    def fix(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column):
            return node
        if node.table not in ("", base.name) or base.column(node.name) is None:
            raise Invalid(f"column '{node.sql()}' is not declared on dataset '{base.name}'",
                          pointer=pointer, code="UNKNOWN_COLUMN")
        return nodes.col(node.name, alias, quoted=True)

    return tree.transform(fix)


def table_sql(name: str) -> exp.Table:
    """A declared (regex-checked) table name; lowercase parts quoted, others left to the engine's folding."""
    parts = [exp.to_identifier(p, quoted=p.islower()) for p in name.split(".")]
    parts.reverse()
    return exp.Table(this=parts[0], db=parts[1] if len(parts) > 1 else None,
                     catalog=parts[2] if len(parts) > 2 else None)
