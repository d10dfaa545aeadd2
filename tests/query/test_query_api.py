"""POST /v1/query over the demo library, checked against hand-written SQL on the warehouse."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import shutil

import duckdb
import pytest

from app.config import WAREHOUSE_DIR
from app.demo.setup import install_demo
from app.demo.warehouse import build_warehouse
from tests.helpers import bearer, make_principal, ok


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo-var")
    build_warehouse(var / WAREHOUSE_DIR / "demo.duckdb")
    return var


@pytest.fixture
async def demo(app, settings, warehouse_dir, admin_key):
    demo_settings = settings.model_copy(update={"var_dir": warehouse_dir})
    await install_demo(demo_settings)
    return warehouse_dir / WAREHOUSE_DIR / "demo.duckdb"


def sql_rows(path, sql: str, params=()) -> list[tuple]:
    """Hand-written SQL on a copy of the warehouse (the engine holds the original open)."""
    reference = path.with_name("reference.duckdb")
    if not reference.exists():
        shutil.copy(path, reference)
    with duckdb.connect(str(reference), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


async def query(client, key, body, **headers):
    return await ok(await client.post("/v1/query", json=body, headers={**bearer(key), **headers}))


async def test_repurchase_rate_by_month_and_region(client, admin_key, demo):
    answer = await query(client, admin_key, {
        "metrics": ["sales.repurchase_rate"], "dimensions": ["orders.region"],
        "time": {"grain": "month", "start": "2025-01-01", "end": "2026-01-01"},
    })
    names = [c["name"] for c in answer["columns"]]
    assert names == ["metric_time", "orders.region", "sales.repurchase_rate"]
    expected = sql_rows(demo, """
        SELECT CAST(date_trunc('month', ordered_at) AS DATE), region,
               COUNT(DISTINCT CASE WHEN NOT is_first_order THEN customer_id END) / COUNT(DISTINCT customer_id)
        FROM orders WHERE status = 'paid' AND ordered_at >= DATE '2025-01-01' AND ordered_at < DATE '2026-01-01'
        GROUP BY 1, 2 ORDER BY 1, 2""")
    got = {(r[0][:10], r[1]): r[2] for r in answer["rows"]}
    assert len(got) == len(expected) == 12 * 5
    for month, region, rate in expected:
        assert got[(month.isoformat(), region)] == pytest.approx(rate, abs=1e-9)
    assert answer["metrics"] == [{"key": "sales.repurchase_rate", "version": 1, "unit": "ratio", "direction": "higher_is_better"}]


async def test_collection_rate_spans_two_datasets(client, admin_key, demo):
    answer = await query(client, admin_key, {
        "metrics": ["sales.collection_rate", "sales.gmv", "sales.collected"],
        "time": {"grain": "quarter", "start": "2025-01-01", "end": "2027-01-01"},
    })
    gmv = dict(sql_rows(demo, "SELECT CAST(date_trunc('quarter', ordered_at) AS DATE), SUM(amount) FROM orders WHERE status = 'paid' GROUP BY 1"))
    paid = dict(sql_rows(demo, "SELECT CAST(date_trunc('quarter', paid_at) AS DATE), SUM(amount) FROM order_payments GROUP BY 1"))
    assert len(answer["rows"]) == 8
    for quarter, rate, g, c in answer["rows"]:
        day = dt.date.fromisoformat(quarter[:10])
        assert g == pytest.approx(float(gmv[day]), abs=0.005)
        assert c == pytest.approx(float(paid[day]), abs=0.005)
        assert rate == pytest.approx(float(paid[day] / gmv[day]), abs=1e-9)


async def test_gmv_by_quarter_against_last_year(client, admin_key, demo):
    answer = await query(client, admin_key, {
        "metrics": ["sales.gmv"], "time": {"grain": "quarter", "start": "2026-01-01", "end": "2027-01-01"},
        "compare": ["same_period_last_year"],
    })
    names = [c["name"] for c in answer["columns"]]
    assert names[:2] == ["metric_time", "sales.gmv"]
    gmv = {d.isoformat(): float(v) for d, v in sql_rows(demo, "SELECT CAST(date_trunc('quarter', ordered_at) AS DATE), SUM(amount) FROM orders WHERE status = 'paid' GROUP BY 1")}
    previous = names.index("sales.gmv__same_period_last_year")
    change = names.index("sales.gmv__same_period_last_year_change")
    assert len(answer["rows"]) == 4
    for row in answer["rows"]:
        quarter = row[0][:10]
        last_year = f"{int(quarter[:4]) - 1}{quarter[4:]}"
        assert row[1] == pytest.approx(gmv[quarter], abs=0.005)
        assert row[previous] == pytest.approx(gmv[last_year], abs=0.005)
        assert row[change] == pytest.approx((gmv[quarter] - gmv[last_year]) / gmv[last_year], abs=1e-9)


async def test_as_of_and_cache_follow_versions(client, admin_key, demo):
    body = {"metrics": ["sales.gmv"], "time": {"grain": "year", "start": "2025-01-01", "end": "2026-01-01"}}
    first = await query(client, admin_key, body)
    again = await query(client, admin_key, body)
    assert (first["cache"], again["cache"]) == ("miss", "hit") and first["rows"] == again["rows"]
    paid_2025 = float(sql_rows(demo, "SELECT SUM(amount) FROM orders WHERE status = 'paid' AND year(ordered_at) = 2025")[0][0])
    assert first["rows"][0][1] == pytest.approx(paid_2025, abs=0.005)

    moment = dt.datetime.now(dt.timezone.utc)
    await asyncio.sleep(0.01)
    current = await client.get("/v1/metrics/sales.gmv", headers=bearer(admin_key))
    await ok(await client.patch("/v1/metrics/sales.gmv", json={"filter": "status <> 'cancelled'"},
                                headers={**bearer(admin_key), "If-Match": current.headers["etag"]}))
    changed = await query(client, admin_key, body)
    not_cancelled = float(sql_rows(demo, "SELECT SUM(amount) FROM orders WHERE status <> 'cancelled' AND year(ordered_at) = 2025")[0][0])
    assert changed["cache"] == "miss" and changed["metrics"][0]["version"] == 2
    assert changed["rows"][0][1] == pytest.approx(not_cancelled, abs=0.005)
    old = await query(client, admin_key, {**body, "as_of": moment.isoformat()})
    assert old["metrics"][0]["version"] == 1
    assert old["rows"][0][1] == pytest.approx(paid_2025, abs=0.005)


async def test_csv_and_sql_views(client, admin_key, demo):
    body = {"metrics": ["sales.orders"], "dimensions": ["customers.segment"],
            "filters": [{"dimension": "orders.region", "op": "in", "values": ["East", "O'Brien"]}]}
    response = await client.post("/v1/query", json=body, headers={**bearer(admin_key), "Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["customers.segment", "sales.orders"]
    expected = dict(sql_rows(demo, """SELECT c.segment, COUNT(o.order_id) FROM orders o JOIN customers c USING (customer_id)
                                        WHERE o.status = 'paid' AND o.region IN ('East') GROUP BY 1"""))
    assert {row[0]: int(row[1]) for row in table[1:]} == expected
    compiled = await ok(await client.post("/v1/query/sql", json=body, headers=bearer(admin_key)))
    sql = compiled["queries"][0]["sql"]
    assert "O'Brien" not in sql and "O''Brien" not in sql and "East" not in sql
    assert "East" in compiled["queries"][0]["params"] and compiled["queries"][0]["dialect"] == "duckdb"


async def test_errors_before_any_database(client, admin_key, demo):
    unknown = await client.post("/v1/query", json={"metrics": ["sales.gmv", "sales.nope"]}, headers=bearer(admin_key))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "UNKNOWN_METRIC"
    assert unknown.json()["error"]["details"]["pointer"] == "/metrics/1"
    dim = await client.post("/v1/query", json={"metrics": ["sales.gmv"], "dimensions": ["orders.nope"]}, headers=bearer(admin_key))
    assert dim.status_code == 422 and "orders.nope" in dim.json()["error"]["message"]
    outsider = await make_principal(client, admin_key, "svc", [{"role": "reader", "domain": "service"}])
    refused = await client.post("/v1/query", json={"metrics": ["sales.gmv"]}, headers=bearer(outsider))
    assert refused.status_code == 403
    allowed = await query(client, outsider, {"metrics": ["service.complaint_rate"], "time": {"grain": "year"}})
    assert len(allowed["rows"]) == 2
