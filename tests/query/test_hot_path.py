"""POST /v1/query's hot path: authenticated first, rights before compiling, caches keyed by content,
definitions reused across new values, bounded work off the event loop (issue 11 item 2, issue 12 finding 1).

Every expectation is plain Python over the fixture rows below, or what /v1/query/sql says for the same body.
"""

from __future__ import annotations

import asyncio
import json
import threading

import duckdb
import httpx
import pytest
from sqlalchemy import event
from sqlglot.generator import Generator

from app.auth.service import bootstrap_admin
from app.compiler.render import Params, Slot
from app.main import create_app
from tests.conftest import registry_copy
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, make_source, ok, orders_dataset

ORDERS = [  # order_id, customer_id, region, ordered_at, amount, net_amount, status
    ("o1", "c1", "East", "2026-01-05 10:00:00", 100.0, 90.0, "paid"),
    ("o2", "c2", "East", "2026-01-20 11:00:00", 250.5, 240.0, "paid"),
    ("o3", "c1", "North", "2026-02-02 09:00:00", 80.0, 75.0, "paid"),
    ("o4", "c3", "North", "2026-02-14 15:00:00", 999.0, 900.0, "cancelled"),
    ("o5", "c2", "West", "2026-03-01 08:00:00", 40.0, 38.0, "paid"),
]
TICKETS = [("t1", "East"), ("t2", "West"), ("t3", "West")]


def paid_gmv(regions: set[str] | None = None, field: int = 4) -> dict[str, float]:
    """The expected answer by region: paid orders' amount (field 4) or net amount (field 5)."""
    out: dict[str, float] = {}
    for row in ORDERS:
        if row[6] == "paid" and (regions is None or row[2] in regions):
            out[row[2]] = out.get(row[2], 0) + row[field]
    return out


def by_region(answer: dict) -> dict[str, float]:
    return {row[0]: row[1] for row in answer["rows"]}


def warehouse(path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("""CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, region VARCHAR,
                        ordered_at TIMESTAMP, amount DECIMAL(12, 2), net_amount DECIMAL(12, 2), status VARCHAR)""")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", ORDERS)
        conn.execute("CREATE TABLE tickets (ticket_id VARCHAR, region VARCHAR)")
        conn.executemany("INSERT INTO tickets VALUES (?, ?)", TICKETS)


async def library(client, admin: str, path, measure: str = "SUM(amount)") -> None:
    """sales: dataset orders, metric sales.gmv; service: dataset tickets, metric service.tickets."""
    await make_domain(client, admin, "sales")
    await make_domain(client, admin, "service")
    await make_source(client, admin, "warehouse", f"duckdb:///{path}")
    orders = orders_dataset()
    orders["columns"] = [{**c, "dimension": True} if c["name"] == "amount" else c for c in orders["columns"]]
    await ok(await client.post("/v1/datasets", json=orders, headers=bearer(admin)), 201)
    await ok(await client.post("/v1/metrics", json={**gmv_metric(), "measure": measure}, headers=bearer(admin)), 201)
    tickets = {"name": "tickets", "domain": "service", "source": "warehouse", "table": "tickets", "primary_key": "ticket_id",
               "columns": [{"name": "ticket_id", "type": "string"}, {"name": "region", "type": "string", "dimension": True}]}
    await ok(await client.post("/v1/datasets", json=tickets, headers=bearer(admin)), 201)
    metric = {"key": "service.tickets", "name": "Tickets", "domain": "service", "owner": "bob", "unit": "tickets",
              "type": "simple", "dataset": "tickets", "measure": "COUNT(*)"}
    await ok(await client.post("/v1/metrics", json=metric, headers=bearer(admin)), 201)


@pytest.fixture
async def world(client, admin_key, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    warehouse(path)
    await library(client, admin_key, path)
    return {
        "admin": admin_key,
        "reader": await make_principal(client, admin_key, "rd", [{"role": "reader", "domain": "sales"}]),
        "outsider": await make_principal(client, admin_key, "svc", [{"role": "reader", "domain": "service"}]),
        "no_role": await make_principal(client, admin_key, "nobody", []),
    }


BY_REGION = {"metrics": ["sales.gmv"], "dimensions": ["orders.region"]}


def with_regions(*regions: str) -> dict:
    return {**BY_REGION, "filters": [{"dimension": "orders.region", "op": "in", "values": list(regions)}]}


# --- 1. authenticate before the body is read into any cache ---------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b'{"metrics": []}', json.dumps(with_regions("East")).encode()])
async def test_anonymous_body_answers_401_and_is_kept_nowhere(app, client, world, body):
    for path in ("/v1/query", "/v1/query/sql"):
        response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert len(app.state.bodies) == 0  # nothing parsed for an anonymous caller was kept
    assert len(app.state.queries.definitions) == 0


# --- 2. rights on the names in the request, before compiling ---------------------------------------


@pytest.fixture
def sqlglot_generated(monkeypatch) -> list[int]:
    """How many SQL texts sqlglot generated: a compile, the expensive part (a count, not a time)."""
    counted = [0]
    original = Generator.generate

    def counting(*args, **kwargs):
        counted[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(Generator, "generate", counting)
    return counted


async def test_no_existence_oracle_and_no_compile_before_rights(client, world, sqlglot_generated):
    existing = await client.post("/v1/query", json={"metrics": ["sales.gmv"]}, headers=bearer(world["outsider"]))
    missing = await client.post("/v1/query", json={"metrics": ["sales.nope"]}, headers=bearer(world["outsider"]))
    assert (existing.status_code, missing.status_code) == (403, 403)
    assert existing.json()["error"]["message"].replace("sales.gmv", "X") == missing.json()["error"]["message"].replace("sales.nope", "X")
    assert existing.json()["error"]["details"] == missing.json()["error"]["details"] == {"pointer": "/metrics/0"}
    hostile = {"metrics": ["sales.gmv"], "dimensions": ["orders.region"],
               "filters": [{"dimension": "orders.region", "op": "in", "values": [f"r{i}" for i in range(1000)]}] * 5}
    refused = await client.post("/v1/query", json=hostile, headers=bearer(world["no_role"]))
    assert refused.status_code == 403
    assert sqlglot_generated[0] == 0  # nothing was compiled for a caller who may not read it
    # a reader of the domain is still told what does not exist, and still reads what it may
    assert (await client.post("/v1/query", json={"metrics": ["service.tickets"]}, headers=bearer(world["outsider"]))).status_code == 200
    unknown = await client.post("/v1/query", json={"metrics": ["sales.nope"]}, headers=bearer(world["admin"]))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "UNKNOWN_METRIC")


async def test_a_forbidden_query_never_names_another_domains_dataset(client, world):
    for body in ({"metrics": ["service.tickets"], "dimensions": ["orders.region"]},
                 {"metrics": ["service.tickets"], "filters": [{"dimension": "orders.status", "op": "eq", "values": ["paid"]}]},
                 {"metrics": ["service.tickets"], "dimensions": ["nowhere.region"]}):
        for path in ("/v1/query", "/v1/query/sql"):
            refused = await client.post(path, json=body, headers=bearer(world["outsider"]))
            assert refused.status_code == 403, refused.text
            assert "sales" not in refused.text  # neither the domain nor anything of it


# --- 3. lifecycle state is part of a cached answer ------------------------------------------------


async def test_a_cached_answer_carries_the_deprecation_warning(client, world):
    admin = world["admin"]
    first = await ok(await client.post("/v1/query", json=BY_REGION, headers=bearer(admin)))
    again = await ok(await client.post("/v1/query", json=BY_REGION, headers=bearer(admin)))
    assert (first["cache"], again["cache"], again["warnings"]) == ("miss", "hit", [])
    other = {**gmv_metric(key="sales.gmv_all"), "filter": "status <> 'cancelled'"}
    await ok(await client.post("/v1/metrics", json=other, headers=bearer(admin)), 201)
    await ok(await client.post("/v1/metrics/sales.gmv/deprecate", json={"replacement": "sales.gmv_all", "reason": "merged"},
                               headers=bearer(admin)))
    for _ in range(2):
        cached = await ok(await client.post("/v1/query", json=BY_REGION, headers=bearer(admin)))
        assert cached["cache"] == "hit" and by_region(cached) == paid_gmv()
        assert [(w["code"], w["replacement"]) for w in cached["warnings"]] == [("METRIC_DEPRECATED", "sales.gmv_all")]
    await ok(await client.post("/v1/metrics/sales.gmv/retire", json={"reason": "sunset"}, headers=bearer(admin)))
    gone = await client.post("/v1/query", json=BY_REGION, headers=bearer(admin))
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "METRIC_RETIRED")


# --- 4. plans keyed by definition content ----------------------------------------------------------


async def test_two_registries_in_one_process_get_their_own_sql(client, world, registry_template, settings, tmp_path):
    """Same source, dataset and metric names, both at version 1; only the measure differs."""
    (tmp_path / "b").mkdir()
    other_warehouse = tmp_path / "b" / "warehouse.duckdb"
    warehouse(other_warehouse)
    async with registry_copy(registry_template, tmp_path / "b") as (url, _):
        other = create_app(settings.model_copy(update={"database_url": url, "var_dir": tmp_path / "b" / "var"}))
        try:
            async with other.state.db.session(write=True) as session:
                other_admin = await bootstrap_admin(session)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://b.test") as b:
                await library(b, other_admin, other_warehouse, measure="SUM(net_amount)")
                for _ in range(2):  # each app's answer stays its own, the second time too
                    a_sql = await ok(await client.post("/v1/query/sql", json=BY_REGION, headers=bearer(world["admin"])))
                    b_sql = await ok(await b.post("/v1/query/sql", json=BY_REGION, headers=bearer(other_admin)))
                    assert "net_amount" in b_sql["queries"][0]["sql"] and "net_amount" not in a_sql["queries"][0]["sql"]
                    a = await ok(await client.post("/v1/query", json=BY_REGION, headers=bearer(world["admin"])))
                    b_answer = await ok(await b.post("/v1/query", json=BY_REGION, headers=bearer(other_admin)))
                    assert by_region(a) == paid_gmv() and by_region(b_answer) == paid_gmv(field=5)
        finally:
            await other.state.shutdown()


# --- 5. definitions reused across new filter values, dates and limits ------------------------------


@pytest.fixture
def registry_statements(app) -> list[str]:
    """Every statement the app sends to its registry."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", record)


async def test_new_values_dates_and_limits_do_not_reload_definitions(client, world, registry_statements):
    reader = bearer(world["reader"])
    timed = {**with_regions("East"), "time": {"start": "2026-01-01", "end": "2026-04-01"}}
    await ok(await client.post("/v1/query", json=timed, headers=reader))  # loads sales.gmv, orders; key verified

    def count_of(body):
        async def run() -> tuple[int, dict]:
            registry_statements.clear()
            response = await client.post("/v1/query", json=body, headers=reader)
            return len(registry_statements), response.json()
        return run()

    repeat, _ = await count_of(timed)  # the floor: what an identical request costs (the generation, on PostgreSQL)
    for body, expected in (
        ({**timed, "filters": [{"dimension": "orders.region", "op": "in", "values": ["North", "West"]}]}, paid_gmv({"North", "West"})),
        ({**timed, "time": {"start": "2026-02-01", "end": "2026-03-01"}}, {}),
        ({**timed, "filters": [{"dimension": "orders.region", "op": "in", "values": ["East", "West"]}], "limit": 1}, {"East": 350.5}),
    ):
        statements, answer = await count_of(body)
        assert statements == repeat, registry_statements
        assert by_region(answer) == expected
    same_datasets, answer = await count_of({**timed, "dimensions": ["orders.status"]})
    assert same_datasets == repeat and answer["rows"] == [["paid", 350.5]]  # another dimension of a loaded dataset
    new_metrics, _ = await count_of({**timed, "metrics": ["sales.gmv", "service.tickets"]})
    assert new_metrics > repeat  # a new metric set loads what it names (and is refused: a reader of sales only)


# --- 6. bounded work, linear binding, compile off the event loop (issue 12 finding 1) --------------


@pytest.mark.no_registry
def test_binding_is_linear_in_the_number_of_values(monkeypatch):
    compared = [0]
    original = Slot.__eq__

    def counting(self, other):
        compared[0] += 1
        return original(self, other)

    monkeypatch.setattr(Slot, "__eq__", counting)
    params = Params("duckdb")
    n = 5000
    for _ in range(3):  # the same slots again share their numbers
        for j in range(n):
            params(Slot("filter", 0, j, "string"))
    assert len(params.slots) == n
    assert compared[0] <= 3 * n  # a list lookup compares about n * n / 2 times


LIMITS = [
    ("values per filter", {"filters": [{"dimension": "orders.region", "op": "in", "values": ["x"] * 1001}]}, "/filters/0/values"),
    ("filters", {"filters": [{"dimension": "orders.region", "op": "ne", "values": ["x"]}] * 51}, "/filters"),
    ("values in all", {"filters": [{"dimension": "orders.region", "op": "in", "values": [f"x{i}" for i in range(1000)]}] * 6},
     "/filters"),
    ("value length", {"filters": [{"dimension": "orders.region", "op": "eq", "values": ["x" * 10_001]}]}, "/filters/0/values/0"),
]


@pytest.mark.parametrize(("what", "extra", "pointer"), LIMITS, ids=[c[0] for c in LIMITS])
async def test_work_is_bounded_with_a_coded_422(client, world, sqlglot_generated, what, extra, pointer):
    response = await client.post("/v1/query", json={**BY_REGION, **extra}, headers=bearer(world["admin"]))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "QUERY_LIMIT_EXCEEDED" and error["details"]["pointer"] == pointer
    assert sqlglot_generated[0] == 0


def max_size_query() -> dict:
    """About the largest query the limits allow: 1,400 values, repeated over two aggregates and three
    periods (9,818 bound parameters at most, of 10,000)."""
    values = [f"r{i}" for i in range(1000)]
    return {"metrics": ["sales.gmv", "sales.gmv_net"], "dimensions": ["orders.region"],
            "time": {"grain": "month", "start": "2025-01-01", "end": "2027-01-01"}, "compare": ["previous_period", "same_period_last_year"],
            "filters": [{"dimension": "orders.region", "op": "not_in", "values": values[:999] + ["West"]},
                        {"dimension": "orders.status", "op": "not_in", "values": values[:400]}]}


async def test_the_loop_stays_responsive_while_a_max_size_query_compiles(app, client, world):
    """A compile that waits until /healthz has answered: it can only finish if it runs off the loop."""
    admin = bearer(world["admin"])
    await ok(await client.post("/v1/metrics", json={**gmv_metric(key="sales.gmv_net"), "measure": "SUM(net_amount)"}, headers=admin), 201)
    healthz_answered = threading.Event()
    waited: list[bool] = []
    compiler = app.state.queries.compiler
    original = compiler.compile

    def slow_compile(request, definitions):
        waited.append(healthz_answered.wait(timeout=5))
        return original(request, definitions)

    compiler.compile = slow_compile
    lag = app.state.loop_lag
    lag.interval = 0.01
    lag.start()
    try:
        hostile = asyncio.create_task(client.post("/v1/query", json=max_size_query(), headers=admin))
        while not waited and not hostile.done():
            assert (await client.get("/healthz")).status_code == 200
            healthz_answered.set()
            await asyncio.sleep(0.01)
        answer = await ok(await hostile)
        ticks = lag.samples
        await asyncio.sleep(0.05)
        assert lag.samples > ticks  # still sampling
    finally:
        await lag.stop()
    assert waited == [True], waited  # False: /healthz could not answer while the compile ran
    assert {(r[0][:7], r[1]): r[2] for r in answer["rows"]} == {("2026-01", "East"): 350.5, ("2026-02", "North"): 80.0}
    assert max(lag.recent) < 1.0, sorted(lag.recent)[-5:]  # generous: a loop blocked by the compile would show seconds
    metrics = (await client.get("/metrics")).text
    assert "yardstick_event_loop_lag_seconds " in metrics


async def test_a_real_max_size_compile_keeps_the_loop_lag_low(app, client, world):
    admin = bearer(world["admin"])
    await ok(await client.post("/v1/metrics", json={**gmv_metric(key="sales.gmv_net"), "measure": "SUM(net_amount)"}, headers=admin), 201)
    lag = app.state.loop_lag
    lag.interval = 0.01
    lag.start()
    try:
        before = lag.samples
        sql = await ok(await client.post("/v1/query/sql", json=max_size_query(), headers=admin))
        during = list(lag.recent)[-(lag.samples - before):] if lag.samples > before else [0.0]
    finally:
        await lag.stop()
    assert 1_400 < len(sql["queries"][0]["params"]) <= 10_000
    assert max(during) < 1.0, sorted(during)[-5:]


# --- 7. non-finite numbers (issue 12 finding 13) --------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_filter_values_are_refused(client, world, literal):
    body = '{"metrics": ["sales.gmv"], "filters": [{"dimension": "orders.amount", "op": "gt", "values": [%s]}]}' % literal
    for quoted in (literal, f'"{literal}"'):
        response = await client.post("/v1/query", content=body.replace(literal, quoted, 1),
                                     headers={**bearer(world["admin"]), "Content-Type": "application/json"})
        assert response.status_code == 422, (quoted, response.text)
        error = response.json()["error"]
        assert error["code"] == "INVALID_FILTER_VALUE" and error["details"]["pointer"] == "/filters/0/values/0"
    finite = await ok(await client.post("/v1/query", json={"metrics": ["sales.gmv"], "filters": [
        {"dimension": "orders.amount", "op": "gt", "values": [90]}]}, headers=bearer(world["admin"])))
    assert finite["rows"] == [[250.5 + 100.0]]
