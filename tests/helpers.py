"""Small builders the API tests share: keys, a domain with an editor, a source, definitions."""

from __future__ import annotations

from typing import Any

import httpx

from app.audit import service as audit
from app.auth.service import bootstrap_admin
from app.config import get_settings
from app.db import Database

# The principals of the authorization tests (REST and GraphQL): own domain "sales", other "service".
ROLES = {
    "reader": [{"role": "reader", "domain": "sales"}],
    "other_reader": [{"role": "reader", "domain": "service"}],
    "editor": [{"role": "editor", "domain": "sales"}],
    "other_editor": [{"role": "editor", "domain": "service"}],
    "approver": [{"role": "approver", "domain": "sales"}],
    "other_approver": [{"role": "approver", "domain": "service"}],
    "global_reader": [{"role": "reader"}],
    "auditor": [{"role": "auditor"}],
    "no_role": [],
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


async def make_domain(client: httpx.AsyncClient, admin: str, name: str) -> None:
    await ok(await client.post("/v1/domains", json={"name": name}, headers=bearer(admin)), 201)


async def make_principal(client: httpx.AsyncClient, admin: str, name: str, roles: list[dict]) -> str:
    body = await ok(await client.post("/v1/principals", json={"name": name, "roles": roles}, headers=bearer(admin)), 201)
    return body["api_key"]


async def make_source(client: httpx.AsyncClient, admin: str, name: str, url: str) -> dict:
    return await ok(await client.post("/v1/sources", json={"name": name, "url": url}, headers=bearer(admin)), 201)


def orders_dataset(domain: str = "sales", source: str = "warehouse", name: str = "orders") -> dict[str, Any]:
    return {
        "name": name,
        "domain": domain,
        "source": source,
        "table": "orders",
        "primary_key": "order_id",
        "time_column": "ordered_at",
        "columns": [
            {"name": "order_id", "type": "string"},
            {"name": "customer_id", "type": "string"},
            {"name": "region", "type": "string", "dimension": True, "label": "区域"},
            {"name": "ordered_at", "type": "timestamp"},
            {"name": "amount", "type": "decimal"},
            {"name": "net_amount", "type": "decimal"},
            {"name": "status", "type": "string", "dimension": True},
        ],
    }


def gmv_metric(domain: str = "sales", key: str = "sales.gmv", dataset: str = "orders") -> dict[str, Any]:
    """Paid GMV; under another key its filter also leaves out one order id, so the library never
    holds two equivalent calculations (which it refuses: one indicator, one caliber)."""
    paid = "status = 'paid'" if key == "sales.gmv" else f"status = 'paid' AND order_id <> '{key}'"
    return {
        "key": key,
        "name": "销售额 / GMV",
        "description": "Paid order amount.",
        "caliber": "已支付订单金额之和",
        "domain": domain,
        "owner": "alice",
        "unit": "CNY",
        "type": "simple",
        "dataset": dataset,
        "measure": "SUM(amount)",
        "filter": paid,
        "tags": ["revenue"],
        "synonyms": ["GMV", "销售额"],
    }


async def sales_setup(client: httpx.AsyncClient, admin: str, domain: str = "sales") -> str:
    """A domain, a source, an editor; answers the editor's key."""
    await make_domain(client, admin, domain)
    await make_source(client, admin, "warehouse", "duckdb:///tmp/yardstick-test-warehouse.duckdb")
    return await make_principal(client, admin, "ed", [{"role": "editor", "domain": domain}])


async def bootstrap_key(url: str) -> str:
    """The first admin's API key on a freshly migrated registry at `url` (for tests that start real servers)."""
    db = Database(url, session_info=audit.session_info(get_settings()))
    try:
        async with db.session(write=True) as session:
            return await bootstrap_admin(session)
    finally:
        await db.dispose()
