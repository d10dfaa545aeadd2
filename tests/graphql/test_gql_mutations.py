"""Editor mutations: create, update with expectedVersion, a stale version as a typed result,
and the same refusals (FORBIDDEN, UNAUTHENTICATED, INVALID…) as REST."""

from __future__ import annotations

import pytest

from tests.graphql.gql import codes, data, gql
from tests.helpers import bearer, gmv_metric, make_domain, make_principal, ok, orders_dataset, sales_setup

CREATE_METRIC = "mutation($d: JSON!, $n: String!) { createMetric(definition: $d, changeNote: $n) { key version latestVersion author changeNote domain { name } } }"
CREATE_DATASET = "mutation($d: JSON!) { createDataset(definition: $d) { key version source table } }"
UPDATE_METRIC = """mutation($k: String!, $p: JSON!, $v: Int!, $n: String! = "") {
  updateMetric(key: $k, patch: $p, expectedVersion: $v, changeNote: $n) {
    __typename
    ... on Metric { key version latestVersion changeNote definition }
    ... on StaleVersionError { code message currentVersion etag }
  }
}"""
UPDATE_DATASET = """mutation($k: String!, $p: JSON!, $v: Int!) {
  updateDataset(key: $k, patch: $p, expectedVersion: $v) {
    __typename
    ... on Dataset { version definition }
    ... on StaleVersionError { code currentVersion }
  }
}"""


@pytest.fixture
async def keys(client, admin_key):
    editor = await sales_setup(client, admin_key)
    await make_domain(client, admin_key, "service")
    other = await make_principal(client, admin_key, "svc_editor", [{"role": "editor", "domain": "service"}])
    reader = await make_principal(client, admin_key, "rd", [{"role": "reader", "domain": "sales"}])
    return {"editor": editor, "other": other, "reader": reader, "admin": admin_key}


async def audit_count(client, admin_key) -> int:
    return (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["events"]


async def test_create_then_update_then_stale(client, keys):
    editor = keys["editor"]
    dataset = (await data(client, editor, CREATE_DATASET, {"d": orders_dataset()}))["createDataset"]
    assert dataset == {"key": "orders", "version": 1, "source": "warehouse", "table": "orders"}
    created = (await data(client, editor, CREATE_METRIC, {"d": gmv_metric(), "n": "first"}))["createMetric"]
    assert created == {"key": "sales.gmv", "version": 1, "latestVersion": 1, "author": "ed", "changeNote": "first", "domain": {"name": "sales"}}
    rest = await ok(await client.get("/v1/metrics/sales.gmv", headers=bearer(editor)))
    assert rest["version"] == 1 and rest["change_note"] == "first"

    updated = (await data(client, editor, UPDATE_METRIC, {"k": "sales.gmv", "p": {"measure": "SUM(net_amount)"}, "v": 1, "n": "net"}))["updateMetric"]
    assert updated["__typename"] == "Metric" and updated["version"] == 2 and updated["definition"]["measure"] == "SUM(net_amount)"
    assert (await client.get("/v1/metrics/sales.gmv", headers=bearer(editor))).headers["etag"] == '"2"'

    before = await audit_count(client, keys["admin"])
    stale = await gql(client, editor, UPDATE_METRIC, {"k": "sales.gmv", "p": {"measure": "SUM(amount)"}, "v": 1})
    assert stale.get("errors") is None
    assert stale["data"]["updateMetric"] == {
        "__typename": "StaleVersionError", "code": "STALE_VERSION", "currentVersion": 2, "etag": '"2"',
        "message": "the definition changed since you read it; the current version is 2",
    }
    assert await audit_count(client, keys["admin"]) == before
    rest_stale = await client.patch("/v1/metrics/sales.gmv", json={"measure": "SUM(amount)"}, headers={**bearer(editor), "If-Match": '"1"'})
    assert rest_stale.status_code == 412 and rest_stale.json()["error"]["code"] == "STALE_VERSION"

    unchanged = (await data(client, editor, UPDATE_METRIC, {"k": "sales.gmv", "p": {"measure": "SUM(net_amount)"}, "v": 2}))["updateMetric"]
    assert unchanged["version"] == 2
    ds = (await data(client, editor, UPDATE_DATASET, {"k": "orders", "p": {"description": "paid and unpaid"}, "v": 1}))["updateDataset"]
    assert ds["__typename"] == "Dataset" and ds["version"] == 2
    ds_stale = (await data(client, editor, UPDATE_DATASET, {"k": "orders", "p": {"description": "x"}, "v": 1}))["updateDataset"]
    assert ds_stale == {"__typename": "StaleVersionError", "code": "STALE_VERSION", "currentVersion": 2}


async def test_refusals_match_rest(client, keys):
    await data(client, keys["admin"], CREATE_DATASET, {"d": orders_dataset()})
    await data(client, keys["admin"], CREATE_METRIC, {"d": gmv_metric(), "n": ""})
    cases = [
        (keys["other"], CREATE_METRIC, {"d": gmv_metric(key="sales.other"), "n": ""}, "FORBIDDEN"),
        (keys["reader"], CREATE_METRIC, {"d": gmv_metric(key="sales.other"), "n": ""}, "FORBIDDEN"),
        (keys["other"], UPDATE_METRIC, {"k": "sales.gmv", "p": {"description": "x"}, "v": 1}, "FORBIDDEN"),
        (keys["other"], UPDATE_METRIC, {"k": "sales.gmv", "p": {"description": "x"}, "v": 9}, "FORBIDDEN"),
        (None, CREATE_METRIC, {"d": gmv_metric(key="sales.other"), "n": ""}, "UNAUTHENTICATED"),
        (keys["editor"], CREATE_METRIC, {"d": gmv_metric(), "n": ""}, "METRIC_EXISTS"),
        (keys["editor"], UPDATE_METRIC, {"k": "sales.nope", "p": {}, "v": 1}, "METRIC_NOT_FOUND"),
        (keys["editor"], UPDATE_METRIC, {"k": "sales.gmv", "p": {"domain": "service"}, "v": 1}, "IMMUTABLE_FIELD"),
        (keys["editor"], UPDATE_METRIC, {"k": "sales.gmv", "p": ["not", "an", "object"], "v": 1}, "INVALID_PATCH"),
        (keys["editor"], CREATE_METRIC, {"d": gmv_metric(key="sales.x"), "n": "n" * 2001}, "INVALID_FIELD"),
    ]
    for key, document, variables, code in cases:
        body = await gql(client, key, document, variables)
        assert codes(body) == [code], (code, body)
        assert body["data"] is None


async def test_invalid_definition_has_the_rest_code_and_details(client, keys):
    bad = {**gmv_metric(), "unit": None, "type": "simple", "measure": 42}
    rest = await client.post("/v1/metrics", json=bad, headers=bearer(keys["editor"]))
    body = await gql(client, keys["editor"], CREATE_METRIC, {"d": bad, "n": ""})
    error = body["errors"][0]
    assert rest.status_code == 422
    assert error["extensions"] == {"code": rest.json()["error"]["code"], "details": rest.json()["error"]["details"]}
    assert error["message"] == rest.json()["error"]["message"]


async def test_a_failed_mutation_writes_nothing(client, keys):
    before = await audit_count(client, keys["admin"])
    body = await gql(client, keys["editor"], CREATE_METRIC, {"d": gmv_metric(dataset="missing"), "n": ""})
    assert body["errors"] and await audit_count(client, keys["admin"]) == before
    assert (await client.get("/v1/metrics/sales.gmv", headers=bearer(keys["admin"]))).status_code == 404


UPDATE_TO_PROPOSAL = """mutation($k: String!, $p: JSON!, $v: Int!, $n: String) {
  updateMetric(key: $k, patch: $p, expectedVersion: $v, changeNote: $n) {
    __typename
    ... on Metric { version }
    ... on Proposal { id state action baseVersion author changeNote definition }
  }
}"""


async def test_update_in_a_reviewed_domain_opens_a_proposal_as_patch_does(client, keys):
    """PATCH answers 202 with a proposal where the domain requires review; updateMetric answers that Proposal."""
    await data(client, keys["admin"], CREATE_DATASET, {"d": orders_dataset()})
    await data(client, keys["admin"], CREATE_METRIC, {"d": gmv_metric(), "n": ""})
    await ok(await client.put("/v1/domains/sales/policy", json={"review_required": True}, headers=bearer(keys["admin"])))
    before = await audit_count(client, keys["admin"])
    body = await gql(client, keys["editor"], UPDATE_TO_PROPOSAL, {"k": "sales.gmv", "p": {"measure": "SUM(net_amount)"}, "v": 1, "n": "net"})
    assert body.get("errors") is None, body
    proposal = body["data"]["updateMetric"]
    assert proposal["__typename"] == "Proposal"
    assert {k: proposal[k] for k in ("state", "action", "baseVersion", "author", "changeNote")} == {
        "state": "open", "action": "change", "baseVersion": 1, "author": "ed", "changeNote": "net"}
    assert proposal["definition"]["measure"] == "SUM(net_amount)" and proposal["definition"]["key"] == "sales.gmv"
    assert await audit_count(client, keys["admin"]) == before + 1  # the proposal's event; no version appended
    assert (await ok(await client.get("/v1/metrics/sales.gmv", headers=bearer(keys["editor"]))))["version"] == 1
    rest = await ok(await client.get(f"/v1/proposals/{proposal['id']}", headers=bearer(keys["editor"])))
    assert (rest["state"], rest["base_version"], rest["definition"]) == ("open", 1, proposal["definition"])
