"""The demo metric library: every definition validates, references resolve, and runs on the warehouse."""

from __future__ import annotations

import duckdb
import pytest
from pydantic import TypeAdapter

from app.compiler import expressions
from app.compiler.definitions import DatasetDef, MetricDef
from app.demo.library import DATASETS, METRICS
from app.demo.warehouse import build_warehouse

METRIC = TypeAdapter(MetricDef)
DATASET_DEFS = {d["name"]: DatasetDef.model_validate(d) for d in DATASETS}
METRIC_DEFS = {m["key"]: METRIC.validate_python(m) for m in METRICS}
SIMPLE = [m for m in METRIC_DEFS.values() if m.type == "simple"]


def test_every_definition_validates_and_keys_are_unique():
    assert len(DATASET_DEFS) == len(DATASETS) and len(METRIC_DEFS) == len(METRICS)
    assert {m.domain for m in METRIC_DEFS.values()} == {"sales", "service"}
    assert all(m.owner and m.caliber and m.description and m.review_frequency for m in METRIC_DEFS.values())


def test_references_resolve():
    for dataset in DATASET_DEFS.values():
        assert dataset.source == "warehouse"
        for join in dataset.joins:
            target = DATASET_DEFS[join.dataset]
            assert all(target.column(col) for col in join.on.values())
            assert target.primary_key in join.on.values(), "joins are many-to-one, onto the primary key"
    for metric in METRIC_DEFS.values():
        if metric.type == "simple":
            assert metric.dataset in DATASET_DEFS
        refs = {"ratio": lambda m: [m.numerator, m.denominator], "cumulative": lambda m: [m.base],
                "derived": lambda m: expressions.derived_references(m.expr)}.get(metric.type, lambda m: [])(metric)
        assert all(ref in METRIC_DEFS for ref in refs)


@pytest.mark.parametrize(
    "metric", [pytest.param(m, id=m.key) for m in SIMPLE]
)
def test_simple_metric_expressions_pass_the_checker(metric):
    declared = {c.name for c in DATASET_DEFS[metric.dataset].columns}
    used = expressions.column_refs(expressions.parse_measure(metric.measure))
    if metric.filter:
        used |= expressions.column_refs(expressions.parse_filter(metric.filter))
    assert {name for _, name in used} <= declared


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("library") / "warehouse.duckdb"
    build_warehouse(path)
    with duckdb.connect(str(path), read_only=True) as conn:
        yield conn


@pytest.mark.parametrize("metric", [pytest.param(m, id=m.key) for m in SIMPLE])
def test_simple_metrics_run_on_the_warehouse(warehouse, metric):
    table = DATASET_DEFS[metric.dataset].table
    where = f"WHERE {metric.filter}" if metric.filter else ""
    (value,), = warehouse.execute(f"SELECT {metric.measure} FROM {table} {where}").fetchall()
    assert value is not None and value > 0
