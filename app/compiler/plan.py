"""compile_query: definitions + request -> one SQL statement for one source, with bound params.

A `Compiler` keeps plans by request shape (everything but the filter values and the range dates)
plus the content of every definition passed in, so a changed definition, or another registry's
definition under the same key and version, never reuses a plan; a cache hit only binds the new values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from app.canonical import canonical_json
from app.compiler import nodes
from app.compiler.build import Builder, Group, Instance
from app.compiler.definitions import DatasetDef, MetricDef, SimpleMetric
from app.compiler.expressions import ExpressionError, parse_measure
from app.compiler.metrics import Resolver, safe_div
from app.compiler.nodes import alias, col
from app.compiler.render import Params, Slot, bind, render
from app.compiler.request import MAX_BOUND_PARAMETERS, MetricQuery
from app.compiler.time import add, comparison_step, dialect_for
from app.errors import ErrorCode, Invalid
from app.memo import Memo

PLAN_CACHE_SIZE = 2048
_OUTPUT_TYPES = {"string": "string", "integer": "number", "decimal": "number", "float": "number",
                 "boolean": "boolean", "date": "date", "timestamp": "timestamp"}


@dataclass(frozen=True)
class VersionedMetric:
    definition: MetricDef
    version: int


@dataclass(frozen=True)
class VersionedDataset:
    definition: DatasetDef
    version: int


@dataclass(frozen=True)
class Definitions:
    metrics: Mapping[str, VersionedMetric]
    datasets: Mapping[str, VersionedDataset]
    sources: Mapping[str, str]  # source name -> kind: duckdb | sqlite | postgresql

    @cached_property
    def digest(self) -> str:
        """A hash of every definition's content and version and of the source kinds (computed once)."""
        parts = [f"m {k} {v.version} {v.definition.model_dump_json()}" for k, v in sorted(self.metrics.items())]
        parts += [f"d {k} {v.version} {v.definition.model_dump_json()}" for k, v in sorted(self.datasets.items())]
        parts.append(canonical_json(sorted(self.sources.items())))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class OutputColumn:
    name: str
    type: str
    unit: str | None
    kind: str  # time | dimension | metric | comparison


@dataclass(frozen=True)
class CompiledQuery:
    source: str
    dialect: str
    sql: str
    params: tuple
    columns: list[OutputColumn]
    metric_versions: dict[str, int]
    dataset_versions: dict[str, int]
    digest: str = ""  # a hash of the statement (source, dialect, SQL, versions): with the params, a result's key


@dataclass(frozen=True)
class _Plan:
    query: CompiledQuery  # params empty
    slots: tuple[Slot, ...]
    order: tuple[int, ...]


def _shape(request: MetricQuery) -> tuple:
    t = request.time
    return (
        tuple(request.metrics), tuple(request.dimensions),
        (t.grain, t.start is not None, t.end is not None) if t else None,
        tuple((f.dimension, f.op, len(f.values)) for f in request.filters),
        tuple((o.field, o.direction) for o in request.order_by),
        request.limit, tuple(request.compare),
    )


class Compiler:
    """compile_query that keeps each plan (a Memo of its own) by request shape and definition content."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.plans: Memo[tuple, _Plan] = Memo(size)

    def bound(self, request: MetricQuery, defs: Definitions) -> CompiledQuery | None:
        """The kept plan of this shape bound to the request's values; None when the shape is new."""
        plan = self.plans.get((_shape(request), defs.digest))
        return None if plan is None else _bound(plan, request)

    def compile(self, request: MetricQuery, defs: Definitions) -> CompiledQuery:
        """The SQL answering `request`; raises Invalid (422) for anything it cannot answer."""
        key = (_shape(request), defs.digest)
        plan = self.plans.get(key)
        if plan is None:
            try:
                plan = self.plans.put(key, _plan(request, defs))
            except ExpressionError as err:  # a stored definition that no longer passes the checks
                raise Invalid(str(err), pointer="/metrics", code=err.code, details={"fragment": err.fragment}) from err
        return _bound(plan, request)


def compile_query(request: MetricQuery, defs: Definitions) -> CompiledQuery:
    """The SQL answering `request`, compiled afresh (a `Compiler` keeps plans)."""
    return Compiler(1).compile(request, defs)


def _bound(plan: _Plan, request: MetricQuery) -> CompiledQuery:
    q = plan.query
    params = bind(plan.slots, plan.order, request, q.dialect)
    return CompiledQuery(q.source, q.dialect, q.sql, params, list(q.columns),
                         dict(q.metric_versions), dict(q.dataset_versions), q.digest)


def _bounded(request: MetricQuery, groups: int, instances: int) -> None:
    """Refuses a request whose SQL would hold more bound parameters than allowed, before building it:
    every group and period repeats the filters' values (and up to three dates)."""
    values = sum(len(f.values) for f in request.filters)
    most = (values + 3) * groups * instances + values
    if most > MAX_BOUND_PARAMETERS:
        raise Invalid(f"the query would bind up to {most} parameters ({values} filter values, each repeated for "
                      f"{groups} aggregates x {instances} periods); at most {MAX_BOUND_PARAMETERS} are allowed",
                      pointer="/filters", code=ErrorCode.QUERY_LIMIT_EXCEEDED,
                      details={"limit": "bound_parameters", "most": MAX_BOUND_PARAMETERS, "given": most})


def _groups(resolver: Resolver, datasets: Mapping[str, DatasetDef], request: MetricQuery) -> list[Group]:
    needs_time = bool(request.time and (request.time.grain or request.time.start or request.time.end)) or any(
        f.dimension == "metric_time" for f in request.filters)
    groups: dict[tuple, Group] = {}
    for i, atom in enumerate(resolver.atoms):
        metric = resolver.metrics[atom.metric]
        assert isinstance(metric, SimpleMetric)
        pointer = resolver.pointers[atom]
        ds = datasets.get(metric.dataset)
        if ds is None:
            raise Invalid(f"metric '{metric.key}' uses dataset '{metric.dataset}', which is not registered",
                          pointer=pointer, code=ErrorCode.UNKNOWN_DATASET)
        time_column = metric.time_column or ds.time_column
        if time_column is not None:
            col = ds.column(time_column)
            if col is None or col.type not in ("date", "timestamp"):
                raise Invalid(f"time column '{time_column}' of metric '{metric.key}' is not a date or timestamp "
                              f"column of '{ds.name}'", pointer=pointer, code=ErrorCode.INVALID_TIME_COLUMN)
        elif needs_time or atom.cumulation is not None:
            raise Invalid(f"metric '{metric.key}' has no time column (dataset '{ds.name}' declares none)",
                          pointer=pointer, code=ErrorCode.NO_TIME_COLUMN)
        key = (ds.name, time_column, metric.filter, atom.cumulation)
        group = groups.setdefault(key, Group(ds, time_column, metric.filter, atom.cumulation, pointer))
        group.measures[i] = metric.measure
    return list(groups.values())


def _instances(request: MetricQuery) -> list[Instance]:
    out = [Instance("c")]
    for n, comparison in enumerate(request.compare):
        step = comparison_step(comparison, request.time.grain)
        out.append(Instance(f"p{n}", ((step, -1),), step, comparison))
    return out


def _combine(b: Builder, groups: list[Group], instances: list[Instance]) -> dict[tuple[int, int], str]:
    """Adds CTE `v` (dims, _mt, one column per instance x atom); answers those column names."""
    ndims, grain = len(b.request.dimensions), b.grain
    if len(groups) == 1 and len(instances) == 1:
        name = b.group_cte(0, groups[0], instances[0])
        b.ctes.append(nodes.cte("v", nodes.select([exp.Star()], nodes.table(name))))
        return {(0, i): f"_a{i}" for i in groups[0].measures}
    names = {(m, i): f"_x{m}_{i}" for m in range(len(instances)) for g in groups for i in g.measures}
    union: exp.Expression | None = None
    for m, inst in enumerate(instances):
        for gi, g in enumerate(groups):
            source = b.group_cte(gi, g, inst)
            cols: list[exp.Expression] = [col(f"_d{k}") for k in range(ndims)]
            where = []
            if grain:
                mt: exp.Expression = col("_mt")
                if inst.step is not None:
                    aligned = grain in ("month", "quarter", "year") or inst.step[1] == "day"
                    mt = add(mt, inst.step, b.dialect, aligned=aligned)
                if inst.step == (12, "month") and grain == "day":
                    # Feb 29 has no same day last year: drop it rather than doubling Feb 28.
                    back = add(add(col("_mt"), inst.step, b.dialect), inst.step, b.dialect, sign=-1)
                    where.append(exp.EQ(this=back, expression=col("_mt")))
                cols.append(alias(mt, "_mt"))
            if len(instances) > 1:
                cols.append(alias(exp.Literal.number(1 if m == 0 else 0), "_cur"))
            cols += [alias(col(f"_a{i}") if (k == m and i in g.measures) else exp.Null(), name)
                     for (k, i), name in names.items()]
            branch = nodes.select(cols, nodes.table(source), where=where)
            union = branch if union is None else exp.Union(this=union, expression=branch, distinct=False)
    # PostgreSQL types a column that is NULL in the first branches as text: lead with a typed, empty branch.
    typed = [col(f"_d{k}", "k") for k in range(ndims)] + ([col("_mt", "k")] if grain else [])
    typed += [alias(exp.Literal.number(1), "_cur")] if len(instances) > 1 else []
    sources = [b.group_cte(gi, g, instances[0]) for gi, g in enumerate(groups)]
    owner = {i: gi for gi, g in enumerate(groups) for i in g.measures}
    typed += [alias(col(f"_a{i}", f"g{owner[i]}"), name) for (_, i), name in names.items()]
    joins = [nodes.cross_join(nodes.table(s, f"g{gi}")) for gi, s in enumerate(sources)]
    union = exp.Union(this=nodes.select(typed, nodes.table(sources[0], "k"), joins=joins,
                                        where=[exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0))]),
                      expression=union, distinct=False)
    keys = [col(f"_d{k}") for k in range(ndims)] + ([col("_mt")] if grain else [])
    having = None
    if len(instances) > 1:
        having = exp.EQ(this=exp.Max(this=col("_cur")), expression=exp.Literal.number(1))
    v = nodes.select([*keys, *(alias(exp.Max(this=col(c)), c) for c in names.values())],
                     nodes.subquery(union, "u"), group=[k.copy() for k in keys], having=having)
    b.ctes.append(nodes.cte("v", v))
    return names


def _dimension_type(ref: str, datasets: Mapping[str, DatasetDef]) -> str:
    ds_name, _, name = ref.partition(".")
    ds = datasets.get(ds_name)
    f = ds and (ds.column(name) or next((d for d in ds.dimensions if d.name == name), None))
    return _OUTPUT_TYPES[f.type] if f else "string"


def _metric_type(resolver: Resolver, key: str, datasets: Mapping[str, DatasetDef]) -> str:
    metric = resolver.metrics[key]
    if isinstance(metric, SimpleMetric) and metric.dataset in datasets:
        tree = parse_measure(metric.measure)
        if isinstance(tree, (exp.Min, exp.Max)) and isinstance(tree.this, exp.Column):
            col = datasets[metric.dataset].column(tree.this.name)
            if col is not None:
                return _OUTPUT_TYPES[col.type]
    return "number"


def _plan(request: MetricQuery, defs: Definitions) -> _Plan:
    metrics = {k: v.definition for k, v in defs.metrics.items()}
    datasets = {k: v.definition for k, v in defs.datasets.items()}
    resolver = Resolver(metrics)
    trees = {key: resolver.tree(key, f"/metrics/{i}") for i, key in enumerate(request.metrics)}
    groups = _groups(resolver, datasets, request)
    if not groups:
        raise Invalid("the request resolves to no measure", pointer="/metrics", code=ErrorCode.INVALID_QUERY)
    builder_sources = {datasets[g.dataset.name].source for g in groups}
    if len(builder_sources) > 1:
        raise Invalid(f"the metrics live on different sources ({', '.join(sorted(builder_sources))}); "
                      "query them separately", pointer="/metrics", code=ErrorCode.CROSS_SOURCE_QUERY)
    source = builder_sources.pop()
    if source not in defs.sources:
        raise Invalid(f"source '{source}' is not registered", pointer="/metrics", code=ErrorCode.UNKNOWN_SOURCE)
    dialect = dialect_for(defs.sources[source])
    params = Params(dialect)
    b = Builder(request, dialect, datasets, params)
    instances = _instances(request)
    _bounded(request, len(groups), len(instances))
    names = _combine(b, groups, instances)
    for name in b.datasets_used:
        if datasets[name].source != source:
            raise Invalid(f"dataset '{name}' lives on source '{datasets[name].source}', not '{source}'",
                          pointer="/dimensions", code=ErrorCode.CROSS_SOURCE_QUERY)

    def at(tree: exp.Expression, n: int) -> exp.Expression:
        def fix(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.name.startswith("_a"):
                return col(names[(n, int(node.name[2:]))], "v")
            return node
        return tree.transform(fix)

    select: list[exp.Expression] = []
    columns: list[OutputColumn] = []
    if b.grain:
        select.append(alias(col("_mt", "v"), "metric_time"))
        columns.append(OutputColumn("metric_time", "date", None, "time"))
    for k, ref in enumerate(request.dimensions):
        select.append(alias(col(f"_d{k}", "v"), ref, quoted=True))
        columns.append(OutputColumn(ref, _dimension_type(ref, datasets), None, "dimension"))
    for key in request.metrics:
        unit, type_ = metrics[key].unit, _metric_type(resolver, key, datasets)
        select.append(alias(at(trees[key], 0), key, quoted=True))
        columns.append(OutputColumn(key, type_, unit, "metric"))
        for m, inst in enumerate(instances[1:], start=1):
            earlier = at(trees[key], m)
            change = safe_div(exp.Sub(this=at(trees[key], 0), expression=earlier.copy()), earlier.copy())
            select.append(alias(earlier, f"{key}__{inst.label}", quoted=True))
            select.append(alias(change, f"{key}__{inst.label}_change", quoted=True))
            columns.append(OutputColumn(f"{key}__{inst.label}", type_, unit, "comparison"))
            columns.append(OutputColumn(f"{key}__{inst.label}_change", "number", "ratio", "comparison"))
    conds = [b.filter_condition(col("_mt", "v"), f, i, "date")
             for i, f in enumerate(request.filters) if f.dimension == "metric_time" and b.grain]
    query = nodes.select(select, nodes.table("v"), where=conds)
    if ordering := _order(request, columns):
        query.set("order", exp.Order(expressions=ordering))
    if request.limit is not None:
        query.set("limit", exp.Limit(expression=exp.Literal.number(request.limit)))
    query.set("with_", exp.With(expressions=b.ctes, recursive=b.recursive))
    sql, order = render(query, dialect)
    metric_versions = {k: defs.metrics[k].version for k in sorted(resolver.used)}
    dataset_versions = {k: defs.datasets[k].version for k in sorted(b.datasets_used)}
    digest = hashlib.sha256(canonical_json([source, dialect, sql, metric_versions, dataset_versions]).encode()).hexdigest()
    compiled = CompiledQuery(source, dialect, sql, (), columns, metric_versions, dataset_versions, digest)
    return _Plan(compiled, tuple(params.slots), order)


def _order(request: MetricQuery, columns: list[OutputColumn]) -> list[exp.Ordered]:
    names = {c.name for c in columns}
    seen: set[str] = set()
    out = []
    for i, o in enumerate(request.order_by):
        if o.field not in names:
            raise Invalid(f"cannot order by '{o.field}': it is not a requested metric, dimension or metric_time",
                          pointer=f"/order_by/{i}/field", code=ErrorCode.UNKNOWN_FIELD)
        if o.field not in seen:
            seen.add(o.field)
            out.append(exp.Ordered(this=col(o.field, quoted=True), desc=o.direction == "desc",
                                   nulls_first=False))
    for c in columns:
        if c.kind in ("time", "dimension") and c.name not in seen:
            out.append(exp.Ordered(this=col(c.name, quoted=True), desc=False, nulls_first=False))
    return out


__all__ = [
    "CompiledQuery", "Compiler", "Definitions", "OutputColumn", "VersionedDataset", "VersionedMetric", "compile_query",
]
