"""Compile time: queries of growing size, first compile of a shape and repeated compiles.

The baseline is the repeated compile of the smallest query, measured in the same run.
"""

from __future__ import annotations

import datetime as dt

from pydantic import TypeAdapter

from app.compiler.definitions import DatasetDef, MetricDef
from app.compiler.expressions import _parsed
from app.compiler.plan import Compiler, Definitions, VersionedDataset, VersionedMetric
from app.query.schemas import QueryRequest
from bench.stats import Timing, time_sync

METRIC = TypeAdapter(MetricDef)


def library(n_metrics: int) -> Definitions:
    customers = DatasetDef(
        name="customers", domain="sales", source="wh", table="customers", primary_key="customer_id",
        columns=[{"name": "customer_id", "type": "string"}, {"name": "segment", "type": "string", "dimension": True},
                 {"name": "region_id", "type": "string"}],
        joins=[{"dataset": "regions", "on": {"region_id": "region_id"}}],
    )
    regions = DatasetDef(
        name="regions", domain="sales", source="wh", table="regions", primary_key="region_id",
        columns=[{"name": "region_id", "type": "string"}, {"name": "zone", "type": "string", "dimension": True}],
    )
    orders = DatasetDef(
        name="orders", domain="sales", source="wh", table="orders", primary_key="order_id", time_column="ordered_at",
        columns=[{"name": "order_id", "type": "string"}, {"name": "customer_id", "type": "string"},
                 {"name": "region", "type": "string", "dimension": True}, {"name": "status", "type": "string", "dimension": True},
                 {"name": "ordered_at", "type": "timestamp"}, {"name": "amount", "type": "decimal"}],
        joins=[{"dataset": "customers", "on": {"customer_id": "customer_id"}}],
    )
    metrics: dict[str, VersionedMetric] = {}
    base = {"domain": "sales", "owner": "bench", "name": "m"}
    for i in range(n_metrics):
        kind = i % 4
        key = f"sales.m{i}"
        if kind == 0 or i < 2:
            m = {**base, "key": key, "type": "simple", "dataset": "orders", "measure": f"SUM(amount * {i + 1})", "filter": f"status <> 'x{i}'"}
        elif kind == 1:
            m = {**base, "key": key, "type": "ratio", "numerator": "sales.m0", "denominator": "sales.m1"}
        elif kind == 2:
            m = {**base, "key": key, "type": "derived", "expr": "{sales.m0} / {sales.m1} + 1"}
        else:
            m = {**base, "key": key, "type": "cumulative", "base": "sales.m0", "window": "3 months"}
        metrics[key] = VersionedMetric(METRIC.validate_python(m), 1)
    return Definitions(
        metrics=metrics,
        datasets={d.name: VersionedDataset(d, 1) for d in (orders, customers, regions)},
        sources={"wh": "duckdb"},
    )


def request(n_metrics: int, joins: int, n_filters: int) -> QueryRequest:
    dims = ["orders.region", "customers.segment", "regions.zone"][: max(1, joins + 1)]
    filters = [{"dimension": "orders.status", "op": "ne", "values": [f"s{i}"]} for i in range(n_filters)]
    return QueryRequest.model_validate({
        "metrics": [f"sales.m{i}" for i in range(n_metrics)], "dimensions": dims[: joins + 1] if joins else ["orders.region"],
        "time": {"grain": "month", "start": dt.date(2025, 1, 1), "end": dt.date(2026, 1, 1)}, "filters": filters,
    })


COMPILER = Compiler()


def cold(req: QueryRequest, defs: Definitions) -> None:
    COMPILER.plans.clear()
    _parsed.cache_clear()
    COMPILER.compile(req, defs)


def new_shape(req: QueryRequest, defs: Definitions) -> None:
    COMPILER.plans.clear()
    COMPILER.compile(req, defs)


def run(full: bool) -> dict:
    runs = 15 if full else 7
    defs = library(20)
    cases = [(1, 0, 0), (3, 1, 1), (3, 1, 0), (5, 1, 3), (10, 2, 5), (20, 2, 10)]
    rows = []
    for n, joins, filters in cases:
        req = request(n, joins, filters)
        first = time_sync(lambda: cold(req, defs), runs)
        shape = time_sync(lambda: new_shape(req, defs), runs)
        COMPILER.compile(req, defs)
        repeated = time_sync(lambda: COMPILER.compile(req, defs), runs, inner=200)
        rows.append({"metrics": n, "joins": joins, "filters": filters, "cold": first, "new_shape": shape, "repeated": repeated})
    headline = next(r for r in rows if (r["metrics"], r["joins"], r["filters"]) == (3, 1, 0))
    return {"rows": rows, "headline": headline, "baseline": rows[0]["repeated"]}


def report(result: dict) -> list[str]:
    h = result["headline"]
    base: Timing = result["baseline"]
    lines = [
        "## Compile", "",
        "Definitions parsed and checked once, plans cached by query shape and definition versions.",
        "`cold` clears both caches; `new shape` keeps parsed definitions; `repeated` is a plan-cache hit that binds new values.", "",
        "| metrics | joins | filters | cold | new shape | repeated | repeated ÷ baseline |", "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['metrics']} | {r['joins']} | {r['filters']} | {r['cold'].ms()} | {r['new_shape'].ms()} | {r['repeated'].us()} | {r['repeated'].median / base.median:.2f} |")
    lines += [
        "", f"Headline (3 metrics, 2 dimensions, 1 join): first compile of the shape {h['new_shape'].ms()} "
        f"(target ≤ 2 ms; fully cold {h['cold'].ms()}), repeated {h['repeated'].us()} (target ≤ 50 µs). "
        f"Baseline: repeated compile of a 1-metric query, {base.us()}.", "",
    ]
    return lines
