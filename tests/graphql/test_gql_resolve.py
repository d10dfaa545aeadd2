"""`resolve` and `compile` take POST /v1/query's input and answer what REST answers, on a small DuckDB source."""

from __future__ import annotations

import duckdb
import pytest

from tests.graphql.gql import codes, data, gql
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, make_source, ok, orders_dataset

RESOLVE = """query($i: QueryInput!) { resolve(input: $i) {
  columns { name type unit } rows metrics { key version unit direction } cache } }"""
COMPILE = """query($i: QueryInput!) { compile(input: $i) {
  queries { source dialect sql params } metrics { key version unit direction } } }"""
ORDERS = [
    ("o1", "c1", "East", "2026-01-05 10:00:00", 100.0, 90.0, "paid"),
    ("o2", "c2", "East", "2026-01-20 11:00:00", 250.5, 240.0, "paid"),
    ("o3", "c1", "North", "2026-02-02 09:00:00", 80.0, 75.0, "paid"),
    ("o4", "c3", "North", "2026-02-14 15:00:00", 999.0, 900.0, "cancelled"),
    ("o5", "c2", "West", "2026-03-01 08:00:00", 40.0, 38.0, "paid"),
]


@pytest.fixture
async def world(client, admin_key, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("""CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, region VARCHAR,
                        ordered_at TIMESTAMP, amount DECIMAL(12, 2), net_amount DECIMAL(12, 2), status VARCHAR)""")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", ORDERS)
    await make_domain(client, admin_key, "sales")
    await make_domain(client, admin_key, "service")
    await make_source(client, admin_key, "warehouse", f"duckdb:///{path}")
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(admin_key)), 201)
    return {
        "admin": admin_key,
        "reader": await make_principal(client, admin_key, "rd", [{"role": "reader", "domain": "sales"}]),
        "outsider": await make_principal(client, admin_key, "svc", [{"role": "reader", "domain": "service"}]),
    }


BODIES = [
    {"metrics": ["sales.gmv"], "dimensions": ["orders.region"], "time": {"grain": "month", "start": "2026-01-01", "end": "2026-04-01"},
     "filters": [{"dimension": "orders.region", "op": "in", "values": ["East", "North"]}], "order_by": [{"field": "sales.gmv", "direction": "desc"}], "limit": 10},
    {"metrics": ["sales.gmv"], "time": {"grain": "month"}, "compare": ["previous_period"]},
    {"metrics": ["sales.gmv"], "dimensions": ["orders.status"]},
]


def as_input(body: dict) -> dict:
    """REST's body with GraphQL's camelCase names."""
    renamed = {"order_by": "orderBy", "as_of": "asOf"}
    return {renamed.get(k, k): v for k, v in body.items()}


@pytest.mark.parametrize("body", BODIES)
async def test_resolve_and_compile_answer_what_rest_answers(client, world, body):
    for role in ("admin", "reader"):
        rest = await ok(await client.post("/v1/query", json=body, headers=bearer(world[role])))
        got = (await data(client, world[role], RESOLVE, {"i": as_input(body)}))["resolve"]
        assert got["rows"] == rest["rows"] and rest["rows"]
        assert got["columns"] == rest["columns"] and got["metrics"] == rest["metrics"]
        assert got["cache"] == "hit"  # REST's answer filled the shared cache
        rest_sql = await ok(await client.post("/v1/query/sql", json=body, headers=bearer(world[role])))
        assert (await data(client, world[role], COMPILE, {"i": as_input(body)}))["compile"] == rest_sql


async def test_rows_are_the_numbers(client, world):
    body = {"metrics": ["sales.gmv"], "dimensions": ["orders.region"]}
    got = (await data(client, world["reader"], RESOLVE, {"i": body}))["resolve"]
    assert sorted(map(tuple, got["rows"])) == [("East", 350.5), ("North", 80.0), ("West", 40.0)]


REFUSED = [
    ({"metrics": ["sales.gmv", "sales.nope"]}, "admin", 422),
    ({"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.region", "op": "eq", "values": ["a", "b"]}]}, "admin", 422),
    ({"metrics": ["sales.gmv"], "time": {"grain": "fortnight"}}, "admin", 422),
    ({"metrics": ["sales.gmv"], "time": {"start": "2026-02-01", "end": "2026-01-01"}}, "admin", 422),
    ({"metrics": ["sales.gmv"], "compare": ["previous_period"]}, "admin", 422),
    ({"metrics": ["sales.gmv"], "dimensions": ["orders.nope"]}, "admin", 422),
    ({"metrics": []}, "admin", 422),
    ({"metrics": ["sales.gmv"]}, "outsider", 403),
    ({"metrics": ["sales.gmv"]}, None, 401),
]


@pytest.mark.parametrize(("body", "role", "status"), REFUSED)
async def test_refusals_carry_the_rest_code_and_details(client, world, body, role, status):
    key = world.get(role) if role else None
    rest = await client.post("/v1/query", json=body, headers=bearer(key) if key else {})
    assert rest.status_code == status, rest.text
    for document, field in ((RESOLVE, "resolve"), (COMPILE, "compile")):
        answer = await gql(client, key, document, {"i": as_input(body)})
        assert answer["data"] is None
        assert codes(answer) == [rest.json()["error"]["code"]]
        assert answer["errors"][0]["extensions"]["details"] == rest.json()["error"]["details"]


WITH_WARNINGS = """query($i: QueryInput!) { resolve(input: $i) {
  columns { name type unit } rows cache warnings { code metric message replacement sunset } } }"""


async def test_resolve_takes_include_as_rest_does(client, world):
    """`include: ["targets"]` adds the target columns REST adds; the target is the one set, the achievement actual ÷ target."""
    admin = world["admin"]
    await ok(await client.put("/v1/targets", json={"targets": [
        {"metric": "sales.gmv", "period": "2026-01", "value": 500, "owner": "alice"},
    ]}, headers=bearer(admin)))
    body = {"metrics": ["sales.gmv"], "time": {"grain": "month", "start": "2026-01-01", "end": "2026-03-01"}, "include": ["targets"]}
    rest = await ok(await client.post("/v1/query", json=body, headers=bearer(world["reader"])))
    got = (await data(client, world["reader"], WITH_WARNINGS, {"i": as_input(body)}))["resolve"]
    assert got["columns"] == rest["columns"] and got["rows"] == rest["rows"]
    names = [c["name"] for c in got["columns"]]
    assert names[-4:] == ["sales.gmv__target", "sales.gmv__achievement", "sales.gmv__status", "sales.gmv__target_source"]
    by_month = {row[0][:7]: dict(zip(names, row)) for row in got["rows"]}
    january = 100.0 + 250.5  # the paid January orders of ORDERS
    assert by_month["2026-01"]["sales.gmv"] == january and by_month["2026-01"]["sales.gmv__target"] == 500
    assert by_month["2026-01"]["sales.gmv__achievement"] == january / 500
    assert by_month["2026-02"]["sales.gmv__target"] is None


async def test_resolve_warns_of_a_deprecated_metric_as_rest_does(client, world):
    """A deprecated metric resolves with a METRIC_DEPRECATED warning naming its replacement and sunset."""
    admin = world["admin"]
    await ok(await client.post("/v1/metrics", json=gmv_metric(key="sales.gmv_net") | {"measure": "SUM(net_amount)"}, headers=bearer(admin)), 201)
    await ok(await client.post("/v1/metrics/sales.gmv/deprecate", json={"replacement": "sales.gmv_net", "sunset": "2026-12-31"},
                               headers=bearer(admin)))
    body = {"metrics": ["sales.gmv"], "dimensions": ["orders.region"]}
    rest = await ok(await client.post("/v1/query", json=body, headers=bearer(world["reader"])))
    got = (await data(client, world["reader"], WITH_WARNINGS, {"i": as_input(body)}))["resolve"]
    expected = [{"code": "METRIC_DEPRECATED", "metric": "sales.gmv", "replacement": "sales.gmv_net", "sunset": "2026-12-31"}]
    assert [{k: w[k] for k in ("code", "metric", "replacement", "sunset")} for w in got["warnings"]] == expected
    assert got["warnings"] == rest["warnings"] and sorted(map(tuple, got["rows"])) == [("East", 350.5), ("North", 80.0), ("West", 40.0)]
