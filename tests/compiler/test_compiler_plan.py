"""Plans: bound parameters, caching keyed by definition versions, closures, work done once, hostile values."""

from __future__ import annotations

import re

import pytest
from compiler_data import METRIC_DEFS, DATASET_DEFS, definitions
from compiler_reference import Reference, _match
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlglot.generator import Generator
from sqlglot.parser import Parser

from app.compiler.metrics import dataset_closure, metric_closure, missing_datasets, missing_metrics
from app.compiler.plan import Compiler, Definitions, VersionedMetric, compile_query
from app.errors import Invalid
from app.query.schemas import QueryRequest

BENCH = {"metrics": ["sales.gmv", "sales.orders", "sales.aov"], "dimensions": ["orders.channel", "customers.segment"],
         "time": {"grain": "month", "start": "2024-01-01", "end": "2025-01-01"},
         "filters": [{"dimension": "orders.status", "op": "in", "values": ["paid", "refunded"]}]}


def q(body) -> QueryRequest:
    return QueryRequest.model_validate(body)


@pytest.mark.parametrize("kind,mark", [("duckdb", "?"), ("sqlite", "?"), ("postgresql", "$")])
def test_placeholders_per_dialect(kind, mark):
    c = compile_query(q(BENCH), definitions(kind))
    assert "refunded" not in c.sql and "refunded" in c.params  # caller values are only ever parameters
    if mark == "?":
        assert c.sql.count("?") == len(c.params) and "$" not in c.sql
    else:
        numbers = {int(n) for n in re.findall(r"\$(\d+)", c.sql)}
        assert numbers == set(range(1, len(c.params) + 1)) and "?" not in c.sql
        assert "CAST($1 AS" in c.sql


def test_repeated_shape_reuses_plan_with_new_values():
    compiler = Compiler()
    a = compiler.compile(q(BENCH), definitions())
    body = {**BENCH, "time": {"grain": "month", "start": "2023-01-01", "end": "2023-07-01"},
            "filters": [{"dimension": "orders.status", "op": "in", "values": ["x'); DROP TABLE orders;--", "y"]}]}
    assert compiler.bound(q(body), definitions()) is not None  # the shape's plan, kept
    b = compiler.compile(q(body), definitions())
    assert a.sql == b.sql and a.params != b.params
    assert "DROP" not in b.sql and "x'); DROP TABLE orders;--" in b.params


def test_changed_definition_version_never_reuses_plan():
    compiler, defs = Compiler(), definitions()
    before = compiler.compile(q({"metrics": ["sales.gmv"]}), defs)
    changed = METRIC_DEFS["sales.gmv"].model_copy(update={"measure": "SUM(amount * 2)"})
    defs2 = Definitions({**defs.metrics, "sales.gmv": VersionedMetric(changed, 2)}, defs.datasets, defs.sources)
    after = compiler.compile(q({"metrics": ["sales.gmv"]}), defs2)
    assert "* 2" in after.sql and "* 2" not in before.sql
    assert after.metric_versions == {"sales.gmv": 2}
    assert compiler.compile(q({"metrics": ["sales.gmv"]}), defs).sql == before.sql
    # the same key and version with other content (another registry) gets its own plan too
    same_version = Definitions({**defs.metrics, "sales.gmv": VersionedMetric(changed, 1)}, defs.datasets, defs.sources)
    assert "* 2" in compiler.compile(q({"metrics": ["sales.gmv"]}), same_version).sql


def test_versions_and_columns_reported():
    c = compile_query(q({"metrics": ["sales.aov"], "dimensions": ["regions.zone"], "time": {"grain": "month"},
                         "compare": ["previous_period"]}), definitions(version=3))
    assert c.metric_versions == {"sales.aov": 3, "sales.gmv": 3, "sales.paid_count": 3}
    assert c.dataset_versions == {"orders": 3, "customers": 3, "regions": 3}
    assert [(x.name, x.type, x.unit, x.kind) for x in c.columns] == [
        ("metric_time", "date", None, "time"), ("regions.zone", "string", None, "dimension"),
        ("sales.aov", "number", "CNY", "metric"), ("sales.aov__previous_period", "number", "CNY", "comparison"),
        ("sales.aov__previous_period_change", "number", "ratio", "comparison")]


def test_closures_load_level_by_level():
    calls = []

    def load_metrics(keys):
        calls.append(sorted(keys))
        return {k: METRIC_DEFS[k] for k in keys if k in METRIC_DEFS}

    metrics = metric_closure(["sales.nested", "sales.nope"], load_metrics)
    assert set(metrics) == {"sales.nested", "sales.gmv_per_order", "sales.aov", "sales.gmv", "sales.orders",
                            "sales.paid_count"}
    assert len(calls) <= 4 and missing_metrics(["sales.nested"], metrics) == set()
    datasets = dataset_closure(metrics, lambda names: {n: DATASET_DEFS[n] for n in names if n in DATASET_DEFS})
    assert set(datasets) == {"orders", "customers", "regions"}
    assert missing_datasets(metrics, datasets) == set()


@pytest.fixture
def sqlglot_work(monkeypatch) -> dict[str, int]:
    """How many times sqlglot parses and generates SQL, the expensive part of a compile (NOTES.md)."""
    counted = {"parse": 0, "generate": 0}

    def counting(name: str, fn):
        def wrapper(*args, **kwargs):
            counted[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(Parser, "parse", counting("parse", Parser.parse))
    monkeypatch.setattr(Generator, "generate", counting("generate", Generator.generate))
    return counted


def test_compile_work_is_done_once(sqlglot_work):
    """Definitions are parsed once; a new shape generates its SQL once; a repeated shape only binds
    values. (How fast each is: bench/compile_bench.py, targets ≤ 2 ms and ≤ 50 µs.)"""
    defs, request, compiler = definitions("postgresql"), q(BENCH), Compiler()
    first = compiler.compile(request, defs)  # parses what earlier tests have not parsed yet
    assert sqlglot_work["generate"] == 1
    sqlglot_work.update(parse=0, generate=0)
    for _ in range(50):
        compiler.plans.clear()
        assert compiler.compile(request, defs).sql == first.sql
    assert sqlglot_work == {"parse": 0, "generate": 50}
    sqlglot_work.update(generate=0)
    for _ in range(2000):
        assert compiler.compile(request, defs).params == first.params
    assert sqlglot_work == {"parse": 0, "generate": 0}


SAMPLES = ["'", "''", "\\", "%", "_", "%_", "O'Brien \\ co", "50%_off", "web", "app", "'; DROP TABLE orders;--",
           "\\'", "\"", "$1", "?", ":p", "{x}", "é", "語", "🙂", "a" * 5000, "ö" * 3000, "", "nul\x00byte"]
HOSTILE = st.one_of(
    st.sampled_from(SAMPLES),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE, op=st.sampled_from(["eq", "ne", "in", "not_in", "contains", "starts_with", "gte"]))
def test_hostile_filter_values(duck, lite, value, op):
    values = [value, "web"] if op in ("in", "not_in") else [value]
    body = {"metrics": ["sales.orders"], "dimensions": ["orders.channel"],
            "filters": [{"dimension": "orders.channel", "op": op, "values": values}]}
    request = q(body)
    for engine in (duck, lite):
        if "\x00" in value:
            with pytest.raises(Invalid):
                compile_query(request, definitions(engine.kind))
            continue
        c = compile_query(request, definitions(engine.kind))
        benign = compile_query(q({**body, "filters": [{**body["filters"][0], "values": ["zz"] * len(values)}]}),
                               definitions(engine.kind))
        assert c.sql == benign.sql and value in c.params  # the text never depends on the value
        if value in SAMPLES and len(value) > 3:
            assert value not in c.sql
        rows = {r[0]: r[1] for r in engine.fetch_sync(c.sql, c.params)}
        expected = {r["orders.channel"]: r["sales.orders"] for r in Reference(request).answer()}
        assert rows == expected
        assert rows == _python_filter(request.filters[0])


def _python_filter(f) -> dict:
    from compiler_reference import ORDER_ROWS

    out: dict = {}
    for r in ORDER_ROWS:
        if _match(r["channel"], f):
            out[r["channel"]] = out.get(r["channel"], 0) + 1
    return out
