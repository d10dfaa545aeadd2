"""SMART checks per metric and per domain; reviews (audited) and the overdue list."""

from __future__ import annotations

import datetime as dt

from tests.helpers import bearer, make_principal, ok
from tests.kpi.conftest import put_targets, target
from tests.kpi.test_scorecards import card


def checks_of(answer: dict) -> dict[str, bool]:
    return {c["name"]: c["passed"] for c in answer["checks"]}


async def test_smart_checks(client, keys):
    this_month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    await put_targets(client, keys.sales, [target("sales.revenue", this_month, 1000)])
    revenue = await ok(await client.get("/v1/metrics/sales.revenue/checks", headers=bearer(keys.reader)))
    assert checks_of(revenue) == dict.fromkeys(["specific", "measurable", "achievable", "relevant", "time_bound"], True)
    assert (revenue["passed"], revenue["total"]) == (5, 5)

    orders = await ok(await client.get("/v1/metrics/sales.orders/checks", headers=bearer(keys.reader)))
    assert checks_of(orders) == {"specific": False, "measurable": True, "achievable": False, "relevant": False, "time_bound": False}
    assert orders["checks"][0]["reason"] == "missing: description, caliber"
    await ok(await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales)), 201)
    orders = await ok(await client.get("/v1/metrics/sales.orders/checks", headers=bearer(keys.reader)))
    assert checks_of(orders)["relevant"] is True  # now a node of a scorecard

    ghost_set = {"name": "ghosts", "domain": "sales", "source": "shop", "table": "ghosts", "columns": [{"name": "x", "type": "integer"}]}
    await ok(await client.post("/v1/datasets", json=ghost_set, headers=bearer(keys.sales)), 201)
    ghost = {"key": "sales.ghosts", "name": "ghosts", "domain": "sales", "owner": "alice", "type": "simple", "dataset": "ghosts", "measure": "SUM(x)"}
    await ok(await client.post("/v1/metrics", json=ghost, headers=bearer(keys.sales)), 201)
    ghosts = await ok(await client.get("/v1/metrics/sales.ghosts/checks", headers=bearer(keys.reader)))
    measurable = next(c for c in ghosts["checks"] if c["name"] == "measurable")
    assert measurable["passed"] is False and measurable["reason"].startswith("SOURCE_")

    summary = await ok(await client.get("/v1/domains/sales/checks", headers=bearer(keys.reader)))
    assert summary["metrics"] == 4 and [i["metric"] for i in summary["items"]] == ["sales.buyers", "sales.ghosts", "sales.orders", "sales.revenue"]
    assert summary["passed"] == {"specific": 1, "measurable": 3, "achievable": 1, "relevant": 2, "time_bound": 1}

    outsider = await make_principal(client, keys.admin, "svc_reader", [{"role": "reader", "domain": "service"}])
    assert (await client.get("/v1/metrics/sales.revenue/checks", headers=bearer(outsider))).status_code == 403
    assert (await client.get("/v1/domains/sales/checks", headers=bearer(outsider))).status_code == 403
    assert (await client.get("/v1/domains/nope/checks", headers=bearer(keys.reader))).json()["error"]["code"] == "DOMAIN_NOT_FOUND"
    assert (await client.get("/v1/metrics/sales.nope/checks", headers=bearer(keys.reader))).json()["error"]["code"] == "METRIC_NOT_FOUND"
    assert (await client.get("/v1/metrics/sales.revenue/checks")).status_code == 401


async def test_reviews_are_audited_and_drive_the_overdue_list(client, keys):
    now = dt.datetime.now(dt.timezone.utc)
    overdue = await ok(await client.get("/v1/reviews/overdue", headers=bearer(keys.reader)))
    assert overdue["items"] == []  # registered just now: first reviews are not due yet

    held = (now - dt.timedelta(days=40)).isoformat()
    review = await ok(await client.post("/v1/metrics/sales.revenue/reviews", json={"outcome": "at_risk", "note": "Q3 slip", "reviewed_at": held},
                                        headers=bearer(keys.sales)), 201)
    assert (review["reviewer"], review["outcome"]) == ("sales_ed", "at_risk")
    overdue = await ok(await client.get("/v1/reviews/overdue", headers=bearer(keys.reader)))
    [late] = overdue["items"]
    assert (late["metric"], late["review_frequency"], late["days_overdue"]) == ("sales.revenue", "monthly", 9)
    revenue_checks = await ok(await client.get("/v1/metrics/sales.revenue/checks", headers=bearer(keys.reader)))
    assert checks_of(revenue_checks)["time_bound"] is False

    approver = await make_principal(client, keys.admin, "boss", [{"role": "approver", "domain": "sales"}])
    await ok(await client.post("/v1/metrics/sales.revenue/reviews", json={"outcome": "on_track"}, headers=bearer(approver)), 201)
    assert (await ok(await client.get("/v1/reviews/overdue", headers=bearer(keys.reader))))["items"] == []
    history = await ok(await client.get("/v1/metrics/sales.revenue/reviews", headers=bearer(keys.reader)))
    assert [r["reviewer"] for r in history["items"]] == ["sales_ed", "boss"]
    events = await ok(await client.get("/v1/audit", params={"action": "metric.review"}, headers=bearer(keys.admin)))
    assert [(e["actor"], e["entity_key"], e["after"]["outcome"]) for e in events["items"]] == [
        ("sales_ed", "sales.revenue", "at_risk"), ("boss", "sales.revenue", "on_track")]

    for key, body, status, code in (
        (keys.service, {"outcome": "on_track"}, 403, "FORBIDDEN"),
        (keys.reader, {"outcome": "on_track"}, 403, "FORBIDDEN"),
        (keys.sales, {"outcome": "great"}, 422, "INVALID_FIELD"),
        (keys.sales, {"outcome": "on_track", "reviewed_at": (now + dt.timedelta(days=1)).isoformat()}, 422, "REVIEW_IN_FUTURE"),
    ):
        response = await client.post("/v1/metrics/sales.revenue/reviews", json=body, headers=bearer(key))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    missing = await client.post("/v1/metrics/sales.nope/reviews", json={"outcome": "on_track"}, headers=bearer(keys.sales))
    assert missing.status_code == 404
    assert (await client.post("/v1/metrics/sales.revenue/reviews", json={"outcome": "on_track"})).status_code == 401
