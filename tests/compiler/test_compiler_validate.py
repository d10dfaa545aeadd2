"""Registration checks and request errors: stable codes, pointers at the offending field."""

from __future__ import annotations

import datetime as dt

import pytest
from compiler_data import DATASET_DEFS, METRIC_DEFS, definitions
from pydantic import TypeAdapter

from app.compiler.definitions import DatasetDef, MetricDef
from app.compiler.plan import Definitions, compile_query
from app.compiler.validate import validate_dataset, validate_metric
from app.errors import Invalid
from app.query.schemas import QueryRequest

_metric = TypeAdapter(MetricDef)


def metric(**kw) -> MetricDef:
    return _metric.validate_python({"key": "sales.x", "name": "x", "domain": "sales", "owner": "a", **kw})


def dataset(**kw) -> DatasetDef:
    base = DATASET_DEFS["orders"].model_dump()
    return DatasetDef.model_validate({**base, **kw})


def refused(fn, *args) -> Invalid:
    with pytest.raises(Invalid) as err:
        fn(*args)
    return err.value


def test_fixture_definitions_are_valid():
    for ds in DATASET_DEFS.values():
        validate_dataset(ds, DATASET_DEFS)
    for m in METRIC_DEFS.values():
        validate_metric(m, DATASET_DEFS, METRIC_DEFS)


@pytest.mark.parametrize("kw,pointer,code", [
    ({"measure": "SUM(nope)"}, "/measure", "UNKNOWN_COLUMN"),
    ({"measure": "SUM(customers.segment)"}, "/measure", "UNKNOWN_COLUMN"),
    ({"measure": "SUM(LENGTH(read_csv('/etc/passwd')))"}, "/measure", "FORBIDDEN_FUNCTION"),
    ({"measure": "SUM(amount); DROP TABLE orders"}, "/measure", "INVALID_EXPRESSION"),
    ({"filter": "nope = 1"}, "/filter", "UNKNOWN_COLUMN"),
    ({"filter": "customers.region_id = 'x'"}, "/filter", "UNKNOWN_COLUMN"),  # not a dimension
    ({"filter": "planets.name = 'x'"}, "/filter", "UNKNOWN_COLUMN"),
    ({"filter": "status IN (SELECT 1)"}, "/filter", "INVALID_EXPRESSION"),
    ({"time_column": "amount"}, "/time_column", "INVALID_TIME_COLUMN"),
    ({"dataset": "nope"}, "/dataset", "UNKNOWN_DATASET"),
])
def test_simple_metric_refusals(kw, pointer, code):
    m = metric(type="simple", **{"dataset": "orders", "measure": "SUM(amount)", **kw})
    err = refused(validate_metric, m, DATASET_DEFS, METRIC_DEFS)
    assert (err.code, err.details["pointer"]) == (code, pointer)


def test_fragment_is_reported():
    m = metric(type="simple", dataset="orders", measure="SUM(amount) + COUNT(glob('*'))")
    err = refused(validate_metric, m, DATASET_DEFS, METRIC_DEFS)
    assert err.details["fragment"] == "GLOB('*')"


def test_filters_reach_two_hops_and_computed_dimensions():
    m = metric(type="simple", dataset="orders", measure="COUNT(*)",
               filter="regions.zone = 'north' AND is_large AND orders.status = 'paid'")
    validate_metric(m, DATASET_DEFS, METRIC_DEFS)


@pytest.mark.parametrize("kw,pointer,code", [
    ({"type": "ratio", "numerator": "sales.gmv", "denominator": "sales.nope"}, "/denominator", "UNKNOWN_METRIC"),
    ({"type": "derived", "expr": "{sales.gmv} / {sales.nope}"}, "/expr", "UNKNOWN_METRIC"),
    ({"type": "derived", "expr": "{sales.gmv} / read_csv('x')"}, "/expr", "FORBIDDEN_FUNCTION"),
    ({"type": "cumulative", "base": "sales.nope"}, "/base", "UNKNOWN_METRIC"),
    ({"type": "cumulative", "base": "sales.gmv_cum"}, "/base", "NESTED_CUMULATIVE"),
    ({"type": "ratio", "numerator": "sales.x", "denominator": "sales.gmv"}, "/numerator", "METRIC_CYCLE"),
])
def test_composed_metric_refusals(kw, pointer, code):
    err = refused(validate_metric, metric(**kw), DATASET_DEFS, METRIC_DEFS)
    assert (err.code, err.details["pointer"]) == (code, pointer)


def test_indirect_cycle_is_refused():
    a = metric(key="sales.a", type="derived", expr="{sales.b} + 1")
    b = metric(key="sales.b", type="derived", expr="{sales.x} * 2")
    x = metric(type="ratio", numerator="sales.a", denominator="sales.gmv")
    err = refused(validate_metric, x, DATASET_DEFS, {**METRIC_DEFS, "sales.a": a, "sales.b": b})
    assert err.code == "METRIC_CYCLE" and "sales.x -> sales.a -> sales.b -> sales.x" in err.message


@pytest.mark.parametrize("kw,pointer,code", [
    ({"dimensions": [{"name": "ok", "expr": "amount > 1"}, {"name": "bad", "expr": "nope > 1"}]},
     "/dimensions/1/expr", "UNKNOWN_COLUMN"),
    ({"dimensions": [{"name": "bad", "expr": "glob('*') = 'x'"}]}, "/dimensions/0/expr", "FORBIDDEN_FUNCTION"),
    ({"joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}},
                {"dataset": "planets", "on": {"customer_id": "id"}}]}, "/joins/1/dataset", "UNKNOWN_DATASET"),
    ({"joins": [{"dataset": "customers", "on": {"customer_id": "nope"}}]}, "/joins/0/on/customer_id", "UNKNOWN_COLUMN"),
    ({"time_column": "status"}, "/time_column", "INVALID_TIME_COLUMN"),
])
def test_dataset_refusals(kw, pointer, code):
    err = refused(validate_dataset, dataset(**kw), DATASET_DEFS)
    assert (err.code, err.details["pointer"]) == (code, pointer)


def test_cross_source_join_refused():
    other = {**DATASET_DEFS, "customers": DATASET_DEFS["customers"].model_copy(update={"source": "other"})}
    err = refused(validate_dataset, DATASET_DEFS["orders"], other)
    assert err.code == "CROSS_SOURCE_JOIN"


def q(**body) -> QueryRequest:
    return QueryRequest.model_validate(body)


@pytest.mark.parametrize("body,pointer,code", [
    ({"metrics": ["sales.gmv", "sales.nope"]}, "/metrics/1", "UNKNOWN_METRIC"),
    ({"metrics": ["sales.gmv"], "dimensions": ["orders.amount"]}, "/dimensions/0", "UNKNOWN_DIMENSION"),
    ({"metrics": ["sales.gmv"], "dimensions": ["orders.status", "planets.name"]}, "/dimensions/1", "UNKNOWN_DIMENSION"),
    ({"metrics": ["service.tickets"], "dimensions": ["orders.status"]}, "/dimensions/0", "UNKNOWN_DIMENSION"),
    ({"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.nope", "op": "eq", "values": [1]}]},
     "/filters/0", "UNKNOWN_DIMENSION"),
    ({"metrics": ["sales.gmv"], "order_by": [{"field": "sales.orders"}]}, "/order_by/0/field", "UNKNOWN_FIELD"),
    ({"metrics": ["sales.gmv"], "order_by": [{"field": "metric_time"}]}, "/order_by/0/field", "UNKNOWN_FIELD"),
    ({"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.quantity", "op": "eq", "values": ["many"]}]},
     "/filters/0/values/0", "INVALID_FILTER_VALUE"),
    ({"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.status", "op": "eq", "values": ["a\x00"]}]},
     "/filters/0/values/0", "INVALID_FILTER_VALUE"),
    ({"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.quantity", "op": "contains", "values": [1]}]},
     "/filters/0/op", "INVALID_FILTER"),
    ({"metrics": ["sales.gmv_7d"], "time": {"start": "2024-01-01"}}, "/time", "INVALID_QUERY"),
])
def test_request_refusals(body, pointer, code):
    err = refused(compile_query, q(**body), definitions())
    assert (err.code, err.details["pointer"]) == (code, pointer)


def test_ambiguous_dimension():
    twice = dataset(joins=[{"dataset": "customers", "on": {"customer_id": "customer_id"}},
                           {"dataset": "customers", "on": {"order_id": "customer_id"}}])
    defs = definitions()
    defs = Definitions(defs.metrics, {**defs.datasets, "orders": type(defs.datasets["orders"])(twice, 9)}, defs.sources)
    err = refused(compile_query, q(metrics=["sales.orders"], dimensions=["customers.segment"]), defs)
    assert (err.code, err.details["pointer"]) == ("AMBIGUOUS_DIMENSION", "/dimensions/0")


def test_cross_source_query():
    defs = definitions()
    tickets = defs.datasets["tickets"]
    moved = type(tickets)(tickets.definition.model_copy(update={"source": "other"}), 1)
    defs = Definitions(defs.metrics, {**defs.datasets, "tickets": moved}, {"warehouse": "duckdb", "other": "sqlite"})
    err = refused(compile_query, q(metrics=["sales.gmv", "service.tickets"]), defs)
    assert err.code == "CROSS_SOURCE_QUERY"


def test_metric_cycle_in_stored_definitions():
    defs = definitions()
    loop = metric(key="sales.loop", type="derived", expr="{sales.loop2} + 1")
    loop2 = metric(key="sales.loop2", type="derived", expr="{sales.loop} + 1")
    vm = type(defs.metrics["sales.gmv"])
    defs = Definitions({**defs.metrics, "sales.loop": vm(loop, 1), "sales.loop2": vm(loop2, 1)},
                       defs.datasets, defs.sources)
    err = refused(compile_query, q(metrics=["sales.loop"]), defs)
    assert (err.code, err.details["pointer"]) == ("METRIC_CYCLE", "/metrics/0")


# Definitions that parse but that every engine refuses at run time are refused at registration.
@pytest.mark.parametrize("kw,pointer,code", [
    ({"measure": "SUM(CAST(amount AS DECIMAL(1000,2)))"}, "/measure", "INVALID_EXPRESSION"),
    ({"measure": "SUM(CAST(amount AS DECIMAL(10,12)))"}, "/measure", "INVALID_EXPRESSION"),
    ({"measure": "SUM(CAST(amount AS INT(5)))"}, "/measure", "INVALID_EXPRESSION"),
    ({"measure": "SUM(ROUND(amount, 1e20))"}, "/measure", "INVALID_EXPRESSION"),
    ({"measure": "SUM(ROUND(amount, 2.5))"}, "/measure", "INVALID_EXPRESSION"),
    ({"measure": "SUM(amount) * 1e400"}, "/measure", "INVALID_EXPRESSION"),
    ({"filter": "ordered_at >= DATE '2025-13-45'"}, "/filter", "INVALID_EXPRESSION"),
    ({"filter": "ordered_at >= CAST('2025-02-30' AS DATE)"}, "/filter", "INVALID_EXPRESSION"),
    ({"filter": "amount > CAST('abc' AS INT)"}, "/filter", "INVALID_EXPRESSION"),
    ({"filter": "amount ILIKE '%1%'"}, "/filter", "TYPE_MISMATCH"),
    ({"filter": "ordered_at LIKE '2025%'"}, "/filter", "TYPE_MISMATCH"),
])
def test_definitions_that_cannot_run_are_refused(kw, pointer, code):
    m = metric(type="simple", **{"dataset": "orders", "measure": "SUM(amount)", **kw})
    err = refused(validate_metric, m, DATASET_DEFS, METRIC_DEFS)
    assert (err.code, err.details["pointer"]) == (code, pointer)


def test_a_computed_dimension_cannot_like_a_number():
    ds = dataset(dimensions=[{"name": "big", "expr": "amount LIKE '1%'"}])
    err = refused(validate_dataset, ds, DATASET_DEFS)
    assert (err.code, err.details["pointer"]) == ("TYPE_MISMATCH", "/dimensions/0/expr")


async def test_the_bounded_forms_are_accepted_and_run(duck):
    """The nearest valid forms register and run on DuckDB, with the value plain Python expects."""
    from compiler_data import TABLES

    _, _, orders = TABLES["orders"]
    paid = [r for r in orders if r["status"] == "paid" and r["ordered_at"].date() >= dt.date(2025, 12, 31)]
    cases = {
        "SUM(CAST(amount AS DECIMAL(18,2)))": sum(r["amount"] for r in paid),
        "SUM(ROUND(amount, -1))": sum(round(r["amount"], -1) for r in paid),
    }
    for i, (measure, want) in enumerate(cases.items()):
        m = metric(key=f"sales.bounded_{i}", type="simple", dataset="orders", measure=measure, filter="status LIKE 'pa%' AND ordered_at >= DATE '2025-12-31'")
        validate_metric(m, DATASET_DEFS, METRIC_DEFS)
        defs = definitions("duckdb")
        defs = Definitions(metrics={**defs.metrics, m.key: type(defs.metrics["sales.gmv"])(m, 1)}, datasets=defs.datasets, sources=defs.sources)
        compiled = compile_query(QueryRequest.model_validate({"metrics": [m.key]}), defs)
        rows = await duck.fetch(compiled.sql, compiled.params)
        assert float(rows[0][0]) == pytest.approx(float(want)), measure
