"""Malformed, unknown, oversize and hostile input: always a 4xx with a stable code, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, gmv_metric, ok, orders_dataset, sales_setup

INJECTIONS = ["x'; DROP TABLE entities; --", "sales.gmv\" OR 1=1 --", "../../etc/passwd", "名前", "a" * 300, "%00", "sales.gmv;"]


@pytest.fixture
async def editor(client, admin_key):
    key = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(key)), 201)
    return key


def code_of(response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    return response.json()["error"]["code"]


async def test_malformed_json(client, editor):
    response = await client.post("/v1/metrics", content=b'{"key": ', headers={**bearer(editor), "Content-Type": "application/json"})
    assert response.status_code == 422 and code_of(response) == "MALFORMED_JSON"


async def test_unknown_field_named_by_pointer(client, editor):
    response = await client.post("/v1/metrics", json={**gmv_metric(), "colour": "red"}, headers=bearer(editor))
    assert code_of(response) == "UNKNOWN_FIELD"
    assert response.json()["error"]["details"]["pointer"] == "/colour"


async def test_malformed_key(client, editor):
    response = await client.post("/v1/metrics", json={**gmv_metric(), "key": "Sales GMV"}, headers=bearer(editor))
    assert code_of(response) == "INVALID_FIELD" and response.json()["error"]["details"]["pointer"] == "/key"


async def test_bad_column_is_pointed_at(client, editor):
    response = await client.post("/v1/metrics", json={**gmv_metric(), "measure": "SUM(price)"}, headers=bearer(editor))
    assert response.status_code == 422
    assert response.json()["error"]["details"]["pointer"] == "/measure"


@pytest.mark.parametrize("expression", ["SUM((SELECT 1))", "SUM(amount); DROP TABLE orders", "read_csv('/etc/passwd')", "COUNT(*) FROM glob('*')"])
async def test_forbidden_sql_is_refused(client, editor, expression):
    response = await client.post("/v1/metrics", json={**gmv_metric(), "measure": expression}, headers=bearer(editor))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["pointer"] == "/measure"


async def test_unknown_references(client, editor):
    metric = {**gmv_metric(), "dataset": "nope"}
    assert code_of(await client.post("/v1/metrics", json=metric, headers=bearer(editor))) == "UNKNOWN_DATASET"
    ratio = {k: v for k, v in gmv_metric(key="sales.r").items() if k not in ("dataset", "measure", "filter")}
    ratio.update(type="ratio", numerator="sales.gmv", denominator="sales.none")
    assert (await client.post("/v1/metrics", json=ratio, headers=bearer(editor))).status_code == 422


async def test_metric_cycle_refused(client, editor):
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(editor)), 201)
    base = {k: v for k, v in gmv_metric().items() if k not in ("dataset", "measure", "filter", "key")}
    await ok(await client.post("/v1/metrics", json={**base, "key": "sales.a", "type": "derived", "expr": "{sales.gmv} * 2"}, headers=bearer(editor)), 201)
    await ok(await client.post("/v1/metrics", json={**base, "key": "sales.b", "type": "derived", "expr": "{sales.a} + 1"}, headers=bearer(editor)), 201)
    current = await client.get("/v1/metrics/sales.a", headers=bearer(editor))
    cyclic = await client.patch("/v1/metrics/sales.a", json={"expr": "{sales.b} * 2"}, headers={**bearer(editor), "If-Match": current.headers["etag"]})
    assert code_of(cyclic) == "METRIC_CYCLE"


async def test_oversize_body(client, editor):
    big = {**gmv_metric(), "description": "x" * 2_000_000}
    response = await client.post("/v1/metrics", json=big, headers=bearer(editor))
    assert response.status_code == 413 and code_of(response) == "PAYLOAD_TOO_LARGE"


async def test_oversize_body_streamed_without_length(client, editor):
    async def chunks():
        yield b'{"description": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    response = await client.post("/v1/metrics", content=chunks(), headers={**bearer(editor), "Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("name", INJECTIONS)
async def test_injection_strings_in_names(client, editor, name):
    for path in (f"/v1/metrics/{name}", f"/v1/datasets/{name}", f"/v1/metrics/{name}/versions"):
        response = await client.get(path, headers=bearer(editor))
        assert 400 <= response.status_code < 500, (path, response.status_code)
    listing = await client.get("/v1/metrics", params={"q": name, "owner": name, "tag": name}, headers=bearer(editor))
    assert listing.status_code in (200, 422)
    created = await client.post("/v1/metrics", json={**gmv_metric(), "key": name}, headers=bearer(editor))
    assert created.status_code == 422


async def test_bad_query_parameters(client, editor, admin_key):
    assert code_of(await client.get("/v1/metrics?limit=0", headers=bearer(editor))) == "INVALID_FIELD"
    assert code_of(await client.get("/v1/metrics?cursor=%%%", headers=bearer(editor))) == "INVALID_CURSOR"
    assert code_of(await client.get("/v1/audit?since=yesterday", headers=bearer(admin_key))) == "INVALID_FIELD"
    assert code_of(await client.get("/v1/nothing-here", headers=bearer(editor))) == "NOT_FOUND"


async def test_bad_bearer_tokens(client):
    for header in ("Bearer", "Bearer ys_", "Basic abc", "Bearer ys_0123456789abcdef_wrong", "Bearer " + "x" * 5000):
        response = await client.get("/v1/metrics", headers={"Authorization": header})
        assert response.status_code == 401 and code_of(response) == "UNAUTHENTICATED"


async def test_nul_in_a_definition_is_refused(client, editor):
    response = await client.post("/v1/metrics", json={**gmv_metric(), "description": "a\x00b"}, headers=bearer(editor))
    assert code_of(response) == "INVALID_FIELD" and response.json()["error"]["details"]["pointer"] == "/description"
