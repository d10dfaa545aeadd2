"""POST /v1/query with include: ["targets"], checked against hand sums over the tiny warehouse."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, ok
from tests.kpi import kpi_data as data
from tests.kpi.conftest import put_targets, target

Q1, Q2 = [1, 2, 3], [4, 5, 6]


async def query(client, key, **body) -> tuple[list[str], list[dict]]:
    answer = await ok(await client.post("/v1/query", json={**body, "include": ["targets"]}, headers=bearer(key)))
    names = [c["name"] for c in answer["columns"]]
    return names, [dict(zip(names, row)) for row in answer["rows"]]


def status(ach: float) -> str:
    return "green" if ach >= 1.0 else "amber" if ach >= 0.9 else "red"


async def test_month_rows_get_monthly_targets(client, keys):
    factors = {1: 0.95, 2: 1 / 0.93, 3: 2.0}  # target = actual × factor: met, amber, red
    targets = {m: round(data.revenue([m]) * f, 2) for m, f in factors.items()}
    await put_targets(client, keys.sales, [target("sales.revenue", f"2026-0{m}", v) for m, v in targets.items()])
    names, rows = await query(client, keys.reader, metrics=["sales.revenue"],
                              time={"grain": "month", "start": "2026-01-01", "end": "2026-05-01"})
    assert names == ["metric_time", "sales.revenue", "sales.revenue__target", "sales.revenue__achievement",
                     "sales.revenue__status", "sales.revenue__target_source"]
    assert len(rows) == 4
    for m, row in zip([1, 2, 3, 4], rows):
        assert row["sales.revenue"] == pytest.approx(data.revenue([m]))
        if m == 4:  # no target: nulls, not an error
            assert [row[n] for n in names[2:]] == [None, None, None, None]
            continue
        ach = data.revenue([m]) / targets[m]
        assert row["sales.revenue__target"] == targets[m] and row["sales.revenue__target_source"] == "month"
        assert row["sales.revenue__achievement"] == pytest.approx(ach)
        assert row["sales.revenue__status"] == status(ach)
    assert [r["sales.revenue__status"] for r in rows] == ["green", "amber", "red", None]


async def test_quarters_use_their_target_or_the_sum_of_months_for_additive_metrics(client, keys):
    monthly = {1: 500.0, 2: 700.0, 3: 900.0, 4: 1000.0, 5: 1000.0, 6: 1000.0}
    items = [target("sales.revenue", f"2026-0{m}", v) for m, v in monthly.items()]
    items += [target("sales.revenue", "2026-Q2", 4000.0)]  # a quarter target wins over its months
    items += [target("sales.orders", "2026-01", 5), target("sales.orders", "2026-02", 5)]  # March missing
    items += [target("sales.buyers", f"2026-0{m}", 2) for m in (1, 2, 3)]  # COUNT DISTINCT: never summed
    items += [target("sales.buyers", "2026-Q2", 4)]
    await put_targets(client, keys.sales, items)
    names, rows = await query(client, keys.reader, metrics=["sales.revenue", "sales.orders", "sales.buyers"],
                              time={"grain": "quarter", "start": "2026-01-01", "end": "2026-07-01"})
    q1, q2 = rows
    assert q1["sales.revenue__target"] == 500 + 700 + 900 and q1["sales.revenue__target_source"] == "sum_of_months"
    assert q1["sales.revenue__achievement"] == pytest.approx(data.revenue(Q1) / 2100)
    assert q2["sales.revenue__target"] == 4000 and q2["sales.revenue__target_source"] == "quarter"
    assert q2["sales.revenue__achievement"] == pytest.approx(data.revenue(Q2) / 4000)
    assert q1["sales.orders__target"] is None and q1["sales.orders__target_source"] is None  # a month is missing
    assert q1["sales.buyers__target"] is None  # not additive
    assert q2["sales.buyers__target"] == 4 and q2["sales.buyers__achievement"] == pytest.approx(data.buyers(Q2) / 4)
    # A range that is exactly one quarter, without a grain, is that quarter.
    _, [whole] = await query(client, keys.reader, metrics=["sales.revenue"], time={"start": "2026-04-01", "end": "2026-07-01"})
    assert whole["sales.revenue__target"] == 4000


async def test_scoped_targets_match_rows_with_those_dimension_values(client, keys):
    await put_targets(client, keys.sales, [
        target("sales.revenue", "2026-02", 300.0, scope={"orders.region": "East"}),
        target("sales.revenue", "2026-02", 250.0, scope={"orders.region": "West"}),
        target("sales.revenue", "2026-02", 9999.0),
    ])
    month = {"grain": "month", "start": "2026-02-01", "end": "2026-03-01"}
    _, rows = await query(client, keys.reader, metrics=["sales.revenue"], dimensions=["orders.region"], time=month)
    by_region = {r["orders.region"]: r for r in rows}
    for region, goal in (("East", 300.0), ("West", 250.0)):
        assert by_region[region]["sales.revenue__target"] == goal
        assert by_region[region]["sales.revenue__achievement"] == pytest.approx(data.revenue([2], region) / goal)
    _, [total] = await query(client, keys.reader, metrics=["sales.revenue"], time=month)
    assert total["sales.revenue__target"] == 9999.0  # the unscoped target matches a query without dimensions
    east_filter = [{"dimension": "orders.region", "op": "eq", "values": ["East"]}]
    _, [east] = await query(client, keys.reader, metrics=["sales.revenue"], time=month, filters=east_filter)
    assert east["sales.revenue__target"] == 300.0  # a single-value filter scopes the row


async def test_lower_is_better_uses_target_over_actual_and_the_metrics_bands(client, keys):
    march, april = data.response_hours([3]), data.response_hours([4])
    await put_targets(client, keys.service, [
        target("service.response_hours", "2026-03", march * 1.1),  # beat the ceiling: achievement 1.1
        target("service.response_hours", "2026-04", april * 0.85),  # 15% over the ceiling
    ])
    _, rows = await query(client, keys.reader, metrics=["service.response_hours"],
                          time={"grain": "month", "start": "2026-03-01", "end": "2026-05-01"})
    mar, apr = rows
    assert mar["service.response_hours"] == pytest.approx(march)
    assert mar["service.response_hours__achievement"] == pytest.approx((march * 1.1) / march)
    assert apr["service.response_hours__achievement"] == pytest.approx((april * 0.85) / april)
    assert (mar["service.response_hours__status"], apr["service.response_hours__status"]) == ("good", "watch")
    assert mar["service.response_hours__target_source"] == "month"
