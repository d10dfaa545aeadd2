"""Registration checks: is a dataset or metric definition compilable? Pure; raises Invalid
(422) with a JSON pointer to the offending field and a stable code."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot import exp

from app.compiler.definitions import CumulativeMetric, DatasetDef, DerivedMetric, MetricDef, RatioMetric, SimpleMetric
from app.compiler.expressions import (
    ExpressionError,
    column_refs,
    parse_derived,
    parse_dimension_expr,
    parse_filter,
    parse_measure,
)
from app.compiler.joins import Scope, qualify_measure, qualify_row_expr
from app.errors import ErrorCode, Invalid

TIME_TYPES = ("date", "timestamp")


def _parsed(parse: Callable[[str], exp.Expression], text: str, pointer: str) -> exp.Expression:
    try:
        return parse(text)
    except ExpressionError as err:
        raise Invalid(str(err), pointer=pointer, code=err.code, details={"fragment": err.fragment}) from err


def validate_dataset(ds: DatasetDef, datasets: Mapping[str, DatasetDef]) -> None:
    """Computed dimensions use declared columns; joins reach registered datasets on their columns."""
    if ds.time_column and ds.column(ds.time_column).type not in TIME_TYPES:
        raise Invalid(f"time_column '{ds.time_column}' must be a date or timestamp column",
                      pointer="/time_column", code=ErrorCode.INVALID_TIME_COLUMN)
    for i, dim in enumerate(ds.dimensions):
        pointer = f"/dimensions/{i}/expr"
        tree = _parsed(parse_dimension_expr, dim.expr, pointer)
        for qualifier, name in sorted(column_refs(tree), key=str):
            if qualifier not in (None, ds.name) or ds.column(name) is None:
                raise Invalid(f"computed dimension '{dim.name}' uses '{name}', not a declared column of '{ds.name}'",
                              pointer=pointer, code=ErrorCode.UNKNOWN_COLUMN)
        _check_text_operators(tree, ds, {}, pointer)
    for i, join in enumerate(ds.joins):
        target = ds if join.dataset == ds.name else datasets.get(join.dataset)
        if target is None:
            raise Invalid(f"join target '{join.dataset}' is not a registered dataset",
                          pointer=f"/joins/{i}/dataset", code=ErrorCode.UNKNOWN_DATASET)
        if target.source != ds.source:
            raise Invalid(f"join target '{join.dataset}' lives on source '{target.source}', not '{ds.source}'",
                          pointer=f"/joins/{i}/dataset", code=ErrorCode.CROSS_SOURCE_JOIN)
        for local, remote in join.on.items():
            if target.column(remote) is None:
                raise Invalid(f"join to '{join.dataset}' uses '{remote}', not a declared column there",
                              pointer=f"/joins/{i}/on/{local}", code=ErrorCode.UNKNOWN_COLUMN)


def validate_metric(m: MetricDef, datasets: Mapping[str, DatasetDef], metrics: Mapping[str, MetricDef]) -> None:
    """`datasets`: the metric's dataset and those its joins reach; `metrics`: the transitive
    closure of the metrics it references (any old version of `m` itself is ignored)."""
    if isinstance(m, SimpleMetric):
        _validate_simple(m, datasets)
        return
    if isinstance(m, DerivedMetric):
        _parsed(parse_derived, m.expr, "/expr")
    fields = reference_fields(m)
    for pointer, key in fields:
        if key != m.key and key not in metrics:
            raise Invalid(f"metric '{key}' is not registered", pointer=pointer, code=ErrorCode.UNKNOWN_METRIC)
    closure = {**metrics, m.key: m}
    for pointer, key in fields:
        path = _cycle(key, closure, (m.key,))
        if path:
            raise Invalid(f"metric cycle: {' -> '.join(path)}", pointer=pointer, code=ErrorCode.METRIC_CYCLE)
    if isinstance(m, CumulativeMetric) and _has_cumulative(m.base, closure, set()):
        raise Invalid(f"the base of a cumulative metric cannot itself be cumulative ('{m.base}')",
                      pointer="/base", code=ErrorCode.NESTED_CUMULATIVE)


def reference_fields(m: MetricDef) -> list[tuple[str, str]]:
    """(pointer, metric key) of each metric a definition is computed from, for errors that name the field."""
    if isinstance(m, RatioMetric):
        return [("/numerator", m.numerator), ("/denominator", m.denominator)]
    if isinstance(m, DerivedMetric):
        return [("/expr", key) for key in m.references()]
    if isinstance(m, CumulativeMetric):
        return [("/base", m.base)]
    return []


def _validate_simple(m: SimpleMetric, datasets: Mapping[str, DatasetDef]) -> None:
    ds = datasets.get(m.dataset)
    if ds is None:
        raise Invalid(f"dataset '{m.dataset}' is not registered", pointer="/dataset", code=ErrorCode.UNKNOWN_DATASET)
    qualify_measure(_parsed(parse_measure, m.measure, "/measure"), ds, "/measure")
    if m.filter:
        tree = _parsed(parse_filter, m.filter, "/filter")
        qualify_row_expr(tree, Scope(ds, datasets), "/filter")
        _check_text_operators(tree, ds, datasets, "/filter")
    if m.time_column:
        col = ds.column(m.time_column)
        if col is None or col.type not in TIME_TYPES:
            raise Invalid(f"time_column '{m.time_column}' must be a date or timestamp column of '{ds.name}'",
                          pointer="/time_column", code=ErrorCode.INVALID_TIME_COLUMN)


def _column_type(column: exp.Column, ds: DatasetDef, datasets: Mapping[str, DatasetDef]) -> str | None:
    """The declared type of a column or computed dimension an expression names (None if unknown)."""
    owner = ds if column.table in ("", ds.name) else datasets.get(column.table)
    if owner is None:
        return None
    declared = owner.column(column.name) or next((d for d in owner.dimensions if d.name == column.name), None)
    return declared.type if declared is not None else None


def _check_text_operators(tree: exp.Expression, ds: DatasetDef, datasets: Mapping[str, DatasetDef], pointer: str) -> None:
    """LIKE and ILIKE compare text: on a number, date or boolean column every engine refuses the query."""
    for node in tree.find_all(exp.Like, exp.ILike):
        if isinstance(node.this, exp.Column):
            kind = _column_type(node.this, ds, datasets)
            if kind is not None and kind != "string":
                raise Invalid(f"{type(node).__name__.upper()} needs a string column; '{node.this.name}' is {kind}",
                              pointer=pointer, code=ErrorCode.TYPE_MISMATCH, details={"fragment": node.sql()[:200]})


def _cycle(key: str, metrics: Mapping[str, MetricDef], stack: tuple[str, ...]) -> tuple[str, ...] | None:
    if key in stack:
        return stack + (key,)
    metric = metrics.get(key)
    if metric is None:
        return None
    for ref in metric.references():
        found = _cycle(ref, metrics, stack + (key,))
        if found:
            return found
    return None


def _has_cumulative(key: str, metrics: Mapping[str, MetricDef], seen: set[str]) -> bool:
    if key in seen or key not in metrics:
        return False
    seen.add(key)
    metric = metrics[key]
    return isinstance(metric, CumulativeMetric) or any(_has_cumulative(r, metrics, seen) for r in metric.references())
