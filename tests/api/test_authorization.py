"""Every route × role × own/other domain: who gets data, who gets 401 or 403."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import ROLES, bearer, gmv_metric, make_domain, make_principal, ok, orders_dataset, sales_setup

EVERYONE = {"admin", *ROLES}
SALES_READERS = {"admin", "reader", "editor", "approver", "global_reader", "auditor"}
SALES_EDITORS = {"admin", "editor"}
AUDITORS = {"admin", "auditor"}
ADMINS = {"admin"}
_n = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_n)}"


def routes(key_ids: dict[str, str]):
    """(method, path, body factory, who may, success status)."""
    patch = {"description": "changed"}
    return [
        ("GET", "/v1/domains", None, EVERYONE, 200),
        ("POST", "/v1/domains", lambda: {"name": unique("d")}, ADMINS, 201),
        ("GET", "/v1/principals", None, ADMINS, 200),
        ("POST", "/v1/principals", lambda: {"name": unique("p")}, ADMINS, 201),
        ("PUT", "/v1/principals/victim/roles", lambda: {"roles": [{"role": "reader", "domain": "sales"}]}, ADMINS, 200),
        ("POST", "/v1/principals/victim/keys", lambda: {"label": "x"}, ADMINS, 201),
        ("DELETE", "/v1/keys/{victim_key}", None, ADMINS, 200),
        ("GET", "/v1/sources", None, ADMINS, 200),
        ("GET", "/v1/sources/warehouse", None, ADMINS, 200),
        ("POST", "/v1/sources", lambda: {"name": unique("s"), "url": "duckdb:///tmp/x.duckdb"}, ADMINS, 201),
        ("GET", "/v1/datasets/orders", None, SALES_READERS, 200),
        ("GET", "/v1/datasets/orders/versions", None, SALES_READERS, 200),
        ("GET", "/v1/datasets/orders/diff?from=1&to=1", None, SALES_READERS, 200),
        ("POST", "/v1/datasets", lambda: orders_dataset(name=unique("orders_")), SALES_EDITORS, 201),
        ("PATCH", "/v1/datasets/orders", lambda: patch, SALES_EDITORS, 200),
        ("GET", "/v1/metrics/sales.gmv", None, SALES_READERS, 200),
        ("GET", "/v1/metrics/sales.gmv?version=1", None, SALES_READERS, 200),
        ("GET", "/v1/metrics/sales.gmv/versions", None, SALES_READERS, 200),
        ("GET", "/v1/metrics/sales.gmv/diff?from=1&to=1", None, SALES_READERS, 200),
        ("POST", "/v1/metrics", lambda: gmv_metric(key=unique("sales.m")), SALES_EDITORS, 201),
        ("PATCH", "/v1/metrics/sales.gmv", lambda: patch, SALES_EDITORS, 200),
        ("GET", "/v1/audit", None, AUDITORS, 200),
        ("GET", "/v1/audit/verify", None, AUDITORS, 200),
    ]


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


async def _call(client, method, path, body, headers):
    if method == "PATCH":
        current = await client.get(path, headers=headers)
        headers = {**headers, "If-Match": current.headers.get("etag", '"1"')}
    return await client.request(method, path, json=body, headers=headers)


async def test_matrix(client, admin_key, world):
    failures = []
    for method, path, body, allowed, success in routes({}):
        for role, key in [("anonymous", None), *world.items()]:
            if "{victim_key}" in path:
                created = await ok(await client.post("/v1/principals/victim/keys", json={}, headers=bearer(admin_key)), 201)
                path_now = path.replace("{victim_key}", created["id"])
            else:
                path_now = path
            headers = bearer(key) if key else {}
            response = await _call(client, method, path_now, body() if body else None, headers)
            expected = 401 if key is None else (success if role in allowed else 403)
            if response.status_code != expected:
                failures.append((method, path, role, response.status_code, expected, response.text[:200]))
            elif expected >= 400:
                assert response.json()["error"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert not failures, "\n".join(map(str, failures))


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
