"""Lineage of a three-level derived metric and the impact of a dataset change, against hand-built graphs."""

from __future__ import annotations

from tests.helpers import bearer, ok


def simple(key: str, measure: str, filter_: str | None = None, owner: str = "alice") -> dict:
    body = {"key": key, "name": key, "domain": "sales", "owner": owner, "type": "simple", "dataset": "orders", "measure": measure}
    return {**body, "filter": filter_} if filter_ else body


def derived(key: str, expr: str, owner: str = "alice") -> dict:
    return {"key": key, "name": key, "domain": "sales", "owner": owner, "type": "derived", "expr": expr}


async def library(client, team) -> None:
    post = lambda body: client.post("/v1/metrics", json=body, headers=bearer(team.editor))  # noqa: E731
    await ok(await post(simple("sales.orders_cn", "COUNT(order_id)", "customers.country = 'CN'", owner="bob")), 201)
    await ok(await post(derived("sales.aov", "{sales.gmv} / {sales.orders_cn}", owner="erin")), 201)
    await ok(await post(derived("sales.aov_index", "{sales.aov} * 100", owner="frank")), 201)
    target = {"metric": "sales.aov_index", "period": "2026-Q1", "value": 120, "owner": "gina"}
    await ok(await client.put("/v1/targets", json={"targets": [target]}, headers=bearer(team.editor)))
    card = {"name": "sales_card", "title": "Sales", "domain": "sales", "owner": "hank",
            "root": {"label": "all", "children": [{"metric": "sales.aov", "weight": 100}]}}
    await ok(await client.post("/v1/scorecards", json=card, headers=bearer(team.editor)), 201)


async def test_lineage_of_a_three_level_derived_metric(client, team):
    await library(client, team)
    graph = await ok(await client.get("/v1/metrics/sales.aov_index/lineage", headers=bearer(team.editor)))
    edges = {(e["source"], e["target"], e["relation"]) for e in graph["edges"]}
    assert edges == {
        ("metric:sales.aov", "metric:sales.aov_index", "input"),
        ("metric:sales.gmv", "metric:sales.aov", "input"),
        ("metric:sales.orders_cn", "metric:sales.aov", "input"),
        ("dataset:orders", "metric:sales.gmv", "measures"),
        ("dataset:orders", "metric:sales.orders_cn", "measures"),
        ("column:orders.amount", "metric:sales.gmv", "uses"),
        ("column:orders.status", "metric:sales.gmv", "uses"),
        ("column:orders.order_id", "metric:sales.orders_cn", "uses"),
        ("column:customers.country", "metric:sales.orders_cn", "uses"),
        ("dataset:orders", "column:orders.amount", "has"),
        ("dataset:orders", "column:orders.status", "has"),
        ("dataset:orders", "column:orders.order_id", "has"),
        ("dataset:customers", "column:customers.country", "has"),
        ("source:warehouse", "dataset:orders", "reads"),
        ("source:warehouse", "dataset:customers", "reads"),
        ("metric:sales.aov_index", "target:sales.aov_index|2026-Q1|plan", "target_of"),
    }
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert graph["root"] == "metric:sales.aov_index"
    assert set(nodes) == {s for s, _, _ in edges} | {t for _, t, _ in edges}
    assert nodes["metric:sales.aov"]["owner"] == "erin" and nodes["metric:sales.aov"]["version"] == 1
    assert nodes["dataset:customers"]["owner"] == "carol" and nodes["source:warehouse"]["kind"] == "source"

    middle = await ok(await client.get("/v1/metrics/sales.aov/lineage", headers=bearer(team.editor)))
    downstream = {(e["source"], e["target"], e["relation"]) for e in middle["edges"] if e["source"] == "metric:sales.aov" or e["source"] == "metric:sales.aov_index"}
    assert downstream == {
        ("metric:sales.aov", "metric:sales.aov_index", "input"),
        ("metric:sales.aov", "scorecard:sales_card", "scored_by"),
        ("metric:sales.aov_index", "target:sales.aov_index|2026-Q1|plan", "target_of"),
    }


async def test_impact_of_a_dataset_change(client, team):
    await library(client, team)
    customers = await ok(await client.get("/v1/datasets/customers/impact", headers=bearer(team.editor)))
    got = [(i["kind"], i["key"], i["owner"], i["distance"]) for i in customers["items"]]
    assert got == [
        ("dataset", "orders", "dave", 1),
        ("metric", "sales.orders_cn", "bob", 1),
        ("metric", "sales.aov", "erin", 2),
        ("metric", "sales.gmv", "alice", 2),
        ("metric", "sales.aov_index", "frank", 3),
        ("scorecard", "sales_card", "hank", 3),
        ("target", "sales.aov_index|2026-Q1|plan", "gina", 4),
    ]
    assert customers["owners"] == ["alice", "bob", "dave", "erin", "frank", "gina", "hank"]

    gmv = await ok(await client.get("/v1/metrics/sales.gmv/impact", headers=bearer(team.editor)))
    assert [(i["kind"], i["key"], i["distance"]) for i in gmv["items"]] == [
        ("metric", "sales.aov", 1), ("metric", "sales.aov_index", 2), ("scorecard", "sales_card", 2),
        ("target", "sales.aov_index|2026-Q1|plan", 3),
    ]
    missing = await client.get("/v1/datasets/nope/impact", headers=bearer(team.editor))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "DATASET_NOT_FOUND"
