"""Health, readiness, Prometheus, request ids, idempotency keys, and the catalog search."""

from __future__ import annotations

from tests.helpers import bearer, gmv_metric, ok, orders_dataset, sales_setup


async def test_health_ready_metrics_and_request_id(client, admin_key):
    assert (await ok(await client.get("/healthz")))["status"] == "ok"
    assert (await ok(await client.get("/readyz")))["status"] == "ready"
    answer = await client.get("/v1/domains", headers={**bearer(admin_key), "X-Request-ID": "abc-123"})
    assert answer.headers["x-request-id"] == "abc-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32
    scraped = (await client.get("/metrics")).text
    assert 'yardstick_http_requests_total{method="GET",route="/v1/domains",status="200"} 1.0' in scraped


async def test_idempotency_key_replays_and_refuses_other_body(client, admin_key):
    headers = {**bearer(admin_key), "Idempotency-Key": "create-sales-1"}
    first = await client.post("/v1/domains", json={"name": "sales"}, headers=headers)
    again = await client.post("/v1/domains", json={"name": "sales"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/v1/domains", json={"name": "service"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    domains = await ok(await client.get("/v1/domains", headers=bearer(admin_key)))
    assert [d["name"] for d in domains["items"]] == ["sales"]


async def test_catalog_search_filters_and_paging(client, admin_key):
    editor = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(editor)), 201)
    definitions = [
        {**gmv_metric(key="sales.repurchase_rate"), "name": "复购率 / Repurchase rate", "synonyms": ["repeat purchase rate", "回购率"], "caliber": "复购客户数 / 下单客户数", "tags": ["retention"], "level": "strategic"},
        {**gmv_metric(key="sales.gmv"), "owner": "bob"},
        *[{**gmv_metric(key=f"sales.m{i:02d}"), "name": f"Metric {i}", "synonyms": [], "caliber": "", "tags": []} for i in range(7)],
    ]
    for definition in definitions:
        await ok(await client.post("/v1/metrics", json=definition, headers=bearer(editor)), 201)

    async def keys(**params):
        body = await ok(await client.get("/v1/metrics", params=params, headers=bearer(editor)))
        return [m["key"] for m in body["items"]]

    assert await keys(q="复购") == ["sales.repurchase_rate"]
    assert await keys(q="REPEAT purchase") == ["sales.repurchase_rate"]
    assert await keys(q="回购") == ["sales.repurchase_rate"]
    assert await keys(tag="retention") == ["sales.repurchase_rate"]
    assert await keys(level="strategic") == ["sales.repurchase_rate"]
    assert await keys(owner="bob") == ["sales.gmv"]
    assert await keys(q="100%") == []

    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await ok(await client.get("/v1/metrics", params=params, headers=bearer(editor)))
        seen += [m["key"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(d["key"] for d in definitions)
