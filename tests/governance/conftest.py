"""A sales domain with editors and approvers, the orders and customers datasets and GMV."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.helpers import bearer, gmv_metric, make_principal, ok, orders_dataset, sales_setup


@dataclass
class Team:
    admin: str
    editor: str
    editor2: str
    approver: str
    both: str  # editor and approver in one principal


def customers_dataset() -> dict:
    return {
        "name": "customers", "domain": "sales", "source": "warehouse", "table": "customers", "primary_key": "customer_id",
        "owner": "carol",
        "columns": [{"name": "customer_id", "type": "string"}, {"name": "country", "type": "string", "dimension": True}],
    }


def orders_with_join() -> dict:
    return {**orders_dataset(), "owner": "dave", "joins": [{"dataset": "customers", "on": {"customer_id": "customer_id"}}]}


@pytest.fixture
async def team(client, admin_key) -> Team:
    editor = await sales_setup(client, admin_key)
    editor2 = await make_principal(client, admin_key, "ed2", [{"role": "editor", "domain": "sales"}])
    approver = await make_principal(client, admin_key, "appr", [{"role": "approver", "domain": "sales"}])
    both = await make_principal(client, admin_key, "both", [{"role": "editor", "domain": "sales"}, {"role": "approver", "domain": "sales"}])
    await ok(await client.post("/v1/datasets", json=customers_dataset(), headers=bearer(editor)), 201)
    await ok(await client.post("/v1/datasets", json=orders_with_join(), headers=bearer(editor)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(), headers=bearer(editor)), 201)
    return Team(admin_key, editor, editor2, approver, both)


async def set_policy(client, admin: str, **policy) -> dict:
    return await ok(await client.put("/v1/domains/sales/policy", json=policy, headers=bearer(admin)))


async def audit_actions(client, admin: str, key: str) -> list[str]:
    body = await ok(await client.get("/v1/audit", params={"entity_key": key, "limit": 500}, headers=bearer(admin)))
    return [e["action"] for e in body["items"]]
