"""Definitions as code: POST /v1/batches is one transaction (all or nothing), dry runs write nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.audit.service import CHAIN_LOCK
from app.catalog import service as catalog
from tests.helpers import bearer, gmv_metric, make_principal, ok, orders_dataset, sales_setup

N_DATASETS, N_METRICS = 10, 190


def dataset(i: int) -> dict:
    return {**orders_dataset(name=f"orders_{i:02d}"), "table": f"orders_{i:02d}"}


def metric(i: int) -> dict:
    body = {"key": f"sales.m{i:03d}", "name": f"Metric {i}", "domain": "sales", "owner": "alice", "unit": "CNY"}
    if i % 10 == 9:  # every tenth is derived from the one before it, listed before its base below
        return {**body, "type": "derived", "expr": f"{{sales.m{i - 1:03d}}} * 2"}
    return {**body, "type": "simple", "dataset": f"orders_{i % N_DATASETS:02d}", "measure": "SUM(amount)", "filter": f"amount > {i}"}


def library() -> list[dict]:
    """200 items; metrics first and derived ones before their bases, so the batch must order them."""
    metrics = sorted((metric(i) for i in range(N_METRICS)), key=lambda m: (m["type"] != "derived", m["key"]))
    return [{"kind": "metric", "definition": m, "origin": f"metrics/{m['key']}.yaml"} for m in metrics] + [
        {"kind": "dataset", "definition": dataset(i), "origin": f"datasets/orders_{i:02d}.yaml"} for i in range(N_DATASETS)
    ]


async def state(client, admin: str) -> tuple[int, int, int]:
    metrics = await ok(await client.get("/v1/metrics", params={"limit": 500}, headers=bearer(admin)))
    datasets = await ok(await client.get("/v1/datasets", params={"limit": 500}, headers=bearer(admin)))
    audit = await ok(await client.get("/v1/audit", params={"limit": 500}, headers=bearer(admin)))
    return len(metrics["items"]), len(datasets["items"]), audit["items"][-1]["seq"]


async def test_plan_apply_reapply(client, admin_key):
    editor = await sales_setup(client, admin_key)
    items = library()
    assert len(items) == 200
    before = await state(client, admin_key)

    plan = await ok(await client.post("/v1/batches", json={"items": items, "dry_run": True}, headers=bearer(editor)))
    assert (plan["dry_run"], plan["created"], plan["updated"], plan["unchanged"]) == (True, 200, 0, 0)
    assert await state(client, admin_key) == before

    applied = await ok(await client.post("/v1/batches", json={"items": items, "change_note": "from git"}, headers=bearer(editor)))
    assert applied["created"] == 200 and [i["key"] for i in applied["items"]][:2] == ["sales.m009", "sales.m019"]
    after = await state(client, admin_key)
    assert after[:2] == (N_METRICS, N_DATASETS) and after[2] == before[2] + 200

    again = await ok(await client.post("/v1/batches", json={"items": items}, headers=bearer(editor)))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 200)
    assert await state(client, admin_key) == after

    items[5]["definition"] = {**items[5]["definition"], "caliber": "changed"}
    changed = await ok(await client.post("/v1/batches", json={"items": items, "dry_run": True}, headers=bearer(editor)))
    update = [i for i in changed["items"] if i["action"] == "update"]
    assert [(u["key"], [c["path"] for c in u["changes"]]) for u in update] == [(items[5]["definition"]["key"], ["/caliber"])]


async def test_a_failure_at_the_150th_item_changes_nothing(client, admin_key):
    editor = await sales_setup(client, admin_key)
    items = library()
    first = [it for it in items if it["kind"] == "dataset" or it["definition"]["key"] < "sales.m100"]
    await ok(await client.post("/v1/batches", json={"items": first}, headers=bearer(editor)))
    before = await state(client, admin_key)
    bad = items[149]["definition"]
    assert bad["type"] == "simple"
    items[149] = {**items[149], "definition": {**bad, "measure": "SUM(no_such_column)"}}
    for index in (10, 120):  # some updates before the failure, too
        items[index]["definition"] = {**items[index]["definition"], "caliber": "edited"}

    response = await client.post("/v1/batches", json={"items": items}, headers=bearer(editor))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["item"] == 149 and error["details"]["key"] == bad["key"]
    assert error["details"]["pointer"] == "/items/149/definition/measure"
    assert error["details"]["origin"] == f"metrics/{bad['key']}.yaml" and error["message"].startswith(f"metrics/{bad['key']}.yaml")
    assert await state(client, admin_key) == before


async def test_bad_batches_are_4xx(client, admin_key):
    editor = await sales_setup(client, admin_key)
    cases = [
        ({"items": [{"kind": "widget", "definition": {}}]}, 422),
        ({"items": [{"kind": "metric", "definition": {"key": "Bad Key"}}]}, 422),
        ({"items": [{"kind": "metric", "definition": metric(1)}, {"kind": "metric", "definition": metric(1)}]}, None),
        ({"items": "nope"}, 422),
    ]
    for body, status in cases:
        response = await client.post("/v1/batches", json=body, headers=bearer(editor))
        assert 400 <= response.status_code < 500, (body, response.text)
        assert status is None or response.status_code == status
    dup = await client.post("/v1/batches", json={"items": [{"kind": "dataset", "definition": dataset(1)}] * 2}, headers=bearer(editor))
    assert dup.status_code == 400, dup.text
    assert dup.json()["error"]["code"] == "DUPLICATE_ITEM" and dup.json()["error"]["details"]["item"] == 1
    reader = await client.post("/v1/batches", json={"items": [{"kind": "dataset", "definition": dataset(1)}]}, headers=bearer("nope"))
    assert reader.status_code == 401


def big_library(n_metrics: int) -> list[dict]:
    """The library's ten datasets and `n_metrics` metrics (every tenth derived from the one before)."""
    return [{"kind": "dataset", "definition": dataset(i)} for i in range(N_DATASETS)] + [
        {"kind": "metric", "definition": metric(i)} for i in range(n_metrics)
    ]


@pytest.mark.parametrize(("dry_run", "size"), [(False, 2000), (True, 200)])
async def test_an_unrelated_patch_commits_in_the_middle_of_a_batch(client, admin_key, app, monkeypatch, dry_run, size):
    """Halfway through a 2,000-item batch (its transaction open, its items written), another domain's
    PATCH commits: the batch holds no lock it shares, and a dry run never takes the chain lock.
    Counted, not timed: were the chain lock held, the PATCH could never commit while the batch waits for it."""
    async with app.state.db.session() as session:
        if session.bind.dialect.name != "postgresql":
            return  # SQLite has one writer at a time: a batch holds it for its transaction (docs/scale.md)
    editor = await sales_setup(client, admin_key)
    await ok(await client.post("/v1/domains", json={"name": "service"}, headers=bearer(admin_key)), 201)
    other = await make_principal(client, admin_key, "svc", [{"role": "editor", "domain": "service"}])
    await ok(await client.post("/v1/datasets", json=orders_dataset(domain="service", name="tickets"), headers=bearer(other)), 201)
    await ok(await client.post("/v1/metrics", json=gmv_metric(domain="service", key="service.gmv", dataset="tickets"), headers=bearer(other)), 201)
    items = big_library(size - N_DATASETS)
    put, seen, during = catalog.put, [], {}

    async def sql(statement: str, **params):
        async with app.state.db.engine.connect() as conn:
            return (await conn.execute(text(statement), params)).scalar_one()

    async def put_then_patch_halfway(*args, **kwargs):
        seen.append(1)
        if len(seen) == len(items) // 2:
            during["chain_locks"] = await sql("SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database "
                                              "WHERE d.datname = current_database() AND locktype = 'advisory' AND objid = :k AND granted", k=CHAIN_LOCK)
            patch = client.patch("/v1/metrics/service.gmv", json={"caliber": "edited during the batch"}, headers={**bearer(other), "If-Match": '"1"'})
            during["patch"] = (await asyncio.wait_for(patch, timeout=120)).status_code  # only a deadlock reaches the bound
            during["committed"] = await sql("SELECT max(seq) FROM audit_events")
        return await put(*args, **kwargs)

    monkeypatch.setattr(catalog, "put", put_then_patch_halfway)
    before = await sql("SELECT max(seq) FROM audit_events")
    answer = await ok(await client.post("/v1/batches", json={"items": items, "dry_run": dry_run}, headers=bearer(editor)))
    assert (answer["created"], len(seen)) == (size, size)
    assert during == {"chain_locks": 0, "patch": 200, "committed": before + 1}
    assert await sql("SELECT entity_key FROM audit_events WHERE seq = :s", s=before + 1) == "service.gmv"
    assert await sql("SELECT max(seq) FROM audit_events") == before + 1 + (0 if dry_run else size)
    assert (await ok(await client.get("/v1/audit/verify", headers=bearer(admin_key))))["ok"] is True
