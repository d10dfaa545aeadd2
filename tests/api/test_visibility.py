"""What each role sees in lists, and a revoked key: beside the route × role matrix (test_authorization.py)."""

from __future__ import annotations

import pytest

from tests.helpers import ROLES, bearer, gmv_metric, make_domain, make_principal, ok, orders_dataset, sales_setup

SALES_READERS = {"admin", "reader", "editor", "approver", "global_reader", "auditor"}


@pytest.fixture
async def world(client, admin_key):
    await sales_setup(client, admin_key)  # domain sales, source warehouse, principal "ed"
    await make_domain(client, admin_key, "service")
    keys = {"admin": admin_key}
    for role, grants in ROLES.items():
        keys[role] = await make_principal(client, admin_key, role, grants)
    await ok(await client.post("/v1/datasets", json=orders_dataset(), headers=bearer(admin_key)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(admin_key)), 201)
    await make_principal(client, admin_key, "victim", [])
    return keys


async def test_lists_show_only_readable_domains(client, world):
    for role, key in world.items():
        items = (await ok(await client.get("/v1/metrics", headers=bearer(key))))["items"]
        visible = [m["key"] for m in items]
        assert visible == (["sales.gmv"] if role in SALES_READERS else []), role


async def test_revoked_key_is_refused(client, admin_key, world):
    principal = await ok(await client.post("/v1/principals", json={"name": "temp", "roles": [{"role": "reader", "domain": "sales"}]}, headers=bearer(admin_key)), 201)
    key = principal["api_key"]
    await ok(await client.get("/v1/metrics", headers=bearer(key)))
    await ok(await client.delete(f"/v1/keys/{principal['keys'][0]['id']}", headers=bearer(admin_key)))
    refused = await client.get("/v1/metrics", headers=bearer(key))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHENTICATED"
