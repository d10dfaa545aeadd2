"""Bad input over the transport: a 4xx with one stable code per meaning on every route, never a 500;
every answer carries a request id; OPTIONS is answered; production mode keys its contract and telemetry.
(Issue 12, findings 12 and 14.)"""

from __future__ import annotations

import logging

import httpx
import pytest

from app.main import create_app
from tests.helpers import bearer, ok
from tests.kpi import kpi_data

BIG = str(2**63)  # one past the largest registry integer
EXPRESSIONS = ['{sales.revenue} + "x"', "{sales.revenue} * 2 }", "{Sales.Revenue} * 2"]


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    kpi_data.build(path)
    return path


@pytest.fixture
async def shop(client, admin_key, shop_file) -> str:
    """Two domains, the tiny warehouse's datasets and metrics, one scorecard; answers the admin key."""
    await kpi_data.register(client, admin_key, shop_file)
    card = {"name": "shop", "title": "Shop", "domain": "sales", "owner": "alice",
            "root": {"label": "all", "children": [{"metric": "sales.revenue", "weight": 100}]}}
    await ok(await client.post("/v1/scorecards", json=card, headers=bearer(admin_key)), 201)
    return admin_key


def refused(response: httpx.Response, status: int, code: str) -> dict:
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert response.headers.get("x-request-id")
    return response.json()["error"]


def derived(expr: str, key: str = "sales.d") -> dict:
    return {"key": key, "name": key, "domain": "sales", "owner": "alice", "type": "derived", "expr": expr}


# --- finding 12: definitions ----------------------------------------------------------------


@pytest.mark.parametrize("expr", EXPRESSIONS)
async def test_a_derived_expression_written_wrong_is_refused_on_every_route(client, shop, expr):
    headers = bearer(shop)
    error = refused(await client.post("/v1/metrics", json=derived(expr), headers=headers), 422, "INVALID_EXPRESSION")
    assert error["details"]["pointer"] == "/expr"

    await ok(await client.post("/v1/metrics", json=derived("{sales.revenue} * 2"), headers=headers), 201)
    patched = await client.patch("/v1/metrics/sales.d", json={"expr": expr}, headers={**headers, "If-Match": '"1"'})
    assert refused(patched, 422, "INVALID_EXPRESSION")["details"]["pointer"] == "/expr"

    batch = {"items": [{"kind": "metric", "definition": derived(expr, "sales.e")}]}
    error = refused(await client.post("/v1/batches", json=batch, headers=headers), 422, "INVALID_EXPRESSION")
    assert error["details"]["pointer"] == "/items/0/definition/expr"

    mutation = "mutation($d: JSON!) { createMetric(definition: $d) { key } }"
    answer = await ok(await client.post("/graphql", json={"query": mutation, "variables": {"d": derived(expr, "sales.f")}}, headers=headers))
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["INVALID_EXPRESSION"]
    listed = await ok(await client.get("/v1/metrics", params={"domain": "sales"}, headers=headers))
    assert {m["key"] for m in listed["items"]} == {"sales.revenue", "sales.orders", "sales.buyers", "sales.d"}


# --- finding 12: timestamps, dates and periods at the ends of the calendar --------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
async def test_a_moment_that_leaves_the_calendar_in_utc_is_refused(client, shop, moment):
    headers = bearer(shop)
    for path, pointer in (("/v1/metrics/sales.revenue", "/query/as_of"), ("/v1/scorecards/shop", "/query/as_of"),
                          ("/v1/audit", "/query/since"), ("/v1/audit", "/query/until")):
        name = pointer.rsplit("/", 1)[1]
        error = refused(await client.get(path, params={name: moment}, headers=headers), 422, "INVALID_FIELD")
        assert error["details"]["pointer"] == pointer
    refused(await client.post("/v1/query", json={"metrics": ["sales.revenue"], "as_of": moment}, headers=headers), 422, "INVALID_FIELD")


@pytest.mark.parametrize("compare", ["same_period_last_year", "previous_period"])
async def test_a_comparison_before_year_one_is_refused(client, shop, compare):
    body = {"metrics": ["sales.revenue"], "time": {"grain": "month", "start": "0001-01-01", "end": "0001-03-01"}, "compare": [compare]}
    refused(await client.post("/v1/query", json=body, headers=bearer(shop)), 422, "INVALID_QUERY")


async def test_periods_that_end_after_9999_are_refused(client, shop):
    headers = bearer(shop)
    for period in ("9999-Q4", "9999", "9999-12"):
        error = refused(await client.get("/v1/scorecards/shop/evaluate", params={"period": period}, headers=headers), 422, "INVALID_PERIOD")
        assert error["details"]["pointer"] == "period"
        target = {"metric": "sales.revenue", "period": period, "value": 1, "owner": "alice"}
        error = refused(await client.put("/v1/targets", json={"targets": [target]}, headers=headers), 422, "INVALID_FIELD")
        assert error["details"]["pointer"] == "/targets/0/period"
    answer = await ok(await client.get("/v1/scorecards/shop/evaluate", params={"period": "9999-Q3"}, headers=headers))
    assert answer["period"] == "9999-Q3"


# --- finding 12: integers past 64 bits ------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "pointer"), [
    ("GET", f"/v1/changes?after={BIG}", "/query/after"),
    ("GET", f"/v1/metrics/sales.revenue?version={BIG}", "/query/version"),
    ("GET", f"/v1/metrics/sales.revenue/diff?from=1&to={BIG}", "/query/to"),
    ("GET", f"/v1/metrics/sales.revenue/diff?from={BIG}&to=1", "/query/from"),
    ("GET", f"/v1/scorecards/shop/diff?from=1&to={BIG}", "/query/to"),
    ("GET", f"/v1/targets/x?version={BIG}", "/query/version"),
    ("GET", f"/v1/proposals/{BIG}", "/path/proposal_id"),
    ("POST", f"/v1/proposals/{BIG}/accept", "/path/proposal_id"),
    ("GET", f"/v1/webhooks/{BIG}/deliveries", "/path/hook_id"),
    ("DELETE", f"/v1/webhooks/{BIG}", "/path/hook_id"),
])
async def test_integers_past_64_bits_are_refused(client, shop, method, url, pointer):
    response = await client.request(method, url, json={"comment": "x"} if method == "POST" else None, headers=bearer(shop))
    assert refused(response, 422, "INVALID_FIELD")["details"]["pointer"] == pointer


async def test_a_cursor_holding_a_huge_position_is_refused(client, shop):
    from app.pagination import encode_cursor

    for cursor in (encode_cursor(2**63), encode_cursor(-1), encode_cursor(True)):
        for path in ("/v1/audit", "/v1/proposals", "/v1/metrics/sales.revenue/versions"):
            refused(await client.get(path, params={"cursor": cursor}, headers=bearer(shop)), 422, "INVALID_CURSOR")


# --- finding 12: a request id on every answer, one log line per failure ------------------------


async def test_an_unforeseen_failure_is_one_coded_answer_and_one_log_line(app, client, admin_key, caplog):
    async def boom():
        raise RuntimeError("unforeseen")

    app.add_api_route("/test-only/boom", boom)
    with caplog.at_level(logging.INFO):
        response = await client.get("/test-only/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500 and response.json()["error"]["code"] == "INTERNAL"
    assert response.headers["x-request-id"] == "req-500"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].levelno == logging.ERROR
    assert "unforeseen" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.name == "yardstick.access"] == ["request"]


# --- finding 14: OPTIONS and 405 name every method of the path ---------------------------------


@pytest.mark.parametrize(("path", "methods"), [
    ("/v1/metrics", {"GET", "POST", "OPTIONS"}),
    ("/v1/metrics/sales.revenue", {"GET", "PATCH", "OPTIONS"}),
    ("/v1/webhooks", {"GET", "POST", "OPTIONS"}),
    ("/v1/targets", {"GET", "PUT", "OPTIONS"}),
    ("/v1/query", {"POST", "OPTIONS"}),
])
async def test_options_and_405_name_every_method(client, path, methods):
    answer = await client.options(path)
    assert answer.status_code == 204 and answer.headers.get("x-request-id")
    assert set(answer.headers["allow"].split(", ")) == methods
    wrong = await client.request("DELETE", path)
    assert refused(wrong, 405, "METHOD_NOT_ALLOWED")
    assert set(wrong.headers["allow"].split(", ")) == methods
    assert (await client.options("/v1/nothing-here")).status_code == 404


# --- finding 14: one code per meaning across routes -----------------------------------------


@pytest.mark.parametrize(("path", "method"), [
    ("/v1/domains", "POST"), ("/v1/metrics", "POST"), ("/v1/query", "POST"), ("/v1/query/sql", "POST"),
    ("/v1/batches", "POST"), ("/v1/targets", "PUT"), ("/v1/domains/sales/policy", "PUT"),
])
async def test_a_body_that_is_not_utf8_is_malformed_json_everywhere(client, admin_key, path, method):
    response = await client.request(method, path, content=b'{"name": "\xff\xfe"}', headers={**bearer(admin_key), "Content-Type": "application/json"})
    refused(response, 422, "MALFORMED_JSON")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "/v1/domains/sales/policy", {"refuse_duplicates": 0.0}),
    ("PUT", "/v1/domains/sales/policy", {"review_required": 1}),
    ("POST", "/v1/batches", {"items": [], "dry_run": 0}),
    ("POST", "/v1/batches", {"items": [], "dry_run": "false"}),
])
async def test_booleans_are_strict(client, shop, method, path, body):
    refused(await client.request(method, path, json=body, headers=bearer(shop)), 422, "INVALID_FIELD")
    policy = await ok(await client.get("/v1/domains/sales/policy", headers=bearer(shop)))
    assert policy == {"domain": "sales", "review_required": False, "refuse_duplicates": True}


async def test_booleans_inside_definitions_are_strict(client, shop):
    dataset = {**kpi_data.DATASETS[0], "name": "orders2", "columns": [{"name": "region", "type": "string", "dimension": 1}]}
    refused(await client.post("/v1/datasets", json=dataset, headers=bearer(shop)), 422, "INVALID_FIELD")
    metric = {**kpi_data.METRICS[0], "key": "sales.revenue2", "measure": "SUM(amount) * 2", "allow_duplicate": 0}
    refused(await client.post("/v1/metrics", json=metric, headers=bearer(shop)), 422, "INVALID_FIELD")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/domains/nope/policy", None),
    ("PUT", "/v1/domains/nope/policy", {"review_required": True}),
    ("GET", "/v1/domains/nope/checks", None),
])
async def test_an_unknown_domain_in_a_path_is_404_everywhere(client, admin_key, method, path, body):
    refused(await client.request(method, path, json=body, headers=bearer(admin_key)), 404, "DOMAIN_NOT_FOUND")


# --- finding 14: production mode keys the contract, the docs, GraphQL and telemetry ----------------


INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}


@pytest.fixture
async def production(settings):
    application = create_app(settings.model_copy(update={"environment": "production"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://yardstick.test") as c:
        yield c
    await application.state.shutdown()


async def test_production_mode_needs_a_key_for_contract_docs_graphql_and_metrics(production, admin_key):
    for method, path, body in (("GET", "/openapi.json", None), ("GET", "/docs", None), ("GET", "/redoc", None),
                               ("GET", "/metrics", None), ("POST", "/graphql", INTROSPECTION)):
        anonymous = await production.request(method, path, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer", (path, anonymous.text)
        wrong = await production.request(method, path, json=body, headers=bearer("ys_0123456789abcdef_wrong"))
        assert wrong.status_code == 401, path
        assert (await production.request(method, path, json=body, headers=bearer(admin_key))).status_code == 200, path
    errors = (await production.post("/graphql", json=INTROSPECTION)).json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
    introspected = await ok(await production.post("/graphql", json=INTROSPECTION, headers=bearer(admin_key)))
    assert introspected["data"]["__schema"]["queryType"]["name"] == "Query"
    assert (await production.get("/healthz")).status_code == 200
    assert (await production.get("/readyz")).status_code == 200


async def test_outside_production_they_need_no_key(client):
    for path in ("/openapi.json", "/docs", "/metrics"):
        assert (await client.get(path)).status_code == 200, path
