"""The KPI reads (targets, scorecards and their evaluation, SMART checks, reviews) answer over GraphQL
what REST answers the same principal, and refuse with the same codes."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import quote

import pytest

from tests.graphql.gql import codes, gql, selection
from tests.graphql.twins import ENTITY, compare
from tests.helpers import bearer, ok
from tests.kpi.conftest import keys, shop_file  # noqa: F401  (fixtures)
from tests.kpi.test_scorecards import card, q1_targets

REVIEW = "id metric reviewer reviewedAt outcome note"
OVERDUE = "metric domain owner reviewFrequency lastReviewedAt dueAt daysOverdue"
EVALUATION, METRIC_CHECKS, DOMAIN_CHECKS = (f"{{ {selection(t)} }}" for t in ("Evaluation", "MetricChecks", "DomainChecks"))


@pytest.fixture
async def kpi_world(client, keys):  # noqa: F811
    await ok(await client.post("/v1/scorecards", json=card(), headers=bearer(keys.sales)), 201)
    await q1_targets(client, keys)
    await asyncio.sleep(0.01)
    moment = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    await asyncio.sleep(0.01)
    await ok(await client.patch("/v1/scorecards/shop", json={"title": "Shop", "change_note": "rename"},
                                headers={**bearer(keys.sales), "If-Match": '"1"'}))
    held = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)).isoformat()
    await ok(await client.post("/v1/metrics/sales.revenue/reviews", json={"outcome": "at_risk", "note": "slip", "reviewed_at": held},
                               headers=bearer(keys.sales)), 201)
    principals = {"anonymous": None, "admin": keys.admin, "sales": keys.sales, "service": keys.service, "reader": keys.reader}
    return principals, moment


async def _target_keys(client, admin: str) -> list[str]:
    return [t["key"] for t in (await ok(await client.get("/v1/targets", headers=bearer(admin))))["items"]]


async def test_kpi_reads_answer_as_rest(client, kpi_world):
    principals, moment = kpi_world
    target = (await _target_keys(client, principals["admin"]))[0]
    path = quote(target, safe="")
    page = f"items {{ {ENTITY} }} nextCursor"
    twins = [
        ("/v1/targets", f"targets {{ {page} }}", "targets"),
        ("/v1/targets?metric=sales.revenue&period=2026-Q1", f'targets(metric: "sales.revenue", period: "2026-Q1") {{ {page} }}', "targets"),
        ("/v1/targets?domain=service&limit=1", f'targets(domain: "service", limit: 1) {{ {page} }}', "targets"),
        (f"/v1/targets/{path}", f'target(key: "{target}") {{ {ENTITY} }}', "target"),
        (f"/v1/targets/{path}?version=1", f'target(key: "{target}", version: 1) {{ {ENTITY} }}', "target"),
        ("/v1/targets/sales.nope%7C2026%7C", 'target(key: "sales.nope|2026|") { key }', "target"),
        ("/v1/scorecards/shop", f'scorecard(name: "shop") {{ {ENTITY} }}', "scorecard"),
        ("/v1/scorecards/shop?version=1", f'scorecard(name: "shop", version: 1) {{ {ENTITY} }}', "scorecard"),
        (f"/v1/scorecards/shop?as_of={moment}", f'scorecard(name: "shop", asOf: "{moment}") {{ {ENTITY} }}', "scorecard"),
        ("/v1/scorecards/nope", 'scorecard(name: "nope") { key }', "scorecard"),
        ("/v1/scorecards/shop/evaluate?period=2026-Q1", f'evaluateScorecard(name: "shop", period: "2026-Q1") {EVALUATION}', "evaluateScorecard"),
        ("/v1/scorecards/shop/evaluate?period=2026-03&version=1", f'evaluateScorecard(name: "shop", period: "2026-03", version: 1) {EVALUATION}', "evaluateScorecard"),
        ("/v1/scorecards/shop/evaluate?period=soon", f'evaluateScorecard(name: "shop", period: "soon") {EVALUATION}', "evaluateScorecard"),
        ("/v1/scorecards/nope/evaluate?period=2026", f'evaluateScorecard(name: "nope", period: "2026") {EVALUATION}', "evaluateScorecard"),
        ("/v1/metrics/sales.revenue/checks", f'metricChecks(key: "sales.revenue") {METRIC_CHECKS}', "metricChecks"),
        ("/v1/metrics/sales.nope/checks", f'metricChecks(key: "sales.nope") {METRIC_CHECKS}', "metricChecks"),
        ("/v1/domains/sales/checks", f'domainChecks(name: "sales") {DOMAIN_CHECKS}', "domainChecks"),
        ("/v1/domains/nope/checks", f'domainChecks(name: "nope") {DOMAIN_CHECKS}', "domainChecks"),
        ("/v1/metrics/sales.revenue/reviews", f'metricReviews(key: "sales.revenue") {{ items {{ {REVIEW} }} nextCursor }}', "metricReviews"),
        ("/v1/metrics/sales.revenue/reviews?limit=1", f'metricReviews(key: "sales.revenue", limit: 1) {{ items {{ {REVIEW} }} nextCursor }}', "metricReviews"),
        ("/v1/reviews/overdue", f"overdueReviews {{ items {{ {OVERDUE} }} nextCursor }}", "overdueReviews"),
        ("/v1/reviews/overdue?domain=sales", f'overdueReviews(domain: "sales") {{ items {{ {OVERDUE} }} nextCursor }}', "overdueReviews"),
    ]
    outcomes = await compare(client, principals, twins)
    assert outcomes["data"] > 50 and outcomes["refused"] > 30, outcomes


async def test_kpi_reads_answer_something(client, kpi_world):
    """The parity above is not parity of empty answers."""
    principals, _ = kpi_world
    reader = principals["reader"]
    body = await gql(client, reader, f'{{ targets {{ items {{ key }} }} evaluateScorecard(name: "shop", period: "2026-Q1") {{ score }} '
                                     f'overdueReviews {{ items {{ metric daysOverdue }} }} metricReviews(key: "sales.revenue") {{ items {{ reviewer }} }} }}')
    assert not body.get("errors"), body
    answer = body["data"]
    assert len(answer["targets"]["items"]) >= 5 and answer["evaluateScorecard"]["score"] is not None
    assert [o["metric"] for o in answer["overdueReviews"]["items"]] == ["sales.revenue"]
    assert [r["reviewer"] for r in answer["metricReviews"]["items"]] == ["sales_ed"]


async def test_kpi_refusals_use_the_rest_codes(client, kpi_world):
    principals, _ = kpi_world
    outsider = principals["service"]
    for field in ('scorecard(name: "shop") { key }', 'evaluateScorecard(name: "shop", period: "2026-Q1") { score }',
                  'metricChecks(key: "sales.revenue") { passed }', 'domainChecks(name: "sales") { metrics }', 'metricReviews(key: "sales.revenue") { nextCursor }'):
        body = await gql(client, outsider, f"{{ {field} }}")
        assert codes(body) == ["FORBIDDEN"], (field, body)
        assert codes(await gql(client, None, f"{{ {field} }}")) == ["UNAUTHENTICATED"]
    for field, pointer in (("targets(limit: 501) { nextCursor }", "/limit"), ('targets(period: "2026-Q1-x") { nextCursor }', "/period"),
                           ('scorecard(name: "shop", version: 0) { key }', "/version"), ("overdueReviews(limit: 0) { nextCursor }", "/limit")):
        body = await gql(client, principals["reader"], f"{{ {field} }}")
        assert codes(body) == ["INVALID_FIELD"] and body["errors"][0]["extensions"]["details"]["pointer"] == pointer, body
