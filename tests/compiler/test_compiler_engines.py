"""Cross-engine correctness: compiled SQL on DuckDB, SQLite and PostgreSQL equals plain Python."""

from __future__ import annotations

import pytest
from compiler_check import check
from compiler_data import ZERO_MONTH

GRAINS = ["day", "week", "month", "quarter", "year"]
SIMPLE = ["sales.gmv", "sales.orders", "sales.customers", "sales.max_amount", "sales.avg_amount", "sales.net"]
YEAR_2024 = {"start": "2024-01-01", "end": "2025-01-01"}


@pytest.mark.parametrize("grain", GRAINS)
async def test_simple_metrics_every_grain(engine, grain):
    await check(engine, {"metrics": SIMPLE, "time": {"grain": grain, "start": "2024-02-01", "end": "2025-08-01"}})


@pytest.mark.parametrize("grain", GRAINS)
async def test_grain_with_dimension_and_no_range(engine, grain):
    await check(engine, {"metrics": ["sales.orders"], "dimensions": ["orders.status"], "time": {"grain": grain}})


async def test_totals_without_time(engine):
    await check(engine, {"metrics": SIMPLE + ["sales.aov", "sales.gmv_per_order"]})


async def test_mid_period_range_bounds(engine):
    await check(engine, {"metrics": ["sales.orders", "sales.gmv"],
                         "time": {"grain": "month", "start": "2024-02-15", "end": "2024-06-10"}})


async def test_ratio_zero_denominator_is_null(engine):
    rows = await check(engine, {"metrics": ["sales.aov", "sales.paid_count", "sales.orders"],
                                "time": {"grain": "month", "start": "2025-01-01", "end": "2025-06-01"}})
    zero = [r for r in rows if (r["metric_time"].year, r["metric_time"].month) == ZERO_MONTH]
    assert zero and zero[0]["sales.paid_count"] == 0 and zero[0]["sales.aov"] is None


async def test_derived_and_nested(engine):
    await check(engine, {"metrics": ["sales.gmv_per_order", "sales.nested", "sales.aov"],
                         "dimensions": ["orders.channel"], "time": {"grain": "quarter"}})


@pytest.mark.parametrize("dims", [["customers.segment"], ["regions.zone"], ["regions.name", "customers.segment"],
                                  ["orders.is_large", "orders.channel_upper"]])
async def test_join_dimensions(engine, dims):
    await check(engine, {"metrics": ["sales.gmv", "sales.orders", "sales.customers"], "dimensions": dims,
                         "time": {"grain": "month", **YEAR_2024}})


async def test_metric_filters_through_joins(engine):
    await check(engine, {"metrics": ["sales.enterprise_gmv", "sales.north_gmv", "sales.gmv"],
                         "dimensions": ["regions.zone"], "time": {"grain": "quarter"}})


FILTERS = [
    ("orders.status", "eq", ["paid"]), ("orders.channel", "ne", ["web"]), ("orders.channel", "in", ["web", "app"]),
    ("orders.channel", "not_in", ["web", "50%_off"]), ("orders.quantity", "gt", [2]), ("orders.quantity", "gte", [2]),
    ("orders.quantity", "lt", [3]), ("orders.quantity", "lte", [3]), ("orders.quantity", "between", [2, 4]),
    ("orders.channel", "contains", ["%_"]), ("orders.channel", "contains", ["\\"]),
    ("orders.channel", "starts_with", ["O'"]), ("orders.channel", "is_null", []),
    ("customers.segment", "is_not_null", []), ("customers.segment", "eq", ["smb"]), ("regions.zone", "eq", ["north"]),
    ("orders.is_large", "eq", [True]), ("orders.channel_upper", "starts_with", ["AP"]),
    ("metric_time", "gte", ["2024-06-01"]), ("metric_time", "between", ["2024-03-01", "2024-05-01"]),
    ("metric_time", "in", ["2024-03-01", "2024-07-01"]),
]


@pytest.mark.parametrize("dimension,op,values", FILTERS)
async def test_every_filter_op(engine, dimension, op, values):
    flt = {"dimension": dimension, "op": op, "values": values}
    await check(engine, {"metrics": ["sales.gmv", "sales.orders"], "dimensions": ["orders.status"],
                         "time": {"grain": "month", **YEAR_2024}, "filters": [flt]})


@pytest.mark.parametrize("op,values", [("lt", ["2024-03-15"]), ("between", ["2024-03-01", "2024-03-31"])])
async def test_metric_time_filter_without_grain(engine, op, values):
    await check(engine, {"metrics": ["sales.orders", "service.tickets"],
                         "filters": [{"dimension": "metric_time", "op": op, "values": values}]})


CUMULATIVE = ["sales.gmv_cum", "sales.gmv_7d", "sales.orders_1m", "sales.gmv_ytd", "sales.orders_mtd",
              "sales.customers_cum", "sales.aov_cum"]


@pytest.mark.parametrize("grain,start,end", [
    ("day", "2024-12-20", "2025-01-12"), ("week", "2024-11-01", "2025-03-01"), ("month", "2024-06-01", "2025-09-01"),
    ("quarter", "2024-04-01", "2025-10-01"), ("year", "2025-01-01", "2026-01-01"),
])
async def test_cumulative_every_kind(engine, grain, start, end):
    await check(engine, {"metrics": CUMULATIVE + ["sales.gmv"], "time": {"grain": grain, "start": start, "end": end}})


async def test_cumulative_with_dimensions_and_data_range(engine):
    await check(engine, {"metrics": ["sales.gmv_cum", "sales.orders_1m", "sales.orders"],
                         "dimensions": ["orders.status"], "time": {"grain": "quarter"}})


async def test_cumulative_spine_outside_data(engine):
    rows = await check(engine, {"metrics": ["sales.gmv_cum", "sales.orders_mtd"],
                                "time": {"grain": "month", "start": "2023-10-01", "end": "2024-03-01"}})
    assert len(rows) == 5


@pytest.mark.parametrize("time", [{"start": "2024-07-01"}, {"end": "2024-07-01"}])
async def test_cumulative_half_open_range(engine, time):
    await check(engine, {"metrics": ["sales.gmv_cum", "sales.gmv_7d"], "time": {"grain": "month", **time}})


async def test_cumulative_without_grain(engine):
    await check(engine, {"metrics": ["sales.gmv_cum", "sales.gmv_7d", "sales.gmv_ytd", "sales.gmv"],
                         "dimensions": ["orders.status"], "time": {"start": "2025-03-01", "end": "2025-05-20"}})


@pytest.mark.parametrize("grain,start,end", [
    ("month", "2025-01-01", "2025-07-01"), ("quarter", "2024-04-01", "2026-01-01"), ("year", "2025-01-01", "2026-01-01"),
    ("week", "2025-01-06", "2025-03-03"), ("day", "2025-02-20", "2025-03-05"), ("day", "2024-02-25", "2024-03-03"),
])
async def test_comparisons(engine, grain, start, end):
    await check(engine, {"metrics": ["sales.gmv", "sales.aov", "sales.orders_1m"],
                         "time": {"grain": grain, "start": start, "end": end},
                         "compare": ["previous_period", "same_period_last_year"]})


async def test_comparisons_with_dimensions_and_filters(engine):
    await check(engine, {"metrics": ["sales.gmv", "sales.orders"], "dimensions": ["customers.segment"],
                         "time": {"grain": "month", "start": "2025-01-01", "end": "2025-04-01"},
                         "filters": [{"dimension": "orders.channel", "op": "ne", "values": ["store"]},
                                     {"dimension": "metric_time", "op": "gte", "values": ["2025-02-01"]}],
                         "compare": ["previous_period", "same_period_last_year"]})


async def test_comparisons_without_range(engine):
    await check(engine, {"metrics": ["sales.orders"], "time": {"grain": "quarter"}, "compare": ["previous_period"]})


async def test_metrics_from_two_datasets(engine):
    await check(engine, {"metrics": ["sales.gmv", "service.tickets", "service.minutes", "service.minutes_per_order"],
                         "dimensions": ["customers.segment"], "time": {"grain": "month", **YEAR_2024}})


async def test_two_datasets_with_two_hop_dimension_and_compare(engine):
    await check(engine, {"metrics": ["sales.orders", "service.tickets"], "dimensions": ["regions.zone"],
                         "time": {"grain": "quarter", "start": "2025-01-01", "end": "2026-01-01"},
                         "compare": ["same_period_last_year"]})


async def test_order_by_metric_and_limit(engine):
    body = {"metrics": ["sales.gmv", "sales.orders"], "dimensions": ["orders.status"],
            "time": {"grain": "month", **YEAR_2024},
            "order_by": [{"field": "sales.orders", "direction": "desc"}, {"field": "orders.status"}]}
    rows = await check(engine, body, ordered=False)
    from compiler_check import compile_query, definitions, QueryRequest  # noqa: PLC0415
    request = QueryRequest.model_validate({**body, "limit": 5})
    compiled = compile_query(request, definitions(engine.kind))
    got = await engine.fetch(compiled.sql, compiled.params)
    expected = sorted(rows, key=lambda r: (-r["sales.orders"], r["orders.status"], r["metric_time"]))[:5]
    assert [g[3] for g in got] == [e["sales.orders"] for e in expected]
    assert [g[1] for g in got] == [e["orders.status"] for e in expected]


async def test_default_order_is_time_then_dimensions(engine):
    rows = await check(engine, {"metrics": ["sales.orders"], "dimensions": ["orders.status"],
                                "time": {"grain": "quarter", **YEAR_2024}}, ordered=True)
    assert [(r["metric_time"], r["orders.status"]) for r in rows] == sorted(
        (r["metric_time"], r["orders.status"]) for r in rows)
