"""Domains are boundaries: a definition may use only what its author may read, a query reads only
what its caller may read, and no answer, error or lineage view names another domain's definitions."""

from __future__ import annotations

import pytest

from tests.governance.conftest import customers_dataset
from tests.helpers import bearer, make_domain, make_principal, ok, orders_dataset


def derived(key: str, expr: str, domain: str = "beta") -> dict:
    return {"key": key, "name": key, "domain": domain, "owner": "olga", "type": "derived", "expr": expr}


def paid_count(key: str, domain: str) -> dict:
    return {"key": key, "name": key, "domain": domain, "owner": "olga", "type": "simple", "dataset": "orders",
            "measure": "COUNT(order_id)", "filter": "status = 'paid'"}


@pytest.fixture
async def beta(client, team):
    """Domain beta with an editor of beta only, a reader of beta only, and a 'bridge' who edits beta and reads sales."""
    await make_domain(client, team.admin, "beta")
    editor = await make_principal(client, team.admin, "beta_ed", [{"role": "editor", "domain": "beta"}])
    reader = await make_principal(client, team.admin, "beta_rd", [{"role": "reader", "domain": "beta"}])
    bridge = await make_principal(client, team.admin, "bridge", [{"role": "editor", "domain": "beta"}, {"role": "reader", "domain": "sales"}])
    return editor, reader, bridge


def refused(response, pointer: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "REFERENCE_FORBIDDEN" and error["details"]["pointer"] == pointer


@pytest.mark.parametrize(("kind", "body", "pointer"), [
    ("metrics", derived("beta.gmv_copy", "{sales.gmv} * 1"), "/expr"),
    ("metrics", {"key": "beta.ratio", "name": "r", "domain": "beta", "owner": "olga", "type": "ratio", "numerator": "sales.gmv", "denominator": "sales.gmv"}, "/numerator"),
    ("metrics", paid_count("beta.paid", "beta"), "/dataset"),
    ("datasets", {**orders_dataset(domain="beta", name="orders_beta"), "joins": []}, "/table"),
    ("datasets", {**customers_dataset(), "name": "people", "domain": "beta", "table": "people",
                  "joins": [{"dataset": "orders", "on": {"customer_id": "customer_id"}}]}, "/joins/0/dataset"),
])
async def test_a_definition_cannot_reference_another_domains_data(client, team, beta, kind, body, pointer):
    editor, _, bridge = beta
    refused(await client.post(f"/v1/{kind}", json=body, headers=bearer(editor)), pointer)
    listed = await ok(await client.get(f"/v1/{kind}", params={"domain": "beta"}, headers=bearer(team.admin)))
    assert listed["items"] == []  # nothing was written
    # the same definition by an author who may read sales is accepted
    await ok(await client.post(f"/v1/{kind}", json=body, headers=bearer(bridge)), 201)


async def test_a_change_cannot_add_a_forbidden_reference(client, team, beta):
    editor, _, bridge = beta
    await ok(await client.post("/v1/metrics", json=derived("beta.one", "{sales.gmv} + 0"), headers=bearer(bridge)), 201)
    changed = await client.patch("/v1/metrics/beta.one", json={"expr": "{sales.gmv} + 1"},
                                 headers={**bearer(editor), "If-Match": '"1"'})
    refused(changed, "/expr")
    batch = {"items": [{"kind": "metric", "definition": derived("beta.two", "{sales.gmv} + 2")}]}
    answer = await client.post("/v1/batches", json=batch, headers=bearer(editor))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "REFERENCE_FORBIDDEN", answer.text


async def test_a_query_reads_only_what_its_caller_may_read(client, team, beta):
    _, reader, bridge = beta
    await ok(await client.post("/v1/metrics", json=derived("beta.gmv_plus", "{sales.gmv} + 0"), headers=bearer(bridge)), 201)
    for path in ("/v1/query", "/v1/query/sql"):
        answer = await client.post(path, json={"metrics": ["beta.gmv_plus"]}, headers=bearer(reader))
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "REFERENCE_FORBIDDEN"
        assert "sales" not in answer.text and "orders" not in answer.text


async def test_duplicates_and_lineage_name_only_readable_definitions(client, team, beta):
    _, _, bridge = beta
    await ok(await client.post("/v1/metrics", json=paid_count("beta.paid", "beta"), headers=bearer(bridge)), 201)
    # a sales editor writing the same calculation is not told about beta's metric (nor refused by it)
    created = await client.post("/v1/metrics", json=paid_count("sales.paid", "sales"), headers=bearer(team.editor))
    assert created.status_code == 201, created.text
    assert "beta" not in created.text
    event = (await ok(await client.get("/v1/audit", params={"entity_key": "sales.paid"}, headers=bearer(team.admin))))["items"][0]
    assert event["after"]["equivalent_to"] == ["beta.paid"]  # the auditor sees it

    impact = await ok(await client.get("/v1/datasets/orders/impact", headers=bearer(team.editor)))
    assert [i["key"] for i in impact["items"]] == ["sales.gmv", "sales.paid"] and impact["hidden"] == 1
    graph = await ok(await client.get("/v1/datasets/orders/lineage", headers=bearer(team.editor)))
    assert all("beta" not in n["id"] for n in graph["nodes"]) and graph["hidden"] == 1
    everything = await ok(await client.get("/v1/datasets/orders/impact", headers=bearer(team.admin)))
    assert {i["key"] for i in everything["items"]} == {"sales.gmv", "sales.paid", "beta.paid"} and everything["hidden"] == 0
