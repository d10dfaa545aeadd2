"""Scorecards: weight rules, evaluation arithmetic (caps, tiers, missing targets), versions, rights."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tests.helpers import bearer, make_principal, ok
from tests.kpi import kpi_data as data
from tests.kpi.conftest import put_targets, target

Q1 = [1, 2, 3]


def card(**extra) -> dict:
    return {
        "name": "shop", "title": "Shop scorecard", "domain": "sales", "owner": "alice",
        "root": {"label": "company", "children": [
            {"label": "sales", "weight": 70, "children": [
                {"metric": "sales.revenue", "weight": 50},
                {"metric": "sales.orders", "weight": 30},
                {"label": "East", "weight": 20, "scope": {"orders.region": "East"}, "children": [
                    {"metric": "sales.revenue", "weight": 60},
                    {"metric": "sales.orders", "weight": 40},
                ]},
            ]},
            {"metric": "service.response_hours", "weight": 30},
        ]},
        **extra,
    }


async def q1_targets(client, keys) -> dict[str, float]:
    goals = {
        "revenue": data.revenue(Q1) * 0.8,  # achievement 1.25, capped
        "east_revenue": data.revenue(Q1, "East") / 0.95,  # achievement 0.95
        "response": data.response_hours(Q1),  # achievement 1.0 (lower is better)
    }
    monthly_orders = {m: data.order_count([m]) + 1 for m in Q1}  # summed into the quarter
    await put_targets(client, keys.sales, [
        target("sales.revenue", "2026-Q1", goals["revenue"]),
        target("sales.revenue", "2026-Q1", goals["east_revenue"], scope={"orders.region": "East"}),
        *[target("sales.orders", f"2026-0{m}", v) for m, v in monthly_orders.items()],
    ])  # no target for East orders: left out, its sibling takes the whole weight
    await put_targets(client, keys.service, [target("service.response_hours", "2026-Q1", goals["response"])])
    goals["orders"] = sum(monthly_orders.values())
    return goals


async def evaluate(client, key, name="shop", **params) -> dict:
    return await ok(await client.get(f"/v1/scorecards/{name}/evaluate", params={"period": "2026-Q1", **params}, headers=bearer(key)))


async def test_evaluation_rolls_up_by_hand(client, keys):
    await ok(await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales)), 201)
    goals = await q1_targets(client, keys)
    answer = await evaluate(client, keys.reader)
    nodes = {n["path"]: n for n in answer["nodes"]}

    revenue_ach = data.revenue(Q1) / goals["revenue"]
    orders_ach = data.order_count(Q1) / goals["orders"]
    east_ach = data.revenue(Q1, "East") / goals["east_revenue"]
    response_ach = goals["response"] / data.response_hours(Q1)
    east_score = 1.0 * min(east_ach, 1.2)  # the East orders node has no target: revenue gets 100%
    sales_score = 0.5 * min(revenue_ach, 1.2) + 0.3 * min(orders_ach, 1.2) + 0.2 * min(east_score, 1.2)
    company = 0.7 * sales_score + 0.3 * min(response_ach, 1.2)

    revenue = nodes["/root/children/0/children/0"]
    assert revenue["actual"] == pytest.approx(data.revenue(Q1)) and revenue["achievement"] == pytest.approx(1.25)
    assert revenue["status"] == "green" and revenue["target_source"] == "quarter"
    assert revenue["contribution"] == pytest.approx(0.5 * 1.2)
    orders = nodes["/root/children/0/children/1"]
    assert orders["target"] == goals["orders"] and orders["target_source"] == "sum_of_months"
    assert orders["achievement"] == pytest.approx(orders_ach)
    east_orders = nodes["/root/children/0/children/2/children/1"]
    assert east_orders["target"] is None and east_orders["included"] is False and "no target" in east_orders["note"]
    assert east_orders["actual"] == data.order_count(Q1, "East") and east_orders["scope"] == {"orders.region": "East"}
    east_revenue = nodes["/root/children/0/children/2/children/0"]
    assert east_revenue["effective_weight"] == pytest.approx(100) and east_revenue["status"] == "amber"
    assert nodes["/root/children/0/children/2"]["score"] == pytest.approx(east_score)
    assert nodes["/root/children/0"]["score"] == pytest.approx(sales_score)
    assert nodes["/root/children/1"]["achievement"] == pytest.approx(response_ach)
    assert answer["score"] == pytest.approx(company) and nodes["/root"]["score"] == pytest.approx(company)
    assert answer["tier"] == ("excellent" if company >= 1.2 else "met" if company >= 1.0 else "not_met")
    assert answer["excluded"] == ["/root/children/0/children/2/children/1"]
    assert (answer["version"], answer["period"], answer["grain"], answer["cap"]) == (1, "2026-Q1", "quarter", 1.2)


async def test_cap_and_tiers_are_per_scorecard_and_versioned(client, keys):
    created = await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales))
    goals = await q1_targets(client, keys)
    before = await evaluate(client, keys.reader)
    moment = dt.datetime.now(dt.timezone.utc)
    await asyncio.sleep(0.01)
    tiers = {"bands": [{"at_least": 1.05, "label": "gold"}], "otherwise": "none"}
    no_match = await client.patch("/v1/scorecards/shop", json={"cap": 1.0}, headers=bearer(keys.sales))
    assert no_match.status_code == 428
    patched = await ok(await client.patch("/v1/scorecards/shop", json={"cap": 1.0, "tiers": tiers, "change_note": "strict"},
                                          headers={**bearer(keys.sales), "If-Match": created.headers["etag"]}))
    assert patched["version"] == 2
    after = await evaluate(client, keys.reader)
    nodes = {n["path"]: n for n in after["nodes"]}
    east_score = data.revenue(Q1, "East") / goals["east_revenue"]
    sales_score = 0.5 * 1.0 + 0.3 * min(data.order_count(Q1) / goals["orders"], 1.0) + 0.2 * east_score
    company = 0.7 * sales_score + 0.3 * 1.0
    assert nodes["/root/children/0/children/0"]["contribution"] == pytest.approx(0.5)  # 1.25 capped at 1.0
    assert after["score"] == pytest.approx(company) and after["tier"] == ("gold" if company >= 1.05 else "none")
    assert after["version"] == 2 and after["cap"] == 1.0
    old = await evaluate(client, keys.reader, as_of=moment.isoformat())
    assert old["version"] == 1 and old["score"] == pytest.approx(before["score"])
    v1 = await evaluate(client, keys.reader, version=1)
    assert v1["score"] == pytest.approx(before["score"])
    events = await ok(await client.get("/v1/audit", params={"entity_kind": "scorecard", "entity_key": "shop"}, headers=bearer(keys.admin)))
    assert [e["action"] for e in events["items"]] == ["scorecard.create", "scorecard.update"]
    diff = await ok(await client.get("/v1/scorecards/shop/diff", params={"from": 1, "to": 2}, headers=bearer(keys.reader)))
    assert {c["path"] for c in diff["changes"]} >= {"/cap", "/tiers/bands", "/tiers/otherwise"}


async def test_sibling_weights_must_sum_to_100(client, keys):
    top = card()
    top["root"]["children"][1]["weight"] = 20
    refused = await client.post("/v1/scorecards", json=top, headers=bearer(keys.sales))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["details"]["pointer"], error["details"]["sum"]) == ("WEIGHTS_NOT_100", "/root/children", 90)
    assert "90" in error["message"]
    nested = card()
    nested["root"]["children"][0]["children"][2]["children"][1]["weight"] = 45
    error = (await client.post("/v1/scorecards", json=nested, headers=bearer(keys.sales))).json()["error"]
    assert error["details"] == {"pointer": "/root/children/0/children/2/children", "sum": 105}
    unknown = card()
    unknown["root"]["children"][1]["metric"] = "service.nope"
    error = (await client.post("/v1/scorecards", json=unknown, headers=bearer(keys.sales))).json()["error"]
    assert (error["code"], error["details"]["pointer"]) == ("UNKNOWN_METRIC", "/root/children/1/metric")
    empty = card(root={"weight": 100})
    assert (await client.post("/v1/scorecards", json=empty, headers=bearer(keys.sales))).status_code == 422
    created = await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales))
    assert created.status_code == 201
    bad_patch = await client.patch("/v1/scorecards/shop", json={"root": top["root"]},
                                   headers={**bearer(keys.sales), "If-Match": created.headers["etag"]})
    assert bad_patch.status_code == 422 and bad_patch.json()["error"]["details"]["sum"] == 90


async def test_scorecard_rights_and_bad_requests(client, keys):
    assert (await client.post("/v1/scorecards", json=card(), headers=bearer(keys.service))).status_code == 403
    assert (await client.post("/v1/scorecards", json=card())).status_code == 401
    await ok(await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales)), 201)
    outsider = await make_principal(client, keys.admin, "svc_reader", [{"role": "reader", "domain": "service"}])
    assert (await client.get("/v1/scorecards/shop/evaluate", params={"period": "2026-Q1"}, headers=bearer(outsider))).status_code == 403
    assert (await client.get("/v1/scorecards/shop/evaluate", params={"period": "2026-Q1"})).status_code == 401
    for period in ("2026-Q5", "Q1", "x" * 17):
        bad = await client.get("/v1/scorecards/shop/evaluate", params={"period": period}, headers=bearer(keys.reader))
        assert bad.status_code == 422, bad.text
    assert (await client.get("/v1/scorecards/shop/evaluate", params={"period": "2026-Q5"}, headers=bearer(keys.reader))).json()["error"]["code"] == "INVALID_PERIOD"
    missing = await client.get("/v1/scorecards/nope/evaluate", params={"period": "2026"}, headers=bearer(keys.reader))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SCORECARD_NOT_FOUND"
    nothing = await evaluate(client, keys.reader, period="2027")  # no targets, no data: reported, not an error
    assert nothing["score"] is None and nothing["tier"] is None and len(nothing["excluded"]) == len(nothing["nodes"]) - 1
